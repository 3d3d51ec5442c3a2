// The TCP header (RFC 9293 §3.1) and its options: MSS, window scale and
// timestamps (RFC 7323), SACK (RFC 2018), Fast Open cookie (RFC 7413).
// One `Segment` type is shared by the codec, the engine and the trace.

import type { IpAddr } from './addr.ts';
import { finishChecksum, foldSum, pseudoHeaderSum, sumBytes } from './checksum.ts';
import { PROTO_TCP, writeIpHeader } from './ip.ts';

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;
export const ECE = 0x40;
export const CWR = 0x80;

export type TcpOption =
  | { kind: 'eol' }
  | { kind: 'nop' }
  | { kind: 'mss'; value: number }
  | { kind: 'wscale'; shift: number }
  | { kind: 'sackOk' }
  | { kind: 'sack'; blocks: number[] } // [left0, right0, left1, right1, ...]
  | { kind: 'ts'; val: number; ecr: number }
  /**
   * TCP Fast Open (RFC 7413, kind 34); `exp` marks the experimental form
   * (kind 254 with magic 0xF989, RFC 6994) that early clients and servers use.
   */
  | { kind: 'fo'; cookie: Uint8Array; exp?: boolean }
  | { kind: 'unknown'; type: number; data: Uint8Array };

/**
 * The options that carry nothing, as shared objects: a segment with
 * timestamps would otherwise allocate two NOPs each time. Frozen: never
 * written into.
 */
export const NOP: TcpOption = Object.freeze({ kind: 'nop' });
export const SACK_OK: TcpOption = Object.freeze({ kind: 'sackOk' });
export const EOL: TcpOption = Object.freeze({ kind: 'eol' });

/**
 * NOP, NOP, timestamps: how a segment after the SYN carries its timestamps
 * (aligned to 4 bytes, as Linux and FreeBSD send them), and the list the
 * codec reads and writes whole. A new list of exactly its size.
 */
export function timestampOptions(val: number, ecr: number): TcpOption[] {
  return [NOP, NOP, { kind: 'ts', val, ecr }];
}

export interface Segment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgent: number;
  options: TcpOption[];
  /** A view of the data (decode never copies it). */
  payload: Uint8Array;
  /** Set by decode when the option list was malformed and parsed only in part. */
  optionFault?: OptionFault;
}

export type TcpError = 'truncated' | 'bad-data-offset' | 'bad-tcp-checksum';

export const TCP_HEADER = 20;
const NO_OPTIONS: TcpOption[] = [];
Object.freeze(NO_OPTIONS);
const EMPTY = new Uint8Array(0);

/**
 * Decodes a TCP segment: the bytes `b[start, end)` (the whole array by default).
 * With `pseudoSum` (from `pseudoHeaderSum`) the checksum is verified; pass
 * `undefined` to skip that (a capture with offloaded sums). The header is read
 * in place; only a payload becomes a view, so a bare ACK allocates no view of
 * its packet (a view of a small on-heap array makes V8 move its bytes).
 */
export function decodeTcp(
  b: Uint8Array,
  pseudoSum?: number,
  start = 0,
  end = b.length,
): Segment | TcpError {
  const len = end - start;
  if (len < TCP_HEADER) return 'truncated';
  const o = start;
  const dataOffset = (b[o + 12] >> 4) * 4;
  if (dataOffset < TCP_HEADER || dataOffset > len) return 'bad-data-offset';
  if (pseudoSum !== undefined && finishChecksum(sumBytes(b, start, end, pseudoSum)) !== 0) {
    return 'bad-tcp-checksum';
  }
  let options = NO_OPTIONS;
  let fault: OptionFault | undefined;
  if (dataOffset > TCP_HEADER) {
    options = parseOptions(b, o + TCP_HEADER, o + dataOffset);
    fault = lastFault;
  }
  const seg: Segment = {
    srcPort: (b[o] << 8) | b[o + 1],
    dstPort: (b[o + 2] << 8) | b[o + 3],
    seq: ((b[o + 4] << 24) | (b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7]) >>> 0,
    ack: ((b[o + 8] << 24) | (b[o + 9] << 16) | (b[o + 10] << 8) | b[o + 11]) >>> 0,
    flags: b[o + 13],
    window: (b[o + 14] << 8) | b[o + 15],
    urgent: (b[o + 18] << 8) | b[o + 19],
    options,
    payload: dataOffset === len ? EMPTY : b.subarray(o + dataOffset, end),
  };
  if (fault) seg.optionFault = fault;
  return seg;
}

