// Jest globalTeardown paired with jest-global-setup.js: stops the control plane that setup
// started (scripts/kube/down, by the PIDs in that run's state dir) and removes its data.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkTempRoot } from '../jest/temp-root.js';
import { stateDir } from './jest-global-setup.js';

const here = dirname(fileURLToPath(import.meta.url));

export default function globalTeardown() {
  try {
    stopControlPlane();
  } finally {
    checkTempRoot(); // as every package's run does (scripts/jest/global-teardown.js)
  }
}

function stopControlPlane() {
  const state = stateDir();
  if (!existsSync(state)) return;
  const down = spawnSync('bash', [join(here, 'down')], {
    env: { ...process.env, KEEPVIP_KUBE_STATE: state },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (down.status !== 0) {
    throw new Error(`scripts/kube/down failed (status ${down.status ?? down.signal}):\n${down.stderr}`);
  }
}
