// A third floor under the handshake figure: a lean engine written for the
// benchmark's four packets (SYN, SYN,ACK, ACK, the client's RST), to tell
// whether the 40× target is within reach of a TCP in JavaScript at all, or
// only of one that skips work. It does what synack's engine must do on this
// path and no more, in the plainest shape for V8: one object per end (a TCB
// with numeric fields; a socket object only for the application's side), a
// half-open record on the server, headers read and written in place with no
// Segment or option objects.
//
// Kept from the real stack, so that the comparison is fair: RFC 6528 ISNs
// (synack's SipHash generator), synack's IPv4 header writer, the stack's
// 4-tuple table and timer heap (SYN and SYN,ACK retransmission timers armed
// and cancelled), IPv4 header checks and checksum on arrival (the TCP
// checksum is skipped, as on synack's loopback pair), option parsing by
// walking the list (MSS, window scale, SACK permitted, timestamps), the RFC
// 9293 acceptance checks of each arrival
// (the SYN,ACK's ACK against ISS and SND.NXT, the completing ACK against
// ISS + 1 and RCV.NXT, the RST's exact sequence number per RFC 5961), an
// RTT sample on the SYN,ACK (RFC 6298), timestamps echoed, packets arriving
// during a step queued until it ends, and the application's events (connect,
// close with its error) queued and dispatched after the step. Left out,
// because these four packets never need it: data, FIN, windows beyond the
// initial one, retransmission, SYN cookies, TIME-WAIT, tracing, counters.

import { TimerQueue } from '../src/stack/timers.ts';
import { NO_DEADLINE, packDeadline } from '../src/tcp/deadline.ts';
import { seqGt, seqLe } from '../src/tcp/seq.ts';
import { TupleTable } from '../src/tcp/tuple.ts';
import { type IpAddr, internIpv4 } from '../src/wire/addr.ts';
import { writeIpHeader } from '../src/wire/ip.ts';
import type { Isn } from './floor.ts';

const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;
const CLOSED = 0;
const SYN_SENT = 1;
const ESTABLISHED = 2;
const MSS = 65495;
const WSCALE = 7;
const WINDOW = 65535;

/** What the 4-tuple table and the timer heap need of an entry. */
class Entry {
  deadline = NO_DEADLINE;
  heapIndex = -1;
  constructor(
    readonly localAddr: IpAddr,
    readonly localPort: number,
    readonly remoteAddr: IpAddr,
    readonly remotePort: number,
  ) {}
}

/** One end of a connection: what a TCB holds on this path. */
class Tcb extends Entry {
  state = CLOSED;
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  irs = 0;
  rcvNxt = 0;
  sndMss = 536;
  sndScale = 0;
  rcvScale = 0;
  sackOk = false;
  tsOk = false;
  tsRecent = 0;
  srtt = 0;
  rttvar = 0;
  rto = 1000;
  sentAt = 0;
  socket: Sock | null = null;
}

/** What the application holds. */
class Sock {
  connected = false;
  closed = false;
  error: string | null = null;
  constructor(readonly tcb: Tcb) {}
}

/** A SYN answered, waiting for its ACK. */
class HalfOpen extends Entry {
  iss = 0;
  irs = 0;
  sndMss = 536;
  sndScale = -1;
  sackOk = false;
  tsRecent = -1;
  peerWindow = 0;
}

/** The options of the segment being read (no object per segment). */
const opt = { mss: -1, wscale: -1, sackOk: false, ts: false, tsVal: 0, tsEcr: 0 };

function readOptions(b: Uint8Array, i: number, end: number): void {
  opt.mss = -1;
  opt.wscale = -1;
  opt.sackOk = false;
  opt.ts = false;
  while (i < end) {
    const kind = b[i];
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    if (i + 1 >= end) break;
    const len = b[i + 1];
    if (len < 2 || i + len > end) break;
    if (kind === 2 && len === 4) opt.mss = (b[i + 2] << 8) | b[i + 3];
    else if (kind === 3 && len === 3) opt.wscale = Math.min(b[i + 2], 14);
    else if (kind === 4 && len === 2) opt.sackOk = true;
    else if (kind === 8 && len === 10) {
      opt.ts = true;
      opt.tsVal = u32(b, i + 2);
      opt.tsEcr = u32(b, i + 6);
    }
    i += len;
  }
}

