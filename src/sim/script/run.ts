// Runs a packet script against a synack stack in virtual time. The script is
// the remote peer: `<` lines are injected, `>` lines must be what the stack
// sends, at the time given (± tolerance), and system calls drive the socket
// under test. Sequence numbers are relative: inbound to the script's ISN,
// outbound to the stack's ISS (learned from its SYN), as in packetdrill.

import type { TcpServer, TcpSocket } from '../../stack/socket.ts';
import { Stack } from '../../stack/stack.ts';
import type { CongestionName } from '../../tcp/cc.ts';
import type { Connection } from '../../tcp/connection.ts';
import { seededRandom } from '../../tcp/random.ts';
import { seqAdd } from '../../tcp/seq.ts';
import {
  defaultConfig,
  profiles,
  State,
  type TcpConfig,
  TraceLog,
  type Tracer,
} from '../../tcp/types.ts';
import { formatAddr, parseAddr } from '../../wire/addr.ts';
import { encodeIcmpError } from '../../wire/icmp.ts';
import { decodePacket } from '../../wire/packet.ts';
import { ACK, encodePacket, FIN, PSH, type Segment, SYN, type TcpOption } from '../../wire/tcp.ts';
import { VirtualClock } from '../clock.ts';
import { formatScriptPacket, isZeroReset } from './format.ts';
import {
  evaluateReduced,
  type IcmpLine,
  type OptSpec,
  type PacketLine,
  parseScript,
  type ScriptEvent,
  ScriptSyntaxError,
  type SyscallLine,
} from './parse.ts';
import { applyShell, type ScriptKnobs } from './sysctl.ts';

export interface RunOptions {
  lenient?: boolean;
  profile?: string;
  tracer?: Tracer;
  /** Names for the script's #ifdef/#if lines (as `cc -D`). */
  defines?: Record<string, string>;
  /** The IP version when the script does not say (`--ip_version`); ipv4-mapped-ipv6 is IPv4 on the wire. */
  ipVersion?: string;
  /** How far from its time an outbound packet may be, when the script does not say (µs). */
  toleranceUsecs?: number;
  /**
   * The link's MTU when the script does not say (`--mtu`; default 1500): the
   * MSS the stack announces is the MTU less 40 bytes of headers over IPv4, 60
   * over IPv6. Linux's selftests run IPv4 scripts over IPv6 with 1520, so that
   * their `<mss 1460>` holds.
   */
  mtu?: number;
  /** Match each outbound segment on its own (no TSO-style coalescing), as packetdrill's flag. */
  strictSegments?: boolean;
  /**
   * Any packet the stack sends that no line lists is an error as soon as time moves
   * past it, and at the end. By default, as packetdrill, an unlisted packet is only
   * noticed by the next expected packet (which it then fails to match), and packets
   * sent after the last line are not examined.
   */
  strictPackets?: boolean;
  /**
   * Filled with what the run did, in time order: every packet in and out, every
   * system call with its result, every shell line. It is a plan another stack can
   * be driven by (`synack script --kernel` replays it on the Linux kernel).
   */
  record?: RecordedStep[];
  /** The profile when neither the caller nor the script names one (default synack). */
  fallbackProfile?: string;
  /** Told, for each outbound line matched, what the stack sent (in script notation). */
  onMatch?: (line: number, seen: string) => void;
}

/** One step of a recorded run (times in ms of virtual time from the start). */
export type RecordedStep =
  | { t: number; kind: 'in' | 'out'; packet: Uint8Array }
  | {
      t: number;
      kind: 'call';
      line: number;
      name: string;
      args: string[];
      /** The script fd the call returned (socket/accept), or the fd it acted on. */
      ret: number;
      errno?: string;
      /** When it returned: later than `t` for a call that blocked. */
      returned: number;
    }
  | { t: number; kind: 'shell'; line: number; command: string };

/** ICMP types and codes by the names packetdrill scripts use (RFC 792, RFC 1812, RFC 4443). */
const ICMP4_TYPES: Record<string, { type: number; codes?: Record<string, number> }> = {
  unreachable: {
    type: 3,
    codes: {
      net_unreachable: 0,
      host_unreachable: 1,
      protocol_unreachable: 2,
      port_unreachable: 3,
      frag_needed: 4,
      source_route_failed: 5,
      net_unknown: 6,
      host_unknown: 7,
      source_host_isolated: 8,
      net_prohibited: 9,
      host_prohibited: 10,
      net_unreachable_for_tos: 11,
      host_unreachable_for_tos: 12,
      packet_filtered: 13,
      precedence_violation: 14,
      precedence_cutoff: 15,
    },
  },
  source_quench: { type: 4 },
  time_exceeded: { type: 11 },
  parameter_problem: { type: 12 },
};
const ICMP6_TYPES: Record<string, { type: number; codes?: Record<string, number> }> = {
  unreachable: {
    type: 1,
    codes: {
      net_unreachable: 0,
      no_route: 0,
      admin_prohibited: 1,
      not_neighbour: 2,
      address_unreachable: 3,
      port_unreachable: 4,
    },
  },
  packet_too_big: { type: 2 },
  time_exceeded: { type: 3, codes: { exceeded_hop_limit: 0, exceeded_frag_time: 1 } },
  parameter_problem: {
    type: 4,
    codes: { header_field: 0, unknown_next_header: 1, unknown_option: 2 },
  },
};

/** packetdrill's --ip_version values. */
export const IP_VERSIONS = ['ipv4', 'ipv6', 'ipv4-mapped-ipv6'];

/** Bounds on one script run: virtual time and engine events. */
const MAX_VIRTUAL_MS = 24 * 3_600_000;
const MAX_STEPS = 5_000_000;

export interface ScriptResult {
  status: 'pass' | 'fail';
  /** The failing script line, when there is one. */
  line?: number;
  message?: string;
  /** Lines reported as skipped (shell commands), with their line numbers. */
  skipped: { line: number; text: string }[];
  /** Options in the script that synack does not interpret. */
  ignoredOptions: string[];
  /** The link MTU the run used (`--mtu`). */
  mtu: number;
  trace: TraceLog;
}

export const SCRIPT_LOCAL_PORT = 8080;
export const SCRIPT_REMOTE_PORT = 40000;
const DEFAULT_REMOTE_ISN = 2_000_000_000;
const DEFAULT_TOLERANCE_US = 4000;
const KNOWN_OPTIONS = new Set([
  'strict_segments',
  'tolerance_usecs',
  'ip_version',
  'profile',
  'lenient',
  'remote_isn',
  'mtu',
]);

/** The link's MTU when neither the script nor the caller sets one. */
const DEFAULT_MTU = 1500;

class Fail extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

interface Fd {
  nonblock: boolean;
  /** shutdown(SHUT_RD): reads return 0. */
  readShut?: boolean;
  /** SO_LINGER with a zero timeout: close() sends RST. */
  lingerAbort?: boolean;
  /** SO_LINGER with a timeout: close() waits up to this long for the FIN's ACK. */
  lingerMs?: number;
  /**
   * TCP_LINGER2 (Linux's tp->linger2), applied when close() makes the socket an
   * orphan: FIN-WAIT-2 lasts this long (ms), or −1: not at all (RST).
   * Undefined: net.ipv4.tcp_fin_timeout's (TcpConfig.finTimeout).
   */
  linger2?: number;
  bound?: number;
  cfg: Partial<TcpConfig>;
  /** TCP_MAXSEG as set (what getsockopt returns before a connection). */
  userMss?: number;
  sock?: TcpSocket;
  server?: TcpServer;
  connectReported?: boolean;
  /** TCP_FASTOPEN_CONNECT: connect() may wait for the first write to send its SYN. */
  fastOpenConnect?: boolean;
  /** connect() returned 0 without sending: the first write opens the connection (with its data). */
  deferred?: boolean;
  /** A blocking Fast Open send waiting for the handshake: the count it will return. */
  fastOpenPending?: number;
  /** The connection's error was returned once (as a socket's pending error, sk_err). */
  errorReported?: boolean;
}

interface Pending {
  ev: ScriptEvent & SyscallLine;
  poll: () => [number, string?] | null;
  returnsMs?: [number, number];
  step?: { returned: number };
}

