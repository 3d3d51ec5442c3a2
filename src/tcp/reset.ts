// The reset answered to a segment that belongs to no connection, or is
// unacceptable where it arrived (RFC 9293 §3.5.2, §3.10.7.1).

import { ACK, RST, type Segment, segLen } from '../wire/tcp.ts';
import { seqAdd } from './seq.ts';

const NO_OPTIONS: Segment['options'] = [];
const EMPTY = new Uint8Array(0);

/** The RST for `seg`, or undefined when `seg` is itself an RST (never answer one). */
export function resetFor(seg: Segment): Segment | undefined {
  if (seg.flags & RST) return undefined;
  if (seg.flags & ACK) {
    // <SEQ=SEG.ACK><CTL=RST>
    return mk(seg, seg.ack, 0, RST);
  }
  // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
  return mk(seg, 0, seqAdd(seg.seq, segLen(seg)), RST | ACK);
}

function mk(seg: Segment, seq: number, ack: number, flags: number): Segment {
  return {
    srcPort: seg.dstPort,
    dstPort: seg.srcPort,
    seq,
    ack,
    flags,
    window: 0,
    urgent: 0,
    options: NO_OPTIONS,
    payload: EMPTY,
  };
}