function u32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}

/** What was wrong with an option list that was parsed anyway (counted by the stack). */
export type OptionFault = 'option-bad-length' | 'option-zero-length' | 'option-overrun';

/**
 * Decodes the option list. Malformed options never reject the segment (RFC
 * 9293 MUST-7, and what Linux's tcp_parse_options does): a known option with
 * the wrong length is skipped by its length; a length below 2 or running past
 * the header ends parsing there. What was kept is returned; `fault` (if given)
 * receives the first problem seen, for counting.
 */
export function decodeOptions(
  b: Uint8Array,
  start: number,
  end: number,
  fault?: { value?: OptionFault },
): TcpOption[] {
  const out = parseOptions(b, start, end);
  if (fault && lastFault) fault.value = lastFault;
  return out;
}

/** The first fault `parseOptions` saw in the list it parsed last (no object per segment). */
let lastFault: OptionFault | undefined;

function bad(f: OptionFault): void {
  if (lastFault === undefined) lastFault = f;
}

/** Where parseOptions collects a list before copying it out (never handed out itself; stale entries are only overwritten). */
const scratch: TcpOption[] = [];

function parseOptions(b: Uint8Array, start: number, end: number): TcpOption[] {
  lastFault = undefined;
  const common = commonLayout(b, start, end - start);
  if (common !== undefined) return common;
  let n = 0;
  let i = start;
  while (i < end) {
    const kind = b[i];
    if (kind === 0) {
      scratch[n++] = EOL;
      break; // RFC 9293 §3.2: the rest of the option space is padding.
    }
    if (kind === 1) {
      scratch[n++] = NOP;
      i++;
      continue;
    }
    if (i + 1 >= end) {
      bad('option-overrun');
      break;
    }
    const len = b[i + 1];
    if (len < 2) {
      // Its extent is unknown: nothing after it can be trusted.
      bad('option-zero-length');
      break;
    }
    if (i + len > end) {
      bad('option-overrun');
      break;
    }
    switch (kind) {
      case 2:
        if (len === 4) scratch[n++] = { kind: 'mss', value: (b[i + 2] << 8) | b[i + 3] };
        else bad('option-bad-length');
        break;
      case 3:
        if (len === 3) scratch[n++] = { kind: 'wscale', shift: b[i + 2] };
        else bad('option-bad-length');
        break;
      case 4:
        if (len === 2) scratch[n++] = SACK_OK;
        else bad('option-bad-length');
        break;
      case 5: {
        if ((len - 2) % 8 !== 0 || len === 2) {
          bad('option-bad-length');
          break;
        }
        const blocks: number[] = [];
        for (let j = i + 2; j < i + len; j += 4) blocks.push(u32(b, j));
        scratch[n++] = { kind: 'sack', blocks };
        break;
      }
      case 8:
        if (len === 10) scratch[n++] = { kind: 'ts', val: u32(b, i + 2), ecr: u32(b, i + 6) };
        else bad('option-bad-length');
        break;
      case 34:
        // RFC 7413 §4.1.1: an empty cookie is a request; otherwise 4..16 bytes.
        if (len === 2 || (len >= 6 && len <= 18))
          scratch[n++] = { kind: 'fo', cookie: b.slice(i + 2, i + len) };
        else bad('option-bad-length');
        break;
      case 254:
        // RFC 6994 experimental option: Fast Open's is magic 0xF989, as Linux sends and accepts.
        if (
          len >= 4 &&
          b[i + 2] === 0xf9 &&
          b[i + 3] === 0x89 &&
          (len === 4 || (len >= 8 && len <= 20))
        )
          scratch[n++] = { kind: 'fo', cookie: b.slice(i + 4, i + len), exp: true };
        else scratch[n++] = { kind: 'unknown', type: kind, data: b.slice(i + 2, i + len) };
        break;
      default:
        // RFC 9293 §3.1 (MUST-6): unknown options are skipped by their length.
        scratch[n++] = { kind: 'unknown', type: kind, data: b.slice(i + 2, i + len) };
    }
    i += len;
  }
  // An array of exactly the options found (an array grown by push keeps room for 16).
  return n === 0 ? NO_OPTIONS : scratch.slice(0, n);
}