const TCPI: Record<State, [string, number]> = {
  [State.Established]: ['ESTABLISHED', 1],
  [State.SynSent]: ['SYN_SENT', 2],
  [State.SynReceived]: ['SYN_RECV', 3],
  [State.FinWait1]: ['FIN_WAIT1', 4],
  [State.FinWait2]: ['FIN_WAIT2', 5],
  [State.TimeWait]: ['TIME_WAIT', 6],
  [State.Closed]: ['CLOSE', 7],
  [State.CloseWait]: ['CLOSE_WAIT', 8],
  [State.LastAck]: ['LAST_ACK', 9],
  [State.Listen]: ['LISTEN', 10],
  [State.Closing]: ['CLOSING', 11],
};

export function runScript(src: string, opts: RunOptions = {}): ScriptResult {
  const trace = new TraceLog();
  const result: ScriptResult = {
    status: 'pass',
    skipped: [],
    ignoredOptions: [],
    mtu: DEFAULT_MTU,
    trace,
  };
  try {
    const script = parseScript(src, opts.defines);
    new Runner(script.options, opts, trace, result).run(script.events);
  } catch (e) {
    result.status = 'fail';
    if (e instanceof Fail || e instanceof ScriptSyntaxError) {
      result.line = e.line;
      result.message =
        e instanceof ScriptSyntaxError
          ? `syntax: ${e.message.replace(/^line \d+: /, '')}`
          : e.message;
    } else {
      result.message = `internal error: ${(e as Error).stack ?? e}`;
    }
  }
  return result;
}

class Runner {
  private readonly clock = new VirtualClock();
  private readonly stack: Stack;
  private readonly outbox: { t: number; packet: Uint8Array }[] = [];
  private readonly localAddr: Uint8Array;
  private readonly remoteAddr: Uint8Array;
  private readonly lenient: boolean;
  private readonly strictSegments: boolean;
  private readonly strictPackets: boolean;
  private readonly tolMs: number;
  private readonly remoteIsn: number;
  /**
   * The script's sequence number on the peer's SYN (as packetdrill: a SYN's number is
   * absolute, later ones count from it). Set by the SYN that opens a connection and by
   * each SYN,ACK answering ours.
   */
  private remoteSynSeq = 0;
  /** The local port whose SYN set `localIss`. */
  private localIssPort: number | undefined;
  /** No connection is under test yet, or listen() was called since: the next SYN opens one. */
  private awaitingSyn = true;
  private localIss: number | undefined;
  /** ISS per extra flow (script port), for `<:PORT` lines. */
  private readonly flowIss = new Map<number, number>();
  private localPort: number | undefined;
  /** The script's own port: 40000 facing a listener, 8080 when the stack connects to it. */
  private remotePort = SCRIPT_REMOTE_PORT;
  /** The connection of the socket most recently used, kept after close() for asserts. */
  private lastConn: Connection | undefined;
  private readonly fds = new Map<number, Fd>();
  /** close() calls waiting on SO_LINGER, by script line. */
  private readonly lingering = new Map<number, { conn: Connection; until: number }>();
  private nextFd = 3;
  private lastFd = -1;
  private readonly knobs: ScriptKnobs = { tcpFastOpen: 1 };
  /** Names a script set in %{ NAME = EXPR }%. */
  private readonly vars = new Map<string, number>();
  private prevMs = 0;
  private pending: Pending[] = [];
  private curLine = 0;
  private readonly link = {
    onPacket: null as ((p: Uint8Array) => void) | null,
    send: (p: Uint8Array) => {
      this.outbox.push({ t: this.clock.now(), packet: p });
      this.rec?.push({ t: this.clock.now(), kind: 'out', packet: p });
    },
  };
  private readonly rec: RecordedStep[] | undefined;
  private readonly onMatch: RunOptions['onMatch'];

  constructor(
    options: Record<string, string>,
    run: RunOptions,
    trace: TraceLog,
    private readonly result: ScriptResult,
  ) {
    for (const k of Object.keys(options)) if (!KNOWN_OPTIONS.has(k)) result.ignoredOptions.push(k);
    // The script's own option lines win over the command line, as in packetdrill.
    const ipVersion = options.ip_version ?? run.ipVersion ?? 'ipv4';
    if (!IP_VERSIONS.includes(ipVersion)) {
      throw new ScriptSyntaxError(
        0,
        `--ip_version=${ipVersion}: accepted ${IP_VERSIONS.join(', ')}`,
      );
    }
    // An AF_INET6 socket talking to an IPv4 peer (::ffff:a.b.c.d) puts IPv4 on the wire.
    const v6 = ipVersion === 'ipv6';
    this.localAddr = parseAddr(v6 ? '2001:2::1' : '198.18.0.1')!;
    this.remoteAddr = parseAddr(v6 ? '2001:2::2' : '198.19.0.1')!;
    this.rec = run.record;
    this.onMatch = run.onMatch;
    this.lenient = run.lenient === true || options.lenient === 'true';
    this.strictSegments = run.strictSegments === true || options.strict_segments === 'true';
    this.strictPackets = run.strictPackets === true;
    this.tolMs =
      Number(options.tolerance_usecs ?? run.toleranceUsecs ?? DEFAULT_TOLERANCE_US) / 1000;
    this.remoteIsn = Number(options.remote_isn ?? DEFAULT_REMOTE_ISN) >>> 0;
    const mtu = Number(options.mtu ?? run.mtu ?? DEFAULT_MTU);
    // The MSS range (64–65495) less or plus the IPv4 headers; IPv6 needs 1280 (RFC 8200 §5).
    if (!Number.isInteger(mtu) || mtu < (v6 ? 1280 : 104) || mtu > 65535) {
      throw new ScriptSyntaxError(
        0,
        `--mtu=${options.mtu ?? run.mtu}: a whole number of bytes from ${v6 ? 1280 : 104} to 65535`,
      );
    }
    result.mtu = mtu;
    const profileName = run.profile ?? options.profile ?? run.fallbackProfile ?? 'synack';
    const profile = profiles[profileName as keyof typeof profiles];
    if (!profile)
      throw new ScriptSyntaxError(
        0,
        `unknown profile "${profileName}" (accepted: ${Object.keys(profiles).join(', ')})`,
      );
    const extra = run.tracer;
    const tracer: Tracer = extra
      ? {
          emit: (e) => {
            trace.emit(e);
            extra.emit(e);
          },
        }
      : trace;
    this.stack = new Stack({
      name: 'synack',
      addresses: [this.localAddr],
      clock: this.clock,
      // cfg.mss is the MTU less the IPv4 headers (options.ts: ownMss).
      config: { ...defaultConfig(profile), mss: mtu - 40 },
      random: seededRandom(1),
      tracer,
    });
    this.stack.attach(this.link);
  }

  run(events: ScriptEvent[]): void {
    for (const ev of events) {
      this.curLine = ev.line;
      this.events.set(ev.line, ev.text);
      if (ev.type === 'shell') {
        this.rec?.push({ t: this.prevMs, kind: 'shell', line: ev.line, command: ev.command });
        // Known sysctls configure the stack; anything else is skipped with --lenient, an error without.
        const unknown = applyShell(ev.command, this.stack.cfg, this.knobs);
        if (unknown.length > 0) {
          if (!this.lenient) {
            throw new Fail(
              ev.line,
              `shell line not interpreted: "${unknown[0]}" (synack applies sysctl settings it knows, e.g. net.ipv4.tcp_sack=0; run with --lenient to skip the rest)`,
            );
          }
          // What was understood is applied; the rest is reported by what it was.
          this.result.skipped.push({ line: ev.line, text: `\`${unknown.join('; ')}\`` });
        }
        continue;
      }
      const [lo, hi] = this.window(ev);
      if (ev.type === 'packet' && ev.dir === '>') {
        this.expect(ev, lo, hi);
        continue;
      }
      this.advanceTo(lo);
      if (ev.type === 'packet') this.inject(ev);
      else if (ev.type === 'icmp') this.injectIcmp(ev);
      else if (ev.type === 'syscall') this.syscall(ev);
      else this.assertInfo(ev);
      this.prevMs = lo;
      this.checkPending();
    }
    // Nothing may be left unsent-for or unreturned.
    this.checkPending();
    if (this.strictPackets && this.outbox.length > 0) this.unexpected();
    if (this.pending.length > 0) {
      throw new Fail(this.pending[0].ev.line, `${this.pending[0].ev.name}() never returned`);
    }
  }

