// The vocabulary shared by the engine, the stack and the trace: states (RFC
// 9293 §3.3.2 names), configuration, stack profiles, drop reasons, trace events.

import type { IpAddr } from '../wire/addr.ts';
import type { PacketError } from '../wire/packet.ts';
import { NOP, SACK_OK, type Segment, type TcpOption } from '../wire/tcp.ts';
import type { CongestionName } from './cc.ts';
import { ownMss } from './options.ts';

export const State = {
  Closed: 'CLOSED',
  Listen: 'LISTEN',
  SynSent: 'SYN-SENT',
  SynReceived: 'SYN-RECEIVED',
  Established: 'ESTABLISHED',
  FinWait1: 'FIN-WAIT-1',
  FinWait2: 'FIN-WAIT-2',
  CloseWait: 'CLOSE-WAIT',
  Closing: 'CLOSING',
  LastAck: 'LAST-ACK',
  TimeWait: 'TIME-WAIT',
} as const;
export type State = (typeof State)[keyof typeof State];

/** What the peer offered in its SYN, and what both sides agreed to use. */
export interface SynOffer {
  mss?: number;
  wscale?: number;
  sackOk: boolean;
  tsVal?: number;
  /** A TFO option: empty for a cookie request, else the cookie. */
  fo?: Uint8Array;
  /** The TFO option came in its experimental form (kind 254): answer in the same form. */
  foExp?: boolean;
}

