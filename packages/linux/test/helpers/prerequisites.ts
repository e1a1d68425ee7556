/** End-to-end tests need root (namespaces, raw sockets), the built package and the addon. */
import { existsSync } from 'node:fs';
import { PACKAGE_ROOT } from './lab.js';

export function requireLabPrerequisites(): void {
  if (process.getuid?.() !== 0) throw new Error('end-to-end tests need root (network namespaces, raw sockets)');
  if (!existsSync(`${PACKAGE_ROOT}dist/index.js`)) throw new Error('build first: tsc -b packages/linux (children run dist/)');
  if (!existsSync(`${PACKAGE_ROOT}native/build/Release/keepvip_net.node`)) {
    throw new Error('build the addon first: pnpm --filter @keepvip/linux build:native');
  }
}