/**
 * The two option lists nearly every segment carries, recognised whole: NOP,
 * NOP, timestamps (an established connection's segments) and MSS, SACK
 * permitted, timestamps, NOP, window scale (a SYN or SYN,ACK from Linux and
 * from synack). The same list parseOptions would build, without the walk.
 */
function commonLayout(b: Uint8Array, i: number, len: number): TcpOption[] | undefined {
  if (len === 12) {
    if (b[i] !== 1 || b[i + 1] !== 1 || b[i + 2] !== 8 || b[i + 3] !== 10) return undefined;
    return [NOP, NOP, { kind: 'ts', val: u32(b, i + 4), ecr: u32(b, i + 8) }];
  }
  if (len === 20) {
    if (b[i] !== 2 || b[i + 1] !== 4 || b[i + 4] !== 4 || b[i + 5] !== 2) return undefined;
    if (b[i + 6] !== 8 || b[i + 7] !== 10 || b[i + 16] !== 1 || b[i + 17] !== 3 || b[i + 18] !== 3)
      return undefined;
    return [
      { kind: 'mss', value: (b[i + 2] << 8) | b[i + 3] },
      SACK_OK,
      { kind: 'ts', val: u32(b, i + 8), ecr: u32(b, i + 12) },
      NOP,
      { kind: 'wscale', shift: b[i + 19] },
    ];
  }
  return undefined;
}

/**
 * 12 or 20 (their length in bytes) when `options` is one of the two lists
 * commonLayout recognises, made of the shared NOP and SACK_OK; otherwise 0.
 */
function commonList(options: readonly TcpOption[]): number {
  if (options.length === 3)
    return options[0] === NOP && options[1] === NOP && options[2].kind === 'ts' ? 12 : 0;
  if (options.length === 5) {
    const ok =
      options[0].kind === 'mss' &&
      options[1] === SACK_OK &&
      options[2].kind === 'ts' &&
      options[3] === NOP &&
      options[4].kind === 'wscale';
    return ok ? 20 : 0;
  }
  return 0;
}

export function optionsLength(options: readonly TcpOption[]): number {
  const common = commonList(options);
  if (common !== 0) return common;
  let n = 0;
  for (const o of options) n += optionLength(o);
  return n;
}

function optionLength(o: TcpOption): number {
  switch (o.kind) {
    case 'eol':
    case 'nop':
      return 1;
    case 'mss':
      return 4;
    case 'wscale':
      return 3;
    case 'sackOk':
      return 2;
    case 'sack':
      return 2 + 4 * o.blocks.length;
    case 'ts':
      return 10;
    case 'fo':
      return (o.exp ? 4 : 2) + o.cookie.length;
    case 'unknown':
      return 2 + o.data.length;
  }
}

function put32(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 24;
  b[i + 1] = (v >>> 16) & 0xff;
  b[i + 2] = (v >>> 8) & 0xff;
  b[i + 3] = v & 0xff;
}

type TsOption = Extract<TcpOption, { kind: 'ts' }>;

