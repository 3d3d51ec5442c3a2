// Options carried by SYN and SYN,ACK, and what two ends agree on: each of
// MSS (RFC 9293 §3.7.1), window scale and timestamps (RFC 7323) and
// SACK-permitted (RFC 2018) is used only when both sides offered it.

import { NOP, type Segment, type TcpOption } from '../wire/tcp.ts';
import { seqLe } from './seq.ts';
import type { SynOffer, TcpConfig } from './types.ts';

/**
 * An offer with every field present, in one order: one object shape for
 * every offer (read from a SYN, rebuilt from a half-open record or a SYN
 * cookie), so negotiate() reads them all alike.
 */
export function synOffer(
  sackOk: boolean,
  mss?: number,
  wscale?: number,
  tsVal?: number,
  foExp?: boolean,
): SynOffer {
  return { sackOk, mss, wscale, tsVal, fo: undefined, foExp };
}

export function readSynOffer(seg: Segment): SynOffer {
  const offer = synOffer(false);
  for (const o of seg.options) {
    // An MSS of 0 says nothing: as if absent (the default), as Linux and FreeBSD take it.
    if (o.kind === 'mss') offer.mss = o.value === 0 ? undefined : o.value;
    else if (o.kind === 'wscale') offer.wscale = o.shift;
    else if (o.kind === 'sackOk') offer.sackOk = true;
    else if (o.kind === 'ts') offer.tsVal = o.val;
    else if (o.kind === 'fo') {
      offer.fo = o.cookie;
      if (o.exp) offer.foExp = true;
    }
  }
  return offer;
}

export function findTimestamp(seg: Segment): TcpOption | undefined {
  const opts = seg.options;
  for (let i = 0; i < opts.length; i++) if (opts[i].kind === 'ts') return opts[i];
  return undefined;
}

/**
 * The TSval we send at `now` (ms) under a connection's `offset`: a 1 ms clock,
 * offset per connection (RFC 7323 §5.4) so that TSvals tell nothing of uptime.
 */
export function tsClockAt(now: number, offset: number): number {
  return (Math.floor(now) + offset) >>> 0;
}

/**
 * Whether a timestamp echo may answer what we sent from `first` to `last`
 * (our TSvals then): 0 (no echo) always may.
 */
export function echoSent(ecr: number, first: number, last: number): boolean {
  return ecr === 0 || (seqLe(first, ecr) && seqLe(ecr, last));
}

/** What one connection uses after the SYN exchange: fields of its TCB. */
export interface Negotiated {
  sndMss: number;
  sndWndScale: number;
  rcvWndScale: number;
  sackOk: boolean;
  tsOk: boolean;
}

/** Default send MSS when the peer sends none: RFC 9293 §3.7.1 (IPv4), RFC 8200 §5 via 1280 − 60 (IPv6). */
export function defaultMss(ipv6: boolean): number {
  return ipv6 ? 1220 : 536;
}

/**
 * Appends a Fast Open option (RFC 7413 §4.1.1) padded with NOPs to a 4-byte
 * boundary, as Linux lays it out (`FO,nop,nop` when asking for a cookie).
 */
export function withFastOpen(options: TcpOption[], cookie: Uint8Array, exp = false): TcpOption[] {
  const out: TcpOption[] = [...options, exp ? { kind: 'fo', cookie, exp } : { kind: 'fo', cookie }];
  for (let n = ((exp ? 4 : 2) + cookie.length) % 4; n > 0 && n < 4; n++) out.push(NOP);
  return out;
}

/**
 * The MSS we announce (RFC 9293 §3.7.1, MUST-67: from the largest datagram we
 * receive): `cfg.mss` is MTU − 40 for IPv4; IPv6's header is 20 bytes larger.
 */
export function ownMss(cfg: TcpConfig, ipv6: boolean): number {
  return ipv6 ? Math.max(cfg.mss - 20, 64) : cfg.mss;
}

/** Writes into `t` what this end and the peer's `offer` agree on (each option only if both offered it). */
export function negotiate(t: Negotiated, cfg: TcpConfig, offer: SynOffer, ipv6: boolean): void {
  const tsOk = cfg.timestamps && offer.tsVal !== undefined;
  const offered = offer.mss ?? defaultMss(ipv6);
  const mss = Math.max(Math.min(offered, ownMss(cfg, ipv6)), cfg.profile.minSndMss ?? 64);
  // Room for the 12 bytes of timestamp option every segment will carry, as Linux does.
  t.sndMss = tsOk ? mss - 12 : mss;
  // RFC 7323 §2.3: a shift above 14 is treated as 14.
  t.sndWndScale = cfg.windowScaling && offer.wscale !== undefined ? Math.min(offer.wscale, 14) : 0;
  t.rcvWndScale = rcvWndScaleFor(cfg, offer.wscale !== undefined);
  t.sackOk = cfg.sack && offer.sackOk;
  t.tsOk = tsOk;
}

/** The shift our window is scaled by: our own, if the peer's SYN offered window scaling too. */
export function rcvWndScaleFor(cfg: TcpConfig, peerOffered: boolean): number {
  return cfg.windowScaling && peerOffered ? ownWindowScale(cfg) : 0;
}

/**
 * Options for our SYN (`peer` undefined) or SYN,ACK (answering `peer`): a
 * SYN,ACK offers only what the SYN offered (RFC 7323 §2.2, §3.2; RFC 2018 §2).
 */
export function synOptions(
  cfg: TcpConfig,
  tsVal: number,
  ipv6: boolean,
  peer?: SynOffer,
): TcpOption[] {
  const ws = cfg.windowScaling && (!peer || peer.wscale !== undefined);
  const sack = cfg.sack && (!peer || peer.sackOk);
  const ts = cfg.timestamps && (!peer || peer.tsVal !== undefined);
  return cfg.profile.layout({
    mss: ownMss(cfg, ipv6),
    wscale: ws ? ownWindowScale(cfg) : undefined,
    sackOk: sack,
    ts: ts ? [tsVal, peer ? peer.tsVal! : 0] : undefined,
  });
}

/** The window scale this end offers. */
export function ownWindowScale(cfg: TcpConfig): number {
  return cfg.profile.synWindowScale?.(cfg) ?? cfg.profile.windowScale;
}

/** The window field of a SYN or SYN,ACK (`passive`: a listener's SYN,ACK). */
export function synWindow(cfg: TcpConfig, tsOn: boolean, passive: boolean, ipv6: boolean): number {
  return Math.min(cfg.profile.synWindow(tsOn, passive, cfg, ipv6), cfg.rcvBuf, 0xffff);
}
