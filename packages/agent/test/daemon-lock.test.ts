/** One daemon per node and per control socket: real flock(2) locks, real processes, SIGKILL included. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, fstatSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DaemonLock, DaemonLockedError, defaultNodeLockPath, lockFile, socketLockPath, unlock } from '../src/daemon-lock.js';

const AGENT_DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/index.js');

let dir: string;
let nodeLock: string;
let socket: string;
const held: DaemonLock[] = [];
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keepvip-lock-'));
  nodeLock = join(dir, 'run', 'node.lock');
  socket = join(dir, 'run', 'keepvip.sock');
});
afterEach(() => {
  for (const lock of held.splice(0)) lock.release();
  for (const child of children.splice(0)) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function acquire(node = nodeLock, statusSocket = socket): DaemonLock {
  const lock = DaemonLock.acquire({ node, statusSocket });
  held.push(lock);
  return lock;
}

function refusal(node = nodeLock, statusSocket = socket): DaemonLockedError {
  try {
    acquire(node, statusSocket);
  } catch (error) {
    if (error instanceof DaemonLockedError) return error;
    throw error;
  }
  throw new Error('the lock was granted');
}

/** Another process that takes the locks (and, with `withChild`, starts a long-lived child first, as a notify hook would). */
function holderProcess(withChild = false): Promise<{ process: ChildProcess; grandchild?: number }> {
  const script = `
    import { DaemonLock } from ${JSON.stringify(AGENT_DIST)};
    import { spawn } from 'node:child_process';
    DaemonLock.acquire({ node: ${JSON.stringify(nodeLock)}, statusSocket: ${JSON.stringify(socket)} });
    const child = ${withChild} ? spawn('sleep', ['30'], { stdio: 'ignore', detached: true }) : undefined;
    child?.unref();
    process.stdout.write('held ' + (child?.pid ?? '') + '\\n');
    setInterval(() => undefined, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolveHeld, reject) => {
    child.stdout?.setEncoding('utf8');
    child.stdout?.once('data', (text: string) => {
      const grandchild = Number(text.trim().split(' ')[1]);
      resolveHeld({ process: child, ...(grandchild > 0 ? { grandchild } : {}) });
    });
    child.once('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolveExit) => {
    child.once('exit', () => resolveExit());
    child.kill('SIGKILL');
  });
}

describe('DaemonLock', () => {
  it('writes the holder’s PID into both lock files, which it creates with their directory', () => {
    const lock = acquire();
    expect(lock.paths).toEqual([nodeLock, socketLockPath(socket)]);
    expect(readFileSync(nodeLock, 'utf8')).toBe(`${process.pid}\n`);
    expect(readFileSync(`${socket}.lock`, 'utf8')).toBe(`${process.pid}\n`);
  });

  it('a second daemon on the node is refused, naming the holder and the lock', () => {
    acquire();
    const error = refusal(nodeLock, join(dir, 'other.sock'));
    expect(error.holderPid).toBe(process.pid);
    expect(error.path).toBe(nodeLock);
    expect(error.message).toBe(
      `another keepvip daemon (PID ${process.pid}) runs on this node (one daemon per network namespace; --lock names another lock file): it holds the lock ${nodeLock}`,
    );
  });

  it('a second daemon on the same control socket is refused even with its own node lock, and keeps no lock', () => {
    acquire();
    const otherNode = join(dir, 'other-node.lock');
    const error = refusal(otherNode, socket);
    expect(error.message).toBe(`another keepvip daemon (PID ${process.pid}) listens on the control socket ${socket}: it holds the lock ${socket}.lock`);
    // The refused attempt let go of the node lock it had taken.
    expect(() => acquire(otherNode, join(dir, 'third.sock'))).not.toThrow();
  });

  it('release lets the next daemon start, and removes the files', () => {
    acquire().release();
    expect(existsSync(nodeLock)).toBe(false);
    expect(existsSync(`${socket}.lock`)).toBe(false);
    expect(() => acquire()).not.toThrow();
  });

  it('a starter that opened the file just before its holder removed it locks the file there now, not the removed one', () => {
    const first = acquire();
    let opens = 0;
    const held = lockFile(nodeLock, 'runs on this node', () => {
      if (opens++ === 0) first.release(); // the holder leaves between our open and our flock
    });
    try {
      expect(opens).toBe(2);
      expect(fstatSync(held.fd).ino).toBe(statSync(nodeLock).ino);
      // So the next starter is refused, as it must be.
      expect(refusal().holderPid).toBe(process.pid);
    } finally {
      unlock(held);
    }
  });

  it('a SIGKILLed holder does not block the next start', async () => {
    const holder = await holderProcess();
    expect(refusal().holderPid).toBe(holder.process.pid);
    await killed(holder.process);
    expect(() => acquire()).not.toThrow();
    expect(readFileSync(nodeLock, 'utf8')).toBe(`${process.pid}\n`);
  });

  it('a child the holder started (a notify hook still running) does not keep the lock after the holder is killed', async () => {
    const holder = await holderProcess(true);
    const grandchild = holder.grandchild;
    expect(grandchild).toBeDefined();
    try {
      await killed(holder.process);
      expect(() => process.kill(grandchild ?? 0, 0)).not.toThrow(); // still running
      expect(() => acquire()).not.toThrow();
    } finally {
      if (grandchild !== undefined) process.kill(grandchild, 'SIGKILL');
    }
  });

  it('the default node lock is keyed by the network namespace', () => {
    expect(defaultNodeLockPath()).toBe(`/run/keepvip/netns-${statSync('/proc/self/ns/net').ino}.lock`);
  });
});
