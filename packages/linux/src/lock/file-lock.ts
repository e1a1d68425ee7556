/**
 * flock(2) for Node, which has none: an exclusive advisory lock on an open file. The kernel
 * holds it for the open file description and drops it when that closes or its process dies,
 * SIGKILL included, so a crashed holder never leaves a lock behind.
 */
import { LinuxNetError } from '../errors.js';
import { loadAddon } from '../native/addon.js';

/** Takes the lock without waiting: 'held' when another open file description has it. */
export function tryLockExclusive(fd: number): 'acquired' | 'held' {
  const result = loadAddon().tryLockExclusive(fd);
  if (result === undefined) return 'acquired';
  if (result === 'EAGAIN') return 'held';
  throw new LinuxNetError(result, `flock(LOCK_EX) on file descriptor ${fd} failed`);
}
