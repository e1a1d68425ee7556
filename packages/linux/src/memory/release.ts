/**
 * Gives memory the C allocator holds but no longer uses back to the kernel (glibc's
 * malloc_trim). Bursts (start-up, a mass takeover, a reload) leave freed memory in glibc's
 * arenas, counted in the daemon's RSS for as long as it runs; the daemon calls this after
 * them and on its reconcile timer.
 *
 * Returns true if memory was given back, false if there was none to give, undefined where
 * the C library has no such call (musl).
 */
import { loadAddon } from '../native/addon.js';

export function releaseFreeMemory(): boolean | undefined {
  return loadAddon().releaseFreeMemory();
}
