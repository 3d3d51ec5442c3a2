// A host: its addresses, its connections demultiplexed by 4-tuple, its
// listeners, ephemeral ports, the RST for segments that match nothing, one
// timer queue, drop counters by reason, and the socket API on top.

import { validateConfig } from '../tcp/config.ts';
import {
  type ConnEvent,
  Connection,
  type ConnectionHost,
  type Counter,
} from '../tcp/connection.ts';
import { COUNTER, COUNTER_NAMES } from '../tcp/counters.ts';
import { NO_DEADLINE, packDeadline } from '../tcp/deadline.ts';
import { TcpError } from '../tcp/errors.ts';
import { type IsnSource, Rfc6528Isn } from '../tcp/isn.ts';
import { type HalfOpen, Listener, type ListenerHost } from '../tcp/listener.ts';
import { cryptoRandom, type Random } from '../tcp/random.ts';
import { resetFor } from '../tcp/reset.ts';
import { payloadRoom } from '../tcp/snd.ts';
import { CookieJar } from '../tcp/syncookie.ts';
import { TimeWaitQueue, TimeWaitRecord } from '../tcp/timewait.ts';
import { TupleTable } from '../tcp/tuple.ts';
import {
  type DropReason,
  defaultConfig,
  type SendReason,
  State,
  type TcpConfig,
  type Tracer,
} from '../tcp/types.ts';
import {
  addrClass,
  addrEquals,
  formatAddr,
  type IpAddr,
  internIpv4,
  parseAddr,
} from '../wire/addr.ts';
import { decodeIcmp, encodeEchoReply } from '../wire/icmp.ts';
import { decodeIp, type IpPacket, PROTO_ICMP, PROTO_ICMPV6 } from '../wire/ip.ts';
import { decodeSegment, withTcpChecksum } from '../wire/packet.ts';
import { encodePacket, type Segment, writePacket } from '../wire/tcp.ts';
import type { Clock } from './clock.ts';
import type { Link } from './link.ts';
import { TcpServer, TcpSocket } from './socket.ts';
import { TimerQueue } from './timers.ts';

export interface StackOptions {
  /** A name for traces ("client", "server", "10.0.0.1"). */
  name?: string;
  /** IPv4 and/or IPv6 addresses, as text or bytes. */
  addresses: (string | IpAddr)[];
  clock: Clock;
  config?: Partial<TcpConfig>;
  random?: Random;
  isn?: IsnSource;
  tracer?: Tracer | null;
  /** RFC 5961 §7: challenge ACKs allowed per second across the host (Linux: 1000). */
  challengeAckLimit?: number;
  /** RSTs a listener may send per second for ACKs that match nothing (default 1000). */
  listenerResetLimit?: number;
  /** First port tried for ephemeral binds; the range is Linux's 32768–60999. */
  ephemeralStart?: number;
  /** Connection ids start after this (a rebooted host continues its predecessor's ids in traces). */
  firstId?: number;
  /** ICMP echo replies sent per second at most (default 1000); 0 stops answering ping. */
  icmpEchoLimit?: number;
  /**
   * Connections held in TIME-WAIT at most (default 131,072, Linux's
   * net.ipv4.tcp_max_tw_buckets on a 24 GiB machine): each is a small record
   * for 2×MSL, and peers that open and close connections fast enough would
   * otherwise grow them without bound. Past it a connection closes at once
   * instead of waiting (counted as time-wait-overflows), as Linux's does.
   */
  timeWaitMax?: number;
  /**
   * Connections the application closed before they were done (our FIN to
   * deliver, the peer's to wait for) held at most (default 131,072, Linux's
   * net.ipv4.tcp_max_orphans on a 24 GiB machine). Each lives for a bounded
   * time (FIN-WAIT-2 lasts finTimeout; an orphan stops probing a zero window),
   * but peers could make them pile up faster than they go. Past it, close()
   * resets the connection (counted as orphan-overflows), as Linux's tcp_close.
   */
  orphanMax?: number;
  /**
   * Verify TCP checksums of arriving segments (default true). Only for links
   * whose bytes never leave the process (a memory pair in one program): there
   * nothing can corrupt them. Never turn it off on a real wire.
   */
  verifyChecksums?: boolean;
  /**
   * Runs `flush` once the application's turn is over (Node: `setImmediate`).
   * With it, what the application writes in one turn (and an end() after it)
   * leaves as one burst when its turn ends, and the ACKs arriving segments
   * call for wait until then: a reply carries the ACK, and a reply followed
   * by end() is one segment with FIN (an HTTP/1.0 exchange: three packets
   * from the server instead of five). Without it (the simulator) data goes
   * when written and each ACK when the packets at hand are processed.
   */
  deferOutput?: (flush: () => void) => void;
}

/** The largest IPv6 and TCP headers (40 + 60 bytes): what a large segment leaves for payload. */
const MAX_HEADERS = 100;
/** The largest IP packet without jumbograms (IPv6: 40 + 65,535), for the reused output bytes. */
const OUT_BYTES = 65_575;
/** Packets up to this long (every control segment) get a view of the reused bytes kept per length. */
const SMALL_PACKET = 128;

export interface StackStats {
  counters: Partial<Record<Counter | 'packets-in' | 'packets-out', number>>;
  drops: Partial<Record<DropReason, number>>;
}

export interface ConnectOptions {
  host: string | IpAddr;
  port: number;
  localPort?: number;
  localAddress?: string | IpAddr;
  config?: Partial<TcpConfig>;
  /**
   * Data to carry on the SYN itself; sent again if the peer does not acknowledge it.
   * What does not fit on the SYN (see `synDataRoom`) follows the handshake.
   */
  synData?: Uint8Array;
  /**
   * TCP Fast Open (RFC 7413): ask for a cookie, or, with one cached from an
   * earlier connection to this server, put `synData` on the SYN with it.
   */
  fastOpen?: boolean;
}