/** Writes options in the given order, then EOL-pads to a 4-byte boundary. Returns bytes written. */
function writeOptions(b: Uint8Array, start: number, options: readonly TcpOption[]): number {
  let i = start;
  const common = commonList(options);
  // commonList checked the kinds: the casts name what it found.
  if (common === 12) {
    const ts = options[2] as TsOption;
    b[i] = 1;
    b[i + 1] = 1;
    b[i + 2] = 8;
    b[i + 3] = 10;
    put32(b, i + 4, ts.val);
    put32(b, i + 8, ts.ecr);
    return 12;
  }
  if (common === 20) {
    const mss = (options[0] as Extract<TcpOption, { kind: 'mss' }>).value;
    const ts = options[2] as TsOption;
    b[i] = 2;
    b[i + 1] = 4;
    b[i + 2] = mss >> 8;
    b[i + 3] = mss & 0xff;
    b[i + 4] = 4;
    b[i + 5] = 2;
    b[i + 6] = 8;
    b[i + 7] = 10;
    put32(b, i + 8, ts.val);
    put32(b, i + 12, ts.ecr);
    b[i + 16] = 1;
    b[i + 17] = 3;
    b[i + 18] = 3;
    b[i + 19] = (options[4] as Extract<TcpOption, { kind: 'wscale' }>).shift;
    return 20;
  }
  for (const o of options) {
    switch (o.kind) {
      case 'eol':
        b[i++] = 0;
        break;
      case 'nop':
        b[i++] = 1;
        break;
      case 'mss':
        b[i] = 2;
        b[i + 1] = 4;
        b[i + 2] = o.value >> 8;
        b[i + 3] = o.value & 0xff;
        i += 4;
        break;
      case 'wscale':
        b[i] = 3;
        b[i + 1] = 3;
        b[i + 2] = o.shift;
        i += 3;
        break;
      case 'sackOk':
        b[i] = 4;
        b[i + 1] = 2;
        i += 2;
        break;
      case 'sack':
        b[i] = 5;
        b[i + 1] = 2 + 4 * o.blocks.length;
        for (let k = 0; k < o.blocks.length; k++) put32(b, i + 2 + 4 * k, o.blocks[k]);
        i += 2 + 4 * o.blocks.length;
        break;
      case 'ts':
        b[i] = 8;
        b[i + 1] = 10;
        put32(b, i + 2, o.val);
        put32(b, i + 6, o.ecr);
        i += 10;
        break;
      case 'fo': {
        const head = o.exp ? 4 : 2;
        b[i] = o.exp ? 254 : 34;
        b[i + 1] = head + o.cookie.length;
        if (o.exp) {
          b[i + 2] = 0xf9;
          b[i + 3] = 0x89;
        }
        b.set(o.cookie, i + head);
        i += head + o.cookie.length;
        break;
      }
      case 'unknown':
        b[i] = o.type;
        b[i + 1] = 2 + o.data.length;
        b.set(o.data, i + 2);
        i += 2 + o.data.length;
        break;
    }
  }
  while ((i - start) % 4 !== 0) b[i++] = 0;
  return i - start;
}

/** Header length (with padded options) of a segment. */
export function tcpHeaderLength(seg: Segment): number {
  return TCP_HEADER + ((optionsLength(seg.options) + 3) & ~3);
}

/**
 * Writes the TCP segment at `off` in `out` (which must have room) and fills in
 * its checksum against the given addresses. Returns the segment's length.
 */