/** The options a stack puts in its SYN or SYN,ACK, in the order it puts them. */
export interface Profile {
  name: string;
  mss: number;
  /**
   * The smallest send MSS a peer's MSS option can impose, before the room
   * for timestamps is taken off (default 64; Linux: tcp_min_snd_mss, 48).
   */
  minSndMss?: number;
  /**
   * Window field of SYN and SYN,ACK (never scaled, RFC 7323 §2.2): `passive`
   * for a listener's SYN,ACK, false for what connect() sends.
   */
  synWindow(tsOn: boolean, passive: boolean, cfg: TcpConfig, ipv6: boolean): number;
  windowScale: number;
  /** The window scale offered, when it depends on the configuration (else `windowScale`). */
  synWindowScale?(cfg: TcpConfig): number;
  initialRto: number;
  /** SYN retransmissions before connect() fails (RFC 9293 MUST-23: at least 3 minutes by default). */
  synRetries: number;
  layout(o: { mss: number; wscale?: number; sackOk: boolean; ts?: [number, number] }): TcpOption[];
  /**
   * Linux's receive-window growth (rcv_ssthresh, tcp_grow_window): the window
   * advertised starts at the SYN's and grows by two segments per in-order data
   * segment, up to the buffer. Otherwise the whole free buffer is offered.
   */
  growWindow?: boolean;
  /**
   * PSH on the last segment of every burst of new data and of every GSO chunk
   * within it (what Linux's segments show on the wire: each chunk of
   * tcp_tso_autosize() segments, about a millisecond at the pacing rate and at
   * least two, leaves with PSH at its end), not only on the one that empties
   * the send buffer (the BSD rule, RFC 9293 §3.9.1).
   */
  pshPerBurst?: boolean;
  /**
   * The ACK of a SYN,ACK sent once is an RTT sample for the new connection
   * (Linux's tcp_synack_rtt_meas; RFC 6298 leaves it open).
   */
  synAckRtt?: boolean;
  /**
   * In a simultaneous open, the SYN,ACK carries the options of our own SYN (as
   * Linux's tcp_send_synack on a full socket), not only those the peer offered.
   */
  simultaneousSynAckAsSyn?: boolean;
  /**
   * A duplicate segment (data already received, or the SYN repeated by a
   * simultaneous open's SYN,ACK) is answered at once with its range as the
   * first SACK block (D-SACK, RFC 2883), as Linux's tcp_dsack_set.
   */
  dsack?: boolean;
  /**
   * A listener's half-open connection answers an unacceptable segment (or a
   * challenge) with a bare ACK rather than its SYN,ACK, and a SYN with another
   * ISN with a reset, as Linux's tcp_check_req.
   */
  halfOpenAcks?: boolean;
  /**
   * In SYN-SENT, an unacceptable ACK (answered with RST) also re-arms the SYN's
   * retransmission to this many ms if it was not yet retransmitted (Linux:
   * TCP_TIMEOUT_MIN, 2 jiffies).
   */
  synSentQuickRetry?: number;
  /**
   * A timestamp echo (TSecr) the handshake never sent is refused: in SYN-SENT
   * one outside [our first SYN's TSval, now] gets the RST an unacceptable ACK
   * gets (Linux: PAWSActiveRejected); on a half-open record one outside
   * [the first SYN,ACK's TSval, now] is answered and dropped (Linux 6.15+:
   * TSEcrRejected). An echo of 0 is not checked. RFC 7323 does not ask it.
   */
  echoChecks?: boolean;
  /**
   * At ESTABLISHED the send MSS is bounded by half the largest window the
   * peer has offered (its whole window if that is 536 or less), but not below
   * 68 bytes of headers (Linux: tcp_sync_mss → tcp_bound_to_half_wnd), so a
   * small window still takes two segments.
   */
  halfWindowMss?: boolean;
  /** The SYN queue holds backlog + 1 half-open records, as the accept queue does (Linux). */
  synQueuePlusOne?: boolean;
  /**
   * RTO = SRTT + max(minRto, 4·RTTVAR): RFC 6298's clock granularity G taken
   * as the minimum RTO, so the RTO is never under SRTT + minRto (Linux: its
   * rttvar never falls below tcp_rto_min, 200 ms; tcp_rtt_estimator).
   */
  minRtoAsGranularity?: boolean;
  /**
   * A retransmitted SYN answered with the SYN,ACK again also starts the
   * SYN,ACK's retransmission timer afresh (Linux's tcp_check_req:
   * mod_timer_pending to now + the record's current timeout).
   */
  synAckTimerRestart?: boolean;
  /**
   * A SYN reopens a connection in TIME-WAIT when its sequence number is above
   * RCV.NXT or its timestamp is newer, unless PAWS rejects it as older
   * (Linux's tcp_timewait_state_process); by default, RFC 6191: when both
   * ends use timestamps, a newer timestamp alone decides.
   */
  timeWaitSynSeqOrTs?: boolean;
  /**
   * PAWS on a synchronized connection rejects a timestamp only if it is
   * more than this many ticks older than TS.Recent (Linux's TCP_PAWS_WINDOW,
   * 1, in tcp_paws_discard; RFC 7323 §5.3: any older one, 0).
   */
  pawsWindow?: number;
  /**
   * The receive window never shrinks: when the free space is less than what
   * was offered, the offer stands, rounded up to the window scale (Linux's
   * tcp_select_window); by default the rounded edge stays within the buffer.
   */
  neverShrinkWindow?: boolean;
  /** Data arriving with a FIN is acknowledged after the ACK delay, as Linux's pingpong mode (tcp_fin). */
  finPingpong?: boolean;
  /** A SYN cookie's SYN,ACK offers window scale and SACK only when timestamps can carry them (Linux). */
  cookieOptionsNeedTs?: boolean;
  /**
   * Smaller Linux habits seen in the kernel replay: the receive window is
   * accounted in skb truesize (tcp_space); new data after the peer's FIN is
   * dropped without an ACK; challenge ACKs share the per-socket 500 ms limit;
   * an RST in SYN-RECEIVED reports ECONNRESET even after an active open; data
   * on a simultaneous open's SYN is ignored.
   */
  linuxQuirks?: boolean;
  /** An RST in TIME-WAIT is dropped (RFC 1337 §4 remedy, FreeBSD's tcp_twcheck), not obeyed. */
  timeWaitIgnoresRst?: boolean;
  /**
   * Slow start's growth per ACK at most, in segments: RFC 3465's L (2 when not
   * given); Linux grows by every segment delivered (Infinity).
   */
  slowStartPerAck?: number;
  /** After idle, halve cwnd per RTO of silence (RFC 2861, Linux's tcp_cwnd_restart) rather than restart at the initial window. */
  idleHalving?: boolean;
  /** CUBIC in Linux's integer arithmetic (tcp_cubic.c) rather than the RFC's real numbers (cc.ts). */
  linuxCubic?: boolean;
  /** Configuration defaults where the stack differs from the RFC-strict ones (timers, delayed ACKs). */
  defaults?: Partial<Omit<TcpConfig, 'profile'>>;
  /** The socket buffers a connection starts with (bytes); 256 KiB each when not given. */
  buffers?: { rcv: number; snd: number };
  /**
   * How far the buffers may grow by themselves (TcpConfig.rcvBufMax and
   * sndBufMax); when not given they keep their size. The linux and freebsd
   * profiles model those stacks at the packet level with fixed buffers (their
   * autotuning is not modelled).
   */
  buffersMax?: { rcv: number; snd: number };
  /**
   * FreeBSD's tcp_mss(): once the MSS is known, both socket buffers are rounded
   * up to a whole number of segments, and the window announced is the free
   * space shifted down (truncated) by the window scale.
   */
  bsdBuffers?: boolean;
}

