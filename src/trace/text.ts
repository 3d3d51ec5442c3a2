// A plain text rendering of a trace: one line per state change and per
// segment sent, with sequence numbers relative to each sender's ISN. The
// lab's ladder and tcpdump renderers build on the same events.

import { formatOption } from '../sim/script/format.ts';
import type { TraceEvent } from '../tcp/types.ts';
import { formatAddr } from '../wire/addr.ts';
import { ACK, flagString, SYN } from '../wire/tcp.ts';

export function renderText(events: readonly TraceEvent[]): string[] {
  const isn = new Map<string, number>();
  const out: string[] = [];
  const key = (a: Uint8Array, port: number) => `${formatAddr(a)}:${port}`;
  for (const e of events) {
    const t = (e.t / 1000).toFixed(3).padStart(8);
    if (e.type === 'state') {
      out.push(`${t}  ${e.host.padEnd(8)} ${e.from} → ${e.to}${e.why ? `  (${e.why})` : ''}`);
    } else if (e.type === 'segment' && e.dir === 'out') {
      const s = e.seg;
      const from = key(e.src, s.srcPort);
      const to = key(e.dst, s.dstPort);
      if (s.flags & SYN && !isn.has(from)) isn.set(from, s.seq);
      const mine = isn.get(from) ?? s.seq;
      const theirs = isn.get(to);
      let line = `${t}  ${e.host.padEnd(8)} sends ${flagString(s.flags).padEnd(3)} seq ${(s.seq - mine) >>> 0}`;
      if (s.flags & ACK) line += ` ack ${theirs === undefined ? s.ack : (s.ack - theirs) >>> 0}`;
      line += ` len ${s.payload.length} win ${s.window}`;
      if (s.options.length > 0)
        line += ` <${s.options
          .filter((o) => o.kind !== 'eol')
          .map((o) => formatOption(o))
          .join(',')}>`;
      if (e.why && e.why !== 'data' && e.why !== 'ack') line += `  [${e.why}]`;
      out.push(line);
    } else if (e.type === 'drop') {
      out.push(`${t}  ${e.host.padEnd(8)} drops a segment: ${e.reason}`);
    } else if (e.type === 'deliver' && (e.what === 'data' || e.what === 'error')) {
      out.push(
        `${t}  ${e.host.padEnd(8)} application ${e.what === 'data' ? `receives ${e.bytes} bytes` : `sees error ${e.error}`}`,
      );
    }
  }
  return out;
}
