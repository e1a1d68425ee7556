/**
 * Reads one configuration file (keepvip's own, or a keepalived.conf to import), refusing what
 * is not one: a FIFO would block the read forever (a reload that never ends), a device
 * (/dev/zero) or a file that keeps growing would fill the memory. The file is opened without
 * blocking and checked with fstat on that descriptor, so what is checked is what is read; at
 * most `maxBytes` are read, whatever size the file claims (/proc files say 0).
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

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

export function readRegularFile(path: string, maxBytes: number): ReadOutcome {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return { ok: false, reason: `is ${kindOf(stats)}, not a regular file`, tooLarge: false };
    if (stats.size > maxBytes) return { ok: false, reason: `is ${stats.size} bytes, more than the ${maxBytes} read from one file`, tooLarge: true };
    const chunks: Buffer[] = [];
    let bytes = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, maxBytes + 1 - bytes));
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      chunks.push(chunk.subarray(0, read));
      bytes += read;
      // A file that grows while it is read (or claims 0 bytes, as /proc files do).
      if (bytes > maxBytes) return { ok: false, reason: `has more than the ${maxBytes} bytes read from one file`, tooLarge: true };
    }
    return { ok: true, text: Buffer.concat(chunks, bytes).toString('utf8'), bytes };
  } finally {
    closeSync(fd);
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