  /** [earliest, latest] ms for an event's time spec. */
  private window(ev: ScriptEvent): [number, number] {
    const t = ev.time;
    if (t.kind === 'any') return [this.prevMs, Infinity];
    const base = t.kind === 'rel' ? this.prevMs : 0;
    const lo = base + t.value * 1000;
    if (!t.end) return [lo, lo];
    const hi = (t.end.kind === 'rel' ? this.prevMs : 0) + t.end.value * 1000;
    return [lo, hi];
  }

  private advanceTo(ms: number): void {
    // A packet sent at the time of the next event may be listed after it (a blocking
    // call's line comes first, as packetdrill runs it); once time moves past a packet
    // that no line claimed, it is unexpected.
    const stale = () =>
      this.strictPackets && this.outbox.length > 0 && this.outbox[0].t + this.tolMs < ms;
    for (;;) {
      if (stale()) this.unexpected();
      const next = this.clock.next();
      if (next > ms) break;
      this.step();
    }
    this.clock.advance(ms);
    if (stale()) this.unexpected();
  }

  /**
   * Merges the segments that follow `first` in the outbox while they continue
   * its sequence space (same time, same ACK, same ports) and the total stays
   * within `want` bytes: their flags are OR'ed (PSH or FIN from the last), the
   * window and options are the last segment's.
   */
  private coalesce(first: Segment, t: number, want: number): Segment {
    let len = first.payload.length;
    let flags = first.flags;
    let last = first;
    while (len < want && this.outbox.length > 0 && Math.abs(this.outbox[0].t - t) <= this.tolMs) {
      const q = decodePacket(this.outbox[0].packet);
      if (typeof q === 'string') break;
      const s = q.seg;
      if (
        s.seq !== seqAdd(first.seq, len) ||
        s.ack !== first.ack ||
        s.dstPort !== first.dstPort ||
        s.payload.length === 0 ||
        len + s.payload.length > want ||
        (s.flags & ~(PSH | FIN)) !== (first.flags & ~(PSH | FIN))
      )
        break;
      this.outbox.shift();
      len += s.payload.length;
      flags |= s.flags;
      last = s;
    }
    if (last === first) return first;
    return { ...last, seq: first.seq, flags, payload: new Uint8Array(len) };
  }

  /** One engine event, within the run's bounds on events and virtual time. */
  private step(): void {
    if (++this.steps > MAX_STEPS || this.clock.next() > MAX_VIRTUAL_MS) {
      throw new Fail(
        this.curLine,
        `the run stopped at its bound (${MAX_STEPS.toLocaleString('en')} events or ${MAX_VIRTUAL_MS / 3_600_000} h of virtual time)`,
      );
    }
    this.clock.runOne();
    this.checkPending();
  }

  private steps = 0;

  private unexpected(): never {
    const o = this.outbox[0];
    throw new Fail(
      this.curLine,
      `unexpected outbound packet at ${(o.t / 1000).toFixed(6)}s: ${this.describe(o.packet)}`,
    );
  }

  private describe(packet: Uint8Array): string {
    const p = decodePacket(packet);
    if (typeof p === 'string') return `(undecodable: ${p})`;
    return formatScriptPacket(p.seg, '>', this.localIss ?? p.seg.seq, this.remoteBase(p.seg));
  }

  // ---- Packets ---------------------------------------------------------------

  /**
   * An ICMP error from the script's side (as a router on the path would send it)
   * quoting a segment the stack sent: the quoted or, by default, SND.UNA.
   */
  private injectIcmp(ev: IcmpLine & { line: number }): void {
    const v6 = this.localAddr.length === 16;
    const table = v6 ? ICMP6_TYPES : ICMP4_TYPES;
    const t = table[ev.icmpType];
    if (!t)
      throw new Fail(
        ev.line,
        `unknown ICMP${v6 ? 'v6' : ''} type ${ev.icmpType} (accepted: ${Object.keys(table).join(', ')})`,
      );
    let code = 0;
    if (ev.code !== undefined) {
      const numbered = /^code_(\d+)$/.exec(ev.code);
      const named = t.codes?.[ev.code];
      if (numbered && Number(numbered[1]) < 256) code = Number(numbered[1]);
      else if (named !== undefined) code = named;
      else
        throw new Fail(
          ev.line,
          `unknown code ${ev.code} for ICMP ${ev.icmpType} (accepted: ${Object.keys(t.codes ?? {}).join(', ') || 'none'}, code_N)`,
        );
    }
    const conn = this.lastConn;
    const iss = this.localIss ?? 0;
    const seq = ev.quote ? seqAdd(iss, ev.quote.seqStart) : (conn?.sndUna ?? iss);
    const offending = encodePacket(this.localAddr, this.remoteAddr, {
      srcPort: this.localPort ?? SCRIPT_LOCAL_PORT,
      dstPort: this.remotePort,
      seq,
      ack: 0,
      flags: ACK,
      window: 0,
      urgent: 0,
      options: [],
      payload: new Uint8Array(ev.quote?.len ?? 0),
    });
    // The MTU sits in the low 16 bits of the second word (IPv4 frag_needed), or the whole word (IPv6).
    this.receive(encodeIcmpError(this.remoteAddr, offending, t.type, code, ev.mtu ?? 0));
  }

  /** Where the peer's numbers start in an outbound segment: a SYN,ACK's ACK is absolute. */
  private remoteBase(seg: Segment): number {
    return seg.flags & SYN ? this.remoteIsn : seqAdd(this.remoteIsn, this.remoteSynSeq);
  }

  private inject(ev: PacketLine): void {
    // With no socket yet, packets go to the script's default port (a closed
    // port, unless the script listens there later); with no SYN from the stack
    // yet, inbound ACK numbers are absolute (ISS taken as 0).
    this.localPort ??= SCRIPT_LOCAL_PORT;
    const flow = ev.port !== undefined && ev.port !== this.remotePort;
    if (ev.flags & ACK && !flow) this.localIss ??= 0;
    const iss = flow ? (this.flowIss.get(ev.port!) ?? 0) : (this.localIss ?? 0);
    if (ev.flags & SYN && !flow) {
      // As packetdrill: the first SYN to a listener (or with no socket at all) opens the
      // connection under test; a SYN,ACK opens it when our SYN is outstanding.
      const opening = ev.flags & ACK ? this.lastConn?.state === State.SynSent : this.awaitingSyn;
      if (opening) {
        this.remoteSynSeq = ev.seqStart;
        this.awaitingSyn = false;
      }
    }
    const seg: Segment = {
      srcPort: ev.port ?? this.remotePort,
      dstPort: this.localPort,
      // Other flows (<:PORT) count from the script's ISN, SYN or not.
      seq: seqAdd(
        this.remoteIsn,
        ev.flags & SYN || flow ? ev.seqStart : this.remoteSynSeq + ev.seqStart,
      ),
      ack: ev.flags & ACK ? seqAdd(iss, ev.ack!) : 0,
      flags: ev.flags,
      window: ev.win ?? 65535,
      urgent: 0,
      options: ev.options === 'any' || !ev.options ? [] : ev.options.map((o) => toWire(o, iss)),
      payload: new Uint8Array(ev.len),
    };
    this.receive(encodePacket(this.remoteAddr, this.localAddr, seg));
  }

  private receive(packet: Uint8Array): void {
    this.rec?.push({ t: this.clock.now(), kind: 'in', packet });
    this.stack.receive(packet);
  }

