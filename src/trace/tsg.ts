// A time-sequence graph (Stevens, TCP/IP Illustrated; tcptrace's style) as
// SVG: time across, sequence number up, for the data one host sends on one
// connection. Each segment it sends is a vertical bar from its first to its
// last byte (retransmissions in red), the ACKs it receives draw the ACK line
// (a step), ACK + window the receive-window line above it, and SACK blocks are
// short horizontal bars at the time they arrive. Sequence numbers count from
// the sender's ISS, times from the first packet. Browser-safe: a string out.

import { seqDiff } from '../tcp/seq.ts';
import type { TraceEvent } from '../tcp/types.ts';
import { formatAddr } from '../wire/addr.ts';
import { ACK, SYN } from '../wire/tcp.ts';

export interface TsgOptions {
  /** The sending host; by default the one that sent the most payload. */
  host?: string;
  width?: number;
  height?: number;
}

/** What the graph shows, counted (for tests and captions). */
export interface TsgSummary {
  host: string;
  connection: string;
  /** Data segments sent (SYNs not counted). */
  segments: number;
  /** Bars drawn red: data sent again, and every SYN after the first. */
  retransmissions: number;
  acks: number;
  sackBlocks: number;
}

type Seg = Extract<TraceEvent, { type: 'segment' }>;

export const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The connection (host and id) with the largest total of `weight` over the
 * events it is given, as "host\0conn" — the one a graph draws — or undefined.
 */
export function busiest<E extends { host: string; conn: number }>(
  events: readonly E[],
  weight: (e: E) => number,
): { host: string; conn: number } | undefined {
  const total = new Map<string, number>();
  for (const e of events) {
    const k = `${e.host}\u0000${e.conn}`;
    total.set(k, (total.get(k) ?? 0) + weight(e));
  }
  const best = [...total].sort((a, b) => b[1] - a[1])[0];
  if (!best) return undefined;
  const [host, conn] = best[0].split('\u0000');
  return { host, conn: Number(conn) };
}

/** A plot's frame: its margins, time span and vertical range. */
export interface Frame {
  W: number;
  H: number;
  L: number;
  R: number;
  T: number;
  B: number;
  t0: number;
  tEnd: number;
  yMax: number;
}

/** The x and y of a frame's data, and a number as SVG writes it. */
export function scales(fr: Frame) {
  return {
    x: (t: number) => fr.L + ((t - fr.t0) / (fr.tEnd - fr.t0)) * (fr.W - fr.L - fr.R),
    y: (v: number) => fr.H - fr.B - (Math.min(v, fr.yMax) / fr.yMax) * (fr.H - fr.T - fr.B),
    f: (n: number) => n.toFixed(1),
  };
}