export interface ListenOptions {
  port: number;
  host?: string | IpAddr;
  backlog?: number;
  config?: Partial<TcpConfig>;
  /** 'two-way' is NOT TCP: a simulator-only listener that treats a SYN as enough (for teaching). */
  handshake?: 'three-way' | 'two-way';
}

const OPTION_COUNTERS = {
  'option-bad-length': COUNTER['options-bad-length'],
  'option-zero-length': COUNTER['options-zero-length'],
  'option-overrun': COUNTER['options-overrun'],
} as const;

/** Servers whose Fast Open cookie is remembered (Linux keeps its TCP metrics in a similar bound). */
const FAST_OPEN_CACHE = 1024;
/** The most TCP options a header carries: kept free on a SYN that carries data. */
const MAX_OPTION_SPACE = 40;
const EPHEMERAL_LO = 32768;
const EPHEMERAL_HI = 60999;

export class Stack implements ConnectionHost, ListenerHost {
  readonly name: string;
  readonly addresses: IpAddr[];
  readonly cfg: TcpConfig;
  readonly tracer: Tracer | null;
  private readonly counts: StackStats = { counters: {}, drops: {} };
  /** The counters by number (COUNTER); `stats` names those above zero. */
  private readonly counterValues = new Float64Array(COUNTER_NAMES.length);
  // The four counters every packet moves, as plain fields (a keyed update costs more).
  private packetsIn = 0;
  private packetsOut = 0;
  private segmentsIn = 0;
  private segmentsOut = 0;

  /** What this stack counted: events by name, and dropped segments by reason. */
  get stats(): StackStats {
    const c = this.counts.counters;
    for (let i = 0; i < COUNTER_NAMES.length; i++)
      if (this.counterValues[i] > 0) c[COUNTER_NAMES[i]] = this.counterValues[i];
    if (this.packetsIn) c['packets-in'] = this.packetsIn;
    if (this.packetsOut) c['packets-out'] = this.packetsOut;
    if (this.segmentsIn) c['segments-in'] = this.segmentsIn;
    if (this.segmentsOut) c['segments-out'] = this.segmentsOut;
    return this.counts;
  }
  /** Connections by 4-tuple; those in TIME-WAIT are kept as small records between batches. */
  readonly connections = new TupleTable<Connection | TimeWaitRecord>();
  /** Connections that entered TIME-WAIT in this batch, to become records once it is done. */
  private compactLater: Connection[] = [];
  /** For each of those, the record it was restored from (or null). */
  private compactFrom: (TimeWaitRecord | null)[] = [];
  readonly listeners: Listener[] = [];
  private readonly timers = new TimerQueue<Connection | HalfOpen>((t, now) => t.onTimer(now));
  /**
   * TIME-WAIT records, one queue per 2×MSL in use (nearly always one): a list,
   * read after every step, where a Map's iterator would be made each time.
   */
  private readonly timeWaitQueues: TimeWaitQueue[] = [];
  /** StackOptions.timeWaitMax. */
  private readonly timeWaitMax: number;
  /** StackOptions.orphanMax, and the connections counted against it. */
  private readonly orphanMax: number;
  private orphans = 0;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly isnSource: IsnSource;
  private links: Link[] = [];
  private ids = 0;
  private ephemeral: number;
  private depth = 0;
  private inbox: Uint8Array[] = [];
  /** For each packet in `inbox`: its link vouched for its checksum. */
  private inboxVerified: boolean[] = [];
  /**
   * Events waiting for the application: two lists side by side (no object per
   * event), taken from `evHead` on, reset when all are taken.
   */
  private evConns: (Connection | null)[] = [];
  private evKinds: (ConnEvent | null)[] = [];
  private evHead = 0;
  private evCount = 0;
  /** Connections owing an ACK, sent once the packets being processed are done (MUST-58/59). */
  private acksDue: Connection[] = [];
  /** The list acksDue swaps with when it is flushed (no new array per step). */
  private acksSpare: Connection[] = [];
  /** With deferOutput: connections to send for, ACKs owed, and whether a flush is on its way. */
  private outputDeferred: Connection[] = [];
  private acksDeferred: Connection[] = [];
  private flushPending = false;
  private readonly deferOutput: ((flush: () => void) => void) | undefined;
  readonly outputLater: ((conn: Connection) => void) | undefined;
  private wakeAt = Infinity;
  /** A halted stack (a host that lost power) neither sends, receives nor runs timers. */
  private halted = false;
  private readonly wake = () => {
    this.wakeAt = Infinity;
    if (this.halted) return;
    this.enter();
    try {
      const now = this.clock.now();
      this.timers.run(now);
      for (const q of this.timeWaitQueues) {
        for (let rec = q.shift(now); rec; rec = q.shift(now)) {
          if (this.holds(rec)) this.restore(rec).onTimer(now);
        }
      }
    } finally {
      this.leave();
    }
  };
  private readonly challenges: RateLimit;
  private readonly echoes: RateLimit;
  /** A host whose own address is loopback accepts loopback sources (it is talking to itself). */
  private readonly loopbackHost: boolean;
  private readonly listenerResets: RateLimit;
  private jar: CookieJar | null = null;

