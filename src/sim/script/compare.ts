// Compares what two stacks did under the same packet script: synack's recorded
// run against another stack's replay of it (the Linux kernel's, through
// `synack script --kernel`). Each stack's packets are written in script
// notation with its own numbers taken out — sequence numbers from its ISS,
// timestamps values hidden (echoes are compared) — so that equal lines mean
// equal decisions: same flags, same sequence and ACK numbers, same window, same
// options, at the same time within a tolerance; and each system call returned
// the same.

import { decodePacket } from '../../wire/packet.ts';
import { type Segment, SYN } from '../../wire/tcp.ts';
import { formatScriptPacket } from './format.ts';

export interface TimedPacket {
  t: number;
  packet: Uint8Array;
}

export interface CallOutcome {
  line: number;
  name: string;
  ret: number;
  errno?: string;
  /** When it returned, ms from the start. */
  t: number;
  /** A value the call gave that differs from the script's. */
  note?: string;
}

export interface Comparison {
  same: boolean;
  /** Every difference, first first, as sentences. */
  differences: string[];
  /** Both stacks' packets, as script lines with times. */
  ours: string[];
  theirs: string[];
}

/** A stack's outbound packets as script lines, numbered from its own ISS per connection. */
export function scriptLines(
  packets: TimedPacket[],
  remoteBase: number,
): { t: number; line: string }[] {
  const iss = new Map<number, number>();
  const out: { t: number; line: string }[] = [];
  for (const { t, packet } of packets) {
    const p = decodePacket(packet, false);
    if (typeof p === 'string') continue;
    const seg: Segment = p.seg;
    // By connection: a listener's connections share its port; a SYN with a
    // new ISS on a known pair of ports is a new connection on it.
    const key = seg.srcPort * 65536 + seg.dstPort;
    if (seg.flags & SYN && iss.get(key) !== seg.seq) iss.set(key, seg.seq);
    const line = formatScriptPacket(seg, '>', iss.get(key) ?? 0, remoteBase)
      .replace(/TS val \d+/, 'TS val *')
      .replace(/^> {2}/, '> ');
    out.push({ t, line });
  }
  return out;
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(3)}s`;

/**
 * Compares outbound packets (in order, each within `tolMs` of the other's time)
 * and call outcomes (same return and errno; a descriptor counts as success).
 */
export function compareRuns(
  ours: { out: TimedPacket[]; calls: CallOutcome[] },
  theirs: { out: TimedPacket[]; calls: CallOutcome[] },
  remoteBase: number,
  tolMs: number,
  /** When the script's last line ran (ms). */
  end = Infinity,
): Comparison {
  const a = scriptLines(ours.out, remoteBase);
  const b = scriptLines(theirs.out, remoteBase);
  const differences: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (!x) {
      // As packetdrill, nothing sent after the script's last line is examined.
      if (y.t > end) break;
      differences.push(`the kernel sent one more packet at ${fmt(y.t)}: ${y.line}`);
      break;
    }
    if (!y) {
      differences.push(`the kernel did not send: ${fmt(x.t)} ${x.line}`);
      break;
    }
    if (x.line !== y.line) {
      differences.push(
        `packet ${i + 1} differs:\n    synack: ${fmt(x.t)} ${x.line}\n    kernel: ${fmt(y.t)} ${y.line}`,
      );
      break;
    }
    // Linux's timer wheel fires a timer late by up to an eighth of its length
    // (the granularity of its level): a long wait may end that much later.
    // Lateness adds up along a chain of timers, so the gap from the previous
    // packet is compared as well as the time.
    const [px, py] = i > 0 ? [a[i - 1].t, b[i - 1].t] : [0, 0];
    const late = (ours: number, theirs: number, since: number) =>
      theirs < ours - tolMs || theirs > ours + tolMs + (ours - since) / 8;
    if (late(x.t, y.t, px) && late(x.t - px, y.t - py, 0)) {
      differences.push(
        `packet ${i + 1} (${x.line}) sent at ${fmt(y.t)} by the kernel, ${fmt(x.t)} by synack`,
      );
      break;
    }
  }
  // How late the kernel ran by then (its timers fire late): a call that waited on
  // one of its packets may return that much later.
  const lagAt = (t: number) => {
    let lag = 0;
    for (let i = 0; i < Math.min(a.length, b.length) && a[i].t <= t + tolMs; i++)
      lag = Math.max(lag, b[i].t - a[i].t);
    return lag;
  };
  const byLine = new Map(theirs.calls.map((c) => [c.line, c]));
  for (const c of ours.calls) {
    const k = byLine.get(c.line);
    if (!k) {
      differences.push(`line ${c.line}: ${c.name}() did not return on the kernel`);
      continue;
    }
    const okA = c.ret >= 0;
    const okB = k.ret >= 0;
    const fdCall = c.name === 'socket' || c.name === 'accept';
    const sameRet = fdCall ? okA === okB : c.ret === k.ret;
    if (!sameRet || (!okA && c.errno !== undefined && c.errno !== k.errno)) {
      const show = (r: CallOutcome) => `${r.ret}${r.errno ? ` ${r.errno}` : ''}`;
      differences.push(
        `line ${c.line}: ${c.name}() returned ${show(k)} on the kernel, ${show(c)} on synack`,
      );
    } else if (k.note) {
      differences.push(`line ${c.line}: ${c.name}() on the kernel ${k.note}`);
    } else if (k.t < c.t - tolMs || k.t > c.t + tolMs + lagAt(c.t)) {
      differences.push(
        `line ${c.line}: ${c.name}() returned at ${fmt(k.t)} on the kernel, ${fmt(c.t)} on synack`,
      );
    }
  }
  return {
    same: differences.length === 0,
    differences,
    ours: a.map((x) => `${fmt(x.t)} ${x.line}`),
    theirs: b.map((x) => `${fmt(x.t)} ${x.line}`),
  };
}
