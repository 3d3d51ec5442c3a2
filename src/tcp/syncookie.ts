// SYN cookies (RFC 4987 §3.6): when the SYN queue is full (or always, if so
// configured), the listener keeps nothing for a SYN and encodes what it needs
// in its ISS instead; the returning ACK (ISS+1) proves the SYN was real.
//
// ISS layout (32 bits):  [ t : 5 ][ m : 3 ][ mac : 24 ]
//   t    coarse time counter (64 s per step) mod 32; cookies older than
//        MAX_AGE steps are rejected as expired
//   m    index into MSS_TABLE (the largest entry not above the peer's MSS)
//   mac  SipHash-2-4 under a rotating secret over the 4-tuple, the client's
//        ISN, the full counter and m
// With timestamps, the low 6 bits of our TS val carry the peer's window
// scale (4 bits, 15 = none), SACK-permitted and ECN (1 bit each), as Linux
// does; the ACK echoes them back in TS ecr. Without timestamps those options
// are lost, as on Linux.

import type { IpAddr } from '../wire/addr.ts';
import { addrWords, writeTuple } from './isn.ts';
import { synOffer } from './options.ts';
import type { Random } from './random.ts';
import { bswap32, siphash24 } from './siphash.ts';
import type { SynOffer } from './types.ts';

export const COOKIE_PERIOD = 64_000; // ms per counter step
export const MAX_AGE = 2; // steps: a cookie is good for 2–3 minutes, like Linux's
export const MSS_TABLE = [536, 1220, 1300, 1360, 1400, 1440, 1452, 1460];
/** A secret lives this long; the previous one is kept while its cookies can still be valid. */
export const SECRET_LIFETIME = 3_600_000;

export type CookieCheck =
  | { ok: true; mss: number; offer: SynOffer }
  | { ok: false; reason: 'cookie-bad-mac' | 'cookie-expired' };

export class CookieJar {
  private secret = new Uint32Array(4);
  private previous = new Uint32Array(4);
  private previousUntil = -Infinity;
  private rotatedAt: number;
  /** SipHash message words: a 4-tuple (up to 9 words), then the cookie's fields. */
  private readonly words = new Uint32Array(16);
  private readonly out = new Uint32Array(2);

  constructor(
    private readonly random: Random,
    now: number,
    private readonly lifetime = SECRET_LIFETIME,
  ) {
    this.fill(this.secret);
    this.rotatedAt = now;
  }

  private fill(k: Uint32Array): void {
    for (let i = 0; i < 4; i++) k[i] = this.random.u32();
  }

  /** Replaces the secret, keeping the old one for as long as its cookies can be valid. */
  rotate(now: number): void {
    this.previous.set(this.secret);
    this.previousUntil = now + (MAX_AGE + 1) * COOKIE_PERIOD;
    this.fill(this.secret);
    this.rotatedAt = now;
  }

  private mac(
    key: Uint32Array,
    la: IpAddr,
    lp: number,
    ra: IpAddr,
    rp: number,
    irs: number,
    counter: number,
    m: number,
  ): number {
    // The tuple, then the client's ISN and the counter big-endian, then m: 21 bytes for IPv4.
    const w = this.words;
    const n = writeTuple(w, la, lp, ra, rp);
    w[n >> 2] = bswap32(irs);
    w[(n >> 2) + 1] = bswap32(counter);
    w[(n >> 2) + 2] = m;
    siphash24(key, w, n + 9, this.out);
    return this.out[0] & 0xffffff;
  }

  /** @internal A Fast Open cookie for `client` under the current (or previous) secret. */
  fastOpen(client: IpAddr, previous: boolean): Uint8Array {
    // The address, then 0x7f: domain separation from SYN-cookie MACs.
    const w = this.words;
    const n = addrWords(w, 0, client);
    w[n] = 0x7f;
    siphash24(previous ? this.previous : this.secret, w, 4 * n + 1, this.out);
    const c = new Uint8Array(8);
    new DataView(c.buffer).setUint32(0, this.out[0]);
    new DataView(c.buffer).setUint32(4, this.out[1]);
    return c;
  }

  /** The ISS for a SYN answered with a cookie. */
  make(
    la: IpAddr,
    lp: number,
    ra: IpAddr,
    rp: number,
    irs: number,
    peerMss: number,
    now: number,
  ): number {
    if (now - this.rotatedAt >= this.lifetime) this.rotate(now);
    const counter = Math.floor(now / COOKIE_PERIOD);
    let m = 0;
    for (let i = MSS_TABLE.length - 1; i >= 0; i--) {
      if (MSS_TABLE[i] <= peerMss) {
        m = i;
        break;
      }
    }
    const mac = this.mac(this.secret, la, lp, ra, rp, irs, counter, m);
    return (((counter & 0x1f) << 27) | (m << 24) | mac) >>> 0;
  }

  /** Checks the cookie an ACK returns (`ack - 1`) for the SYN whose ISN was `seq - 1`. */
  check(
    la: IpAddr,
    lp: number,
    ra: IpAddr,
    rp: number,
    irs: number,
    cookie: number,
    now: number,
    tsEcr?: number,
  ): CookieCheck {
    const t = cookie >>> 27;
    const m = (cookie >>> 24) & 0x7;
    const mac = cookie & 0xffffff;
    const nowCounter = Math.floor(now / COOKIE_PERIOD);
    const age = (nowCounter - t) & 0x1f;
    if (age > MAX_AGE) return { ok: false, reason: 'cookie-expired' };
    const counter = nowCounter - age;
    const good =
      this.mac(this.secret, la, lp, ra, rp, irs, counter, m) === mac ||
      (now < this.previousUntil &&
        this.mac(this.previous, la, lp, ra, rp, irs, counter, m) === mac);
    if (!good) return { ok: false, reason: 'cookie-bad-mac' };
    const offer = synOffer(false, MSS_TABLE[m]);
    if (tsEcr !== undefined) {
      const ws = tsEcr & 0xf;
      if (ws !== 0xf) offer.wscale = ws;
      offer.sackOk = (tsEcr & 0x10) !== 0;
    }
    return { ok: true, mss: MSS_TABLE[m], offer };
  }
}

/** Our TS val with the peer's SYN options folded into its low 6 bits. */
export function cookieTsVal(clock: number, offer: SynOffer): number {
  const bits =
    (offer.wscale === undefined ? 0xf : Math.min(offer.wscale, 14)) | (offer.sackOk ? 0x10 : 0);
  let ts = ((clock & ~0x3f) | bits) >>> 0;
  // Never ahead of our clock: the connection's later timestamps must not go backwards.
  if (((ts - clock) | 0) > 0) ts = (ts - 0x40) >>> 0;
  return ts;
}

/** TCP Fast Open (RFC 7413 §4.1.2): an 8-byte cookie, a MAC of the client's address under the host's secret. */
export function fastOpenCookie(jar: CookieJar, client: IpAddr): Uint8Array {
  return jar.fastOpen(client, false);
}

export function fastOpenCookieValid(jar: CookieJar, client: IpAddr, cookie: Uint8Array): boolean {
  if (cookie.length !== 8) return false;
  const eq = (c: Uint8Array) => c.every((b, i) => b === cookie[i]);
  return eq(jar.fastOpen(client, false)) || eq(jar.fastOpen(client, true));
}
