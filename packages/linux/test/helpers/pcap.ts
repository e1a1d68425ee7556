/**
 * Minimal classic-pcap reader: a 24-byte global header, then records of a 16-byte header
 * (ts_sec, ts_usec, incl_len, orig_len) and incl_len bytes. Both byte orders (the magic
 * number says which). Enough for tcpdump's and the fixtures' Ethernet captures.
 */
import { readFileSync } from 'node:fs';

export interface PcapRecord {
  readonly timeUs: number;
  readonly bytes: Uint8Array;
}

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;

export function readPcap(path: string): PcapRecord[] {
  const file = readFileSync(path);
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magicLE = v.getUint32(0, true);
  const little = magicLE === MAGIC_US || magicLE === MAGIC_NS;
  const magic = v.getUint32(0, little);
  if (magic !== MAGIC_US && magic !== MAGIC_NS) throw new Error(`${path}: not a pcap file`);
  const fractionPerUs = magic === MAGIC_NS ? 1000 : 1;
  const out: PcapRecord[] = [];
  for (let off = GLOBAL_HEADER; off + RECORD_HEADER <= file.length; ) {
    const sec = v.getUint32(off, little);
    const frac = v.getUint32(off + 4, little);
    const inclLen = v.getUint32(off + 8, little);
    const start = off + RECORD_HEADER;
    out.push({ timeUs: sec * 1e6 + frac / fractionPerUs, bytes: file.subarray(start, start + inclLen) });
    off = start + inclLen;
  }
  return out;
}
