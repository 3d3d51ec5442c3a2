// What the page draws, computed from a run's trace events (pure functions):
// lanes, arrows from send time to arrival time, state labels, the steps the
// controls move through, and each host's TCB variables at a given time.

import type { ScenarioResult } from '../../src/sim/scenarios/scenario.ts';
import type { State, TraceEvent } from '../../src/tcp/types.ts';
import { flagWords, optionLabel, SeqBases } from '../../src/trace/ladder.ts';
import { tcpdumpFlags } from '../../src/trace/tcpdump.ts';
import { formatAddr } from '../../src/wire/addr.ts';
import { decodePacket } from '../../src/wire/packet.ts';
import { ACK, FIN, PSH, RST, type Segment, SYN, type TcpOption } from '../../src/wire/tcp.ts';

export interface Arrow {
  /** Index of the wire event in the run's events. */
  i: number;
  from: string;
  to: string;
  t: number;
  /** When it reaches `to`; undefined when it never does (lost, cut, no route). */
  arrive?: number;
  fate: string;
  note?: string;
  packet: Uint8Array;
  seg?: Segment;
  src: string;
  dst: string;
}

/** Many arrows too close to draw one by one (a flood): one band with a count. */
export interface Band {
  from: string;
  to: string;
  t0: number;
  t1: number;
  count: number;
  label: string;
}

export interface StateMark {
  i: number;
  t: number;
  host: string;
  conn: number;
  from: State;
  to: State;
  why?: string;
}

export interface Model {
  result: ScenarioResult;
  lanes: string[];
  arrows: Arrow[];
  bands: Band[];
  states: StateMark[];
  /** Times the controls step through: every send, arrival and state change. */
  steps: number[];
  end: number;
  /** Arrows drawn as bands instead (so the page can say so). */
  aggregated: number;
}

/** Arrows past this many are drawn as bands (per 100 ms, per direction and kind). */
export const MAX_ARROWS = 1500;

export function buildModel(result: ScenarioResult): Model {
  const events = result.events;
  const lanes = [...result.hosts];
  const arrows: Arrow[] = [];
  const states: StateMark[] = [];
  events.forEach((e, i) => {
    if (e.type === 'wire') {
      if (e.fate === 'released' || e.fate === 'duplicated') {
        // A held packet's release, or a copy: the original arrow already shows it (its arrival).
        if (e.fate === 'duplicated') arrows.push(arrowOf(e, i));
        return;
      }
      arrows.push(arrowOf(e, i));
      for (const h of [e.from, e.to]) if (h !== '?' && !lanes.includes(h)) lanes.push(h);
    } else if (e.type === 'state') {
      states.push({ i, t: e.t, host: e.host, conn: e.conn, from: e.from, to: e.to, why: e.why });
    }
  });
  // Released packets: their arrival is when the release happened.
  for (const e of events) {
    if (e.type !== 'wire' || e.fate !== 'released') continue;
    const a = arrows.find(
      (x) => x.fate === 'held' && x.arrive === undefined && sameBytes(x.packet, e.packet),
    );
    if (a) a.arrive = e.arrive ?? e.t;
  }
  let drawn = arrows;
  const bands: Band[] = [];
  let aggregated = 0;
  if (arrows.length > MAX_ARROWS) {
    // Keep every arrow of the hosts with lanes of their own up to the limit; fold the rest into bands.
    const byKey = new Map<string, Band>();
    const keep: Arrow[] = [];
    for (const a of arrows) {
      const crowd =
        a.from === 'attacker' || a.to === 'attacker' || a.to === '?' || keep.length >= MAX_ARROWS;
      if (!crowd) {
        keep.push(a);
        continue;
      }
      const bin = Math.floor(a.t / 100);
      const kind = a.seg ? flagLabel(a.seg.flags).long : 'packet';
      const key = `${a.from}>${a.to}>${kind}>${bin}`;
      const b = byKey.get(key);
      if (b) {
        b.count++;
        b.t1 = Math.max(b.t1, a.arrive ?? a.t);
      } else
        byKey.set(key, {
          from: a.from,
          to: a.to,
          t0: a.t,
          t1: a.arrive ?? a.t,
          count: 1,
          label: kind,
        });
      aggregated++;
    }
    drawn = keep;
    bands.push(...byKey.values());
  }
  const times = new Set<number>();
  for (const a of drawn) {
    times.add(a.t);
    if (a.arrive !== undefined) times.add(a.arrive);
  }
  for (const s of states) times.add(s.t);
  for (const b of bands) times.add(b.t0);
  const steps = [...times].sort((x, y) => x - y);
  const last = events.length > 0 ? events[events.length - 1].t : 0;
  const end = Math.max(last, ...drawn.map((a) => a.arrive ?? a.t), 0);
  return { result, lanes, arrows: drawn, bands, states, steps, end, aggregated };
}