  private expect(ev: PacketLine, lo: number, hi: number): void {
    const limit = hi + this.tolMs;
    while (this.outbox.length === 0) {
      const next = this.clock.next();
      // Nothing scheduled at all (a `*` line with nothing left to come), or nothing by the deadline.
      if (next > limit || next === Infinity) {
        const when = hi === Infinity ? '' : ` by ${(limit / 1000).toFixed(6)}s`;
        throw new Fail(
          this.curLine,
          `expected ${this.lineText()}${when}, but nothing was sent${next === Infinity ? ' (the stack has nothing more scheduled)' : ''}`,
        );
      }
      this.step();
    }
    const { t, packet } = this.outbox.shift()!;
    const p = decodePacket(packet);
    if (typeof p === 'string')
      throw new Fail(this.curLine, `the stack sent an undecodable packet: ${p}`);
    let seg = p.seg;
    // Without --strict_segments, as packetdrill: one expected data segment may be
    // several back-to-back segments the stack sent (as TSO/GSO would send them as one).
    if (!this.strictSegments && ev.len > seg.payload.length && seg.payload.length > 0) {
      seg = this.coalesce(seg, t, ev.len);
    }
    const flow = ev.port !== undefined && ev.port !== this.remotePort;
    let iss: number;
    let synLabel = 0;
    if (flow) {
      if (!this.flowIss.has(ev.port!)) this.flowIss.set(ev.port!, seqAdd(seg.seq, -ev.seqStart));
      iss = this.flowIss.get(ev.port!)!;
    } else {
      // A SYN from a new local port is a new connection: its ISS starts a new numbering.
      const fresh = seg.flags === SYN && seg.srcPort !== this.localIssPort;
      if (this.localIss === undefined || fresh) {
        // As packetdrill: the number on the stack's first SYN (or SYN,ACK) line only
        // names its ISS; later lines count from the ISS.
        this.localIss = seg.flags & SYN ? seg.seq : seqAdd(seg.seq, -ev.seqStart);
        this.localIssPort = seg.srcPort;
        synLabel = seg.flags & SYN ? ev.seqStart : 0;
      }
      iss = this.localIss;
    }
    if (this.localPort === undefined) this.localPort = seg.srcPort;
    const remote = flow ? this.remoteIsn : this.remoteBase(seg);
    const seen = `${formatScriptPacket(seg, '>', iss, remote)}${seg.dstPort !== this.remotePort ? ` (to port ${seg.dstPort})` : ''}`;
    const mismatch = (what: string) => {
      throw new Fail(
        this.curLine,
        `${what}\n    expected: ${this.lineText()}\n    seen:     ${seen}`,
      );
    };
    if (t < lo - this.tolMs || t > limit) {
      mismatch(
        `packet sent at ${(t / 1000).toFixed(6)}s, expected at ${(lo / 1000).toFixed(6)}s${hi > lo ? `~${(hi / 1000).toFixed(6)}s` : ''}`,
      );
    }
    if (seg.dstPort !== (ev.port ?? this.remotePort)) {
      mismatch(`sent to port ${seg.dstPort}, expected port ${ev.port ?? this.remotePort}`);
    }
    if (seg.flags !== ev.flags) mismatch('flags differ');
    const seqOk =
      (seg.seq - iss + synLabel) >>> 0 === ev.seqStart >>> 0 ||
      (isZeroReset(seg) && ev.seqStart === 0);
    if (!seqOk) mismatch('sequence number differs');
    if (seg.payload.length !== ev.len) mismatch('payload length differs');
    if (ev.flags & ACK && (seg.ack - remote) >>> 0 !== ev.ack! >>> 0)
      mismatch('ack number differs');
    if (!this.lenient) {
      if (ev.win !== undefined && seg.window !== ev.win) mismatch('window differs');
      if (ev.options !== 'any') {
        const want = ev.options ?? [];
        const got = seg.options.filter(
          (o, i, a) => !(o.kind === 'eol' && a.slice(i).every((x) => x.kind === 'eol')),
        );
        if (!optionsMatch(want, got, remote)) mismatch('TCP options differ');
      }
    }
    this.onMatch?.(this.curLine, seen);
    this.prevMs = t;
  }

  private lineText(): string {
    return this.events.get(this.curLine) ?? `line ${this.curLine}`;
  }
  private readonly events = new Map<number, string>();

  // ---- System calls --------------------------------------------------------

  private fd(ev: SyscallLine): Fd {
    const n = Number(ev.args[0]);
    const fd = this.fds.get(n);
    if (!fd) throw new Fail(this.curLine, `${ev.name}(): fd ${ev.args[0]} is not open`);
    this.lastFd = n;
    if (fd.sock) this.lastConn = fd.sock.conn;
    return fd;
  }

  private syscall(ev: ScriptEvent & SyscallLine): void {
    const now = this.clock.now();
    const step = this.rec && {
      t: now,
      kind: 'call' as const,
      line: ev.line,
      name: ev.name,
      args: ev.args,
      ret: ev.ret,
      errno: ev.errno,
      returned: now,
    };
    if (step) this.rec!.push(step);
    const r = this.call(ev);
    if (r === null) {
      // Blocking call that cannot complete yet.
      const t = ev.time.returns;
      const returnsMs: [number, number] | undefined = t
        ? (() => {
            // As packetdrill: the end of a relative event counts from the same point as its start.
            const at =
              (t.kind === 'rel' || ev.time.kind === 'rel' ? this.prevMs : 0) + t.value * 1000;
            return [at, at];
          })()
        : undefined;
      this.pending.push({ ev, poll: () => this.call(ev, true), returnsMs, step });
      return;
    }
    this.checkReturn(ev, r);
  }

  private checkReturn(ev: SyscallLine & { line: number }, [ret, errno]: [number, string?]): void {
    // "= -1" with no errno named accepts any errno, as packetdrill.
    if (ret !== ev.ret || (ev.ret < 0 && ev.errno !== undefined && errno !== ev.errno)) {
      const got = `${ret}${errno ? ` ${errno}` : ''}`;
      const want = `${ev.ret}${ev.errno ? ` ${ev.errno}` : ''}`;
      throw new Fail(ev.line, `${ev.name}() returned ${got}, the script expects ${want}`);
    }
  }

  private checkPending(): void {
    for (let i = 0; i < this.pending.length; i++) {
      const p = this.pending[i];
      const r = p.poll();
      if (r === null) continue;
      this.pending.splice(i--, 1);
      const now = this.clock.now();
      if (p.returnsMs && (now < p.returnsMs[0] - this.tolMs || now > p.returnsMs[1] + this.tolMs)) {
        throw new Fail(
          p.ev.line,
          `${p.ev.name}() returned at ${(now / 1000).toFixed(6)}s, expected at ${(p.returnsMs[0] / 1000).toFixed(6)}s`,
        );
      }
      if (p.step) p.step.returned = now;
      this.checkReturn(p.ev, r);
    }
  }

