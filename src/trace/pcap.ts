// A libpcap capture file (raw IP link type) of the packets that crossed the
// network, for Wireshark, tshark and tcpdump. The header and record layouts
// are shared by the whole-run renderer here and the streaming writer of
// `synack/node` (a capture written to disk as packets pass).

import type { TraceEvent } from '../tcp/types.ts';
import { captured } from './capture.ts';

const LINKTYPE_RAW = 101;
export const PCAP_HEADER = 24;
export const PCAP_RECORD = 16;

/** Writes the 24-byte file header at `o`. */
export function writePcapHeader(out: Uint8Array, o = 0): void {
  const v = new DataView(out.buffer, out.byteOffset);
  v.setUint32(o, 0xa1b2c3d4, true);
  v.setUint16(o + 4, 2, true);
  v.setUint16(o + 6, 4, true);
  v.setInt32(o + 8, 0, true);
  v.setUint32(o + 12, 0, true);
  v.setUint32(o + 16, 65535, true);
  v.setUint32(o + 20, LINKTYPE_RAW, true);
}

/** Writes one record (16-byte header, then the packet) at `o`; `t` in ms. Returns the bytes written. */
export function writePcapRecord(out: Uint8Array, o: number, t: number, packet: Uint8Array): number {
  const v = new DataView(out.buffer, out.byteOffset);
  const us = Math.round(t * 1000);
  v.setUint32(o, Math.floor(us / 1e6), true);
  v.setUint32(o + 4, us % 1e6, true);
  v.setUint32(o + 8, packet.length, true);
  v.setUint32(o + 12, packet.length, true);
  out.set(packet, o + PCAP_RECORD);
  return PCAP_RECORD + packet.length;
}

export function renderPcap(events: readonly TraceEvent[]): Uint8Array {
  const pkts = captured(events);
  const size = PCAP_HEADER + pkts.reduce((n, p) => n + PCAP_RECORD + p.packet.length, 0);
  const out = new Uint8Array(size);
  writePcapHeader(out);
  let o = PCAP_HEADER;
  for (const p of pkts) o += writePcapRecord(out, o, p.t, p.packet);
  return out;
}
