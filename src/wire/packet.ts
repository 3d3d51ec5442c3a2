// An IP packet carrying TCP, decoded in one step: the IP header, then the TCP
// segment with its checksum verified against the pseudo-header.

import type { IpAddr } from './addr.ts';
import { pseudoHeaderSum } from './checksum.ts';
import { decodeIp, type IpError, type IpPacket, PROTO_TCP } from './ip.ts';
import { decodeTcp, type Segment, type TcpError } from './tcp.ts';

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
  if (ip.protocol !== PROTO_TCP) return 'not-tcp';
  const pseudo = verifyChecksum
    ? pseudoHeaderSum(ip.src, ip.dst, PROTO_TCP, ip.end - ip.start)
    : undefined;
  const seg = decodeTcp(ip.bytes, pseudo, ip.start, ip.end);
  if (typeof seg === 'string') return seg;
  return { src: ip.src, dst: ip.dst, seg };
}