  /** Performs a call; null means "would block" on a blocking socket. */
  private call(ev: SyscallLine, retry = false): [number, string?] | null {
    const a = ev.args;
    switch (ev.name) {
      case 'socket': {
        // The script names the descriptor (packetdrill maps script fds to live ones).
        const n = ev.ret >= 0 && !this.fds.has(ev.ret) ? ev.ret : this.nextFd;
        this.nextFd = Math.max(this.nextFd, n + 1);
        this.fds.set(n, { nonblock: false, cfg: {} });
        this.lastFd = n;
        return [n];
      }
      case 'setsockopt':
      case 'getsockopt':
        return this.sockopt(ev);
      case 'ioctl': {
        // FIONREAD / SIOCINQ: bytes waiting to be read (SIOCOUTQ: not yet acknowledged).
        const fd = this.fd(ev);
        const conn = fd.sock?.conn;
        if (!conn) return [-1, 'ENOTCONN'];
        const req = a[1] ?? '';
        let v: number;
        if (req === 'FIONREAD' || req === 'SIOCINQ') v = conn.recvQueued;
        else if (req === 'SIOCOUTQ' || req === 'TIOCOUTQ') v = conn.sendQueued;
        else
          throw new Fail(
            this.curLine,
            `ioctl: unsupported request ${req} (supported: FIONREAD, SIOCINQ, SIOCOUTQ)`,
          );
        const want = /\[?\s*(\d+)\s*\]?/.exec(a[2] ?? '')?.[1];
        if (want !== undefined && Number(want) !== v)
          throw new Fail(this.curLine, `ioctl(${req}) gave [${v}], the script expects [${want}]`);
        return [0];
      }
      case 'poll': {
        // poll([{fd=N, events=POLLIN|POLLOUT, revents=...}], 1, timeout): the events that hold now.
        const m =
          /fd\s*=\s*(\d+)\s*,\s*events\s*=\s*([\w|]+)(?:\s*,\s*revents\s*=\s*([\w|]+))?/.exec(
            ev.args[0] ?? '',
          );
        if (!m) throw new Fail(this.curLine, 'poll: expected [{fd=N, events=..., revents=...}]');
        const fd = this.fds.get(Number(m[1]));
        if (!fd) return [-1, 'EBADF'];
        const ready = (): string[] => {
          const out: string[] = [];
          const conn = fd.sock?.conn;
          const wanted = m[2].split('|');
          if (wanted.includes('POLLIN')) {
            const inReady = fd.server
              ? fd.server.listener.acceptQueue.length > 0
              : !!conn && (conn.recvQueued > 0 || conn.finReceived || conn.state === State.Closed);
            if (inReady) out.push('POLLIN');
          }
          if (
            wanted.includes('POLLOUT') &&
            conn?.synchronized() &&
            conn.sendSpace > 0 &&
            !conn.finQueued
          )
            out.push('POLLOUT');
          if (conn?.error) out.push('POLLERR');
          if (conn && conn.state === State.Closed) out.push('POLLHUP');
          return out;
        };
        const check = (): [number, string?] | null => {
          const r = ready();
          if (r.length === 0) return null;
          if (m[3] !== undefined) {
            const want = m[3].split('|').sort().join('|');
            if (want !== [...r].sort().join('|'))
              throw new Fail(
                this.curLine,
                `poll gave revents=${r.join('|')}, the script expects ${m[3]}`,
              );
          }
          return [1];
        };
        const now = check();
        if (now) return now;
        const timeout = Number(a[2]);
        return timeout === 0 ? [0] : null;
      }
      case 'fcntl': {
        const fd = this.fd(ev);
        if (a[1] === 'F_GETFL') return [0x2 | (fd.nonblock ? 0x800 : 0)];
        if (a[1] === 'F_SETFL') {
          fd.nonblock = /O_NONBLOCK/.test(a[2] ?? '');
          return [0];
        }
        throw new Fail(
          this.curLine,
          `fcntl: unsupported command ${a[1]} (accepted: F_GETFL, F_SETFL)`,
        );
      }
      case 'bind': {
        const fd = this.fd(ev);
        if (this.stack.listeners.some((l) => l.localPort === SCRIPT_LOCAL_PORT))
          return [-1, 'EADDRINUSE'];
        fd.bound = SCRIPT_LOCAL_PORT;
        return [0];
      }
      case 'listen': {
        const fd = this.fd(ev);
        const port = fd.bound ?? SCRIPT_LOCAL_PORT;
        fd.server = this.stack.listen({ port, backlog: Number(a[1] ?? 0), config: fd.cfg });
        this.awaitingSyn = true;
        this.localPort = port;
        return [0];
      }
      case 'accept': {
        const fd = this.fd(ev);
        if (!fd.server) return [-1, 'EINVAL'];
        const sock = fd.server.accept();
        if (!sock) return fd.nonblock ? [-1, 'EAGAIN'] : null;
        const n = this.nextFd++;
        // An accepted socket is a copy of the listener's: its TCP_LINGER2 too.
        this.fds.set(n, { nonblock: false, cfg: {}, sock, linger2: fd.linger2 });
        this.lastFd = n;
        this.lastConn = sock.conn;
        return [n];
      }
      case 'connect': {
        const fd = this.fd(ev);
        if (fd.deferred) return [-1, 'EISCONN'];
        if (!fd.sock) {
          if (fd.fastOpenConnect && this.canSendSynData()) {
            // TCP_FASTOPEN_CONNECT with a cookie in hand: nothing is sent until the first write.
            fd.deferred = true;
            return [0];
          }
          this.open(fd, { fastOpen: fd.fastOpenConnect && this.fastOpenClient() });
          if (fd.nonblock) return [-1, 'EINPROGRESS'];
          return this.connectStatus(fd, true);
        }
        return this.connectStatus(fd, retry);
      }
      case 'sendto':
      case 'sendmsg': {
        // sendto(fd, buf, len, flags, addr, addrlen); sendmsg(fd, {msg_iov(N)=[{..., LEN}, ...]}, flags).
        const fd = this.fd(ev);
        const len =
          ev.name === 'sendto'
            ? Number(a[2])
            : [...(a[1] ?? '').matchAll(/\{\s*[^{}]*?,\s*(\d+)\s*\}/g)].reduce(
                (n, m) => n + Number(m[1]),
                0,
              );
        const flags = (ev.name === 'sendto' ? a[3] : a[2]) ?? '';
        // Linux refuses Fast Open to an AF_UNSPEC address.
        if (ev.name === 'sendto' && a[4] === 'AF_UNSPEC' && /MSG_FASTOPEN/.test(flags))
          return [-1, 'EOPNOTSUPP'];
        if (!fd.sock && (fd.deferred || /MSG_FASTOPEN/.test(flags)))
          return this.fastOpenSend(fd, len, fd.nonblock || /MSG_DONTWAIT/.test(flags));
        // A second Fast Open while the first is still connecting (as Linux).
        if (!retry && /MSG_FASTOPEN/.test(flags) && fd.sock?.conn.state === State.SynSent)
          return [-1, 'EALREADY'];
        return this.write(fd, len, /MSG_DONTWAIT/.test(flags), retry);
      }
      case 'write':
      case 'send': {
        const fd = this.fd(ev);
        const len = Number(a[2]);
        if (fd.deferred && !fd.sock)
          return this.fastOpenSend(fd, len, fd.nonblock || /MSG_DONTWAIT/.test(a[3] ?? ''));
        return this.write(fd, len, /MSG_DONTWAIT/.test(a[3] ?? ''), retry);
      }
      case 'read':
      case 'recv': {
        const fd = this.fd(ev);
        const conn = fd.sock?.conn;
        if (!conn) return [-1, 'ENOTCONN'];
        const max = Number(a[2]);
        if (fd.readShut) return [0];
        if (ev.name === 'recv' && /MSG_PEEK/.test(a[3] ?? '')) {
          // Look without taking: the bytes stay queued, the window does not move.
          if (conn.recvQueued > 0) return [Math.min(max, conn.recvQueued)];
          if (this.takeError(fd, conn)) return [-1, conn.error!.code];
          if (conn.finReceived || conn.state === State.Closed) return [0];
          return fd.nonblock || /MSG_DONTWAIT/.test(a[3] ?? '') ? [-1, 'EAGAIN'] : null;
        }
        const d = this.stack.step((now) => conn.read(max, now));
        if (d) return [d.length];
        if (this.takeError(fd, conn)) return [-1, conn.error!.code];
        if (conn.finReceived || conn.state === State.Closed) return [0];
        return fd.nonblock ? [-1, 'EAGAIN'] : null;
      }
      case 'shutdown': {
        const fd = this.fd(ev);
        const conn = fd.sock?.conn;
        if (!conn) return [-1, 'ENOTCONN'];
        const how = a[1] ?? '';
        if (!/^(SHUT_RD|SHUT_WR|SHUT_RDWR)$/.test(how)) return [-1, 'EINVAL'];
        // SHUT_RD: nothing goes on the wire; later reads return 0 (as Linux).
        if (how !== 'SHUT_WR') fd.readShut = true;
        if (how !== 'SHUT_RD') this.stack.step((now) => conn.close(now));
        return [0];
      }
      case 'close': {
        const line = (ev as SyscallLine & { line: number }).line;
        const waiting = this.lingering.get(line);
        if (retry && waiting) {
          // SO_LINGER: close() waits until our FIN is acknowledged or the time runs out.
          const s = waiting.conn.state;
          const done = s !== State.FinWait1 && s !== State.Closing && s !== State.LastAck;
          if (!done && this.clock.now() < waiting.until) return null;
          this.lingering.delete(line);
          return [0];
        }
        const n = Number(a[0]);
        const fd = this.fd(ev);
        this.fds.delete(n);
        if (fd.server) fd.server.close();
        const conn = fd.sock?.conn;
        if (conn) {
          // A full close: unread data is answered with RST (RFC 2525 §2.17), in the engine;
          // SO_LINGER with a zero timeout aborts at once.
          if (fd.linger2 !== undefined) conn.finTimeout = fd.linger2;
          if (fd.lingerAbort) this.stack.step((now) => conn.abort(now));
          else this.stack.step((now) => conn.close(now, false));
          // A linger time makes close() block (even non-blocking, as Linux's inet_release).
          if (fd.lingerMs && conn.state !== State.Closed) {
            this.lingering.set(line, { conn, until: this.clock.now() + fd.lingerMs });
            this.clock.schedule(this.clock.now() + fd.lingerMs, () => {});
            return null;
          }
        }
        return [0];
      }
      default:
        throw new Fail(
          this.curLine,
          `unsupported system call "${ev.name}" (supported: socket, setsockopt, getsockopt, fcntl, ioctl, poll, bind, listen, accept, connect, read, write, send, sendto, sendmsg, recv, shutdown, close)`,
        );
    }
  }

