// A segment written as a packet-script line ("S. 0:0(0) ack 1 win 65535 <mss 1460,...>"),
// with sequence numbers relative to the given bases: for error messages and
// for turning traces into scripts.

import { ACK, flagString, RST, type Segment, type TcpOption } from '../../wire/tcp.ts';

export function formatOption(o: TcpOption, sackBase = 0): string {
  switch (o.kind) {
    case 'nop':
    case 'eol':
      return o.kind;
    case 'mss':
      return `mss ${o.value}`;
    case 'wscale':
      return `wscale ${o.shift}`;
    case 'sackOk':
      return 'sackOK';
    case 'sack': {
      const parts: string[] = [];
      for (let i = 0; i < o.blocks.length; i += 2) {
        parts.push(`${(o.blocks[i] - sackBase) >>> 0}:${(o.blocks[i + 1] - sackBase) >>> 0}`);
      }
      return `sack ${parts.join(' ')}`;
    }
    case 'ts':
      return `TS val ${o.val} ecr ${o.ecr}`;
    case 'fo':
      if (o.cookie.length === 0) return o.exp ? 'FOEXP' : 'FO';
      return `${o.exp ? 'FOEXP' : 'FO'} ${[...o.cookie].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
    case 'unknown':
      return `opt${o.type}`;
  }
}

/** An RST,ACK with sequence number 0: the reset that answers a segment without ACK. */
export function isZeroReset(seg: Segment): boolean {
  return (seg.flags & (RST | ACK)) === (RST | ACK) && seg.seq === 0;
}

export function formatScriptPacket(
  seg: Segment,
  dir: '<' | '>',
  seqBase: number,
  ackBase: number,
): string {
  // A reset answering a segment without ACK says SEQ=0 (RFC 9293 §3.10.7.1): 0, not counted from the ISS.
  const start = isZeroReset(seg) ? 0 : (seg.seq - seqBase) >>> 0;
  const len = seg.payload.length;
  let s = `${dir} ${flagString(seg.flags).replace('none', '')} ${start}:${(start + len) >>> 0}(${len})`;
  if (seg.flags & ACK) s += ` ack ${(seg.ack - ackBase) >>> 0}`;
  s += ` win ${seg.window}`;
  const opts = seg.options.filter(
    (o, i, a) => !(o.kind === 'eol' && a.slice(i).every((x) => x.kind === 'eol')),
  );
  if (opts.length > 0) s += ` <${opts.map((o) => formatOption(o, ackBase)).join(',')}>`;
  return s;
}
