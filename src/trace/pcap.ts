// A libpcap capture file (raw IP link type) of the packets that crossed the
// network, for Wireshark, tshark and tcpdump. Timestamps are virtual time.

import type { TraceEvent } from '../tcp/types.ts';
import { captured } from './capture.ts';

const LINKTYPE_RAW = 101;

export function renderPcap(events: readonly TraceEvent[]): Uint8Array {
  const pkts = captured(events);
  const size = 24 + pkts.reduce((n, p) => n + 16 + p.packet.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setInt32(8, 0, true);
  v.setUint32(12, 0, true);
  v.setUint32(16, 65535, true);
  v.setUint32(20, LINKTYPE_RAW, true);
  let o = 24;
  for (const p of pkts) {
    const us = Math.round(p.t * 1000);
    v.setUint32(o, Math.floor(us / 1e6), true);
    v.setUint32(o + 4, us % 1e6, true);
    v.setUint32(o + 8, p.packet.length, true);
    v.setUint32(o + 12, p.packet.length, true);
    out.set(p.packet, o + 16);
    o += 16 + p.packet.length;
  }
  return out;
}
