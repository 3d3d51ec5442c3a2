// One line per packet in the format of `tcpdump -n` (and `-S` for absolute
// sequence numbers), including its relative-number bookkeeping: the first
// ACK-bearing segment of a conversation (or any SYN) records the ISNs.

import type { TraceEvent } from '../tcp/types.ts';
import { formatAddr } from '../wire/addr.ts';
import { decodePacket } from '../wire/packet.ts';
import { ACK, CWR, ECE, FIN, PSH, RST, SYN, type TcpOption, URG } from '../wire/tcp.ts';
import { captured } from './capture.ts';

export interface TcpdumpOptions {
  /** Absolute sequence numbers (tcpdump -S). */
  absolute?: boolean;
}

function time(ms: number): string {
  const us = Math.round(ms * 1000);
  const day = us % 86_400_000_000;
  const h = Math.floor(day / 3_600_000_000);
  const m = Math.floor((day / 60_000_000) % 60);
  const s = Math.floor((day / 1_000_000) % 60);
  const f = day % 1_000_000;
  const p2 = (x: number) => String(x).padStart(2, '0');
  return `${p2(h)}:${p2(m)}:${p2(s)}.${String(f).padStart(6, '0')}`;
}

/** Flags as tcpdump prints them inside [...]: `S.`, `F.`, `none`. */
export function tcpdumpFlags(f: number): string {
  let s = '';
  if (f & FIN) s += 'F';
  if (f & SYN) s += 'S';
  if (f & RST) s += 'R';
  if (f & PSH) s += 'P';
  if (f & ACK) s += '.';
  if (f & URG) s += 'U';
  if (f & ECE) s += 'E';
  if (f & CWR) s += 'W';
  return s === '' ? 'none' : s;
}

interface Conv {
  seq: number;
  ack: number;
}

export function renderTcpdump(events: readonly TraceEvent[], opts: TcpdumpOptions = {}): string[] {
  const line = tcpdumpPrinter(opts);
  return captured(events).map(({ t, packet }) => line(t, packet));
}

/** A stateful printer: one tcpdump line per packet, in capture order (for live output). */
export function tcpdumpPrinter(
  opts: TcpdumpOptions = {},
): (t: number, packet: Uint8Array) => string {
  const convs = new Map<string, Conv>();
  return (t, packet) => {
    const p = decodePacket(packet, false);
    if (typeof p === 'string') return `${time(t)} [${p}]`;
    const { seg } = p;
    const v6 = p.src.length === 16;
    const src = `${formatAddr(p.src)}.${seg.srcPort}`;
    const dst = `${formatAddr(p.dst)}.${seg.dstPort}`;
    let seq = seg.seq;
    let ack = seg.ack;
    let thseq = 0;
    let thack = 0;
    let rev = false;
    if (!opts.absolute && seg.flags & ACK) {
      // tcpdump keys a conversation by its two endpoints in a fixed order.
      rev = src > dst;
      const key = rev ? `${dst}|${src}` : `${src}|${dst}`;
      let c = convs.get(key);
      if (!c || seg.flags & SYN) {
        c = rev ? { ack: seq, seq: (ack - 1) >>> 0 } : { seq, ack: (ack - 1) >>> 0 };
        convs.set(key, c);
      } else if (rev) {
        seq = (seq - c.ack) >>> 0;
        ack = (ack - c.seq) >>> 0;
      } else {
        seq = (seq - c.seq) >>> 0;
        ack = (ack - c.ack) >>> 0;
      }
      thseq = c.seq;
      thack = c.ack;
    }
    const len = seg.payload.length;
    let line = `${time(t)} ${v6 ? 'IP6' : 'IP'} ${src} > ${dst}: Flags [${tcpdumpFlags(seg.flags)}]`;
    if (len > 0 || seg.flags & (SYN | FIN | RST)) {
      line += `, seq ${seq}`;
      if (len > 0) line += `:${(seq + len) >>> 0}`;
    }
    if (seg.flags & ACK) line += `, ack ${ack}`;
    line += `, win ${seg.window}`;
    if (seg.flags & URG) line += `, urg ${seg.urgent}`;
    if (seg.options.length > 0) {
      line += `, options [${seg.options.map((o) => option(o, rev ? thseq : thack)).join(',')}]`;
    }
    line += `, length ${len}`;
    if (len > 0 && (HTTP_PORTS.has(seg.srcPort) || HTTP_PORTS.has(seg.dstPort)))
      line += http(seg.payload);
    return line;
  };
}

// tcpdump hands TCP payload on the HTTP ports to its HTTP printer, which at
// default verbosity names the protocol and shows a request or status line.
const HTTP_PORTS = new Set([80, 3128, 8080]);
const HTTP_START =
  /^(?:GET|HEAD|POST|PUT|DELETE|OPTIONS|TRACE|CONNECT|PATCH|PROPFIND|PROPPATCH|MKCOL|COPY|MOVE|LOCK|UNLOCK|HTTP\/\d)/;

function http(payload: Uint8Array): string {
  let end = payload.indexOf(0x0a);
  if (end < 0) end = payload.length;
  let first = '';
  for (let i = 0; i < end; i++) first += String.fromCharCode(payload[i]);
  first = first.replace(/\r$/, '');
  return HTTP_START.test(first) && end < payload.length ? `: HTTP: ${first}` : ': HTTP';
}

function option(o: TcpOption, base: number): string {
  switch (o.kind) {
    case 'mss':
      return `mss ${o.value}`;
    case 'wscale':
      return `wscale ${o.shift}`;
    case 'sackOk':
      return 'sackOK';
    case 'ts':
      return `TS val ${o.val} ecr ${o.ecr}`;
    case 'nop':
    case 'eol':
      return o.kind;
    case 'sack': {
      let s = `sack ${o.blocks.length / 2} `;
      for (let i = 0; i < o.blocks.length; i += 2) {
        s += `{${(o.blocks[i] - base) >>> 0}:${(o.blocks[i + 1] - base) >>> 0}}`;
      }
      return s;
    }
    case 'fo':
      // tcpdump names the experimental form "tfo" too.
      return o.cookie.length === 0
        ? 'tfo  cookiereq'
        : `tfo  cookie ${[...o.cookie].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
    case 'unknown':
      return `unknown-${o.type} 0x${[...o.data].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  }
}