/** A big-endian 32-bit field (shared with bench/floor.ts). */
export const u32 = (b: Uint8Array, o: number) =>
  ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** A host with one address and, on the server, one listening port. */
export class LeanStack {
  private readonly conns = new TupleTable<Tcb>();
  private readonly synQueue = new TupleTable<HalfOpen>();
  private readonly timers = new TimerQueue<Tcb | HalfOpen>(() => {
    throw new Error('no timer fires in this benchmark');
  });
  private readonly acceptQueue: Tcb[] = [];
  private readonly inbox: Uint8Array[] = [];
  // Events as two parallel lists and a count: `length = 0` would make V8 drop
  // the lists' storage and grow it again at the next push.
  private readonly eventSocks: (Sock | null)[] = [];
  private readonly eventKinds: number[] = [];
  private events = 0;
  private depth = 0;
  private nextPort = 32768;
  now = 0;
  peer: LeanStack | null = null;
  /** Sees each packet sent (to check them once with synack's decoder). */
  tap: ((packet: Uint8Array) => void) | null = null;

  constructor(
    private readonly addr: IpAddr,
    private readonly isn: Isn,
    private readonly listenPort = 0,
  ) {}

  connect(remote: IpAddr, port: number): Sock {
    this.depth++;
    const lport = this.ephemeral(remote, port);
    const t = new Tcb(this.addr, lport, remote, port);
    const sock = new Sock(t);
    t.socket = sock;
    this.conns.add(t);
    t.iss = this.isn.of(this.addr, lport, remote, port);
    t.sndUna = t.iss;
    t.sndNxt = (t.iss + 1) >>> 0;
    t.state = SYN_SENT;
    t.sentAt = this.now;
    this.arm(t, this.now + t.rto);
    this.send(t.localPort, t.remoteAddr, t.remotePort, t.iss, 0, SYN, 0, true);
    this.leave();
    return sock;
  }

  accept(): Sock | undefined {
    const t = this.acceptQueue.shift();
    if (!t) return undefined;
    const sock = new Sock(t);
    sock.connected = true;
    t.socket = sock;
    return sock;
  }

  /** Aborts: RST to the peer (RFC 9293 §3.10.4), the TCB goes. */
  destroy(sock: Sock): void {
    const t = sock.tcb;
    if (t.state === CLOSED) return;
    this.depth++;
    if (t.state === ESTABLISHED)
      this.send(t.localPort, t.remoteAddr, t.remotePort, t.sndNxt, 0, RST, t.tsRecent, false);
    this.release(t, null);
    this.leave();
  }

  receive(p: Uint8Array): void {
    if (this.depth > 0) {
      this.inbox.push(p);
      return;
    }
    this.depth++;
    this.process(p);
    this.leave();
  }

  private leave(): void {
    if (this.depth > 1) {
      this.depth--;
      return;
    }
    while (this.inbox.length > 0) this.process(this.inbox.shift()!);
    for (let i = 0; i < this.events; i++) {
      const s = this.eventSocks[i]!;
      this.eventSocks[i] = null;
      if (this.eventKinds[i] === 1) s.connected = true;
      else s.closed = true;
    }
    this.events = 0;
    this.depth--;
  }

