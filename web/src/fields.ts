// The header fields of a packet with the bytes each occupies, for the segment
// detail pane (as Wireshark's) and the hex view that highlights them.

import { formatAddr } from '../../src/wire/addr.ts';
import { decodeIp, ipPayload } from '../../src/wire/ip.ts';
import { decodeTcp, flagString } from '../../src/wire/tcp.ts';

export interface Field {
  id: string;
  layer: 'IP' | 'TCP' | 'Data';
  name: string;
  value: string;
  start: number;
  end: number;
}

const u16 = (b: Uint8Array, i: number) => (b[i] << 8) | b[i + 1];
const u32 = (b: Uint8Array, i: number) =>
  ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;

export function packetFields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  const ip = decodeIp(b);
  if (typeof ip === 'string')
    return [{ id: 'raw', layer: 'Data', name: 'undecodable', value: ip, start: 0, end: b.length }];
  let o: number;
  if (ip.version === 4) {
    const ihl = (b[0] & 0x0f) * 4;
    out.push(
      {
        id: 'ip.version',
        layer: 'IP',
        name: 'Version / header length',
        value: `4 / ${ihl} bytes`,
        start: 0,
        end: 1,
      },
      {
        id: 'ip.tos',
        layer: 'IP',
        name: 'DSCP / ECN (TOS)',
        value: `0x${b[1].toString(16).padStart(2, '0')}`,
        start: 1,
        end: 2,
      },
      {
        id: 'ip.len',
        layer: 'IP',
        name: 'Total length',
        value: String(u16(b, 2)),
        start: 2,
        end: 4,
      },
      {
        id: 'ip.id',
        layer: 'IP',
        name: 'Identification',
        value: String(u16(b, 4)),
        start: 4,
        end: 6,
      },
      {
        id: 'ip.frag',
        layer: 'IP',
        name: 'Flags / fragment offset',
        value: b[6] & 0x40 ? "DF (don't fragment)" : 'none',
        start: 6,
        end: 8,
      },
      { id: 'ip.ttl', layer: 'IP', name: 'Time to live', value: String(b[8]), start: 8, end: 9 },
      {
        id: 'ip.proto',
        layer: 'IP',
        name: 'Protocol',
        value: b[9] === 6 ? '6 (TCP)' : String(b[9]),
        start: 9,
        end: 10,
      },
      {
        id: 'ip.sum',
        layer: 'IP',
        name: 'Header checksum',
        value: `0x${u16(b, 10).toString(16).padStart(4, '0')}`,
        start: 10,
        end: 12,
      },
      { id: 'ip.src', layer: 'IP', name: 'Source', value: formatAddr(ip.src), start: 12, end: 16 },
      {
        id: 'ip.dst',
        layer: 'IP',
        name: 'Destination',
        value: formatAddr(ip.dst),
        start: 16,
        end: 20,
      },
    );
    if (ihl > 20)
      out.push({
        id: 'ip.opts',
        layer: 'IP',
        name: 'IP options',
        value: `${ihl - 20} bytes`,
        start: 20,
        end: ihl,
      });
    o = ihl;
  } else {
    out.push(
      {
        id: 'ip.version',
        layer: 'IP',
        name: 'Version / traffic class / flow label',
        value: '6',
        start: 0,
        end: 4,
      },
      {
        id: 'ip.len',
        layer: 'IP',
        name: 'Payload length',
        value: String(u16(b, 4)),
        start: 4,
        end: 6,
      },
      {
        id: 'ip.proto',
        layer: 'IP',
        name: 'Next header',
        value: b[6] === 6 ? '6 (TCP)' : String(b[6]),
        start: 6,
        end: 7,
      },
      { id: 'ip.ttl', layer: 'IP', name: 'Hop limit', value: String(b[7]), start: 7, end: 8 },
      { id: 'ip.src', layer: 'IP', name: 'Source', value: formatAddr(ip.src), start: 8, end: 24 },
      {
        id: 'ip.dst',
        layer: 'IP',
        name: 'Destination',
        value: formatAddr(ip.dst),
        start: 24,
        end: 40,
      },
    );
    o = ip.start;
  }
  const seg = decodeTcp(ipPayload(ip));
  if (typeof seg === 'string') {
    out.push({
      id: 'tcp.raw',
      layer: 'TCP',
      name: 'TCP (undecodable)',
      value: seg,
      start: o,
      end: b.length,
    });
    return out;
  }
  const hdr = (b[o + 12] >> 4) * 4;
  out.push(
    {
      id: 'tcp.sport',
      layer: 'TCP',
      name: 'Source port',
      value: String(u16(b, o)),
      start: o,
      end: o + 2,
    },
    {
      id: 'tcp.dport',
      layer: 'TCP',
      name: 'Destination port',
      value: String(u16(b, o + 2)),
      start: o + 2,
      end: o + 4,
    },
    {
      id: 'tcp.seq',
      layer: 'TCP',
      name: 'Sequence number',
      value: String(u32(b, o + 4)),
      start: o + 4,
      end: o + 8,
    },
    {
      id: 'tcp.ack',
      layer: 'TCP',
      name: 'Acknowledgment number',
      value: String(u32(b, o + 8)),
      start: o + 8,
      end: o + 12,
    },
    {
      id: 'tcp.off',
      layer: 'TCP',
      name: 'Data offset',
      value: `${hdr} bytes`,
      start: o + 12,
      end: o + 13,
    },
    {
      id: 'tcp.flags',
      layer: 'TCP',
      name: 'Flags',
      value: `[${flagString(seg.flags)}] 0x${seg.flags.toString(16).padStart(2, '0')}`,
      start: o + 13,
      end: o + 14,
    },
    {
      id: 'tcp.win',
      layer: 'TCP',
      name: 'Window',
      value: String(seg.window),
      start: o + 14,
      end: o + 16,
    },
    {
      id: 'tcp.sum',
      layer: 'TCP',
      name: 'Checksum',
      value: `0x${u16(b, o + 16)
        .toString(16)
        .padStart(4, '0')}`,
      start: o + 16,
      end: o + 18,
    },
    {
      id: 'tcp.urg',
      layer: 'TCP',
      name: 'Urgent pointer',
      value: String(seg.urgent),
      start: o + 18,
      end: o + 20,
    },
  );
  // Options, each with its own bytes.
  let i = o + 20;
  let n = 0;
  while (i < o + hdr) {
    const kind = b[i];
    const len = kind <= 1 ? 1 : Math.max(2, b[i + 1] ?? 2);
    const end = Math.min(i + len, o + hdr);
    const names: Record<number, string> = {
      0: 'EOL',
      1: 'NOP',
      2: 'MSS',
      3: 'Window scale',
      4: 'SACK permitted',
      5: 'SACK',
      8: 'Timestamps',
      34: 'Fast Open cookie',
    };
    let value = '';
    if (kind === 2 && len === 4) value = String(u16(b, i + 2));
    else if (kind === 3 && len === 3) value = `shift ${b[i + 2]}`;
    else if (kind === 8 && len === 10) value = `val ${u32(b, i + 2)} ecr ${u32(b, i + 6)}`;
    out.push({
      id: `tcp.opt${n++}`,
      layer: 'TCP',
      name: `Option: ${names[kind] ?? `kind ${kind}`}`,
      value,
      start: i,
      end,
    });
    if (kind === 0) {
      if (end < o + hdr)
        out.push({
          id: 'tcp.pad',
          layer: 'TCP',
          name: 'Padding',
          value: '',
          start: end,
          end: o + hdr,
        });
      break;
    }
    i = end;
  }
  if (seg.payload.length > 0)
    out.push({
      id: 'data',
      layer: 'Data',
      name: 'Payload',
      value: `${seg.payload.length} bytes`,
      start: o + hdr,
      end: b.length,
    });
  return out;
}
