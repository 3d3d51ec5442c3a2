// The congestion window over time, as SVG: cwnd and ssthresh of one sender
// (in segments of its MSS), with the decisions of loss recovery marked where
// they happened — recovery entered, an RTO, a tail loss probe, an undo. It
// reads the trace's 'cc' events (recovery.ts); browser-safe, a string out.

import type { CcEvent, TraceEvent } from '../tcp/types.ts';
import { legend, svgOpen } from './tsg.ts';

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
  const count = new Map<string, number>();
  for (const e of all) {
    if (o.host !== undefined && e.host !== o.host) continue;
    const k = `${e.host}\u0000${e.conn}`;
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  const best = [...count].sort((a, b) => b[1] - a[1])[0];
  // Only the initial window (every connection reports it): nothing to plot.
  const moved =
    best !== undefined &&
    all.some(
      (e) =>
        `${e.host}\u0000${e.conn}` === best[0] &&
        (e.event !== 'cwnd' ||
          e.cwnd !== all.find((x) => x.host === e.host && x.conn === e.conn)!.cwnd),
    );
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
  const [host, connText] = best[0].split('\u0000');
  const conn = Number(connText);
  const mine = all.filter((e) => e.host === host && e.conn === conn);
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
  const L = 60;
  const R = 20;
  const T = 40;
  const B = 46;
  const x = (t: number) => L + ((t - t0) / (tEnd - t0)) * (W - L - R);
  const y = (v: number) => H - B - (Math.min(v, yMax) / yMax) * (H - T - B);
  const f = (n: number) => n.toFixed(1);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const svg: string[] = [svgOpen(W, H)];
  const title = `${host}: congestion window of connection #${conn} (segments of ${mss} B)`;
  svg.push(
    `<title>${esc(title)}</title>`,
    `<text x="${L}" y="22" font-weight="bold">${esc(title)}</text>`,
  );
  svg.push(
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#444"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#444"/>`,
  );
  for (let i = 0; i <= 4; i++) {
    const t = t0 + ((tEnd - t0) * i) / 4;
    svg.push(
      `<text x="${f(x(t))}" y="${H - B + 16}" text-anchor="middle">${((t - t0) / 1000).toFixed(3)} s</text>`,
      `<text x="${L - 6}" y="${f(y((yMax * i) / 4) + 4)}" text-anchor="end">${Math.round((yMax * i) / 4)}</text>`,
    );
  }
  svg.push(
    `<text x="${f((L + W - R) / 2)}" y="${H - 10}" text-anchor="middle">time</text>`,
    `<text x="16" y="${f((T + H - B) / 2)}" transform="rotate(-90 16 ${f((T + H - B) / 2)})" text-anchor="middle">segments</text>`,
  );
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
