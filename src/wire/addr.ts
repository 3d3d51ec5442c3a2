// IP addresses as bytes: a 4-byte (IPv4) or 16-byte (IPv6) Uint8Array, shared
// between packets and connections (never written into). Parsing and formatting for people; comparison
// and hashing for demultiplexing without building strings.

export type IpAddr = Uint8Array;

/** A direct-mapped cache of IPv4 addresses: 1024 slots, a miss replaces the slot. */
const SLOTS = 1024;
const slotKeys = new Int32Array(SLOTS);
const slotAddrs: (IpAddr | undefined)[] = new Array(SLOTS).fill(undefined);

/**
 * New addresses are 4-byte views of small shared buffers: a view costs about
 * 96 bytes of heap, a typed array with a buffer of its own about 208. A
 * buffer holds 16 addresses, so one long-lived address keeps at most 60
 * unused bytes alive with it.
 */
const SLAB = 64;
let slab = new ArrayBuffer(SLAB);
let slabUsed = 0;

/**
 * The IPv4 address at `b[at, at+4)` as a shared, read-only object: a host
 * hears from few addresses, and each decoded packet would otherwise allocate
 * two; connections keep these, so thousands of connections from one peer share
 * one. A flood from many sources only replaces slots (no table to grow or
 * clear). Never write into an address.
 */
export function internIpv4(b: Uint8Array, at: number): IpAddr {
  return ipv4FromKey((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
}

/** An IPv4 address as one signed 32-bit integer (a small integer to V8): compact records keep this. */
export function ipv4Key(a: IpAddr): number {
  return (a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3];
}

/** The shared address object for an `ipv4Key`. */
export function ipv4FromKey(key: number): IpAddr {
  const i = (Math.imul(key, 0x9e3779b1) >>> 22) & (SLOTS - 1);
  const a = slotAddrs[i];
  if (a !== undefined && slotKeys[i] === key) return a;
  return internMiss(key, i);
}

/** Apart from ipv4FromKey (a hit is what V8 should inline): a new address for slot `i`. */
function internMiss(key: number, i: number): IpAddr {
  if (slabUsed === SLAB) {
    slab = new ArrayBuffer(SLAB);
    slabUsed = 0;
  }
  const fresh = new Uint8Array(slab, slabUsed, 4);
  slabUsed += 4;
  fresh[0] = key >>> 24;
  fresh[1] = key >>> 16;
  fresh[2] = key >>> 8;
  fresh[3] = key;
  slotKeys[i] = key;
  slotAddrs[i] = fresh;
  return fresh;
}

export function isIpv4(a: IpAddr): boolean {
  return a.length === 4;
}

export function addrEquals(a: IpAddr, b: IpAddr): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What kind of address this is, for the checks of RFC 1122 §4.2.3.10 / RFC 9293 MUST-46, MUST-57, MUST-63. */
export type AddrClass = 'unicast' | 'unspecified' | 'loopback' | 'multicast' | 'broadcast';

export function addrClass(a: IpAddr): AddrClass {
  if (a.length === 4) {
    if (a[0] === 0) return 'unspecified'; // 0.0.0.0/8: "this network", never a peer
    if (a[0] === 127) return 'loopback';
    if (a[0] >= 224 && a[0] <= 239) return 'multicast';
    if (a[0] === 255 && a[1] === 255 && a[2] === 255 && a[3] === 255) return 'broadcast';
    return 'unicast';
  }
  return ipv6Class(a);
}

/** Apart from addrClass, which every arriving packet calls (small enough for V8 to inline it). */
function ipv6Class(a: IpAddr): AddrClass {
  if (a[0] === 0xff) return 'multicast';
  let zero = true;
  for (let i = 0; i < 15; i++) if (a[i] !== 0) zero = false;
  if (zero && a[15] === 0) return 'unspecified';
  if (zero && a[15] === 1) return 'loopback';
  return 'unicast';
}

/** A 32-bit hash of an address, mixed into `h`. */
export function addrHash(a: IpAddr, h: number): number {
  let x = h;
  for (let i = 0; i < a.length; i += 4) {
    const w = (a[i] << 24) | (a[i + 1] << 16) | (a[i + 2] << 8) | a[i + 3];
    x = Math.imul(x ^ w, 0x9e3779b1);
    x ^= x >>> 15;
  }
  return x;
}

/** Parses dotted-quad IPv4 or RFC 4291 text IPv6; returns undefined when it is neither. */
export function parseAddr(text: string): IpAddr | undefined {
  if (text.includes(':')) return parseIpv6(text);
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return undefined;
    const n = Number(parts[i]);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): IpAddr | undefined {
  let head = text;
  let tail = '';
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    head = text.slice(0, dbl);
    tail = text.slice(dbl + 2);
    if (tail.includes('::')) return undefined;
  }
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseAddr(p);
        if (v4?.length !== 4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
        out.push(Number.parseInt(p, 16));
      }
    }
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  if (!h || !t) return undefined;
  const missing = 8 - h.length - t.length;
  if (dbl >= 0 ? missing < 1 : missing !== 0) return undefined;
  const all = [...h, ...new Array(missing).fill(0), ...t];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i] >> 8;
    out[2 * i + 1] = all[i] & 0xff;
  }
  return out;
}

/** Dotted quad for IPv4; RFC 5952 canonical text for IPv6. */
export function formatAddr(a: IpAddr): string {
  if (a.length === 4) return `${a[0]}.${a[1]}.${a[2]}.${a[3]}`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((a[i] << 8) | a[i + 1]);
  // Longest run of two or more zero groups becomes '::' (RFC 5952 §4.2).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}