  private readonly verifyChecksums: boolean;
  /** Checksums verified on arrival and computed on sending (off only on in-process links). */
  private checksumIn = true;
  private checksumOut: boolean | 'partial' = true;
  /** TCP payload a segment may carry when the link cuts it into MSS-sized ones (TSO); 0: one MSS. */
  tsoMax = 0;
  /**
   * Received data may stay a view of its packet (every link hands over fresh
   * buffers, and no trace keeps the packets, whose bytes the application
   * could otherwise change under it).
   */
  zeroCopy = false;
  /** Every link copies a packet out on send (Link.copies): outgoing packets reuse `outBuf`. */
  private reuseOut = false;
  private outBuf: Uint8Array | null = null;
  /** Views of `outBuf` by length, for the small packets (a view is an object too). */
  private readonly outViews: Uint8Array[] = [];

  constructor(opts: StackOptions) {
    this.name = opts.name ?? 'host';
    this.verifyChecksums = opts.verifyChecksums !== false;
    if (opts.deferOutput !== undefined && typeof opts.deferOutput !== 'function')
      throw new TypeError(
        'deferOutput must be a function that runs its argument later (as setImmediate)',
      );
    this.deferOutput = opts.deferOutput;
    this.outputLater = this.deferOutput
      ? (conn) => {
          // Writes in a row from one connection: it is listed once.
          const q = this.outputDeferred;
          if (q[q.length - 1] !== conn) q.push(conn);
          this.scheduleFlush();
        }
      : undefined;
    this.addresses = opts.addresses.map((a) => {
      const p = typeof a === 'string' ? parseAddr(a) : a.slice();
      if (!p)
        throw new TypeError(
          `invalid address "${a}": expected IPv4 (198.18.0.1) or IPv6 (2001:db8::1)`,
        );
      // The shared object decoded packets name it by (isLocal compares identity first).
      return p.length === 4 ? internIpv4(p, 0) : p;
    });
    if (this.addresses.length === 0) throw new TypeError('a stack needs at least one address');
    this.cfg = validateConfig({ ...defaultConfig(opts.config?.profile), ...opts.config });
    this.clock = opts.clock;
    this.random = opts.random ?? cryptoRandom();
    this.isnSource = opts.isn ?? new Rfc6528Isn(this.random);
    this.tracer = opts.tracer ?? null;
    for (const a of this.addresses) {
      const kind = addrClass(a);
      if (kind !== 'unicast' && kind !== 'loopback') {
        throw new TypeError(
          `invalid address "${formatAddr(a)}": a host address must be unicast, not ${kind}`,
        );
      }
    }
    this.loopbackHost = this.addresses.some((a) => addrClass(a) === 'loopback');
    this.challenges = new RateLimit(opts.challengeAckLimit ?? 1000);
    this.echoes = new RateLimit(opts.icmpEchoLimit ?? 1000);
    this.listenerResets = new RateLimit(opts.listenerResetLimit ?? 1000);
    const twMax = opts.timeWaitMax ?? 131_072;
    if (!Number.isInteger(twMax) || twMax < 0)
      throw new RangeError(
        `timeWaitMax must be an integer of 0 or more (connections in TIME-WAIT at most), got ${twMax}`,
      );
    this.timeWaitMax = twMax;
    const orphanMax = opts.orphanMax ?? 131_072;
    if (!Number.isInteger(orphanMax) || orphanMax < 0)
      throw new RangeError(
        `orphanMax must be an integer of 0 or more (connections closed by the application but not yet done, at most), got ${orphanMax}`,
      );
    this.orphanMax = orphanMax;
    this.ids = opts.firstId ?? 0;
    this.ephemeral =
      opts.ephemeralStart ?? EPHEMERAL_LO + (this.random.u32() % (EPHEMERAL_HI - EPHEMERAL_LO));
  }

  now(): number {
    return this.clock.now();
  }

  /** Sends and receives IP packets through `link`. */
  attach(link: Link): void {
    this.links.push(link);
    this.zeroCopy = this.tracer === null && this.links.every((l) => l.fresh === true);
    this.reuseOut = this.links.every((l) => l.copies === true);
    const inProcess = this.links.every((l) => l.inProcess === true);
    this.checksumIn = this.verifyChecksums && !inProcess;
    // A device that offloads checksums gets the pseudo-header sum (a trace gets copies made whole).
    const offload = this.links.length === 1 ? this.links[0].offload : undefined;
    this.checksumOut = offload ? 'partial' : !(inProcess && this.tracer === null);
    // Room for the largest IP and TCP headers in each of the device's large segments.
    this.tsoMax = offload ? Math.max(0, offload.gso - MAX_HEADERS) : 0;
    link.onPacket = (p, verified) => this.receive(p, verified);
    link.onPackets = (ps, verified) => this.receiveBatch(ps, verified);
  }

  // ---- Socket API ----------------------------------------------------------