function linuxLayout(o: {
  mss: number;
  wscale?: number;
  sackOk: boolean;
  ts?: [number, number];
}): TcpOption[] {
  // Each list is one literal: the common SYN costs one array of its final size.
  const mss: TcpOption = { kind: 'mss', value: o.mss };
  const ws: TcpOption | undefined =
    o.wscale === undefined ? undefined : { kind: 'wscale', shift: o.wscale };
  if (o.ts) {
    const ts: TcpOption = { kind: 'ts', val: o.ts[0], ecr: o.ts[1] };
    if (ws === undefined) return o.sackOk ? [mss, SACK_OK, ts] : [mss, NOP, NOP, ts];
    return o.sackOk ? [mss, SACK_OK, ts, NOP, ws] : [mss, NOP, NOP, ts, NOP, ws];
  }
  if (o.sackOk)
    return ws === undefined ? [mss, NOP, NOP, SACK_OK] : [mss, NOP, NOP, SACK_OK, NOP, ws];
  return ws === undefined ? [mss] : [mss, NOP, ws];
}

function freebsdLayout(o: {
  mss: number;
  wscale?: number;
  sackOk: boolean;
  ts?: [number, number];
}): TcpOption[] {
  const out: TcpOption[] = [{ kind: 'mss', value: o.mss }];
  if (o.wscale !== undefined) out.push(NOP, { kind: 'wscale', shift: o.wscale });
  if (o.sackOk) out.push(SACK_OK);
  if (o.ts) {
    if (!o.sackOk) out.push(NOP, NOP);
    out.push({ kind: 'ts', val: o.ts[0], ecr: o.ts[1] });
  }
  return out;
}