  private process(b: Uint8Array): void {
    // IPv4: version, header length, total length, header checksum, no fragment, ours, TCP.
    if (b.length < 20 || b[0] >> 4 !== 4) return;
    const ihl = (b[0] & 15) * 4;
    const total = (b[2] << 8) | b[3];
    if (ihl < 20 || total < ihl + 20 || total > b.length) return;
    let sum = 0;
    for (let i = 0; i < ihl; i += 2) sum += (b[i] << 8) | b[i + 1];
    sum = (sum & 0xffff) + (sum >>> 16);
    if ((sum & 0xffff) + (sum >>> 16) !== 0xffff) return;
    if ((((b[6] << 8) | b[7]) & 0x3fff) !== 0 || b[9] !== 6) return;
    const a = this.addr;
    if (b[16] !== a[0] || b[17] !== a[1] || b[18] !== a[2] || b[19] !== a[3]) return;
    const src = internIpv4(b, 12);
    // TCP.
    const o = ihl;
    const off = (b[o + 12] >> 4) * 4;
    if (off < 20 || o + off > total) return;
    const sport = (b[o] << 8) | b[o + 1];
    const dport = (b[o + 2] << 8) | b[o + 3];
    const seq = u32(b, o + 4);
    const ack = u32(b, o + 8);
    const flags = b[o + 13];
    const wnd = (b[o + 14] << 8) | b[o + 15];
    readOptions(b, o + 20, o + off);
    const t = this.conns.get(a, dport, src, sport);
    if (t) {
      if (t.state === SYN_SENT) this.synSent(t, seq, ack, flags, wnd);
      else this.established(t, seq, flags);
      return;
    }
    if (dport === this.listenPort) this.listen(src, dport, sport, seq, ack, flags, wnd);
  }

  /** RFC 9293 §3.10.7.3, SYN-SENT. */
  private synSent(t: Tcb, seq: number, ack: number, flags: number, wnd: number): void {
    const hasAck = (flags & ACK) !== 0;
    if (hasAck && (seqLe(ack, t.iss) || seqGt(ack, t.sndNxt))) return; // (a reset would go)
    if (flags & RST) {
      if (hasAck) this.release(t, 'ECONNREFUSED');
      return;
    }
    if (!(flags & SYN)) return;
    t.irs = seq;
    t.rcvNxt = (seq + 1) >>> 0;
    if (opt.mss > 0) t.sndMss = Math.min(opt.mss, MSS);
    if (opt.wscale >= 0) {
      t.sndScale = opt.wscale;
      t.rcvScale = WSCALE;
    }
    t.sackOk = opt.sackOk;
    if (opt.ts) {
      t.tsOk = true;
      t.tsRecent = opt.tsVal;
    }
    t.sndWnd = wnd;
    t.sndWl1 = seq;
    t.sndWl2 = ack;
    if (!hasAck) return; // (simultaneous open: not on this path)
    t.sndUna = ack;
    // RFC 6298 §2.2: the first RTT sample.
    const r = this.now - t.sentAt;
    t.srtt = r;
    t.rttvar = r / 2;
    t.rto = Math.min(Math.max(r + Math.max(1, 4 * t.rttvar), 200), 120_000);
    this.arm(t, Number.POSITIVE_INFINITY);
    t.state = ESTABLISHED;
    this.event(t.socket!, 1);
    this.send(t.localPort, t.remoteAddr, t.remotePort, t.sndNxt, t.rcvNxt, ACK, t.tsRecent, false);
  }

  /** ESTABLISHED: on this path only the RST comes (RFC 5961 §3.2: an exact match resets). */
  private established(t: Tcb, seq: number, flags: number): void {
    if (opt.ts && seqGt(t.tsRecent, opt.tsVal) && !(flags & RST)) return; // PAWS
    if (flags & RST) {
      if (seq === t.rcvNxt) this.release(t, 'ECONNRESET');
      // (else a challenge ACK)
      return;
    }
  }