  /** Opens the connection of a socket to the script's peer. */
  private open(fd: Fd, extra: { fastOpen?: boolean; synData?: Uint8Array }): TcpSocket {
    fd.sock = this.stack.connect({
      host: this.remoteAddr,
      port: SCRIPT_LOCAL_PORT,
      localPort: fd.bound,
      config: fd.cfg,
      ...extra,
    });
    fd.deferred = false;
    this.awaitingSyn = false;
    this.localPort = fd.sock.localPort;
    this.remotePort = SCRIPT_LOCAL_PORT;
    this.lastConn = fd.sock.conn;
    return fd.sock;
  }

  /** Linux's client Fast Open: on unless net.ipv4.tcp_fastopen clears bit 0x1. */
  private fastOpenClient(): boolean {
    return (this.knobs.tcpFastOpen & 0x1) !== 0;
  }

  /** Data may ride on the SYN: a cookie is cached, or the client sends without one (bit 0x4). */
  private canSendSynData(): boolean {
    if (!this.fastOpenClient()) return false;
    return (
      (this.knobs.tcpFastOpen & 0x4) !== 0 ||
      (this.stack.fastOpenCookies.get(formatAddr(this.remoteAddr))?.cookie.length ?? 0) > 0
    );
  }

  /**
   * sendto(MSG_FASTOPEN), or the first write after a deferred TCP_FASTOPEN_CONNECT:
   * connect and send in one call (RFC 7413 §4.2, as Linux's client does). With a cookie
   * the data rides on the SYN; without one the SYN asks for a cookie and a non-blocking
   * call returns EINPROGRESS having sent nothing, while a blocking one waits for the
   * handshake and then sends as write() would.
   */
  private fastOpenSend(fd: Fd, len: number, nonblock: boolean): [number, string?] | null {
    if (!this.fastOpenClient()) return [-1, 'EOPNOTSUPP'];
    const cookieless = (this.knobs.tcpFastOpen & 0x4) !== 0;
    const data = new Uint8Array(len);
    if (nonblock) {
      if (!this.canSendSynData()) {
        this.open(fd, { fastOpen: true });
        return [-1, 'EINPROGRESS'];
      }
      // Only what fits on the SYN is taken; the caller writes the rest later.
      // The same configuration the connection will have (TCP_MAXSEG and the like included).
      const cfg = { ...this.stack.cfg, ...fd.cfg };
      const n = Math.min(len, this.stack.synDataRoom(this.remoteAddr, cfg));
      this.stack.step(() => this.open(fd, { fastOpen: !cookieless, synData: data.subarray(0, n) }));
      return n > 0 ? [n] : [-1, 'EINPROGRESS'];
    }
    this.stack.step(() => this.open(fd, { fastOpen: !cookieless, synData: data }));
    fd.fastOpenPending = len;
    return this.fastOpenWait(fd);
  }

  private fastOpenWait(fd: Fd): [number, string?] | null {
    const conn = fd.sock!.conn;
    if (this.takeError(fd, conn)) return [-1, conn.error!.code];
    if (!conn.synchronized()) return null;
    const n = fd.fastOpenPending!;
    fd.fastOpenPending = undefined;
    fd.connectReported = true;
    return [n];
  }

  /** write/send/sendto/sendmsg on a socket that is open (or opening). */
  private write(fd: Fd, len: number, dontWait: boolean, retry: boolean): [number, string?] | null {
    if (retry && fd.fastOpenPending !== undefined) return this.fastOpenWait(fd);
    const conn = fd.sock?.conn;
    if (!conn) return [-1, 'ENOTCONN'];
    if (this.takeError(fd, conn)) return [-1, conn.error!.code];
    if (conn.finQueued || conn.state === State.Closed) return [-1, 'EPIPE'];
    // RFC 9293 §3.10.2 queues a SEND in SYN-SENT; BSD sockets (Linux, FreeBSD) wait
    // for the handshake instead, or say EAGAIN.
    if (!conn.synchronized() && this.stack.cfg.profile.name !== 'synack')
      return fd.nonblock || dontWait ? [-1, 'EAGAIN'] : null;
    const k = this.stack.step((now) => conn.send(new Uint8Array(len), now));
    if (k <= 0) return fd.nonblock || dontWait ? [-1, 'EAGAIN'] : null;
    return [k];
  }

  /**
   * The buffer a SO_RCVBUF/SO_SNDBUF request gives: Linux doubles it (room for its
   * bookkeeping) with a floor (SOCK_MIN_RCVBUF/SOCK_MIN_SNDBUF on 64-bit), and
   * getsockopt() reports the doubled size; the other profiles take it as asked.
   */
  private bufferSize(n: number, linuxMin: number): number {
    if (this.stack.cfg.profile.name !== 'linux') return n;
    return Math.max(2 * n, linuxMin);
  }

  /**
   * True the first time a call meets the connection's error: a socket reports
   * its pending error once (then reads see EOF and writes EPIPE, as Linux).
   */
  private takeError(fd: Fd, conn: Connection): boolean {
    if (!conn.error || fd.errorReported) return false;
    fd.errorReported = true;
    return true;
  }

  private connectStatus(fd: Fd, blocking: boolean): [number, string?] | null {
    const conn = fd.sock!.conn;
    if (this.takeError(fd, conn)) return [-1, conn.error!.code];
    // The attempt failed and its error was already reported (as Linux's sock_error
    // finding nothing left): aborted.
    if (conn.error) return [-1, 'ECONNABORTED'];
    if (conn.state === State.SynSent || conn.state === State.SynReceived) {
      return blocking && !fd.nonblock ? null : [-1, 'EALREADY'];
    }
    if (fd.connectReported) return [-1, 'EISCONN'];
    fd.connectReported = true;
    return [0];
  }