  connect(opts: ConnectOptions): TcpSocket {
    const remote = this.addr(opts.host, 'host');
    checkPort(opts.port, 'port', false);
    const kind = addrClass(remote);
    if (kind !== 'unicast' && !(kind === 'loopback' && this.loopbackHost)) {
      // RFC 9293 MUST-46 / RFC 1122 §4.2.3.10: TCP is unicast; nothing is sent.
      throw new TcpError(
        'ENETUNREACH',
        `cannot connect to ${formatAddr(remote)}: it is a${kind === 'unspecified' ? 'n' : ''} ${kind} address, and TCP connects only to unicast addresses`,
      );
    }
    const local =
      opts.localAddress !== undefined
        ? this.addr(opts.localAddress, 'localAddress')
        : this.sourceFor(remote);
    if (!this.isLocal(local)) {
      throw new TcpError(
        'EADDRNOTAVAIL',
        `local address ${formatAddr(local)} is not one of this stack's addresses`,
      );
    }
    let lport = opts.localPort;
    if (lport !== undefined && lport !== 0) {
      checkPort(lport, 'localPort', false);
      if (this.connections.get(local, lport, remote, opts.port)) {
        throw new TcpError(
          'EADDRINUSE',
          `${formatAddr(local)}:${lport} → ${formatAddr(remote)}:${opts.port} is already in use`,
        );
      }
    } else {
      lport = this.ephemeralPort(local, remote, opts.port);
    }
    const cfg = opts.config ? validateConfig({ ...this.cfg, ...opts.config }) : this.cfg;
    const conn = new Connection(this, cfg, this.nextId(), {
      localAddr: local,
      localPort: lport,
      remoteAddr: remote,
      remotePort: opts.port,
    });
    this.connections.add(conn);
    const sock = new TcpSocket(this, conn);
    conn.owner = sock;
    this.enter();
    try {
      const now = this.now();
      this.trace({ type: 'app', t: now, host: this.name, conn: conn.id, call: 'connect' });
      let synData = opts.synData;
      let later: Uint8Array | undefined;
      let fo: Uint8Array | undefined;
      if (opts.fastOpen) {
        const cached = this.fastOpenCookies.get(formatAddr(remote))?.cookie;
        fo = cached ?? new Uint8Array(0);
        if (!cached?.length && synData) {
          // No cookie yet: ask for one; the data follows the handshake.
          later = synData;
          synData = undefined;
        }
      }
      if (synData && synData.length > 0) {
        const room = this.synDataRoom(remote, cfg);
        if (synData.length > room) {
          later = synData.subarray(room);
          synData = synData.subarray(0, room);
        }
      }
      conn.openActive(
        this.isn(local, lport, remote, opts.port, now),
        this.tsOffset(),
        now,
        synData,
        fo,
      );
      if (later) conn.send(later, now);
    } finally {
      this.leave();
    }
    return sock;
  }

  listen(opts: ListenOptions): TcpServer {
    const local = opts.host !== undefined ? this.addr(opts.host, 'host') : null;
    checkPort(opts.port, 'port', true);
    let port = opts.port;
    if (port === 0) port = this.ephemeralPort(local ?? this.addresses[0], this.addresses[0], 0);
    for (const l of this.listeners) {
      if (
        l.localPort === port &&
        (l.localAddr === null || local === null || addrEquals(l.localAddr, local))
      ) {
        throw new TcpError('EADDRINUSE', `port ${port} already has a listener`);
      }
    }
    const backlog = opts.backlog ?? 511;
    if (!Number.isInteger(backlog) || backlog < 0) {
      throw new TypeError(`backlog must be a non-negative integer, got ${backlog}`);
    }
    const cfg = opts.config ? validateConfig({ ...this.cfg, ...opts.config }) : this.cfg;
    const l = new Listener(this, cfg, this.nextId(), local, port, backlog);
    if (opts.handshake === 'two-way') l.twoWayHandshake = true;
    this.listeners.push(l);
    const server = new TcpServer(this, l);
    this.trace({ type: 'app', t: this.now(), host: this.name, conn: l.id, call: 'listen' });
    return server;
  }

  /** @internal Used by TcpServer.close. */
  closeListener(l: Listener): void {
    const i = this.listeners.indexOf(l);
    if (i < 0) return;
    this.listeners.splice(i, 1);
    this.enter();
    try {
      l.close(this.now());
    } finally {
      this.leave();
    }
  }

  /** @internal Runs `fn` as one stack step: events it causes are delivered after it. */
  step<T>(fn: (now: number) => T): T {
    this.enter();
    try {
      return fn(this.now());
    } finally {
      this.leave();
    }
  }

  // ---- Packets in ----------------------------------------------------------

  /**
   * Hands the stack an arriving IP packet. Never throws on what the packet
   * holds. When every attached link hands over fresh buffers (Link.fresh), the
   * stack may keep views of the packet: do not write into it afterwards.
   */
  receive(packet: Uint8Array, verified = false): void {
    if (this.halted) return;
    if (this.depth > 0) {
      this.inbox.push(packet);
      this.inboxVerified.push(verified);
      return;
    }
    this.enter();
    try {
      this.process(packet, verified);
    } finally {
      this.leave();
    }
  }

  /**
   * Hands the stack several packets that arrived together (one read of a
   * device, one delivery of a link): all are processed before any ACK is sent
   * (RFC 9293 MUST-59), so a burst is acknowledged once.
   */
  receiveBatch(packets: readonly Uint8Array[], verified?: readonly boolean[]): void {
    if (this.halted) return;
    for (let i = 0; i < packets.length; i++) {
      this.inbox.push(packets[i]);
      this.inboxVerified.push(verified?.[i] === true);
    }
    if (this.depth > 0) return;
    this.enter();
    this.leave();
  }

