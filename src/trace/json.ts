// Newline-delimited JSON: one object per trace event with stable field
// names (addresses as text, segments flattened, packets as hex), ending with
// one `{"type":"outcome", ...}` holding the scenario's checks and facts.

import type { TraceEvent } from '../tcp/types.ts';
import { formatAddr } from '../wire/addr.ts';
import { flagString, type Segment } from '../wire/tcp.ts';

export interface Outcome {
  scenario: string;
  variant?: string;
  seed: number;
  ok: boolean;
  checks: { what: string; ok: boolean; detail?: string }[];
  facts: Record<string, unknown>;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function seg(s: Segment) {
  return {
    srcPort: s.srcPort,
    dstPort: s.dstPort,
    seq: s.seq,
    ack: s.ack,
    flags: flagString(s.flags),
    window: s.window,
    len: s.payload.length,
    options: s.options.map((o) =>
      o.kind === 'fo'
        ? { kind: 'fo', cookie: hex(o.cookie) }
        : o.kind === 'unknown'
          ? { kind: 'unknown', type: o.type, data: hex(o.data) }
          : o,
    ),
  };
}

export function eventToJson(e: TraceEvent): Record<string, unknown> {
  switch (e.type) {
    case 'segment':
      return {
        ...e,
        src: formatAddr(e.src),
        dst: formatAddr(e.dst),
        seg: seg(e.seg),
        packet: hex(e.packet),
      };
    case 'drop':
      return {
        ...e,
        seg: e.seg ? seg(e.seg) : undefined,
        packet: e.packet ? hex(e.packet) : undefined,
      };
    case 'wire':
      return { ...e, packet: hex(e.packet) };
    default:
      return { ...e };
  }
}

export function renderJson(events: readonly TraceEvent[], outcome?: Outcome): string[] {
  const lines = events.map((e) => JSON.stringify(eventToJson(e)));
  if (outcome) lines.push(JSON.stringify({ type: 'outcome', ...outcome }));
  return lines;
}
