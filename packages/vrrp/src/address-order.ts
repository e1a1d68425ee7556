/**
 * Numeric order of IP addresses, for the RFC 5798 §6.4.3 tie-break: with equal priorities
 * the sender with the greater primary address wins. Strings are compared as numbers, never
 * lexically ("10.0.0.9" < "10.0.0.10").
 */
import { isIPv4, isIPv6 } from 'node:net';

function ipv4Words(address: string): number[] {
  return address.split('.').map((part) => Number(part));
}

/** Expands an IPv6 string (with "::" and an optional embedded IPv4 tail) into 8 words. */
function ipv6Words(address: string): number[] {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = ipv4Words(last);
    tail.push((a << 8) | b, (c << 8) | d);
    text = text.slice(0, lastColon + 1) + '0';
    tail.length = 2;
  }
  const [head = '', rest] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  const headWords = parse(head);
  let words: number[];
  if (rest === undefined) {
    words = headWords;
  } else {
    const restWords = parse(rest);
    const fill = 8 - headWords.length - restWords.length;
    words = [...headWords, ...new Array<number>(Math.max(fill, 0)).fill(0), ...restWords];
  }
  if (tail.length === 2) words.splice(words.length - 1, 1, ...tail);
  return words;
}

function words(address: string): number[] {
  if (isIPv4(address)) return ipv4Words(address);
  if (isIPv6(address)) return ipv6Words(address);
  throw new RangeError(`not an IP address: ${JSON.stringify(address)}`);
}

/** Negative, zero or positive as `a` is numerically below, equal to or above `b`. */
export function compareAddresses(a: string, b: string): number {
  const wa = words(a);
  const wb = words(b);
  if (wa.length !== wb.length) return wa.length - wb.length;
  for (let i = 0; i < wa.length; i++) {
    const d = (wa[i] ?? 0) - (wb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