  private process(packet: Uint8Array, verified: boolean): void {
    const now = this.now();
    this.packetsIn++;
    const ip = decodeIp(packet);
    if (typeof ip === 'string') {
      this.dropPacket(0, ip, now, packet);
      return;
    }
    if (!this.isLocal(ip.dst)) {
      this.dropPacket(0, 'not-for-us', now, packet);
      return;
    }
    // RFC 1122 §4.2.3.10 / RFC 9293 MUST-63: a source that cannot be a peer gets no answer.
    const srcKind = addrClass(ip.src);
    if (srcKind !== 'unicast' && !(srcKind === 'loopback' && this.loopbackHost)) {
      this.dropPacket(0, 'bad-source-address', now, packet);
      return;
    }
    if (ip.sourceRoute) {
      this.dropPacket(0, 'source-route', now, packet);
      return;
    }
    if (ip.protocol === PROTO_ICMP || ip.protocol === PROTO_ICMPV6) {
      this.processIcmp(ip, packet, now);
      return;
    }
    const seg = decodeSegment(ip, this.checksumIn && !verified);
    if (typeof seg === 'string') {
      this.dropPacket(0, seg, now, packet);
      return;
    }
    const { src, dst } = ip;
    this.segmentsIn++;
    if (seg.optionFault) this.count(OPTION_COUNTERS[seg.optionFault]);
    const entry = this.connections.get(dst, seg.dstPort, src, seg.srcPort);
    let conn = entry instanceof TimeWaitRecord ? this.restore(entry) : entry;
    if (this.tracer) {
      this.tracer.emit({
        type: 'segment',
        t: now,
        host: this.name,
        dir: 'in',
        conn: conn ? conn.id : 0,
        src,
        dst,
        seg,
        // A device's checksum may be partial (offload): the trace gets a complete one.
        packet: verified ? withTcpChecksum(packet) : packet,
      });
    }
    // RFC 1122 §4.2.2.13 / RFC 6191: a new SYN that cannot belong to the old
    // connection may reopen the 4-tuple from TIME-WAIT; the new connection's
    // ISS is then chosen above the old one's sequence space.
    let reopens: number | undefined;
    if (conn && conn.state === State.TimeWait && conn.timeWaitAcceptsSyn(seg)) {
      const l = this.findListener(dst, seg.dstPort);
      if (l) {
        reopens = conn.sndNxt;
        conn.abort(now);
        conn = undefined;
      }
    }
    if (conn) {
      conn.onSegment(seg, now);
      return;
    }
    // From ourselves, yet no connection of ours sent it (a socket connected to
    // itself has one): a LAND attack. Neither a listener nor a RST answers it.
    if (addrEquals(src, dst)) {
      this.dropFor(0, seg, 'land', now);
      return;
    }
    const l = this.findListener(dst, seg.dstPort);
    if (l) {
      l.onSegment(src, dst, seg, now, reopens);
      return;
    }
    // Nothing matches: RST unless it is an RST (RFC 9293 §3.10.7.1).
    const rst = resetFor(seg);
    if (rst) {
      this.count(COUNTER['resets-sent']);
      this.transmitFor(dst, src, 0, rst, 'reset', now);
      this.dropFor(0, seg, 'no-listener', now);
    } else {
      this.dropFor(0, seg, 'no-connection', now);
    }
  }

  /**
   * ICMP (RFC 9293 §3.9.2.2, MUST-54): errors go to the connection they quote,
   * if it exists and the quoted sequence number is in flight (RFC 5927);
   * source quench is discarded (MUST-55); echo requests are answered.
   */
  private processIcmp(ip: IpPacket, packet: Uint8Array, now: number): void {
    const m = decodeIcmp(ip);
    if (typeof m === 'string') {
      this.dropPacket(0, m, now, packet);
      return;
    }
    if (m.kind === 'echo-request') {
      if (!this.echoes.allow(now)) {
        this.dropPacket(0, 'icmp-rate-limited', now, packet);
        return;
      }
      this.count(COUNTER['icmp-echo-replies']);
      this.output(encodeEchoReply(ip.dst, ip.src, m.id, m.seq, m.data));
      return;
    }
    if (m.kind === 'other') {
      this.dropPacket(0, 'icmp-ignored', now, packet);
      return;
    }
    if (m.error === 'source-quench') {
      this.dropPacket(0, 'icmp-source-quench', now, packet);
      return;
    }
    const q = m.quoted;
    // The quoted packet is one we sent: its source is ours.
    const conn = this.isLocal(q.src)
      ? this.connections.get(q.src, q.srcPort, q.dst, q.dstPort)
      : undefined;
    if (!conn) {
      this.dropPacket(0, 'icmp-no-connection', now, packet);
      return;
    }
    if (conn instanceof TimeWaitRecord) {
      // Nothing of a connection in TIME-WAIT is in flight (RFC 5927).
      this.dropPacket(conn.id, 'icmp-out-of-window', now, packet);
      return;
    }
    if (!conn.onIcmpError(m.error, m.type, m.code, m.mtu, q.seq, now)) {
      this.dropPacket(conn.id, 'icmp-out-of-window', now, packet);
    }
  }

  private isLocal(a: IpAddr): boolean {
    const as = this.addresses;
    // Decoded IPv4 addresses are interned, as ours are: most checks end at identity.
    for (let i = 0; i < as.length; i++) if (as[i] === a || addrEquals(as[i], a)) return true;
    return false;
  }

  /** A listener has this port (on any of its addresses). */
  private listening(port: number): boolean {
    for (const l of this.listeners) if (l.localPort === port) return true;
    return false;
  }

  private findListener(addr: IpAddr, port: number): Listener | undefined {
    let wild: Listener | undefined;
    for (const l of this.listeners) {
      if (l.localPort !== port) continue;
      if (l.localAddr === null) wild = l;
      else if (addrEquals(l.localAddr, addr)) return l;
    }
    return wild;
  }

  // ---- ConnectionHost / ListenerHost ---------------------------------------

  transmit(conn: Connection, seg: Segment, why: SendReason, now: number): void {
    // A segment over one MSS (TSO): the link cuts it into segments of the MSS these options leave.
    const room = this.tsoMax > 0 ? payloadRoom(conn, seg.options) : 0;
    const gso = room > 0 && seg.payload.length > room ? room : 0;
    this.transmitFor(
      conn.localAddr,
      conn.remoteAddr,
      conn.id,
      seg,
      why,
      now,
      conn.ttl,
      conn.tos,
      gso,
    );
  }

