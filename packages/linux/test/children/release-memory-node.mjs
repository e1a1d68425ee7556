// Run with --expose-gc. Leaves ~200 MB of freed C-heap memory below a live allocation (so
// free() alone cannot shrink the heap), then calls releaseFreeMemory and prints RSS (MiB)
// before and after, as one JSON line. Uses the built package (dist).
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { releaseFreeMemory } from '../../dist/index.js';

const rssMiB = () => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
// ArrayBuffer backing stores come from malloc; 2 KiB ones from the arenas, not mmap.
const chunks = Array.from({ length: 100_000 }, () => Buffer.allocUnsafeSlow(2048).fill(1));
const pin = Buffer.allocUnsafeSlow(2048).fill(2);
chunks.length = 0;
globalThis.gc();
globalThis.gc();
const before = rssMiB();
const released = releaseFreeMemory();
const after = rssMiB();
process.stdout.write(`${JSON.stringify({ before, after, released, pinned: pin.length })}\n`);