export function writeTcp(
  out: Uint8Array,
  off: number,
  seg: Segment,
  src: IpAddr,
  dst: IpAddr,
  checksum: boolean | 'partial' = true,
): number {
  const b = out;
  const o = off;
  b[o] = seg.srcPort >> 8;
  b[o + 1] = seg.srcPort & 0xff;
  b[o + 2] = seg.dstPort >> 8;
  b[o + 3] = seg.dstPort & 0xff;
  put32(b, o + 4, seg.seq);
  put32(b, o + 8, seg.ack);
  const optLen = seg.options.length === 0 ? 0 : writeOptions(b, o + TCP_HEADER, seg.options);
  const hdr = TCP_HEADER + optLen;
  if (hdr > 60) throw new RangeError(`TCP options too long: ${optLen} bytes (at most 40)`);
  b[o + 12] = (hdr / 4) << 4;
  b[o + 13] = seg.flags;
  b[o + 14] = seg.window >> 8;
  b[o + 15] = seg.window & 0xff;
  b[o + 16] = 0;
  b[o + 17] = 0;
  b[o + 18] = seg.urgent >> 8;
  b[o + 19] = seg.urgent & 0xff;
  if (seg.payload.length > 0) b.set(seg.payload, o + hdr);
  const len = hdr + seg.payload.length;
  // Left zero only for links whose packets never leave the process (Link.inProcess).
  if (!checksum) return len;
  if (checksum === 'partial') {
    // Checksum offload: the pseudo-header sum, folded and not inverted; the device adds the rest.
    const p = foldSum(pseudoHeaderSum(src, dst, PROTO_TCP, len));
    b[o + 16] = p >> 8;
    b[o + 17] = p & 0xff;
    return len;
  }
  fillTcpChecksum(b, o, len, src, dst);
  return len;
}

/** Computes and writes the checksum of the TCP segment `b[o, o + len)` (its checksum field zero). */
export function fillTcpChecksum(
  b: Uint8Array,
  o: number,
  len: number,
  src: IpAddr,
  dst: IpAddr,
): void {
  const c = finishChecksum(sumBytes(b, o, o + len, pseudoHeaderSum(src, dst, PROTO_TCP, len)));
  b[o + 16] = c >> 8;
  b[o + 17] = c & 0xff;
}

/** Encodes a complete IP packet carrying `seg` from `src` to `dst` (`checksum` false: TCP checksum left 0). */
export function encodePacket(
  src: IpAddr,
  dst: IpAddr,
  seg: Segment,
  ttl = 64,
  tos = 0,
  checksum: boolean | 'partial' = true,
): Uint8Array {
  const tcpLen = tcpHeaderLength(seg) + seg.payload.length;
  const out = new Uint8Array((src.length === 4 ? 20 : 40) + tcpLen);
  writePacket(out, src, dst, seg, ttl, tos, checksum, tcpLen);
  return out;
}

/**
 * As encodePacket, into the start of `out` (which must have room). Returns the
 * packet's length. `tcpLen`: the segment's length, when the caller measured it.
 */
export function writePacket(
  out: Uint8Array,
  src: IpAddr,
  dst: IpAddr,
  seg: Segment,
  ttl: number,
  tos: number,
  checksum: boolean | 'partial',
  tcpLen = tcpHeaderLength(seg) + seg.payload.length,
): number {
  const ipLen = writeIpHeader(out, src, dst, PROTO_TCP, tcpLen, ttl, 0, tos);
  writeTcp(out, ipLen, seg, src, dst, checksum);
  return ipLen + tcpLen;
}

/** Encodes just the TCP segment (for tests and tools that build their own IP header). */
export function encodeTcp(seg: Segment, src: IpAddr, dst: IpAddr): Uint8Array {
  const out = new Uint8Array(tcpHeaderLength(seg) + seg.payload.length);
  writeTcp(out, 0, seg, src, dst);
  return out;
}

/** Letters for the flags in tcpdump's order: S F R P . U E W. */
export function flagString(flags: number): string {
  let s = '';
  if (flags & SYN) s += 'S';
  if (flags & FIN) s += 'F';
  if (flags & RST) s += 'R';
  if (flags & PSH) s += 'P';
  if (flags & URG) s += 'U';
  if (flags & ECE) s += 'E';
  if (flags & CWR) s += 'W';
  if (flags & ACK) s += '.';
  return s === '' ? 'none' : s;
}

/** Sequence space a segment occupies: its data plus one each for SYN and FIN. */
export function segLen(seg: Segment): number {
  return seg.payload.length + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0);
}