  transmitFor(
    local: IpAddr,
    remote: IpAddr,
    conn: number,
    seg: Segment,
    why: SendReason,
    now: number,
    ttl = this.cfg.ttl,
    tos = this.cfg.tos,
    gso = 0,
  ): void {
    const packet =
      this.reuseOut && this.tracer === null
        ? this.encodeReused(local, remote, seg, ttl, tos)
        : encodePacket(local, remote, seg, ttl, tos, this.checksumOut);
    this.segmentsOut++;
    if (this.tracer !== null) this.traceOut(local, remote, conn, seg, why, now, packet);
    this.output(packet, gso);
  }

  private traceOut(
    local: IpAddr,
    remote: IpAddr,
    conn: number,
    seg: Segment,
    why: SendReason,
    now: number,
    packet: Uint8Array,
  ): void {
    this.tracer!.emit({
      type: 'segment',
      t: now,
      host: this.name,
      dir: 'out',
      conn,
      src: local,
      dst: remote,
      seg,
      why,
      packet: this.checksumOut === 'partial' ? withTcpChecksum(packet) : packet,
    });
  }

  /**
   * Encodes into bytes every packet reuses: only where each link is done with
   * a packet when send returns and no trace keeps packets (a SYN flood over a
   * TUN device then allocates no packet per SYN,ACK).
   */
  private encodeReused(
    local: IpAddr,
    remote: IpAddr,
    seg: Segment,
    ttl: number,
    tos: number,
  ): Uint8Array {
    // Headers take at most MAX_HEADERS bytes.
    if (seg.payload.length > OUT_BYTES - MAX_HEADERS)
      return encodePacket(local, remote, seg, ttl, tos, this.checksumOut);
    if (this.outBuf === null) this.outBuf = new Uint8Array(OUT_BYTES);
    const len = writePacket(this.outBuf, local, remote, seg, ttl, tos, this.checksumOut);
    if (len > SMALL_PACKET) return this.outBuf.subarray(0, len);
    let view = this.outViews[len];
    if (view === undefined) {
      view = this.outBuf.subarray(0, len);
      this.outViews[len] = view;
    }
    return view;
  }

  private output(packet: Uint8Array, gso = 0): void {
    this.packetsOut++;
    // One link is the common case; with several, each sees every packet (a simple hub).
    if (gso > 0) this.links[0].send(packet, gso);
    else for (const l of this.links) l.send(packet);
  }

  deliver(conn: Connection, ev: ConnEvent, now: number): void {
    if (this.tracer !== null) this.traceDeliver(conn, ev, now);
    this.evConns[this.evCount] = conn;
    this.evKinds[this.evCount++] = ev;
  }

  /** Apart from deliver, which runs for every event (see traceCc in connection.ts). */
  private traceDeliver(conn: Connection, ev: ConnEvent, now: number): void {
    if (ev.type === 'writable') return;
    const what =
      ev.type === 'readable' ? 'data' : ev.type === 'closed' && ev.error ? 'error' : ev.type;
    this.tracer!.emit({
      type: 'deliver',
      t: now,
      host: this.name,
      conn: conn.id,
      what,
      bytes: ev.type === 'readable' ? conn.recvQueued : undefined,
      error:
        ev.type === 'closed'
          ? ev.error?.code
          : ev.type === 'soft-error'
            ? ev.error.code
            : undefined,
    });
  }

  drop(conn: Connection, seg: Segment, reason: DropReason, now: number): void {
    this.dropFor(conn.id, seg, reason, now);
  }

  dropFor(conn: number, seg: Segment, reason: DropReason, now: number): void {
    this.counts.drops[reason] = (this.counts.drops[reason] ?? 0) + 1;
    if (this.tracer) this.tracer.emit({ type: 'drop', t: now, host: this.name, conn, reason, seg });
  }

  private dropPacket(
    conn: number,
    reason: DropReason,
    now: number,
    packet: Uint8Array,
    seg?: Segment,
  ): void {
    this.counts.drops[reason] = (this.counts.drops[reason] ?? 0) + 1;
    if (this.tracer)
      this.tracer.emit({ type: 'drop', t: now, host: this.name, conn, reason, seg, packet });
  }

  count(id: number): void {
    this.counterValues[id]++;
  }

  challengeAckAllowed(now: number): boolean {
    return this.challenges.allow(now);
  }

  resetAllowed(now: number): boolean {
    return this.listenerResets.allow(now);
  }

  cookieJar(now: number): CookieJar {
    this.jar ??= new CookieJar(this.random, now);
    return this.jar;
  }

  timerChanged(t: Connection | HalfOpen): void {
    if (this.timers.update(t)) this.scheduleWake();
  }

  timerCancelled(t: HalfOpen): void {
    this.timers.forget(t);
  }

  /**
   * Fast Open cookies learned from servers, with the MSS each announced, by server
   * address (RFC 7413 §4.1.3). Fed from the network, so bounded: the oldest goes first.
   */
  readonly fastOpenCookies = new Map<string, { cookie: Uint8Array; mss: number }>();

  fastOpenCookie(conn: Connection, cookie: Uint8Array | null, mss: number): void {
    const key = formatAddr(conn.remoteAddr);
    const kept = this.fastOpenCookies.get(key)?.cookie ?? new Uint8Array(0);
    this.fastOpenCookies.delete(key);
    if (this.fastOpenCookies.size >= FAST_OPEN_CACHE) {
      this.fastOpenCookies.delete(this.fastOpenCookies.keys().next().value as string);
    }
    this.fastOpenCookies.set(key, { cookie: cookie ? cookie.slice() : kept, mss });
  }

