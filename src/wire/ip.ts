// IPv4 (RFC 791) and IPv6 (RFC 8200) headers: decode without copying, encode
// around a transport payload. Decoding returns a packet or the reason it was
// rejected; it never throws.

import { type IpAddr, internIpv4 } from './addr.ts';
import { finishChecksum, sumBytes } from './checksum.ts';

export const PROTO_TCP = 6;
export const PROTO_ICMP = 1;
export const PROTO_ICMPV6 = 58;

export type IpError =
  | 'truncated'
  | 'bad-ip-version'
  | 'bad-ip-header-length'
  | 'bad-ip-length'
  | 'bad-ip-checksum'
  | 'fragment'
  | 'bad-ipv6-extension'
  | 'no-next-header';

export interface IpPacket {
  version: 4 | 6;
  src: IpAddr;
  dst: IpAddr;
  /** The upper-layer protocol after any IPv6 extension headers. */
  protocol: number;
  ttl: number;
  /** IPv4 TOS byte or IPv6 traffic class: DiffServ code point and ECN bits. */
  tos: number;
  /** An IPv4 loose or strict source-route option is present (RFC 791 §3.1). */
  sourceRoute: boolean;
  /** The packet; the upper-layer bytes are `bytes[start, end)` (see `ipPayload`). */
  bytes: Uint8Array;
  start: number;
  end: number;
}

/** A view of the upper-layer bytes (not a copy). */
export function ipPayload(ip: IpPacket): Uint8Array {
  return ip.bytes.subarray(ip.start, ip.end);
}

export function decodeIp(bytes: Uint8Array): IpPacket | IpError {
  if (bytes.length < 1) return 'truncated';
  const version = bytes[0] >> 4;
  if (version === 4) return decodeIpv4(bytes);
  if (version === 6) return decodeIpv6(bytes);
  return 'bad-ip-version';
}

function decodeIpv4(b: Uint8Array): IpPacket | IpError {
  if (b.length < 20) return 'truncated';
  const ihl = (b[0] & 0x0f) * 4;
  if (ihl < 20) return 'bad-ip-header-length';
  if (b.length < ihl) return 'truncated';
  const total = (b[2] << 8) | b[3];
  // Bytes past the total length (link padding) are ignored; fewer are an error.
  if (total < ihl) return 'bad-ip-length';
  if (total > b.length) return 'truncated';
  if (finishChecksum(sumBytes(b, 0, ihl)) !== 0) return 'bad-ip-checksum';
  const fragField = (b[6] << 8) | b[7];
  // MF set or a non-zero offset: a fragment. synack does not reassemble.
  if ((fragField & 0x3fff) !== 0) return 'fragment';
  return {
    version: 4,
    // Not views: a view of a small on-heap packet would make V8 move its bytes
    // off-heap. Shared objects, one per address.
    src: internIpv4(b, 12),
    dst: internIpv4(b, 16),
    protocol: b[9],
    ttl: b[8],
    tos: b[1],
    sourceRoute: ihl > 20 && hasSourceRoute(b, ihl),
    bytes: b,
    start: ihl,
    end: total,
  };
}

/** Walks IPv4 options looking for LSRR (131) or SSRR (137); a malformed list counts as none. */
function hasSourceRoute(b: Uint8Array, ihl: number): boolean {
  let i = 20;
  while (i < ihl) {
    const t = b[i];
    if (t === 0) return false;
    if (t === 1) {
      i++;
      continue;
    }
    if (t === 131 || t === 137) return true;
    if (i + 1 >= ihl || b[i + 1] < 2) return false;
    i += b[i + 1];
  }
  return false;
}

function decodeIpv6(b: Uint8Array): IpPacket | IpError {
  if (b.length < 40) return 'truncated';
  const payloadLen = (b[4] << 8) | b[5];
  const end = 40 + payloadLen;
  if (end > b.length) return 'truncated';
  let next = b[6];
  let off = 40;
  // Walk the extension-header chain (RFC 8200 §4).
  for (;;) {
    if (next === 0 || next === 60 || next === 43 || next === 51) {
      if (off + 2 > end) return 'bad-ipv6-extension';
      const len = next === 51 ? (b[off + 1] + 2) * 4 : (b[off + 1] + 1) * 8;
      // A routing header with segments left must be processed by us; we do not route.
      if (next === 43 && b[off + 3] !== 0) return 'bad-ipv6-extension';
      if (off + len > end) return 'bad-ipv6-extension';
      next = b[off];
      off += len;
      continue;
    }
    if (next === 44) return 'fragment';
    if (next === 59) return 'no-next-header';
    break;
  }
  return {
    version: 6,
    src: b.slice(8, 24),
    dst: b.slice(24, 40),
    protocol: next,
    ttl: b[7],
    tos: ((b[0] & 0x0f) << 4) | (b[1] >> 4),
    sourceRoute: false,
    bytes: b,
    start: off,
    end,
  };
}

export const IPV4_HEADER = 20;
export const IPV6_HEADER = 40;

/**
 * Writes an IP header for `src`→`dst` at the start of `out`, whose bytes after
 * the header hold `payloadLength` bytes of the upper layer. Returns the header length.
 */
export function writeIpHeader(
  out: Uint8Array,
  src: IpAddr,
  dst: IpAddr,
  protocol: number,
  payloadLength: number,
  ttl = 64,
  id = 0,
  tos = 0,
): number {
  if (src.length === 4) {
    const total = IPV4_HEADER + payloadLength;
    out[0] = 0x45;
    out[1] = tos;
    out[2] = total >> 8;
    out[3] = total & 0xff;
    out[4] = (id >> 8) & 0xff;
    out[5] = id & 0xff;
    out[6] = 0x40; // DF: TCP does its own segmentation (RFC 1191 path MTU discovery).
    out[7] = 0;
    out[8] = ttl;
    out[9] = protocol;
    out[10] = 0;
    out[11] = 0;
    // Byte by byte: TypedArray.set costs more than the copy for four bytes.
    out[12] = src[0];
    out[13] = src[1];
    out[14] = src[2];
    out[15] = src[3];
    out[16] = dst[0];
    out[17] = dst[1];
    out[18] = dst[2];
    out[19] = dst[3];
    // The header's sum from the values just written (not read back from the bytes).
    const c = finishChecksum(
      0x4500 +
        (tos & 0xff) +
        (total & 0xffff) +
        (id & 0xffff) +
        0x4000 +
        ((ttl & 0xff) << 8) +
        (protocol & 0xff) +
        ((src[0] << 8) | src[1]) +
        ((src[2] << 8) | src[3]) +
        ((dst[0] << 8) | dst[1]) +
        ((dst[2] << 8) | dst[3]),
    );
    out[10] = c >> 8;
    out[11] = c & 0xff;
    return IPV4_HEADER;
  }
  out[0] = 0x60 | (tos >> 4);
  out[1] = (tos & 0x0f) << 4;
  out[2] = 0;
  out[3] = 0;
  out[4] = payloadLength >> 8;
  out[5] = payloadLength & 0xff;
  out[6] = protocol;
  out[7] = ttl;
  out.set(src, 8);
  out.set(dst, 24);
  return IPV6_HEADER;
}
