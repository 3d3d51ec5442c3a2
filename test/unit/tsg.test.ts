// The time-sequence graph: what it draws matches what the trace says happened
// — every data segment the chosen host sent is a bar, the ones the engine sent
// as retransmissions are the red ones, every ACK it received is a step — and
// the SVG is well formed. Runs of the chaos scenario supply losses.

import { describe, expect, it } from 'vitest';
import { findScenario } from '../../src/sim/scenarios/index.ts';
import type { TraceEvent } from '../../src/tcp/types.ts';
import { renderTsg } from '../../src/trace/tsg.ts';
import { ACK, SYN } from '../../src/wire/tcp.ts';

type Seg = Extract<TraceEvent, { type: 'segment' }>;

describe('time-sequence graph (--format tsg)', () => {
  for (const seed of [3, 7, 11]) {
    it(`random, seed ${seed}: bars, retransmissions and ACK steps as the trace has them`, () => {
      const [r] = findScenario('random')!.run({ seed, params: {} });
      const { svg, summary } = renderTsg(r.events);
      const text = svg.join('\n');
      const [host, conn] = [summary.host, Number(summary.connection.slice(1))];
      const mine = r.events.filter(
        (e): e is Seg => e.type === 'segment' && e.host === host && e.conn === conn,
      );
      const data = mine.filter((e) => e.dir === 'out' && e.seg.payload.length > 0);
      expect(summary.segments).toBe(data.length);
      expect(summary.segments).toBeGreaterThan(0);
      // What the engine labels as sent again — data retransmissions, and every SYN
      // after the first — and only that, is red.
      const syns = mine.filter((e) => e.dir === 'out' && e.seg.flags & SYN);
      const again =
        data.filter((e) => e.why === 'retransmit').length + Math.max(0, syns.length - 1);
      expect(summary.retransmissions).toBe(again);
      expect(text.match(/class="retransmission"/g)?.length ?? 0).toBe(again);
      expect(summary.acks).toBe(mine.filter((e) => e.dir === 'in' && e.seg.flags & ACK).length);
      // Well formed: one root, balanced groups, a title for screen readers.
      expect(text.startsWith('<svg ')).toBe(true);
      expect(text.trimEnd().endsWith('</svg>')).toBe(true);
      expect((text.match(/<g /g) ?? []).length).toBe((text.match(/<\/g>/g) ?? []).length);
      expect(text).toMatch(/<title>Time-sequence graph: /);
    });
  }

  it('a run without data says so instead of drawing an empty graph', () => {
    const { svg, summary } = renderTsg([]);
    expect(summary.segments).toBe(0);
    expect(svg.join('')).toMatch(/No data sent in this run/);
  });
});