export const profiles: Record<'synack' | 'linux' | 'freebsd', Profile> = {
  synack: {
    name: 'synack',
    mss: 1460,
    synWindow: () => 65535,
    windowScale: 7,
    initialRto: 1000,
    // 1+2+4+8+16+32+64 s, then a last RTO capped at 120 s: gives up after 247 s (≥ 3 minutes, MUST-23).
    synRetries: 7,
    layout: linuxLayout,
    // Buffers grow to 4 MiB as a connection's rate × RTT asks (Linux's tcp_wmem[2] is 4 MiB).
    buffersMax: { rcv: 4 << 20, snd: 4 << 20 },
  },
  // Linux 5.x/6.x: window 10 × 4 segments, scale 7, RTO 1 s (RFC 6298).
  linux: {
    name: 'linux',
    mss: 1460,
    // tcp_select_initial_window(): half the receive buffer (tcp_rmem[1] = 128 KiB
    // unless SO_RCVBUF set it), rounded down to whole segments of the MSS the
    // listener will use (less the timestamp option on a SYN,ACK; connect() uses
    // its full advmss; IPv6's is 20 bytes less), at most 65535.
    synWindow: (ts, passive, cfg, ipv6) => {
      const mss = ownMss(cfg, ipv6) - (ts && passive ? 12 : 0);
      const space = cfg.rcvBufLocked ? cfg.rcvBuf >> 1 : 65536;
      return Math.min(space > mss ? space - (space % mss) : space, 0xffff);
    },
    minSndMss: 48,
    windowScale: 7,
    // The scale covers tcp_rmem[2] (6 MiB: 7), or only the buffer SO_RCVBUF set.
    synWindowScale: (cfg) =>
      cfg.rcvBufLocked
        ? Math.max(0, Math.min(14, Math.floor(Math.log2(Math.max(1, cfg.rcvBuf >> 1))) - 15))
        : 7,
    initialRto: 1000,
    // net.ipv4.tcp_syn_retries = 6: connect() fails after 127 s.
    synRetries: 6,
    layout: linuxLayout,
    growWindow: true,
    // tcp_rmem[1]: 128 KiB, half of it for data (the rest is Linux's overhead).
    buffers: { rcv: 131072, snd: 256 * 1024 },
    pshPerBurst: true,
    synAckRtt: true,
    simultaneousSynAckAsSyn: true,
    dsack: true,
    halfOpenAcks: true,
    finPingpong: true,
    cookieOptionsNeedTs: true,
    linuxQuirks: true,
    // tcp_slow_start(): cwnd grows by every segment an ACK delivers (no ABC since 3.9).
    slowStartPerAck: Infinity,
    linuxCubic: true,
    idleHalving: true,
    // 2 jiffies at HZ=250 (Debian's kernels).
    synSentQuickRetry: 8,
    echoChecks: true,
    halfWindowMss: true,
    synQueuePlusOne: true,
    minRtoAsGranularity: true,
    synAckTimerRestart: true,
    timeWaitSynSeqOrTs: true,
    pawsWindow: 1,
    neverShrinkWindow: true,
    defaults: {
      // net.ipv4.tcp_syn_linear_timeouts (Linux 6.x): the first 4 SYN retransmissions
      // wait 1 s each before the backoff doubles; connect() fails after 11 s.
      synLinearTimeouts: 4,
    },
  },
  freebsd: {
    name: 'freebsd',
    mss: 1460,
    synWindow: () => 65535,
    windowScale: 6,
    initialRto: 1000,
    synRetries: 6,
    layout: freebsdLayout,
    // net.inet.tcp.recvspace and sendspace.
    buffers: { rcv: 65536, snd: 32768 },
    defaults: {
      // net.inet.tcp.delacktime 100 ms (TCPTV_DELACK = hz/10), no quick-ack mode:
      // the first data segment already waits (tcp_input.c DELAY_ACK).
      ackDelayMin: 100,
      ackDelayMax: 100,
      quickAcks: 0,
      // TIME-WAIT 2 × net.inet.tcp.msl (30 s).
      timeWait: 60_000,
      // FIN-WAIT-2 after close: TP_MAXIDLE, net.inet.tcp.keepcnt × keepintvl (8 × 75 s),
      // without net.inet.tcp.fast_finwait2_recycle (tcp_input.c, FIN_WAIT_1 → FIN_WAIT_2).
      finTimeout: 600_000,
      // The default stack: NewReno (net.inet.tcp.cc.algorithm) with RFC 6675 SACK
      // recovery; RACK lives only in the alternative RACK stack.
      congestion: 'newreno',
      rack: false,
      // HyStart++ is not claimed for this profile (its default there is not checked here).
      hystart: false,
    },
    bsdBuffers: true,
    timeWaitIgnoresRst: true,
  },
};