  /**
   * How many bytes of data a SYN to `remote` may carry. RFC 7413 §4.2.2: no more than
   * the server's MSS (cached from its last SYN,ACK), less room for the SYN's options
   * (40 bytes, as Linux reserves); with nothing cached, 536 — or, in the Linux and
   * FreeBSD profiles, this host's own MSS less 40, as those stacks do.
   */
  synDataRoom(remote: IpAddr, cfg: TcpConfig = this.cfg): number {
    const cached = this.fastOpenCookies.get(formatAddr(remote))?.mss;
    if (cached !== undefined) return Math.max(0, cached - MAX_OPTION_SPACE);
    return cfg.profile.name === 'synack' ? 536 : cfg.mss - MAX_OPTION_SPACE;
  }

  released(conn: Connection): void {
    if (conn.orphan) this.orphanGone(conn);
    this.connections.delete(conn);
    // Its entry in the timer heap would keep it (and its socket) alive until it came due.
    this.timers.forget(conn);
  }

  timeWaitEntered(conn: Connection): void {
    if (conn.orphan) this.orphanGone(conn);
    this.compactLater.push(conn);
    this.compactFrom.push(null);
  }

  orphaned(conn: Connection): boolean {
    if (this.orphans >= this.orphanMax) return false;
    this.orphans++;
    conn.orphan = true;
    return true;
  }

  private orphanGone(conn: Connection): void {
    conn.orphan = false;
    this.orphans--;
  }

  /** `rec` is the live entry for its 4-tuple (not restored, not replaced). */
  private holds(rec: TimeWaitRecord): boolean {
    return (
      this.connections.get(rec.localAddr, rec.localPort, rec.remoteAddr, rec.remotePort) === rec
    );
  }

  /**
   * Swaps a connection in TIME-WAIT for its record: the record it was restored
   * from, filled again, if TIME-WAIT still ends when that one does (it keeps
   * its place in the queue); else a new one at the end of the queue.
   */
  private compact(conn: Connection, from: TimeWaitRecord | null): void {
    // An ACK still deferred (the one for the peer's FIN) goes before the connection becomes a record.
    if (conn.ackDue) conn.flushAck(this.now());
    if (
      conn.state !== State.TimeWait ||
      this.connections.get(conn.localAddr, conn.localPort, conn.remoteAddr, conn.remotePort) !==
        conn
    )
      return;
    let rec: TimeWaitRecord;
    if (from && from.deadline === conn.timeWaitAt) {
      from.fill(conn);
      rec = from;
    } else {
      if (this.timeWaitQueued() >= this.timeWaitMax) {
        // Linux's tcp_time_wait() when its buckets are used up: the connection
        // closes without TIME-WAIT (its last ACK has gone, above), and says so.
        this.count(COUNTER['time-wait-overflows']);
        conn.release(this.now(), undefined, 'time-wait overflow');
        return;
      }
      rec = new TimeWaitRecord(
        conn.cfg,
        conn.id,
        conn.localAddr,
        conn.localPort,
        conn.remoteAddr,
        conn.remotePort,
        conn,
        conn.timeWaitFate,
      );
      const length = conn.cfg.timeWait;
      let q: TimeWaitQueue | undefined;
      for (const x of this.timeWaitQueues) if (x.duration === length) q = x;
      if (!q) {
        q = new TimeWaitQueue(length);
        this.timeWaitQueues.push(q);
      }
      // Out of order (a deadline set some other way): stay a full connection.
      if (!q.push(rec)) return;
      // The application's connection reads its state from here on.
      conn.timeWaitFate = rec.fate;
    }
    this.connections.delete(conn);
    this.connections.add(rec);
    // The queue has the record: the connection leaves the timer heap.
    this.timers.forget(conn);
    conn.deadline = NO_DEADLINE;
  }

  /**
   * TIME-WAIT records queued: those held, and any a restored connection left
   * behind until their time comes (so at least as many as are held).
   */
  private timeWaitQueued(): number {
    let n = 0;
    for (const q of this.timeWaitQueues) n += q.size;
    return n;
  }

  /** The connection of a TIME-WAIT record, restored to process a segment or its timer. */
  private restore(rec: TimeWaitRecord): Connection {
    const conn = new Connection(this, rec.cfg, rec.id, rec);
    rec.restore(conn);
    this.connections.delete(rec);
    this.connections.add(conn);
    conn.deadline = packDeadline(conn.timeWaitAt);
    this.timerChanged(conn);
    // Back to a record after this batch if it is still in TIME-WAIT.
    this.compactLater.push(conn);
    this.compactFrom.push(rec);
    return conn;
  }

  ackLater(conn: Connection): void {
    this.acksDue.push(conn);
  }

  nextId(): number {
    return ++this.ids;
  }

  isn(local: IpAddr, lport: number, remote: IpAddr, rport: number, now: number): number {
    return this.isnSource.isn(local, lport, remote, rport, now);
  }

  tsOffset(): number {
    return this.cfg.timestamps ? this.random.u32() : 0;
  }

  adopt(l: Listener, h: HalfOpen): Connection | undefined {
    const conn = new Connection(this, l.cfg, h.id, h);
    if (!this.connections.add(conn)) return undefined;
    conn.owner = l;
    return conn;
  }

  /** Stops this stack for good: a host that lost power. Its connections vanish without a word. */
  halt(): void {
    this.halted = true;
  }

  // ---- Internals -----------------------------------------------------------

  private enter(): void {
    this.depth++;
  }

