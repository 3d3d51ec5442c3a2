// ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) as far as TCP needs them: the
// errors that quote a TCP header (RFC 9293 §3.9.2.2, RFC 5927), path MTU
// messages (RFC 1191, RFC 8201), and echo so that `ping` works. Decoding
// returns a message or the reason it was rejected; it never throws.

import type { IpAddr } from './addr.ts';
import { finishChecksum, pseudoHeaderSum, sumBytes } from './checksum.ts';
import {
  type IpPacket,
  ipPayload,
  PROTO_ICMP,
  PROTO_ICMPV6,
  PROTO_TCP,
  writeIpHeader,
} from './ip.ts';

/** How TCP treats an ICMP error (RFC 9293 §3.9.2.2, RFC 1122 §4.2.3.9, RFC 5461). */
export type IcmpErrorKind =
  /** Destination unreachable: network, host or source route failed (codes 0, 1, 5) — soft. */
  | 'unreachable-soft'
  /** Destination unreachable: protocol or port (codes 2, 3), administratively prohibited — hard. */
  | 'unreachable-hard'
  /** IPv4 fragmentation needed with DF set, or ICMPv6 packet too big: the path MTU. */
  | 'packet-too-big'
  | 'time-exceeded'
  | 'parameter-problem'
  /** Source quench (RFC 6633: deprecated, silently discarded, MUST-55). */
  | 'source-quench';

/** The part of the offending packet an ICMP error quotes: its addresses and TCP ports and sequence number. */
export interface Quoted {
  src: IpAddr;
  dst: IpAddr;
  srcPort: number;
  dstPort: number;
  seq: number;
}

export type IcmpMessage =
  | { kind: 'echo-request'; id: number; seq: number; data: Uint8Array }
  | {
      kind: 'error';
      error: IcmpErrorKind;
      type: number;
      code: number;
      /** For packet-too-big: the MTU of the next hop (0 when the router did not say). */
      mtu: number;
      quoted: Quoted;
    }
  /** Well-formed, but nothing TCP acts on (echo replies, neighbour discovery, errors about other protocols). */
  | { kind: 'other'; type: number };

export type IcmpDecodeError = 'truncated' | 'bad-icmp-checksum' | 'icmp-quote-truncated';

/** Decodes the ICMP message carried by `ip` (protocol 1 for IPv4, 58 for IPv6). */
export function decodeIcmp(ip: IpPacket): IcmpMessage | IcmpDecodeError {
  const b = ipPayload(ip);
  if (b.length < 8) return 'truncated';
  const v6 = ip.version === 6;
  const start = v6 ? pseudoHeaderSum(ip.src, ip.dst, PROTO_ICMPV6, b.length) : 0;
  if (finishChecksum(sumBytes(b, 0, b.length, start)) !== 0) return 'bad-icmp-checksum';
  const type = b[0];
  const code = b[1];
  if ((!v6 && type === 8) || (v6 && type === 128)) {
    return {
      kind: 'echo-request',
      id: (b[4] << 8) | b[5],
      seq: (b[6] << 8) | b[7],
      data: b.subarray(8),
    };
  }
  let error: IcmpErrorKind | undefined;
  let mtu = 0;
  if (!v6) {
    if (type === 3) {
      if (code === 4) {
        error = 'packet-too-big';
        mtu = (b[6] << 8) | b[7];
      } else if (code <= 1 || (code >= 5 && code <= 7) || code === 11 || code === 12) {
        error = 'unreachable-soft';
      } else error = 'unreachable-hard';
    } else if (type === 11) error = 'time-exceeded';
    else if (type === 12) error = 'parameter-problem';
    else if (type === 4) error = 'source-quench';
  } else {
    if (type === 1) error = code === 1 || code === 4 ? 'unreachable-hard' : 'unreachable-soft';
    else if (type === 2) {
      error = 'packet-too-big';
      mtu = ((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]) >>> 0;
    } else if (type === 3) error = 'time-exceeded';
    else if (type === 4) error = 'parameter-problem';
  }
  if (!error) return { kind: 'other', type };
  const quoted = quotedTcp(b.subarray(8), v6);
  if (quoted === undefined) return { kind: 'other', type };
  if (typeof quoted === 'string') return quoted;
  return { kind: 'error', error, type, code, mtu, quoted };
}