export interface TcpConfig {
  profile: Profile;
  /**
   * Largest segment we accept on IPv4, advertised in the MSS option (RFC 9293
   * §3.7.1: MTU − 40); IPv6 connections announce 20 bytes less (MTU − 60).
   */
  mss: number;
  rcvBuf: number;
  /** The receive buffer was set by the application (SO_RCVBUF), as Linux's SOCK_RCVBUF_LOCK. */
  rcvBufLocked?: boolean;
  sndBuf: number;
  /**
   * Autotuning ceilings of the buffers (as Linux's tcp_rmem[2] and tcp_wmem[2]). The
   * receive buffer doubles toward `rcvBufMax` while the application reads
   * more in one round trip than half of it holds (dynamic right-sizing, as
   * Linux's tcp_rcv_space_adjust); the send buffer grows to twice the
   * congestion window while the application waits for room (as
   * tcp_sndbuf_expand). They bound what a peer can make a connection hold.
   * Equal to (or below) rcvBuf/sndBuf: no autotuning; a receive buffer the
   * application set (rcvBufLocked) never grows.
   */
  rcvBufMax: number;
  sndBufMax: number;
  windowScaling: boolean;
  sack: boolean;
  timestamps: boolean;
  /** RFC 6298: 1 s initial, 200 ms floor as Linux (the RFC's 1 s floor is a SHOULD), 120 s ceiling. */
  initialRto: number;
  minRto: number;
  maxRto: number;
  /** Retransmissions before giving up (defaults as Linux's tcp_syn_retries, tcp_synack_retries, tcp_retries2). */
  synRetries: number;
  /** SYN retransmissions that keep the initial RTO before it doubles (Linux's tcp_syn_linear_timeouts). */
  synLinearTimeouts: number;
  synAckRetries: number;
  dataRetries: number;
  /**
   * R1 (RFC 9293 §3.8.3, MUST-20): after this many retransmissions of the same
   * segment the application is told (a soft error) and TCP keeps trying until R2.
   */
  r1Retries: number;
  /**
   * Delayed ACKs (RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2, RFC 5681 §4.2): at least
   * every second full-sized segment, otherwise after an adaptive delay between
   * `ackDelayMin` and `ackDelayMax` ms (never more than 500, MUST-40). The first
   * `quickAcks` data segments of a connection are acknowledged at once.
   */
  delayedAck: boolean;
  ackDelayMin: number;
  ackDelayMax: number;
  quickAcks: number;
  /**
   * Per connection, at most one ACK per this many ms answers out-of-window or
   * PAWS-rejected segments without data, and challenge ACKs (RFC 5961 §7; as
   * Linux's tcp_invalid_ratelimit, 500 ms): two desynchronised ends cannot
   * ping-pong ACKs for ever.
   */
  invalidAckInterval: number;
  /** Out-of-order segments held at most (bytes are bounded by the window); beyond, the highest are pruned. */
  oooMaxSegments: number;
  /** IP time to live / hop limit (MUST-49) and DiffServ/TOS byte (MUST-48) of the segments sent. */
  ttl: number;
  tos: number;
  /** TIME-WAIT lasts 2×MSL (RFC 9293 §3.4.2); Linux uses 60 s. */
  timeWait: number;
  /**
   * How long FIN-WAIT-2 lasts once the application has closed (ms; at least
   * 3.5 RTOs): RFC 9293 puts no limit there, and a peer that acknowledges our
   * FIN but never sends its own would hold the connection for ever. Linux's
   * tcp_fin_timeout (60 s); FreeBSD's FIN-WAIT-2 timer (TP_MAXIDLE, 10 min).
   * After `end()` alone the application still reads, and FIN-WAIT-2 waits.
   */
  finTimeout: number;
  noDelay: boolean;
  /** Keep-alive (RFC 1122 §4.2.3.6): off unless asked; idle time before probing, probe interval, probes before giving up. */
  keepAlive: boolean;
  keepAliveIdle: number;
  keepAliveInterval: number;
  keepAliveProbes: number;
  /** SYN cookies (RFC 4987 §3.6): when the SYN queue is full ('auto', as Linux), for every SYN ('always'), or never ('off'). */
  synCookies: 'auto' | 'always' | 'off';
  /**
   * TCP Fast Open server (RFC 7413), off by default: 'on' issues cookies and
   * accepts SYN data with a valid one; 'no-cookie' accepts SYN data without
   * (as Linux's tcp_fastopen 0x200, for tests only).
   */
  fastOpen: 'off' | 'on' | 'no-cookie';
  /**
   * Congestion control (cc.ts): 'cubic' (RFC 9438, Linux's default) or
   * 'newreno' (RFC 5681 with byte counting). Per socket: TCP_CONGESTION.
   */
  congestion: CongestionName;
  /**
   * RACK-TLP loss detection (RFC 8985) with SACK, as Linux; off: RFC 6675's
   * DupThresh rule and no tail loss probes, as FreeBSD's default stack.
   */
  rack: boolean;
  /**
   * HyStart: leave the first slow start when the RTT rises, before losses
   * (RFC 9406's HyStart++; in the linux profile Linux's delay detection).
   */
  hystart: boolean;
}

