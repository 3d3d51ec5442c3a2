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

/** Serialises a 4-tuple into `buf`; returns its length. Shared with SYN cookies. */
export function writeTuple(
  buf: Uint8Array,
  localAddr: IpAddr,
  localPort: number,
  remoteAddr: IpAddr,
  remotePort: number,
): number {
  // Byte by byte: TypedArray.set costs more than the copy for 4 or 16 bytes.
  let n = 0;
  for (let i = 0; i < localAddr.length; i++) buf[n++] = localAddr[i];
  for (let i = 0; i < remoteAddr.length; i++) buf[n++] = remoteAddr[i];
  buf[n++] = localPort >> 8;
  buf[n++] = localPort & 0xff;
  buf[n++] = remotePort >> 8;
  buf[n++] = remotePort & 0xff;
  return n;
}

export class Rfc6528Isn implements IsnSource {
  private readonly key = new Uint32Array(4);
  private readonly buf = new Uint8Array(48);
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
    const n = writeTuple(this.buf, localAddr, localPort, remoteAddr, remotePort);
    siphash24(this.key, this.buf, n, this.out);
    const m = Math.floor(now * 250); // now is in ms; one tick per 4 µs.
    return (m + this.out[0]) >>> 0;
  }
}

/** The same ISN every time: for packet scripts and textbook examples. */
export function fixedIsn(value: number): IsnSource {
  return { isn: () => value >>> 0 };
}