function arrowOf(e: Extract<TraceEvent, { type: 'wire' }>, i: number): Arrow {
  const p = decodePacket(e.packet, false);
  const seg = typeof p === 'string' ? undefined : p.seg;
  return {
    i,
    from: e.from,
    to: e.to,
    t: e.t,
    arrive: e.fate === 'held' ? undefined : e.arrive,
    fate: e.fate,
    note: e.note,
    packet: e.packet,
    seg,
    src: typeof p === 'string' ? '?' : formatAddr(p.src),
    dst: typeof p === 'string' ? '?' : formatAddr(p.dst),
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** Flags in tcpdump's notation (`[S.]`) and in words (`SYN,ACK`), as the terminal renderers print them. */
export function flagLabel(f: number): { short: string; long: string } {
  return {
    short: `[${tcpdumpFlags(f)}]`,
    long: f & (SYN | FIN | RST | PSH | ACK) ? flagWords(f) : 'none',
  };
}

/** The ladder's option label, except that a Fast Open option says whether it carries a cookie. */
function optionText(o: TcpOption): string {
  if (o.kind === 'fo') return o.cookie.length ? 'FO cookie' : 'FO request';
  return optionLabel(o);
}

/** The label of an arrow: both notations, seq/ack (relative unless `absolute`), len and options. */
export function arrowLabel(a: Arrow, bases: SeqBases): string {
  const s = a.seg;
  if (!s) return a.fate === 'corrupted' ? 'corrupted packet' : 'packet';
  const from = `${a.src}:${s.srcPort}`;
  const to = `${a.dst}:${s.dstPort}`;
  const f = flagLabel(s.flags);
  let text = `${f.short} ${f.long} seq ${bases.seq(from, s.seq)}`;
  if (s.flags & ACK) text += ` ack ${bases.ack(to, s.ack)}`;
  if (s.payload.length > 0) text += ` len ${s.payload.length}`;
  const o = s.options.map(optionText).filter((x) => x !== '' && x !== 'TS');
  if (o.length > 0 && s.flags & SYN) text += ` <${o.join(',')}>`;
  return text;
}

/** Relative sequence numbers for a run: every SYN seen sets its endpoint's base. */
export function basesFor(arrows: readonly Arrow[], absolute: boolean): SeqBases {
  const b = new SeqBases(absolute);
  for (const a of arrows) if (a.seg) b.note(`${a.src}:${a.seg.srcPort}`, a.seg);
  return b;
}

/** A host's view at time `t`, rebuilt from what it sent and received by then. */
export interface Tcb {
  conn: number;
  state: string;
  iss?: number;
  irs?: number;
  sndUna?: number;
  sndNxt?: number;
  rcvNxt?: number;
  sndWnd?: number;
  rcvWnd?: number;
}

export interface ListenerView {
  synQueue: number;
  established: number;
  cookiesSent: number;
  cookiesAccepted: number;
}

export function tcbAt(events: readonly TraceEvent[], host: string, t: number): Tcb[] {
  const by = new Map<number, Tcb>();
  const get = (conn: number) => {
    let x = by.get(conn);
    if (!x) {
      x = { conn, state: 'CLOSED' };
      by.set(conn, x);
    }
    return x;
  };
  for (const e of events) {
    if (e.t > t) break;
    if (e.type === 'state' && e.host === host && e.conn !== 0) get(e.conn).state = e.to;
    if (e.type !== 'segment' || e.host !== host || e.conn === 0) continue;
    const x = get(e.conn);
    const s = e.seg;
    const len = s.payload.length + (s.flags & SYN ? 1 : 0) + (s.flags & FIN ? 1 : 0);
    if (e.dir === 'out') {
      if (s.flags & SYN) x.iss = s.seq;
      // A passive open: the SYN went to the listener, its ISN is what our SYN,ACK acknowledges.
      if (s.flags & SYN && s.flags & ACK && x.irs === undefined) x.irs = (s.ack - 1) >>> 0;
      const end = (s.seq + len) >>> 0;
      if (x.sndNxt === undefined || ((end - x.sndNxt) | 0) > 0) x.sndNxt = end;
      if (x.sndUna === undefined) x.sndUna = s.seq;
      if (s.flags & ACK) x.rcvNxt = s.ack;
      x.rcvWnd = s.window;
    } else {
      if (s.flags & SYN) x.irs = s.seq;
      if (s.flags & ACK && (x.sndUna === undefined || ((s.ack - x.sndUna) | 0) > 0))
        x.sndUna = s.ack;
      x.sndWnd = s.window;
    }
  }
  return [...by.values()];
}

export function listenerAt(events: readonly TraceEvent[], host: string, t: number): ListenerView {
  const v: ListenerView = { synQueue: 0, established: 0, cookiesSent: 0, cookiesAccepted: 0 };
  for (const e of events) {
    if (e.t > t) break;
    if (e.type === 'state' && e.host === host) {
      if (e.from === 'LISTEN' && e.to === 'SYN-RECEIVED' && e.why !== 'SYN cookie') v.synQueue++;
      if (
        e.from === 'SYN-RECEIVED' &&
        e.why !== 'SYN cookie' &&
        (e.to === 'LISTEN' || e.to === 'ESTABLISHED')
      )
        v.synQueue = Math.max(0, v.synQueue - 1);
      if (e.to === 'ESTABLISHED') v.established++;
    }
    if (e.type === 'cookie' && e.host === host) {
      if (e.action === 'sent') v.cookiesSent++;
      if (e.action === 'accepted') v.cookiesAccepted++;
    }
  }
  return v;
}