  private sockopt(ev: SyscallLine): [number, string?] {
    const fd = this.fd(ev);
    const name = ev.args[2];
    // A value in brackets, as strace prints one: [1], [-1], [cubic].
    const val = /\[?\s*(-?\w+)\s*\]?/.exec(ev.args[3] ?? '')?.[1] ?? '';
    const conn = fd.sock?.conn;
    if (ev.name === 'setsockopt') {
      const n = Number(val);
      switch (name) {
        case 'SO_REUSEADDR':
          return [0];
        case 'SO_RCVBUF':
          fd.cfg.rcvBuf = this.bufferSize(n, 2304);
          fd.cfg.rcvBufLocked = true;
          return [0];
        case 'SO_SNDBUF':
          fd.cfg.sndBuf = this.bufferSize(n, 4608);
          return [0];
        case 'TCP_NODELAY':
          fd.cfg.noDelay = n !== 0;
          if (conn) conn.noDelay = n !== 0;
          return [0];
        case 'TCP_MAXSEG':
          // An MSS, whatever the family, that only lowers the link's (Linux's
          // user_mss); cfg.mss counts IPv4's headers (ownMss takes 20 more for IPv6).
          fd.cfg.mss = Math.min(this.stack.cfg.mss, n + (this.localAddr.length === 16 ? 20 : 0));
          fd.userMss = n;
          return [0];
        case 'SO_KEEPALIVE':
          fd.cfg.keepAlive = n !== 0;
          if (conn) this.stack.step((now) => conn.setKeepAlive(n !== 0, now));
          return [0];
        case 'TCP_KEEPIDLE':
          // Seconds, as Linux's.
          fd.cfg.keepAliveIdle = n * 1000;
          if (conn) this.stack.step((now) => conn.setKeepAlive(conn.keepAlive, now, n * 1000));
          return [0];
        case 'TCP_KEEPINTVL':
          fd.cfg.keepAliveInterval = n * 1000;
          if (conn) conn.keepAliveIntervalMs = n * 1000;
          return [0];
        case 'TCP_KEEPCNT':
          fd.cfg.keepAliveProbes = n;
          if (conn) conn.keepAliveCount = n;
          return [0];
        case 'TCP_FASTOPEN':
          // A listener's Fast Open queue length: the server side follows net.ipv4.tcp_fastopen.
          if (!Number.isInteger(n) || n < 0) return [-1, 'EINVAL'];
          return [0];
        case 'TCP_FASTOPEN_CONNECT':
          if (!this.fastOpenClient()) return [-1, 'EOPNOTSUPP'];
          fd.fastOpenConnect = n !== 0;
          return [0];
        case 'SO_LINGER': {
          // {l_onoff=1, l_linger=0}: close() aborts with RST (RFC 9293 ABORT).
          const on = /l_onoff\s*=\s*1/.test(ev.args[3] ?? '');
          const secs = Number(/l_linger\s*=\s*(\d+)/.exec(ev.args[3] ?? '')?.[1] ?? 0);
          fd.lingerAbort = on && secs === 0;
          fd.lingerMs = on && secs > 0 ? secs * 1000 : undefined;
          return [0];
        }
        case 'TCP_LINGER2':
          // Seconds, as Linux's: 0 means the sysctl's, more than 120 is 120
          // (TCP_FIN_TIMEOUT_MAX), below 0 no FIN-WAIT-2 after close (RST).
          if (!Number.isInteger(n)) return [-1, 'EINVAL'];
          fd.linger2 = n < 0 ? -1 : n === 0 ? undefined : Math.min(n, 120) * 1000;
          return [0];
        case 'TCP_CONGESTION': {
          // Linux's names: "reno" is NewReno; an algorithm not built in is ENOENT.
          const algo = CONGESTION_BY_LINUX_NAME[val];
          if (!algo) return [-1, 'ENOENT'];
          fd.cfg.congestion = algo;
          if (conn) this.stack.step((now) => conn.setCongestion(algo, now));
          return [0];
        }
        default:
          throw new Fail(
            this.curLine,
            `setsockopt: unsupported option ${name} (supported: SO_REUSEADDR, SO_RCVBUF, SO_SNDBUF, TCP_NODELAY, TCP_MAXSEG, SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, SO_LINGER, TCP_FASTOPEN, TCP_FASTOPEN_CONNECT, TCP_CONGESTION, TCP_LINGER2)`,
          );
      }
    }
    let actual: string;
    switch (name) {
      case 'SO_ERROR':
        actual = conn && this.takeError(fd, conn) ? conn.error!.code : '0';
        break;
      case 'TCP_MAXSEG':
        actual = String(conn ? conn.sndMss : (fd.userMss ?? this.stack.cfg.mss));
        break;
      case 'TCP_NODELAY':
        actual = (conn ? conn.noDelay : fd.cfg.noDelay) ? '1' : '0';
        break;
      case 'SO_RCVBUF':
        // A connection's own buffer: some profiles round it once the MSS is known.
        actual = String(conn ? conn.rcvBuf : (fd.cfg.rcvBuf ?? this.stack.cfg.rcvBuf));
        break;
      case 'SO_SNDBUF':
        actual = String(conn ? conn.sndBuf : (fd.cfg.sndBuf ?? this.stack.cfg.sndBuf));
        break;
      case 'SO_REUSEADDR':
        actual = '1';
        break;
      case 'SO_KEEPALIVE':
        actual = (conn ? conn.keepAlive : fd.cfg.keepAlive) ? '1' : '0';
        break;
      case 'TCP_LINGER2': {
        const ms = fd.linger2 ?? conn?.finTimeout ?? this.stack.cfg.finTimeout;
        actual = String(ms < 0 ? -1 : Math.floor(ms / 1000));
        break;
      }
      case 'TCP_CONGESTION': {
        const algo = conn ? conn.congestion : (fd.cfg.congestion ?? this.stack.cfg.congestion);
        actual = algo === 'newreno' ? 'reno' : algo;
        break;
      }
      default:
        throw new Fail(
          this.curLine,
          `getsockopt: unsupported option ${name} (supported: SO_ERROR, SO_RCVBUF, SO_SNDBUF, TCP_NODELAY, TCP_MAXSEG, SO_REUSEADDR, SO_KEEPALIVE, TCP_CONGESTION, TCP_LINGER2)`,
        );
    }
    if (val !== actual)
      throw new Fail(
        this.curLine,
        `getsockopt(${name}) gave [${actual}], the script expects [${val}]`,
      );
    return [0];
  }

  // ---- %{ assert tcpi_... }% -----------------------------------------------

  private assertInfo(ev: ScriptEvent & { type: 'assert' }): void {
    this.checkInfo(ev);
    // A recorded run keeps the deterministic fields the assertion read, for the kernel
    // replay to compare with the kernel's own TCP_INFO at the same moment.
    const conn = this.fds.get(this.lastFd)?.sock?.conn ?? this.lastConn;
    if (!this.rec || !conn) return;
    // The kernel reads the same connection: the script fd that holds it (after accept, the new one).
    let fdNum = -1;
    for (const [n, f] of this.fds) if (f.sock?.conn === conn) fdNum = n;
    if (fdNum < 0) return;
    const names = new Set<string>(ev.checks.map((c) => c.field));
    for (const { expr } of ev.exprs) for (const m of expr.matchAll(/\btcpi_\w+/g)) names.add(m[0]);
    const values: Record<string, number> = {};
    for (const n of names) if (n in KERNEL_COMPARED_INFO) values[n] = tcpInfo(conn, n, ev.line);
    if (Object.keys(values).length === 0) return;
    const t = this.clock.now();
    this.rec.push({
      t,
      kind: 'call',
      line: ev.line,
      name: 'tcp_info',
      args: [String(fdNum), JSON.stringify(values)],
      ret: 0,
      returned: t,
    });
  }

  private checkInfo(ev: ScriptEvent & { type: 'assert' }): void {
    const fd = this.fds.get(this.lastFd);
    const conn: Connection | undefined = fd ? fd.sock?.conn : this.lastConn;
    const state: State = conn ? conn.state : fd?.server ? State.Listen : State.Closed;
    for (const c of ev.checks) {
      let actual: number;
      let expected: number;
      if (c.field === 'tcpi_state') {
        actual = TCPI[state][1];
        const name = c.value.replace(/^TCPI?_/, '');
        const hit = Object.values(TCPI).find(([n]) => n === name);
        if (!hit && !/^\d+$/.test(c.value))
          throw new Fail(this.curLine, `unknown state ${c.value}`);
        expected = hit ? hit[1] : Number(c.value);
      } else {
        if (!conn) throw new Fail(this.curLine, `${c.field}: fd ${this.lastFd} has no connection`);
        actual = tcpInfo(conn, c.field, this.curLine);
        expected = c.value
          .split('|')
          .reduce(
            (acc, v) => acc | (OPT_BITS[v] ?? CA_STATES[v] ?? INFO_CONSTANTS[v] ?? Number(v)),
            0,
          );
      }
      const ok = c.op === '==' ? actual === expected : actual !== expected;
      if (!ok) {
        const shown = c.field === 'tcpi_state' ? `TCP_${TCPI[state][0]}` : String(actual);
        throw new Fail(this.curLine, `assert ${c.field} ${c.op} ${c.value} failed: it is ${shown}`);
      }
    }
    for (const { expr, assign } of ev.exprs) {
      // Names become numbers (fields from TCP_INFO, constants, names set earlier); then only
      // arithmetic, comparisons and logic remain, which are evaluated.
      const values: string[] = [];
      const v = evaluate(expr, (name) => {
        let n: number;
        if (this.vars.has(name)) n = this.vars.get(name)!;
        else if (name === 'tcpi_state') n = TCPI[state][1];
        else if (name.startsWith('tcpi_')) {
          if (!conn) throw new Fail(this.curLine, `${name}: fd ${this.lastFd} has no connection`);
          n = tcpInfo(conn, name, this.curLine);
        } else if (name in OPT_BITS) n = OPT_BITS[name];
        else if (name in CA_STATES) n = CA_STATES[name];
        else if (name in INFO_CONSTANTS) n = INFO_CONSTANTS[name];
        else {
          const st = Object.values(TCPI).find(([x]) => x === name.replace(/^TCPI?_/, ''));
          if (!st) throw new Fail(this.curLine, `assert: unknown name ${name}`);
          n = st[1];
        }
        values.push(`${name}=${n}`);
        return n;
      });
      if (v === undefined) throw new Fail(this.curLine, `cannot evaluate ${expr}`);
      if (assign !== undefined) this.vars.set(assign, Number(v));
      else if (!v) throw new Fail(this.curLine, `assert ${expr} failed (${values.join(', ')})`);
    }
  }
}

