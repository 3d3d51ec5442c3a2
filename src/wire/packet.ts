// An IP packet carrying TCP, decoded in one step: the IP header, then the TCP
// segment with its checksum verified against the pseudo-header.

import type { IpAddr } from './addr.ts';
import { pseudoHeaderSum } from './checksum.ts';
import { decodeIp, type IpError, type IpPacket, PROTO_TCP } from './ip.ts';
import { decodeTcp, fillTcpChecksum, type Segment, type TcpError } from './tcp.ts';

export interface TcpPacket {
  src: IpAddr;
  dst: IpAddr;
  seg: Segment;
}

export type PacketError = IpError | TcpError | 'not-tcp';

export function decodePacket(bytes: Uint8Array, verifyChecksum = true): TcpPacket | PacketError {
  const ip = decodeIp(bytes);
  if (typeof ip === 'string') return ip;
  return decodeTcpIn(ip, verifyChecksum);
}

/** The TCP segment of an already decoded IP packet. */
export function decodeTcpIn(ip: IpPacket, verifyChecksum = true): TcpPacket | PacketError {
  const seg = decodeSegment(ip, verifyChecksum);
  if (typeof seg === 'string') return seg;
  return { src: ip.src, dst: ip.dst, seg };
}

/** As decodeTcpIn, the segment alone (its addresses are the IP packet's): one object less a packet. */
export function decodeSegment(ip: IpPacket, verifyChecksum = true): Segment | PacketError {
  if (ip.protocol !== PROTO_TCP) return 'not-tcp';
  const pseudo = verifyChecksum
    ? pseudoHeaderSum(ip.src, ip.dst, PROTO_TCP, ip.end - ip.start)
    : undefined;
  return decodeTcp(ip.bytes, pseudo, ip.start, ip.end);
}

/**
 * A copy of an IP packet carrying TCP with its TCP checksum computed in full:
 * for a trace of packets whose checksum a device fills in (offload). Packets
 * that are not TCP, or not well formed, are returned as they are.
 */
export function withTcpChecksum(packet: Uint8Array): Uint8Array {
  const ip = decodeIp(packet);
  if (typeof ip === 'string' || ip.protocol !== PROTO_TCP || ip.end - ip.start < 20) return packet;
  const out = packet.slice();
  out[ip.start + 16] = 0;
  out[ip.start + 17] = 0;
  fillTcpChecksum(out, ip.start, ip.end - ip.start, ip.src, ip.dst);
  return out;
}
