// A terminal sequence diagram: a column per host with its state changes as
// they happen, and an arrow for every segment with its flags, relative (or
// absolute) sequence and ack numbers, length and options. Lost packets end in
// ✗, held ones are labelled, and colour is used when asked for (a TTY).

import type { TraceEvent } from '../tcp/types.ts';
import { formatAddr } from '../wire/addr.ts';
import { ACK, FIN, PSH, RST, type Segment, SYN, type TcpOption } from '../wire/tcp.ts';

export interface LadderOptions {
  absolute?: boolean;
  color?: boolean;
  /** Total width in columns (default 96). */
  width?: number;
  /** At most this many lines (the rest is summarised). */
  maxLines?: number;
  /** Column order (the first two get columns); default: order of appearance. */
  hosts?: string[];
}

export function flagWords(f: number): string {
  const w: string[] = [];
  if (f & SYN) w.push('SYN');
  if (f & FIN) w.push('FIN');
  if (f & RST) w.push('RST');
  if (f & PSH) w.push('PSH');
  if (f & ACK) w.push('ACK');
  return w.length === 0 ? '(no flags)' : w.join(',');
}

/** A short label for an option, as the ladder prints it. */
export function optionLabel(o: TcpOption): string {
  switch (o.kind) {
    case 'mss':
      return `mss ${o.value}`;
    case 'wscale':
      return `ws ${o.shift}`;
    case 'sackOk':
      return 'sackOK';
    case 'ts':
      return 'TS';
    case 'sack':
      return 'SACK';
    case 'fo':
      return 'TFO';
    default:
      return '';
  }
}

/** Sequence bases per endpoint (address:port): each side's ISN, taken from its SYN. */
export class SeqBases {
  private isn = new Map<string, number>();
  constructor(private readonly absolute = false) {}

  note(from: string, seg: Segment): void {
    if (seg.flags & SYN) this.isn.set(from, seg.seq);
  }

  seq(from: string, seq: number): number {
    const b = this.absolute ? undefined : this.isn.get(from);
    return b === undefined ? seq : (seq - b) >>> 0;
  }

  ack(to: string, ack: number): number {
    const b = this.absolute ? undefined : this.isn.get(to);
    return b === undefined ? ack : (ack - b) >>> 0;
  }
}

export function segmentLabel(seg: Segment, from: string, to: string, bases: SeqBases): string {
  let s = `${flagWords(seg.flags)} seq ${bases.seq(from, seg.seq)}`;
  if (seg.flags & ACK) s += ` ack ${bases.ack(to, seg.ack)}`;
  if (seg.payload.length > 0) s += ` len ${seg.payload.length}`;
  const o = seg.options.map(optionLabel).filter((x) => x !== '');
  if (seg.flags & SYN && o.length > 0) s += ` <${o.join(',')}>`;
  else if (o.includes('SACK')) s += ' <SACK>';
  return s;
}

const C = {
  dim: '\x1b[2m',
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  cyan: '\x1b[36m',
  reset: '\x1b[0m',
};

