// Initial sequence numbers per RFC 6528: ISN = M + F(localip, localport,
// remoteip, remoteport, secretkey), where M is a timer ticking every 4 µs
// (taken from the injected `now`) and F is SipHash-2-4 keyed by a secret from
// an injected random source. Distinct 4-tuples get unrelated ISNs; the same
// 4-tuple gets ISNs that move forward with time, as RFC 9293 §3.4.1 asks.

import type { IpAddr } from '../wire/addr.ts';
import type { Random } from './random.ts';
import { siphash24 } from './siphash.ts';

export interface IsnSource {
  isn(
    localAddr: IpAddr,
    localPort: number,
    remoteAddr: IpAddr,
    remotePort: number,
    now: number,
  ): number;
}

/**
 * Writes a 4-tuple as SipHash message words into `words` (local address,
 * remote address, then the two ports big-endian, as bytes on the wire);
 * returns the message's length in bytes, a multiple of 4. Shared with SYN
 * cookies.
 */
export function writeTuple(
  words: Uint32Array,
  localAddr: IpAddr,
  localPort: number,
  remoteAddr: IpAddr,
  remotePort: number,
): number {
  let n = addrWords(words, 0, localAddr);
  n = addrWords(words, n, remoteAddr);
  words[n++] =
    (localPort >> 8) |
    ((localPort & 0xff) << 8) |
    ((remotePort >> 8) << 16) |
    ((remotePort & 0xff) << 24);
  return 4 * n;
}

/** The address's bytes as little-endian message words from `words[at]`; returns the next index. */
export function addrWords(words: Uint32Array, at: number, a: IpAddr): number {
  let n = at;
  for (let i = 0; i < a.length; i += 4)
    words[n++] = a[i] | (a[i + 1] << 8) | (a[i + 2] << 16) | (a[i + 3] << 24);
  return n;
}

export class Rfc6528Isn implements IsnSource {
  private readonly key = new Uint32Array(4);
  private readonly words = new Uint32Array(12);
  private readonly out = new Uint32Array(2);

  constructor(random: Random) {
    for (let i = 0; i < 4; i++) this.key[i] = random.u32();
  }

  isn(
    localAddr: IpAddr,
    localPort: number,
    remoteAddr: IpAddr,
    remotePort: number,
    now: number,
  ): number {
    const n = writeTuple(this.words, localAddr, localPort, remoteAddr, remotePort);
    siphash24(this.key, this.words, n, this.out);
    const m = Math.floor(now * 250); // now is in ms; one tick per 4 µs.
    return (m + this.out[0]) >>> 0;
  }
}

/** The same ISN every time: for packet scripts and textbook examples. */
export function fixedIsn(value: number): IsnSource {
  return { isn: () => value >>> 0 };
}