const OPT_BITS: Record<string, number> = {
  TCPI_OPT_TIMESTAMPS: 1,
  TCPI_OPT_SACK: 2,
  TCPI_OPT_WSCALE: 4,
  TCPI_OPT_ECN: 8,
  TCPI_OPT_ECN_SEEN: 16,
  TCPI_OPT_SYN_DATA: 32,
};

/**
 * TCP_INFO fields that do not depend on real time, which the kernel replay
 * compares, with where they sit in Linux's struct tcp_info (offset, size).
 * (tcpi_snd_mss once differed after a SYN cookie: Linux bounds the MSS by
 * half the window the final ACK offers, unscaled when the cookie kept no
 * window scale — the linux profile's halfWindowMss.)
 */
export const KERNEL_COMPARED_INFO: Readonly<
  Record<string, readonly [offset: number, size: 1 | 4]>
> = {
  tcpi_ca_state: [1, 1],
  tcpi_retransmits: [2, 1],
  tcpi_snd_mss: [16, 4],
  tcpi_unacked: [24, 4],
  tcpi_sacked: [28, 4],
  tcpi_lost: [32, 4],
  tcpi_retrans: [36, 4],
  tcpi_snd_ssthresh: [76, 4],
  tcpi_snd_cwnd: [80, 4],
  tcpi_total_retrans: [100, 4],
};

/** Other names scripts compare TCP_INFO fields with. */
const INFO_CONSTANTS: Record<string, number> = { TCP_INFINITE_SSTHRESH: 0x7fffffff };

/** TCP_CONGESTION's values: Linux's module names. */
const CONGESTION_BY_LINUX_NAME: Record<string, CongestionName> = {
  cubic: 'cubic',
  reno: 'newreno',
};

/** Linux's congestion-avoidance states, as tcpi_ca_state reports them. */
const CA_STATES: Record<string, number> = {
  TCP_CA_Open: 0,
  TCP_CA_Disorder: 1,
  TCP_CA_CWR: 2,
  TCP_CA_Recovery: 3,
  TCP_CA_Loss: 4,
};

/**
 * Evaluates a script expression (C or Python spelling: `and`/`or`/`not`, chained
 * comparisons such as `a <= x <= b`, hex numbers). Names go through `lookup`; what
 * remains must be numbers and operators only, so nothing else can run.
 * Returns undefined when the expression is not of that form.
 */
function evaluate(expr: string, lookup: (name: string) => number): number | boolean | undefined {
  const js = expr
    .replace(/\b0x[0-9a-fA-F]+\b/g, (h) => String(Number.parseInt(h, 16)))
    .replace(/\band\b/g, '&&')
    .replace(/\bor\b/g, '||')
    .replace(/\bnot\b/g, '!')
    .replace(/\b[A-Za-z_]\w*\b/g, (name) => String(lookup(name)));
  // Python's a < b < c means a < b and b < c.
  const num = String.raw`-?\d+(?:\.\d+)?`;
  const chain = new RegExp(`(${num})\\s*(<=|>=|<|>)\\s*(${num})\\s*(<=|>=|<|>)\\s*(${num})`, 'g');
  return evaluateReduced(js.replace(chain, '($1 $2 $3 && $3 $4 $5)'));
}

function tcpInfo(c: Connection, field: string, line: number): number {
  switch (field) {
    case 'tcpi_snd_mss':
      return c.sndMss;
    case 'tcpi_snd_wscale':
      return c.sndWndScale;
    case 'tcpi_rcv_wscale':
      return c.rcvWndScale;
    case 'tcpi_rto':
      return Math.round(c.rto * 1000);
    case 'tcpi_retransmits':
      return c.state === State.SynSent || c.state === State.SynReceived
        ? c.synRetransmits
        : c.retransmits;
    case 'tcpi_options':
      return (
        (c.tsOk ? 1 : 0) |
        (c.sackOk ? 2 : 0) |
        (c.sndWndScale || c.rcvWndScale ? 4 : 0) |
        // SYN data accepted with Fast Open (Linux's TCPI_OPT_SYN_DATA on the server side).
        (c.fastOpened || c.synDataAcked ? 32 : 0)
      );
    case 'tcpi_ca_state':
      // Open (0), Disorder (1: SACKs or duplicate ACKs), Recovery (3), Loss after an RTO (4), as Linux.
      return c.caState;
    case 'tcpi_total_retrans':
      return c.synRetransmits + c.totalRetrans;
    case 'tcpi_rcv_mss':
      return c.rcvMss;
    case 'tcpi_advmss':
      return c.cfg.mss;
    case 'tcpi_snd_cwnd':
      return Math.floor(c.cwnd / c.sndMss);
    case 'tcpi_unacked':
      return Math.ceil(((c.sndMax - c.sndUna) >>> 0) / c.sndMss);
    case 'tcpi_rtt':
      // Smoothed RTT and its variation in microseconds, as Linux reports them.
      return Math.round(c.srtt * 1000);
    case 'tcpi_rttvar':
      return Math.round(c.rttvar * 1000);
    case 'tcpi_sacked':
      // Segments SACKed, segments marked lost, retransmissions in flight (Linux's *_out counters).
      return c.sent ? c.sent.sackedSegs : 0;
    case 'tcpi_lost':
      return c.sent ? Math.ceil(c.sent.lost / c.sndMss) : 0;
    case 'tcpi_retrans':
      return c.sent ? Math.ceil(c.sent.retransOut / c.sndMss) : 0;
    case 'tcpi_snd_ssthresh':
      // Unset, Linux reports TCP_INFINITE_SSTHRESH.
      return c.ssthresh >= 0x7fffffff ? 0x7fffffff : Math.floor(c.ssthresh / c.sndMss);
    default:
      throw new Fail(
        line,
        `unsupported field ${field} (supported: tcpi_state, tcpi_snd_mss, tcpi_rcv_mss, tcpi_advmss, tcpi_snd_wscale, tcpi_rcv_wscale, tcpi_rto, tcpi_retransmits, tcpi_total_retrans, tcpi_options, tcpi_snd_cwnd, tcpi_unacked, tcpi_ca_state, tcpi_rtt, tcpi_rttvar, tcpi_snd_ssthresh, tcpi_sacked, tcpi_lost, tcpi_retrans)`,
      );
  }
}

function toWire(o: OptSpec, localIss: number): TcpOption {
  if (o.kind === 'sack') return { kind: 'sack', blocks: o.blocks.map((b) => seqAdd(localIss, b)) };
  return o as TcpOption;
}

function optionsMatch(want: OptSpec[], got: TcpOption[], remoteIsn: number): boolean {
  if (want.length !== got.length) return false;
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    const g = got[i];
    if (w.kind !== g.kind) return false;
    switch (w.kind) {
      case 'mss':
        if (w.value !== (g as typeof w).value) return false;
        break;
      case 'wscale':
        if (w.shift !== (g as typeof w).shift) return false;
        break;
      case 'ts':
        // TS val is our clock, which a script cannot know; TS ecr echoes the script's value.
        if (w.ecr !== (g as typeof w).ecr) return false;
        break;
      case 'sack': {
        const gb = (g as typeof w).blocks.map((b) => (b - remoteIsn) >>> 0);
        if (gb.join() !== w.blocks.join()) return false;
        break;
      }
      case 'fo': {
        const gc = (g as typeof w).cookie;
        if (!w.exp !== !(g as typeof w).exp) return false;
        if (w.cookie.length !== gc.length || w.cookie.some((b, j) => b !== gc[j])) return false;
        break;
      }
    }
  }
  return true;
}
