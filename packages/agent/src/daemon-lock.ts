/**
 * One daemon per node, and per control socket. A second daemon would purge the first's VIPs
 * as stale, delete its control socket and advertise beside it; so `keepvip run` takes both
 * locks before it touches anything, and refuses to start, naming the holder, if either is held.
 *
 * The locks are flock(2) locks (see @keepvip/linux tryLockExclusive): the kernel drops them
 * when the holder exits or is killed, so a SIGKILLed daemon never blocks the next start (its
 * file stays, held by no one). A clean exit removes the files while still holding them; a
 * starter that opened a file just before must not then hold a lock on a removed file, so it
 * checks, once it holds the lock, that the path still names its file, and starts again if not.
 */
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
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

export interface HeldFile {
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

  /** Call after the daemon has stopped (VIPs removed, socket closed); removes the files. */
  release(): void {
    for (const file of this.held) unlock(file);
    this.held = [];
  }
}

/** Starts again this often at most when the file is replaced under us (a holder leaving each time). */
const MAX_ATTEMPTS = 10;

/** One lock file; `opened` runs between open and flock (tests replace the file there). */
export function lockFile(path: string, what: string, opened: () => void = () => undefined): HeldFile {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    // Opened without truncation: the holder's PID in it is what a refused starter reports.
    // libuv opens with O_CLOEXEC, so notify scripts and track scripts do not inherit the lock.
    const fd = openSync(path, 'a+', 0o644);
    let state: 'acquired' | 'held';
    try {
      opened();
      state = tryLockExclusive(fd);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    if (state === 'held') {
      closeSync(fd);
      throw new DaemonLockedError(path, holderOf(path), what);
    }
    if (!namesFile(path, fd)) {
      closeSync(fd); // removed by the holder that just left: lock the file there now
      continue;
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`);
    return { path, fd };
  }
  throw new Error(`could not lock ${path}: it was replaced ${MAX_ATTEMPTS} times while being locked`);
}

function namesFile(path: string, fd: number): boolean {
  try {
    const opened = fstatSync(fd);
    const named = statSync(path);
    return opened.ino === named.ino && opened.dev === named.dev;
  } catch {
    return false;
  }
}

function holderOf(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return /^[1-9]\d*$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the file while still holding it, then lets go (see the module comment). */
export function unlock(file: HeldFile): void {
  try {
    unlinkSync(file.path);
  } catch {
    // Already gone (removed by hand): the lock still goes with the descriptor.
  }
  closeSync(file.fd);
}
