/**
 * flock(2) for Node, which has none: an exclusive advisory lock on an open file. The kernel
 * holds it for the open file description and drops it when that closes or its process dies,
 * SIGKILL included, so a crashed holder never leaves a lock behind.
 */
import { AddonNotBuiltError, LinuxNetError } from '../errors.js';
import { loadAddon } from '../native/addon.js';

/** Takes the lock without waiting: 'held' when another open file description has it. */
export function tryLockExclusive(fd: number): 'acquired' | 'held' {
  const addon = loadAddon();
  // An addon compiled from an older keepvip_net.c (a checkout updated without a native rebuild).
  if (typeof addon.tryLockExclusive !== 'function') {
    throw new AddonNotBuiltError('ENOSYS', 'the keepvip_net addon predates tryLockExclusive: rebuild it with `pnpm --filter @keepvip/linux build:native`');
  }
  const result = addon.tryLockExclusive(fd);
  if (result === undefined) return 'acquired';
  if (result === 'EAGAIN') return 'held';
  throw new LinuxNetError(result, `flock(LOCK_EX) on file descriptor ${fd} failed`);
}
