/**
 * Small caches that keep the advert path from allocating per packet: the same few
 * addresses, lengths and outcomes recur every interval, so each is made once. Every cache
 * is bounded whatever the traffic (a flood of forged sources only refills it).
 */
import { bytesToIpv4, bytesToIpv6 } from '../ip.js';

/** A Map that forgets everything once full: bounded memory, no bookkeeping per hit. */
export class BoundedMap<K, V> {
  readonly #map = new Map<K, V>();

  constructor(readonly capacity: number) {}

  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  set(key: K, value: V): void {
    if (this.#map.size >= this.capacity) this.#map.clear();
    this.#map.set(key, value);
  }
}

const ADDRESS_TEXTS = 256;

/**
 * Canonical text of 4- or 16-byte addresses read in place (RFC 5952 for IPv6, as ip.ts).
 * Keyed by a hash of the bytes, with the bytes kept and compared, so a collision only
 * costs a conversion.
 */
export class AddressTexts {
  readonly #entries = new BoundedMap<number, { readonly bytes: Uint8Array; readonly text: string }>(ADDRESS_TEXTS);

  constructor(readonly length: 4 | 16) {}

  /** The text of the address at bytes[offset .. offset + length). */
  text(bytes: Uint8Array, offset: number): string {
    const key = this.#key(bytes, offset);
    const hit = this.#entries.get(key);
    if (hit !== undefined && this.#same(hit.bytes, bytes, offset)) return hit.text;
    const own = bytes.slice(offset, offset + this.length);
    const text = this.length === 4 ? bytesToIpv4(own) : bytesToIpv6(own);
    this.#entries.set(key, { bytes: own, text });
    return text;
  }

  /** FNV-1a over the address's bytes, cut to 30 bits: a small integer, which V8 never boxes. */
  #key(bytes: Uint8Array, offset: number): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < this.length; i++) h = Math.imul(h ^ (bytes[offset + i] ?? 0), 0x01000193);
    return h & 0x3fffffff;
  }

  #same(own: Uint8Array, bytes: Uint8Array, offset: number): boolean {
    for (let i = 0; i < this.length; i++) if (own[i] !== bytes[offset + i]) return false;
    return true;
  }
}

const VIEWS = 64;

/**
 * Views of one reused buffer by [start, end): a packet's payload is a view of the receive
 * buffer, and a few lengths recur, so each view object is made once. What a view shows
 * changes with every packet read into the buffer.
 */
export class BufferViews {
  readonly #views = new BoundedMap<number, Uint8Array>(VIEWS);

  constructor(readonly buffer: Uint8Array) {}

  view(start: number, end: number): Uint8Array {
    const key = start * (this.buffer.length + 1) + end;
    let view = this.#views.get(key);
    if (view === undefined) {
      view = this.buffer.subarray(start, end);
      this.#views.set(key, view);
    }
    return view;
  }
}