export function renderLadder(events: readonly TraceEvent[], opts: LadderOptions = {}): string[] {
  const width = opts.width ?? 96;
  const paint = (c: keyof typeof C, s: string) => (opts.color ? `${C[c]}${s}${C.reset}` : s);
  // Hosts in order of appearance; an endpoint (addr.port) belongs to the host that sent from it.
  const hosts: string[] = [...(opts.hosts ?? [])];
  const owner = new Map<string, string>();
  for (const e of events) {
    const h = e.type === 'wire' ? e.from : e.host;
    if (e.type !== 'wire' && !hosts.includes(h)) hosts.push(h);
    if (e.type === 'segment' && e.dir === 'out') owner.set(formatAddr(e.src), e.host);
  }
  if (hosts.length === 0) return ['(no events)'];
  const left = hosts[0];
  const right = hosts[1] ?? '';
  const col = 14;
  const mid = width - 8 - 2 * col;
  const bases = new SeqBases(opts.absolute);
  const lines: string[] = [];
  const row = (t: number, l: string, m: string, r: string) =>
    `${(t / 1000).toFixed(3).padStart(7)} ${l.padEnd(col)}${m}${r}`.trimEnd();
  lines.push(row(0, left, ' '.repeat(mid), right.padStart(col)));
  lines.push(
    `${' '.repeat(8)}${'─'.repeat(col - 2).padEnd(col)}${' '.repeat(mid)}${right ? ' '.repeat(2) + '─'.repeat(col - 2) : ''}`,
  );
  // Outgoing segments are drawn from the sender's trace; the wire event (if any) says its fate.
  const fates: { fate: string; note?: string; arrive?: number }[] = [];
  let wi = 0;
  const wires = events.filter(
    (e) => e.type === 'wire' && e.fate !== 'released' && e.fate !== 'duplicated',
  );
  for (const e of events) {
    if (e.type === 'state') {
      const label = e.to;
      const text =
        e.host === left
          ? row(e.t, label, ' '.repeat(mid), '')
          : row(e.t, '', ' '.repeat(mid), label.padStart(col));
      lines.push(
        e.host === left || e.host === right
          ? paint('cyan', text)
          : `${row(e.t, '', `  [${e.host}] ${label}`, '')}`,
      );
    } else if (e.type === 'segment' && e.dir === 'out') {
      const w = wires[wi];
      let fate = 'delivered';
      let note: string | undefined;
      if (w && w.type === 'wire') {
        fate = w.fate;
        note = w.note;
        wi++;
      }
      fates.push({ fate, note });
      const to = owner.get(formatAddr(e.dst)) ?? formatAddr(e.dst);
      const fromEp = `${formatAddr(e.src)}:${e.seg.srcPort}`;
      const toEp = `${formatAddr(e.dst)}:${e.seg.dstPort}`;
      bases.note(fromEp, e.seg);
      let label = segmentLabel(e.seg, fromEp, toEp, bases);
      if (
        e.why === 'retransmit' ||
        e.why === 'challenge-ack' ||
        e.why === 'probe' ||
        e.why === 'window-update' ||
        e.why === 'delayed-ack' ||
        e.why === 'syn-data-resend'
      )
        label += ` (${e.why})`;
      if (
        hosts.length > 2 &&
        !(e.host === left && to === right) &&
        !(e.host === right && to === left)
      ) {
        label = `${e.host}→${to}: ${label}`;
      }
      const rightward = e.host !== right;
      const body = Math.max(0, mid - 4);
      let text = ` ${label} `;
      if (text.length > body) text = `${text.slice(0, Math.max(0, body - 2))}… `;
      const pad = body - text.length;
      const a = Math.floor(pad / 2);
      let arrow: string;
      const lost = fate === 'lost' || fate === 'cut';
      if (rightward) {
        arrow = ` ${'─'.repeat(a)}${text}${'─'.repeat(pad - a)}${lost ? '✗' : '▶'} `;
      } else {
        arrow = ` ${lost ? '✗' : '◀'}${'─'.repeat(a)}${text}${'─'.repeat(pad - a)} `;
      }
      let line = row(e.t, '', arrow, '');
      if (lost) line = paint('red', line) + (note ? `  ${paint('red', note)}` : '');
      else if (fate === 'held')
        line = `${paint('yellow', line)}  ${paint('yellow', note ?? 'held in the network')}`;
      else if (fate === 'corrupted') line = `${paint('red', line)}  corrupted on the wire`;
      else if (e.seg.flags & RST) line = paint('red', line);
      else if (e.seg.flags & SYN) line = paint('green', line);
      lines.push(line);
    } else if (e.type === 'wire' && e.fate === 'released') {
      lines.push(paint('yellow', row(e.t, '', `  … the held packet is released to ${e.to}`, '')));
    } else if (e.type === 'wire' && e.fate === 'injected') {
      lines.push(paint('red', row(e.t, '', `  ${e.from} injects a packet to ${e.to}`, '')));
    } else if (e.type === 'deliver' && (e.what === 'data' || e.what === 'error')) {
      const what = e.what === 'data' ? `app reads ${e.bytes} B` : `app: ${e.error}`;
      lines.push(
        paint(
          'dim',
          e.host === right
            ? row(e.t, '', ' '.repeat(mid), what.padStart(col))
            : row(e.t, what, '', ''),
        ),
      );
    }
  }
  const max = opts.maxLines ?? Infinity;
  if (lines.length > max) {
    const more = lines.length - max;
    return [...lines.slice(0, max), `        … ${more} more lines`];
  }
  return lines;
}