  private leave(): void {
    if (this.depth > 1) {
      this.depth--;
      return;
    }
    // Outermost: drain packets that arrived meanwhile, then application events;
    // then swap connections in TIME-WAIT for records, which may close some (a
    // full TIME-WAIT table) and so queue events: those are delivered too.
    try {
      for (;;) {
        while (this.inbox.length > 0 || this.evHead < this.evCount || this.acksDue.length > 0) {
          while (this.inbox.length > 0)
            this.process(this.inbox.shift()!, this.inboxVerified.shift()!);
          // Every packet at hand is processed: now the ACKs they called for (MUST-59),
          // or, with deferOutput, once the application has had its turn.
          if (this.acksDue.length > 0) {
            // Two lists in turn: a flush may make new ACKs due, which go to the other.
            const due = this.acksDue;
            this.acksDue = this.acksSpare;
            this.acksSpare = due;
            if (this.deferOutput) {
              for (const c of due) this.acksDeferred.push(c);
              this.scheduleFlush();
            } else {
              const now = this.now();
              for (const c of due) c.flushAck(now);
            }
            // Emptied by pop(): `length = 0` makes V8 drop the list's storage, and
            // the next push grows it again (~30 ns each time).
            while (due.length > 0) due.pop();
          }
          while (this.evHead < this.evCount && this.inbox.length === 0) {
            const i = this.evHead++;
            const conn = this.evConns[i]!;
            const ev = this.evKinds[i]!;
            this.evConns[i] = null;
            this.evKinds[i] = null;
            if (this.evHead === this.evCount) this.evHead = this.evCount = 0;
            this.dispatch(conn, ev);
          }
        }
        if (this.compactLater.length === 0) break;
        const later = this.compactLater;
        const from = this.compactFrom;
        this.compactLater = [];
        this.compactFrom = [];
        for (let i = 0; i < later.length; i++) this.compact(later[i], from[i]);
      }
    } finally {
      this.depth--;
      this.scheduleWake();
    }
  }

  private scheduleFlush(): void {
    if (this.flushPending) return;
    this.flushPending = true;
    this.deferOutput!(this.flushDeferred);
  }

  /** What the application's turn queued, then the ACKs nothing has carried since. */
  private readonly flushDeferred = (): void => {
    this.flushPending = false;
    if (this.halted) {
      this.outputDeferred = [];
      this.acksDeferred = [];
      return;
    }
    this.enter();
    try {
      const now = this.now();
      const out = this.outputDeferred;
      this.outputDeferred = [];
      for (const c of out) c.flushOutput(now);
      const acks = this.acksDeferred;
      this.acksDeferred = [];
      for (const c of acks) c.flushAck(now);
    } finally {
      this.leave();
    }
  };

  private dispatch(conn: Connection, ev: ConnEvent): void {
    const owner = conn.owner;
    if (owner instanceof TcpSocket) owner.handle(ev);
    else if (owner instanceof Listener && ev.type === 'established') {
      owner.owner?.onEstablished();
    }
  }

  private scheduleWake(): void {
    let next = this.timers.peek();
    const qs = this.timeWaitQueues;
    for (let i = 0; i < qs.length; i++) next = Math.min(next, qs[i].next);
    if (next < this.wakeAt) {
      this.wakeAt = next;
      this.clock.setWake(next, this.wake);
    }
  }

  private trace(ev: Parameters<Tracer['emit']>[0]): void {
    if (this.tracer) this.tracer.emit(ev);
  }

  private addr(a: string | IpAddr, what: string): IpAddr {
    if (typeof a !== 'string') return a;
    // An application connects to the same few hosts over and over: parse each once.
    const known = this.parsed.get(a);
    if (known) return known;
    const p = parseAddr(a);
    if (!p) throw new TypeError(`${what}: "${a}" is not an IPv4 or IPv6 address`);
    const addr = p.length === 4 ? internIpv4(p, 0) : p;
    if (this.parsed.size >= 256) this.parsed.clear();
    this.parsed.set(a, addr);
    return addr;
  }

  /** Address texts the application passed, parsed (at most 256, then started afresh). */
  private readonly parsed = new Map<string, IpAddr>();

  private sourceFor(remote: IpAddr): IpAddr {
    const same = this.addresses.find((a) => a.length === remote.length);
    if (!same) {
      throw new TcpError(
        'EADDRNOTAVAIL',
        `no IPv${remote.length === 4 ? 4 : 6} address on this stack to reach ${formatAddr(remote)}`,
      );
    }
    return same;
  }

  private ephemeralPort(local: IpAddr, remote: IpAddr, rport: number): number {
    const span = EPHEMERAL_HI - EPHEMERAL_LO + 1;
    for (let i = 0; i < span; i++) {
      const p = this.ephemeral;
      this.ephemeral = p >= EPHEMERAL_HI ? EPHEMERAL_LO : p + 1;
      if (this.listening(p)) continue;
      if (rport !== 0 && this.connections.get(local, p, remote, rport)) continue;
      if (rport === 0 && [...this.connections.values()].some((c) => c.localPort === p)) continue;
      return p;
    }
    throw new TcpError('EADDRNOTAVAIL', 'no free ephemeral port (32768–60999)');
  }
}

function checkPort(p: number, what: string, zeroOk: boolean): void {
  if (!Number.isInteger(p) || p < (zeroOk ? 0 : 1) || p > 65535) {
    throw new RangeError(`${what} must be an integer from ${zeroOk ? 0 : 1} to 65535, got ${p}`);
  }
}

/** At most `limit` events per second of the stack's clock. */
class RateLimit {
  private second = -1;
  private used = 0;
  constructor(private readonly limit: number) {}

  allow(now: number): boolean {
    const s = Math.floor(now / 1000);
    if (s !== this.second) {
      this.second = s;
      this.used = 0;
    }
    if (this.used >= this.limit) return false;
    this.used++;
    return true;
  }
}