/** The quoted IP header and first 8 bytes of TCP; undefined when the quote is not TCP. */
function quotedTcp(q: Uint8Array, v6: boolean): Quoted | IcmpDecodeError | undefined {
  let off: number;
  let src: IpAddr;
  let dst: IpAddr;
  if (!v6) {
    if (q.length < 20 || q[0] >> 4 !== 4) return 'icmp-quote-truncated';
    off = (q[0] & 0x0f) * 4;
    if (q[9] !== PROTO_TCP) return undefined;
    src = q.subarray(12, 16);
    dst = q.subarray(16, 20);
  } else {
    if (q.length < 40 || q[0] >> 4 !== 6) return 'icmp-quote-truncated';
    // Extension headers in a quote are rare; TCP directly after the header is all we match.
    if (q[6] !== PROTO_TCP) return undefined;
    off = 40;
    src = q.subarray(8, 24);
    dst = q.subarray(24, 40);
  }
  // RFC 792 guarantees at least 8 bytes of the transport header: ports and sequence number.
  if (q.length < off + 8) return 'icmp-quote-truncated';
  return {
    src,
    dst,
    srcPort: (q[off] << 8) | q[off + 1],
    dstPort: (q[off + 2] << 8) | q[off + 3],
    seq: ((q[off + 4] << 24) | (q[off + 5] << 16) | (q[off + 6] << 8) | q[off + 7]) >>> 0,
  };
}

/**
 * Encodes an ICMP message from `src` to `dst`: `type`, `code`, the four bytes
 * after the checksum (`rest`) and the body. Used for echo replies, and by tests
 * and the simulator to play the router that sends an error.
 */
export function encodeIcmp(
  src: IpAddr,
  dst: IpAddr,
  type: number,
  code: number,
  rest: number,
  body: Uint8Array,
  ttl = 64,
): Uint8Array {
  const v6 = src.length === 16;
  const ipLen = v6 ? 40 : 20;
  const len = 8 + body.length;
  const out = new Uint8Array(ipLen + len);
  writeIpHeader(out, src, dst, v6 ? PROTO_ICMPV6 : PROTO_ICMP, len, ttl);
  out[ipLen] = type;
  out[ipLen + 1] = code;
  out[ipLen + 4] = rest >>> 24;
  out[ipLen + 5] = (rest >>> 16) & 0xff;
  out[ipLen + 6] = (rest >>> 8) & 0xff;
  out[ipLen + 7] = rest & 0xff;
  out.set(body, ipLen + 8);
  const start = v6 ? pseudoHeaderSum(src, dst, PROTO_ICMPV6, len) : 0;
  const c = finishChecksum(sumBytes(out, ipLen, ipLen + len, start));
  out[ipLen + 2] = c >> 8;
  out[ipLen + 3] = c & 0xff;
  return out;
}

/** The echo reply to an echo request (RFC 792; RFC 4443 §4.2), same identifier, sequence and data. */
export function encodeEchoReply(
  src: IpAddr,
  dst: IpAddr,
  id: number,
  seq: number,
  data: Uint8Array,
): Uint8Array {
  const type = src.length === 16 ? 129 : 0;
  return encodeIcmp(src, dst, type, 0, ((id << 16) | seq) >>> 0, data);
}

/**
 * An ICMP error as a router would send it about `offending` (an IP packet we
 * sent): the quote is its IP header and the first 8 bytes after it, or more.
 */
export function encodeIcmpError(
  router: IpAddr,
  offending: Uint8Array,
  type: number,
  code: number,
  rest = 0,
): Uint8Array {
  const v6 = offending[0] >> 4 === 6;
  const hdr = v6 ? 40 : (offending[0] & 0x0f) * 4;
  const quote = offending.subarray(0, Math.min(offending.length, v6 ? 1232 : hdr + 8));
  const to = v6 ? offending.subarray(8, 24) : offending.subarray(12, 16);
  return encodeIcmp(router, to, type, code, rest, quote);
}
