/**
 * One daemon per node, and per control socket. A second daemon would purge the first's VIPs
 * as stale, delete its control socket and advertise beside it; so `keepvip run` takes both
 * locks before it touches anything, and refuses to start, naming the holder, if either is held.
 *
 * The locks are flock(2) locks (see @keepvip/linux tryLockExclusive): the kernel drops them
 * when the holder exits or is killed, so a SIGKILLed daemon never blocks the next start. The
 * files stay (emptied) after a clean exit: removing a lock file races a starter that has just
 * opened it.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tryLockExclusive } from '@keepvip/linux';

export const LOCK_DIR = '/run/keepvip';

/**
 * The node lock: one per network namespace, since what two daemons would fight over (the
 * interfaces' VIPs, VRRP on the wire) is per namespace. Several lab nodes, each in its own
 * namespace on one host's filesystem, so get a lock each.
 */
export function defaultNodeLockPath(): string {
  try {
    return join(LOCK_DIR, `netns-${statSync('/proc/self/ns/net').ino}.lock`);
  } catch {
    return join(LOCK_DIR, 'keepvip.lock');
  }
}

/** The control socket's lock, beside it: two daemons sharing a socket path would delete each other's. */
export function socketLockPath(statusSocket: string): string {
  return `${statusSocket}.lock`;
}

export class DaemonLockedError extends Error {
  readonly code = 'daemon_locked';
  constructor(
    readonly path: string,
    /** The holder as it wrote itself into the file; undefined if it had not yet. */
    readonly holderPid: number | undefined,
    what: string,
  ) {
    super(`another keepvip daemon${holderPid === undefined ? '' : ` (PID ${holderPid})`} ${what}: it holds the lock ${path}`);
    this.name = 'DaemonLockedError';
  }
}

interface HeldFile {
  readonly path: string;
  readonly fd: number;
}

export interface DaemonLockPaths {
  /** Default: defaultNodeLockPath(). */
  readonly node?: string;
  /** The control socket the daemon will listen on. */
  readonly statusSocket: string;
}

export class DaemonLock {
  private constructor(private held: readonly HeldFile[]) {}

  /** Takes the node lock, then the socket's; throws DaemonLockedError (holding neither) if one is held. */
  static acquire(paths: DaemonLockPaths): DaemonLock {
    const nodePath = paths.node ?? defaultNodeLockPath();
    const node = lockFile(nodePath, `runs on this node (one daemon per network namespace; --lock names another lock file)`);
    try {
      return new DaemonLock([node, lockFile(socketLockPath(paths.statusSocket), `listens on the control socket ${paths.statusSocket}`)]);
    } catch (error) {
      unlock(node);
      throw error;
    }
  }

  get paths(): readonly string[] {
    return this.held.map((h) => h.path);
  }

  /** Call after the daemon has stopped (VIPs removed, socket closed). */
  release(): void {
    for (const file of this.held) unlock(file);
    this.held = [];
  }
}

function lockFile(path: string, what: string): HeldFile {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  // Opened without truncation: the holder's PID in it is what a refused starter reports.
  // libuv opens with O_CLOEXEC, so notify scripts and track scripts do not inherit the lock.
  const fd = openSync(path, 'a+', 0o644);
  let state: 'acquired' | 'held';
  try {
    state = tryLockExclusive(fd);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  if (state === 'held') {
    closeSync(fd);
    throw new DaemonLockedError(path, holderOf(path), what);
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`);
  return { path, fd };
}

function holderOf(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return /^[1-9]\d*$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

function unlock(file: HeldFile): void {
  try {
    ftruncateSync(file.fd, 0);
  } finally {
    closeSync(file.fd);
  }
}
