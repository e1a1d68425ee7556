/**
 * Reads one file keepvip is given (its configuration, a keepalived.conf to import, a tracked
 * file), refusing what is not one: a FIFO would block the read forever (a start or a reload
 * that never ends), a device (/dev/zero) or a file that keeps growing would fill the memory.
 * The file is opened without blocking and checked with fstat on that descriptor, so what is
 * checked is what is read; at most `maxBytes` are read, whatever size the file claims (/proc
 * files say 0).
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

export type ReadOutcome =
  | { readonly ok: true; readonly text: string; readonly bytes: number }
  | { readonly ok: false; readonly reason: string; readonly tooLarge: boolean };

const CHUNK_BYTES = 64 * 1024;

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'a special file';
}

// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/** Why a file with these stats is not read, or undefined to read it. */
function refusedByStats(stats: Stats, maxBytes: number): ReadOutcome | undefined {
  if (!stats.isFile()) return { ok: false, reason: `is ${kindOf(stats)}, not a regular file`, tooLarge: false };
  if (stats.size > maxBytes) return { ok: false, reason: `is ${stats.size} bytes, more than the ${maxBytes} read from one file`, tooLarge: true };
  return undefined;
}

/** Chunks read so far, and the bound: a file that grows, or claims 0 bytes as /proc files do, is cut off. */
class BoundedText {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** A buffer for the next read: one byte past the bound at most, to see a file cross it. */
  next(): Buffer {
    return Buffer.allocUnsafe(Math.min(CHUNK_BYTES, this.maxBytes + 1 - this.bytes));
  }

  /** Takes `read` bytes of `chunk`: the outcome once the file is done (0) or too large, else undefined. */
  took(chunk: Buffer, read: number): ReadOutcome | undefined {
    if (read === 0) return { ok: true, text: Buffer.concat(this.chunks, this.bytes).toString('utf8'), bytes: this.bytes };
    this.chunks.push(chunk.subarray(0, read));
    this.bytes += read;
    if (this.bytes > this.maxBytes) return { ok: false, reason: `has more than the ${this.maxBytes} bytes read from one file`, tooLarge: true };
    return undefined;
  }
}

/** For the one-shot import; throws what open(2) throws (ENOENT, EACCES). */
export function readRegularFile(path: string, maxBytes: number): ReadOutcome {
  const fd = openSync(path, OPEN_FLAGS);
  try {
    const refused = refusedByStats(fstatSync(fd), maxBytes);
    if (refused !== undefined) return refused;
    const text = new BoundedText(maxBytes);
    for (;;) {
      const chunk = text.next();
      const outcome = text.took(chunk, readSync(fd, chunk, 0, chunk.length, null));
      if (outcome !== undefined) return outcome;
    }
  } finally {
    closeSync(fd);
  }
}

/** For the daemon: off the event loop, so a file on a stalled mount delays only its own read. */
export async function readRegularFileAsync(path: string, maxBytes: number): Promise<ReadOutcome> {
  const handle = await open(path, OPEN_FLAGS);
  try {
    const refused = refusedByStats(await handle.stat(), maxBytes);
    if (refused !== undefined) return refused;
    const text = new BoundedText(maxBytes);
    for (;;) {
      const chunk = text.next();
      const outcome = text.took(chunk, (await handle.read(chunk, 0, chunk.length, null)).bytesRead);
      if (outcome !== undefined) return outcome;
    }
  } finally {
    await handle.close();
  }
}

/** Why a file could not be opened, as an operator reads it. */
export function readErrorText(error: unknown): string {
  // Duck-typed: errors from node:fs need not share this realm's Error (jest runs tests in a vm).
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'ELOOP') return 'too many levels of symbolic links';
  return typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
}