export function defaultConfig(profile: Profile = profiles.synack): TcpConfig {
  const rcvBuf = profile.buffers?.rcv ?? 256 * 1024;
  const sndBuf = profile.buffers?.snd ?? 256 * 1024;
  return {
    profile,
    mss: profile.mss,
    rcvBuf,
    sndBuf,
    rcvBufMax: profile.buffersMax?.rcv ?? rcvBuf,
    sndBufMax: profile.buffersMax?.snd ?? sndBuf,
    windowScaling: true,
    sack: true,
    timestamps: true,
    initialRto: profile.initialRto,
    minRto: 200,
    maxRto: 120_000,
    synRetries: profile.synRetries,
    synLinearTimeouts: 0,
    synAckRetries: 5,
    dataRetries: 15,
    r1Retries: 3,
    delayedAck: true,
    ackDelayMin: 40,
    ackDelayMax: 200,
    quickAcks: 16,
    invalidAckInterval: 500,
    oooMaxSegments: 256,
    ttl: 64,
    tos: 0,
    timeWait: 60_000,
    finTimeout: 60_000,
    noDelay: false,
    // Linux's defaults: 2 h idle, 75 s between probes, 9 probes.
    keepAlive: false,
    keepAliveIdle: 7_200_000,
    keepAliveInterval: 75_000,
    keepAliveProbes: 9,
    synCookies: 'auto',
    fastOpen: 'off',
    congestion: 'cubic',
    rack: true,
    hystart: true,
    ...profile.defaults,
  };
}

/** Why a segment (or packet) was not accepted: the same word in stats, traces and docs. */
export type DropReason =
  | PacketError
  | 'not-for-us'
  | 'no-listener'
  | 'no-connection'
  | 'bad-flags'
  | 'out-of-window'
  | 'unacceptable-ack'
  | 'rst-out-of-window'
  | 'rst-in-time-wait'
  | 'rst-not-exact'
  | 'rst-unacceptable-ack'
  | 'syn-in-window'
  | 'syn-without-ack'
  | 'ack-of-unsent'
  | 'ack-too-old'
  | 'no-ack'
  | 'no-syn'
  | 'paws'
  /** A timestamp echo of a value this end never sent during the handshake (profile.echoChecks). */
  | 'ts-echo-unsent'
  | 'syn-queue-full'
  | 'accept-queue-full'
  | 'listener-ack'
  | 'data-after-fin'
  | 'cookie-bad-mac'
  | 'cookie-expired'
  | 'reset-rate-limited'
  /** A source that cannot be a peer: broadcast, multicast, unspecified, or loopback from a link (MUST-63). */
  | 'bad-source-address'
  /** Source address equal to the destination (a LAND attack). */
  | 'land'
  /** An IPv4 source-route option: not honoured, and not answered around the route (as Linux). */
  | 'source-route'
  /** The highest out-of-order data, pruned to keep the reassembly queue within its bounds. */
  | 'ooo-pruned'
  /** Data arrived after the application closed the connection for reading: answered with RST. */
  | 'data-after-close'
  | 'icmp-no-connection'
  | 'icmp-out-of-window'
  | 'icmp-source-quench'
  | 'icmp-ignored'
  | 'bad-icmp-checksum'
  | 'icmp-quote-truncated'
  | 'icmp-rate-limited';

/** Why a segment was sent. */
export type SendReason =
  | 'syn'
  | 'syn-ack'
  | 'ack'
  | 'data'
  | 'fin'
  | 'retransmit'
  | 'reset'
  | 'challenge-ack'
  | 'window-update'
  | 'probe'
  | 'keepalive'
  | 'dup-ack'
  /** The delayed-ACK timer fired (RFC 9293 §3.8.6.3). */
  | 'delayed-ack'
  /** Data that rode on our SYN goes again: the SYN,ACK acknowledged only the SYN. */
  | 'syn-data-resend';

