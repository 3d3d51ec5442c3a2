// The states of each endpoint over time: one row per connection, each state
// with the moment it was entered and how long it lasted.

import type { TraceEvent } from '../tcp/types.ts';

export function renderTimeline(events: readonly TraceEvent[]): string[] {
  const rows = new Map<string, { t: number; state: string }[]>();
  let end = 0;
  for (const e of events) {
    end = Math.max(end, e.t);
    if (e.type !== 'state') continue;
    const k = `${e.host} #${e.conn}`;
    if (!rows.has(k)) rows.set(k, [{ t: e.t, state: e.from }]);
    rows.get(k)!.push({ t: e.t, state: e.to });
  }
  const lines: string[] = [];
  const width = Math.max(...[...rows.keys()].map((k) => k.length), 4);
  for (const [k, steps] of rows) {
    const parts: string[] = [];
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i];
      const next = steps[i + 1];
      const dur = next ? next.t - s.t : end - s.t;
      if (i > 0 || s.state !== 'CLOSED')
        parts.push(
          `${(s.t / 1000).toFixed(3)}s ${s.state}${next || dur > 0 ? ` (${fmt(dur)})` : ''}`,
        );
    }
    lines.push(`${k.padEnd(width)}  ${parts.join(' → ')}`);
  }
  return lines;
}

function fmt(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 3)} s`;
  return `${Number(ms.toFixed(3))} ms`;
}