/** Opens the SVG with a title (also for screen readers), the axes, five ticks each and their labels. */
export function frame(fr: Frame, title: string, spoken: string, yLabel: string): string[] {
  const { x, y, f } = scales(fr);
  const { W, H, L, R, T, B, t0, tEnd, yMax } = fr;
  const svg: string[] = [svgOpen(W, H)];
  svg.push(
    `<title>${esc(spoken)}</title>`,
    `<text x="${L}" y="22" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#444"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#444"/>`,
  );
  for (let i = 0; i <= 4; i++) {
    const t = t0 + ((tEnd - t0) * i) / 4;
    const v = (yMax * i) / 4;
    svg.push(
      `<text x="${f(x(t))}" y="${H - B + 16}" text-anchor="middle">${((t - t0) / 1000).toFixed(3)} s</text>`,
      `<text x="${L - 6}" y="${f(y(v) + 4)}" text-anchor="end">${Math.round(v)}</text>`,
    );
  }
  svg.push(
    `<text x="${f((L + W - R) / 2)}" y="${H - 10}" text-anchor="middle">time</text>`,
    `<text x="16" y="${f((T + H - B) / 2)}" transform="rotate(-90 16 ${f((T + H - B) / 2)})" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  return svg;
}

/** The graph's SVG (one line per element) and what it shows. */
export function renderTsg(
  events: readonly TraceEvent[],
  o: TsgOptions = {},
): { svg: string[]; summary: TsgSummary } {
  const segs = events.filter((e): e is Seg => e.type === 'segment');
  // The sender: the host (and connection) that sent the most payload bytes.
  const best = busiest(
    segs.filter((e) => e.dir === 'out' && (o.host === undefined || e.host === o.host)),
    (e) => e.seg.payload.length,
  );
  if (!best) {
    return {
      svg: [
        svgOpen(o.width ?? 720, 120),
        '<text x="20" y="60">No data sent in this run.</text>',
        '</svg>',
      ],
      summary: {
        host: o.host ?? '',
        connection: '',
        segments: 0,
        retransmissions: 0,
        acks: 0,
        sackBlocks: 0,
      },
    };
  }
  const { host, conn } = best;
  const mine = segs.filter((e) => e.host === host && e.conn === conn);
  const out = mine.filter((e) => e.dir === 'out');
  const ins = mine.filter((e) => e.dir === 'in');
  const first = mine[0];
  const iss = out.find((e) => e.seg.flags & SYN)?.seg.seq ?? out[0].seg.seq;
  // The peer's window scale: what its SYN offered, if ours offered one too.
  const peerSyn = ins.find((e) => e.seg.flags & SYN)?.seg;
  const ourSyn = out.find((e) => e.seg.flags & SYN)?.seg;
  const ws = (s: typeof peerSyn) => s?.options.find((x) => x.kind === 'wscale');
  const pw = ws(peerSyn);
  const scale = pw && pw.kind === 'wscale' && ws(ourSyn) ? Math.min(pw.shift, 14) : 0;
  const rel = (seq: number) => seqDiff(seq, iss);

  const t0 = first.t;
  const tEnd = Math.max(...mine.map((e) => e.t), t0 + 1);
  let yMax = 1;
  const bars: { t: number; lo: number; hi: number; re: boolean; syn: boolean }[] = [];
  let highest = 0;
  for (const e of out) {
    const lo = rel(e.seg.seq);
    const len = e.seg.payload.length;
    if (len === 0 && !(e.seg.flags & SYN)) continue;
    const hi = lo + Math.max(len, 1);
    const re = lo < highest;
    highest = Math.max(highest, hi);
    yMax = Math.max(yMax, hi);
    bars.push({ t: e.t, lo, hi, re, syn: (e.seg.flags & SYN) !== 0 });
  }
  const acks: { t: number; ack: number; wnd: number }[] = [];
  const sacks: { t: number; lo: number; hi: number }[] = [];
  for (const e of ins) {
    if (!(e.seg.flags & ACK)) continue;
    const ack = rel(e.seg.ack);
    const wnd = ack + (e.seg.window << (e.seg.flags & SYN ? 0 : scale));
    acks.push({ t: e.t, ack, wnd });
    yMax = Math.max(yMax, ack);
    for (const opt of e.seg.options) {
      if (opt.kind !== 'sack') continue;
      for (let i = 0; i + 1 < opt.blocks.length; i += 2)
        sacks.push({ t: e.t, lo: rel(opt.blocks[i]), hi: rel(opt.blocks[i + 1]) });
    }
  }

  // The window line shows where it is near the data; a far larger window is cut at the top.
  const wndTop = Math.max(...acks.map((a) => a.wnd), 0);
  yMax = Math.max(yMax, Math.min(wndTop, Math.ceil(yMax * 1.25)));
  const W = o.width ?? 720;
  const H = o.height ?? 420;
  const L = 78;
  const R = 20;
  const T = 40;
  const B = 46;
  const fr: Frame = { W, H, L, R, T, B, t0, tEnd, yMax };
  const { x, y, f } = scales(fr);
  const peer = first.dir === 'out' ? formatAddr(first.dst) : formatAddr(first.src);
  const title = `${host} → ${peer}: data sent by ${host} (connection #${conn})`;
  const svg = frame(fr, title, `Time-sequence graph: ${title}`, 'sequence number (from ISS)');
  // Receive window and ACK lines: steps from one ACK to the next.
  const step = (key: 'ack' | 'wnd') => {
    if (acks.length === 0) return '';
    let d = `M${f(x(acks[0].t))},${f(y(acks[0][key]))}`;
    for (let i = 1; i < acks.length; i++) d += ` H${f(x(acks[i].t))} V${f(y(acks[i][key]))}`;
    return `${d} H${f(x(tEnd))}`;
  };
  if (acks.length > 0) {
    svg.push(
      `<path class="window" d="${step('wnd')}" fill="none" stroke="#2ca02c" stroke-width="1.2"/>`,
    );
    svg.push(
      `<path class="ack" d="${step('ack')}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`,
    );
  }
  // SACK blocks under the segments: a retransmission sent as they arrive stays visible.
  for (const s of sacks) {
    const xx = x(s.t) + 3;
    svg.push(
      `<line class="sack" x1="${f(xx)}" y1="${f(y(s.lo))}" x2="${f(xx)}" y2="${f(y(s.hi))}" stroke="#9467bd" stroke-width="4" stroke-opacity="0.6"/>`,
    );
  }
  for (const b of bars) {
    const cls = b.re ? 'retransmission' : b.syn ? 'syn' : 'segment';
    const color = b.re ? '#d62728' : '#222';
    const width = b.re ? ' stroke-width="2.5"' : '';
    const xx = f(x(b.t));
    svg.push(
      `<g class="${cls}" stroke="${color}"${width}><line x1="${xx}" y1="${f(y(b.lo))}" x2="${xx}" y2="${f(y(b.hi))}"/><line x1="${f(x(b.t) - 2)}" y1="${f(y(b.hi))}" x2="${f(x(b.t) + 2)}" y2="${f(y(b.hi))}"/></g>`,
    );
  }
  // Legend.
  const items: [string, string][] = [
    ['#222', 'segment sent'],
    ['#d62728', 'retransmission'],
    ['#1f77b4', 'ACK'],
    ['#2ca02c', 'ACK + window'],
    ['#9467bd', 'SACK block'],
  ];
  legend(svg, items, L + 10);
  svg.push('</svg>');
  return {
    svg,
    summary: {
      host,
      connection: `#${conn}`,
      segments: bars.filter((b) => !b.syn).length,
      retransmissions: bars.filter((b) => b.re).length,
      acks: acks.length,
      sackBlocks: sacks.length,
    },
  };
}

/** A legend line at the top: a colour swatch and a label each, spaced by the label's length (11 px type). */
export function legend(svg: string[], items: readonly [string, string][], x0: number): void {
  let lx = x0;
  for (const [c, label] of items) {
    svg.push(
      `<line x1="${lx}" y1="32" x2="${lx + 16}" y2="32" stroke="${c}" stroke-width="3"/>`,
      `<text x="${lx + 20}" y="36">${label}</text>`,
    );
    lx += 20 + Math.ceil(label.length * 6.2) + 16;
  }
}

export function svgOpen(w: number, h: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" font-family="sans-serif" font-size="11"><rect width="${w}" height="${h}" fill="white"/>`;
}