export type TimerName =
  | 'retransmit'
  | 'persist'
  | 'time-wait'
  /** FIN-WAIT-2 after the application closed (TcpConfig.finTimeout). */
  | 'fin-wait-2'
  | 'syn-ack'
  | 'keepalive'
  | 'delayed-ack'
  /** RACK's reordering window (RFC 8985 §6.3). */
  | 'rack'
  /** The tail loss probe timeout (RFC 8985 §7.2). */
  | 'loss-probe';

/** A loss-recovery decision or window change (recovery.ts), as the trace reports it. */
export type CcEvent =
  /** cwnd or ssthresh changed on an ACK. */
  | 'cwnd'
  /** Loss found (RACK, DupThresh, three duplicate ACKs): the window is reduced once, PRR paces sending. */
  | 'enter-recovery'
  /** The retransmission timer fired: everything not SACKed is lost, the window restarts at one segment. */
  | 'enter-loss'
  /** The data outstanding when recovery began has been acknowledged. */
  | 'exit-recovery'
  /** A segment [seq, end) is considered lost and will be retransmitted. */
  | 'marked-lost'
  /** A tail loss probe went out. */
  | 'tlp'
  /** HyStart++ (RFC 9406) saw the RTT rise: Conservative Slow Start. */
  | 'hystart-css'
  /** HyStart ended slow start before a loss: ssthresh = cwnd. */
  | 'hystart-exit'
  /** A tail loss probe repaired a real loss: the window is reduced. */
  | 'tlp-loss'
  /** D-SACKs showed every retransmission of the episode was unnecessary: the window is restored. */
  | 'undo';

/** Events reported by the engine and the stack. Renderers are pure functions of a list of these. */
export type TraceEvent =
  | { type: 'state'; t: number; host: string; conn: number; from: State; to: State; why?: string }
  | {
      type: 'segment';
      t: number;
      host: string;
      dir: 'in' | 'out';
      conn: number;
      src: IpAddr;
      dst: IpAddr;
      seg: Segment;
      why?: SendReason;
      packet: Uint8Array;
    }
  | {
      type: 'drop';
      t: number;
      host: string;
      conn: number;
      reason: DropReason;
      seg?: Segment;
      packet?: Uint8Array;
    }
  | {
      type: 'timer';
      t: number;
      host: string;
      conn: number;
      timer: TimerName;
      action: 'armed' | 'fired' | 'stopped';
      at?: number;
    }
  | {
      type: 'app';
      t: number;
      host: string;
      conn: number;
      call: 'connect' | 'listen' | 'accept' | 'write' | 'read' | 'shutdown' | 'close' | 'abort';
      bytes?: number;
    }
  | {
      type: 'deliver';
      t: number;
      host: string;
      conn: number;
      what: 'established' | 'data' | 'end' | 'closed' | 'error' | 'urgent' | 'soft-error';
      bytes?: number;
      error?: string;
    }
  | {
      /** Congestion control and loss recovery: window, threshold and pipe after the decision. */
      type: 'cc';
      t: number;
      host: string;
      conn: number;
      event: CcEvent;
      /** Bytes; `mss` is the sender's segment size then. */
      cwnd: number;
      mss: number;
      ssthresh: number;
      pipe: number;
      seq?: number;
      end?: number;
    }
  | {
      /** A SYN cookie sent in a SYN,ACK, or checked when an ACK came back. */
      type: 'cookie';
      t: number;
      host: string;
      conn: number;
      action: 'sent' | 'accepted' | 'rejected';
      reason?: 'cookie-bad-mac' | 'cookie-expired';
    }
  | {
      /** A packet on the simulated wire: sent at `t`, arriving at `arrive` unless lost. */
      type: 'wire';
      t: number;
      from: string;
      to: string;
      packet: Uint8Array;
      fate: WireFate;
      arrive?: number;
      note?: string;
    };

/** What the simulated network did with a packet. */
export type WireFate =
  | 'delivered'
  | 'lost'
  | 'held'
  | 'released'
  | 'duplicated'
  | 'corrupted'
  | 'cut'
  | 'injected'
  | 'no-route';

export interface Tracer {
  emit(ev: TraceEvent): void;
}

/** A tracer that keeps every event in order: the input of every renderer. */
export class TraceLog implements Tracer {
  readonly events: TraceEvent[] = [];
  emit(ev: TraceEvent): void {
    this.events.push(ev);
  }
}