  /** LISTEN and SYN-RECEIVED, as a half-open record. */
  private listen(
    src: IpAddr,
    lport: number,
    rport: number,
    seq: number,
    ack: number,
    flags: number,
    wnd: number,
  ): void {
    const h = this.synQueue.get(this.addr, lport, src, rport);
    if (!h) {
      if (flags & (RST | ACK) || !(flags & SYN)) return; // (an ACK gets a reset)
      const r = new HalfOpen(this.addr, lport, src, rport);
      r.irs = seq;
      r.iss = this.isn.of(this.addr, lport, src, rport);
      if (opt.mss > 0) r.sndMss = Math.min(opt.mss, MSS);
      r.sndScale = opt.wscale;
      r.sackOk = opt.sackOk;
      if (opt.ts) r.tsRecent = opt.tsVal;
      r.peerWindow = wnd;
      this.synQueue.add(r);
      this.arm(r, this.now + 1000);
      this.send(lport, src, rport, r.iss, (seq + 1) >>> 0, SYN | ACK, r.tsRecent, true);
      return;
    }
    if (flags & RST || !(flags & ACK)) return;
    if (ack !== (h.iss + 1) >>> 0 || seq !== (h.irs + 1) >>> 0) return; // (a reset, or an ACK)
    this.synQueue.delete(h);
    this.timers.forget(h);
    const t = new Tcb(this.addr, lport, src, rport);
    t.state = ESTABLISHED;
    t.iss = h.iss;
    t.sndUna = ack;
    t.sndNxt = ack;
    t.irs = h.irs;
    t.rcvNxt = seq;
    t.sndMss = h.sndMss;
    if (h.sndScale >= 0) {
      t.sndScale = h.sndScale;
      t.rcvScale = WSCALE;
    }
    t.sackOk = h.sackOk;
    t.tsOk = h.tsRecent >= 0;
    t.tsRecent = opt.ts ? opt.tsVal : 0;
    t.sndWnd = wnd << t.sndScale;
    t.sndWl1 = seq;
    t.sndWl2 = ack;
    this.conns.add(t);
    this.acceptQueue.push(t);
  }

  private release(t: Tcb, error: string | null): void {
    t.state = CLOSED;
    this.arm(t, Number.POSITIVE_INFINITY);
    this.conns.delete(t);
    const s = t.socket;
    if (s) {
      s.error = error;
      this.event(s, 2);
    }
  }

  private arm(t: Tcb | HalfOpen, at: number): void {
    t.deadline = packDeadline(at);
    if (at === Number.POSITIVE_INFINITY) this.timers.forget(t);
    else this.timers.update(t);
  }

  private event(s: Sock, kind: number): void {
    this.eventSocks[this.events] = s;
    this.eventKinds[this.events++] = kind;
  }

  private ephemeral(remote: IpAddr, rport: number): number {
    for (;;) {
      const p = this.nextPort;
      this.nextPort = p >= 60999 ? 32768 : p + 1;
      if (!this.conns.get(this.addr, p, remote, rport)) return p;
    }
  }

  /** One packet: IPv4 and TCP headers (SYNs with MSS, SACK permitted, timestamps, window scale; others timestamps). */
  private send(
    sport: number,
    dst: IpAddr,
    dport: number,
    seq: number,
    ack: number,
    flags: number,
    tsEcr: number,
    syn: boolean,
  ): void {
    const optLen = syn ? 20 : 12;
    const len = 40 + optLen;
    const b = new Uint8Array(len);
    // The IPv4 header as synack writes it (its checksum computed from the fields).
    writeIpHeader(b, this.addr, dst, 6, len - 20);
    b[20] = sport >> 8;
    b[21] = sport & 0xff;
    b[22] = dport >> 8;
    b[23] = dport & 0xff;
    put32(b, 24, seq);
    put32(b, 28, flags & ACK ? ack : 0);
    b[32] = ((20 + optLen) >> 2) << 4;
    b[33] = flags;
    const w = flags & RST ? 0 : WINDOW;
    b[34] = w >> 8;
    b[35] = w & 0xff;
    let i = 40;
    if (syn) {
      b[i] = 2;
      b[i + 1] = 4;
      b[i + 2] = MSS >> 8;
      b[i + 3] = MSS & 0xff;
      b[i + 4] = 4;
      b[i + 5] = 2;
      i += 6;
    } else {
      b[i] = 1;
      b[i + 1] = 1;
      i += 2;
    }
    b[i] = 8;
    b[i + 1] = 10;
    put32(b, i + 2, this.now >>> 0);
    put32(b, i + 6, tsEcr);
    if (syn) {
      b[i + 10] = 1;
      b[i + 11] = 3;
      b[i + 12] = 3;
      b[i + 13] = WSCALE;
    }
    this.tap?.(b);
    this.peer?.receive(b);
  }
}
