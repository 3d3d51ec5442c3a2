// The congestion window over time, as SVG: cwnd and ssthresh of one sender
// (in segments of its MSS), with the decisions of loss recovery marked where
// they happened — recovery entered, an RTO, a tail loss probe, an undo. It
// reads the trace's 'cc' events (recovery.ts); browser-safe, a string out.

import type { CcEvent, TraceEvent } from '../tcp/types.ts';
import { busiest, type Frame, frame, legend, scales, svgOpen } from './tsg.ts';

export interface CwndOptions {
  /** The sending host; by default the one with the most window changes. */
  host?: string;
  width?: number;
  height?: number;
}

export interface CwndSummary {
  host: string;
  connection: string;
  /** Window samples drawn. */
  samples: number;
  /** Largest cwnd, in segments. */
  maxCwnd: number;
  recoveries: number;
  timeouts: number;
  probes: number;
  undos: number;
}

type Cc = Extract<TraceEvent, { type: 'cc' }>;

/** What each marked decision looks like, and what the legend calls it. */
const MARKS: Partial<Record<CcEvent, [color: string, label: string]>> = {
  'enter-recovery': ['#ff7f0e', 'recovery'],
  'enter-loss': ['#d62728', 'RTO'],
  tlp: ['#9467bd', 'tail loss probe'],
  undo: ['#2ca02c', 'undo'],
  'hystart-exit': ['#17becf', 'HyStart'],
};

const INFINITE = 0x3fffffff;

/** The plot's SVG (one line per element) and what it shows. */
export function renderCwnd(
  events: readonly TraceEvent[],
  o: CwndOptions = {},
): { svg: string[]; summary: CwndSummary } {
  const all = events.filter((e): e is Cc => e.type === 'cc');
  const best = busiest(
    all.filter((e) => o.host === undefined || e.host === o.host),
    () => 1,
  );
  const mine = best ? all.filter((e) => e.host === best.host && e.conn === best.conn) : [];
  // Only the initial window (every connection reports it): nothing to plot.
  const moved = mine.some((e) => e.event !== 'cwnd' || e.cwnd !== mine[0].cwnd);
  const W = o.width ?? 720;
  const H = o.height ?? 320;
  if (!best || !moved) {
    return {
      svg: [
        svgOpen(W, 120),
        '<text x="20" y="60">No congestion-window changes in this run.</text>',
        '</svg>',
      ],
      summary: {
        host: o.host ?? '',
        connection: '',
        samples: 0,
        maxCwnd: 0,
        recoveries: 0,
        timeouts: 0,
        probes: 0,
        undos: 0,
      },
    };
  }
  const { host, conn } = best;
  const mss = mine[0].mss;
  const seg = (b: number) => b / mss;
  const t0 = Math.min(
    ...events
      .filter((e) => e.type === 'segment' && e.host === host && e.conn === conn)
      .map((e) => e.t),
    mine[0].t,
  );
  const tEnd = Math.max(mine[mine.length - 1].t, t0 + 1);
  let yMax = 1;
  for (const e of mine) {
    yMax = Math.max(yMax, seg(e.cwnd));
    if (e.ssthresh < INFINITE) yMax = Math.max(yMax, seg(e.ssthresh));
  }
  yMax = Math.ceil(yMax * 1.1);
  const fr: Frame = { W, H, L: 60, R: 20, T: 40, B: 46, t0, tEnd, yMax };
  const { x, y, f } = scales(fr);
  const title = `${host}: congestion window of connection #${conn} (segments of ${mss} B)`;
  const svg = frame(fr, title, title, 'segments');
  const { L, T, B } = fr;
  const step = (pick: (e: Cc) => number | null) => {
    let d = '';
    let open = false;
    for (const e of mine) {
      const v = pick(e);
      if (v === null) {
        open = false;
        continue;
      }
      d += open ? ` H${f(x(e.t))} V${f(y(v))}` : ` M${f(x(e.t))},${f(y(v))}`;
      open = true;
    }
    return open ? `${d} H${f(x(tEnd))}` : d;
  };
  svg.push(
    `<path class="ssthresh" d="${step((e) => (e.ssthresh < INFINITE ? seg(e.ssthresh) : null)).trim()}" fill="none" stroke="#7f7f7f" stroke-dasharray="5 3"/>`,
    `<path class="cwnd" d="${step((e) => seg(e.cwnd)).trim()}" fill="none" stroke="#1f77b4" stroke-width="1.6"/>`,
  );
  const n: Partial<Record<CcEvent, number>> = {};
  for (const e of mine) {
    n[e.event] = (n[e.event] ?? 0) + 1;
    const m = MARKS[e.event];
    if (!m) continue;
    svg.push(
      `<line class="${e.event}" x1="${f(x(e.t))}" y1="${T}" x2="${f(x(e.t))}" y2="${H - B}" stroke="${m[0]}" stroke-opacity="0.7"/>`,
    );
  }
  const items: [string, string][] = [
    ['#1f77b4', 'cwnd'],
    ['#7f7f7f', 'ssthresh'],
    ...Object.values(MARKS),
  ];
  legend(svg, items, L + 10);
  svg.push('</svg>');
  return {
    svg,
    summary: {
      host,
      connection: `#${conn}`,
      samples: mine.length,
      maxCwnd: Math.max(...mine.map((e) => seg(e.cwnd))),
      recoveries: n['enter-recovery'] ?? 0,
      timeouts: n['enter-loss'] ?? 0,
      probes: n.tlp ?? 0,
      undos: n.undo ?? 0,
    },
  };
}
