// The layout of a connection's TCB in memory. An idle connection should cost
// well under a kilobyte, and a JavaScript object pays for every field (8
// bytes a slot, 16 more for every number that is not a small integer). So:
// sequence numbers are stored as signed 32-bit integers (small integers to
// V8) and read back unsigned; the booleans share one integer of bits; timer
// deadlines are whole milliseconds (deadline.ts) and round-trip estimates
// whole microseconds (rto.ts), read back in milliseconds; and the state most
// connections never touch (urgent data, keep-alive, the persist timer, Fast
// Open, TIME-WAIT, per-connection IP options, ...) lives in a `Rare` record
// made the first time one of its fields leaves its default.
// Every one of them reads and writes as a plain field of the connection.

import type { CongestionName } from './cc.ts';
import { NO_DEADLINE, packDeadline, unpackDeadline } from './deadline.ts';
import type { TcpError } from './errors.ts';
import type { TimeWaitFate } from './timewait.ts';
import type { TcpConfig } from './types.ts';

const F_PASSIVE = 1 << 0;
const F_SACKOK = 1 << 1;
const F_TSOK = 1 << 2;
const F_NODELAY = 1 << 3;
const F_RTTTIMING = 1 << 4;
const F_CWNDLIMITED = 1 << 5;
const F_FINQUEUED = 1 << 6;
const F_FINSENT = 1 << 7;
const F_FINRECEIVED = 1 << 8;
const F_WRITEBLOCKED = 1 << 9;
const F_ACKNEEDED = 1 << 10;
const F_ACKDUE = 1 << 11;
const F_READCLOSED = 1 << 12;
const F_FASTOPENED = 1 << 13;
const F_SYNDATAACKED = 1 << 14;
const F_RCVUPVALID = 1 << 15;
const F_SNDUPVALID = 1 << 16;
const F_KEEPALIVE = 1 << 17;
const F_RTTSAMPLED = 1 << 18;
const F_ORPHAN = 1 << 19;

/** The rarely used part of a TCB (see the top of this file). */
class Rare {
  rcvUp: number = 0;
  sndUp: number = 0;
  /** Stored as deadline.ts packs it. */
  keepAliveAt: number = NO_DEADLINE;
  keepAliveProbes: number = 0;
  keepAliveIdleMs: number;
  keepAliveIntervalMs: number;
  keepAliveCount: number;
  /** Stored as deadline.ts packs it. */
  persistAt: number = NO_DEADLINE;
  persistBackoff: number = 0;
  probesOut: number = 0;
  /** Stored as deadline.ts packs it. */
  timeWaitAt: number = NO_DEADLINE;
  timeWaitFate: TimeWaitFate | null = null;
  /** FIN-WAIT-2 after close (ms), TcpConfig.finTimeout unless set per connection; −1: none, RST. */
  finTimeout: number;
  synData: Uint8Array | null = null;
  synDataLen: number = 0;
  synResendEnd: number = 0;
  fastOpen: Uint8Array | null = null;
  dsackPending: [number, number] | null = null;
  softError: TcpError | null = null;
  lastInvalidAckAt: number = -Infinity;
  totalRetrans: number = 0;
  r1: number;
  r2: number;
  ttl: number;
  tos: number;
  congestion: CongestionName;

  constructor(cfg: TcpConfig) {
    this.keepAliveIdleMs = cfg.keepAliveIdle;
    this.keepAliveIntervalMs = cfg.keepAliveInterval;
    this.keepAliveCount = cfg.keepAliveProbes;
    this.finTimeout = cfg.finTimeout;
    this.r1 = cfg.r1Retries;
    this.r2 = cfg.dataRetries;
    this.ttl = cfg.ttl;
    this.tos = cfg.tos;
    this.congestion = cfg.congestion;
  }
}

/** The fields of a TCB with a compact representation; `Connection` extends it. */
export class Tcb {
  #bits = 0;
  #rare: Rare | null = null;
  #iss = 0;
  #sndUna = 0;
  #sndNxt = 0;
  #sndMax = 0;
  #sndSmall = 0;
  #sndWl1 = 0;
  #sndWl2 = 0;
  #irs = 0;
  #rcvNxt = 0;
  #rcvAdv = 0;
  #tsRecent = 0;
  #tsOffset = 0;
  #rttSeq = 0;
  #cwndUsageSeq = 0;
  #finSeq = 0;
  // Timer deadlines, packed (deadline.ts): small integers, not boxed numbers.
  #rexmitAt = NO_DEADLINE;
  #lossAt = NO_DEADLINE;
  #delAckAt = NO_DEADLINE;
  // RFC 6298's estimator (rto.ts) in whole microseconds: small integers.
  #srttUs = 0;
  #rttvarUs = 0;
  #rtoUs: number;
  #minRttUs = -1;

  constructor(readonly cfg: TcpConfig) {
    this.#rtoUs = Math.round(cfg.initialRto * 1000);
  }

  /** SRTT (ms), RFC 6298. */
  get srtt(): number {
    return this.#srttUs / 1000;
  }

  set srtt(v: number) {
    this.#srttUs = Math.round(v * 1000);
  }

  /** RTTVAR (ms), RFC 6298. */
  get rttvar(): number {
    return this.#rttvarUs / 1000;
  }

  set rttvar(v: number) {
    this.#rttvarUs = Math.round(v * 1000);
  }

  /** The retransmission timeout (ms), RFC 6298. */
  get rto(): number {
    return this.#rtoUs / 1000;
  }

  set rto(v: number) {
    this.#rtoUs = Math.round(v * 1000);
  }

  /** Smallest RTT measured (ms; +Infinity: none yet): RACK's min_RTT, CUBIC's RTT. */
  get minRtt(): number {
    return this.#minRttUs < 0 ? Infinity : this.#minRttUs / 1000;
  }

  set minRtt(v: number) {
    this.#minRttUs = v === Infinity ? -1 : Math.round(v * 1000);
  }

  /** A round trip has been timed (SRTT and RTTVAR hold a sample). */
  get rttSampled(): boolean {
    return (this.#bits & F_RTTSAMPLED) !== 0;
  }

  set rttSampled(v: boolean) {
    this.#bits = v ? this.#bits | F_RTTSAMPLED : this.#bits & ~F_RTTSAMPLED;
  }

  /** @internal The application let go before the connection was done; the host counts it (orphanMax). */
  get orphan(): boolean {
    return (this.#bits & F_ORPHAN) !== 0;
  }

  set orphan(v: boolean) {
    this.#bits = v ? this.#bits | F_ORPHAN : this.#bits & ~F_ORPHAN;
  }

  /** @internal The rarely used fields, made on first use. */
  private rare(): Rare {
    if (this.#rare === null) this.#rare = new Rare(this.cfg);
    return this.#rare;
  }

  /** When the retransmission timer fires. */
  get rexmitAt(): number {
    return unpackDeadline(this.#rexmitAt);
  }

  set rexmitAt(v: number) {
    this.#rexmitAt = packDeadline(v);
  }

  /** @internal The RACK reordering timer or the tail-loss-probe timer (recovery.ts). */
  get lossAt(): number {
    return unpackDeadline(this.#lossAt);
  }

  set lossAt(v: number) {
    this.#lossAt = packDeadline(v);
  }

  /** When the delayed ACK is due. */
  get delAckAt(): number {
    return unpackDeadline(this.#delAckAt);
  }

  set delAckAt(v: number) {
    this.#delAckAt = packDeadline(v);
  }

  /** Initial send sequence number. */
  get iss(): number {
    return this.#iss >>> 0;
  }

  set iss(v: number) {
    this.#iss = v | 0;
  }

  /** Oldest unacknowledged sequence number (SND.UNA). */
  get sndUna(): number {
    return this.#sndUna >>> 0;
  }

  set sndUna(v: number) {
    this.#sndUna = v | 0;
  }

  /** Next sequence number to send (SND.NXT). */
  get sndNxt(): number {
    return this.#sndNxt >>> 0;
  }

  set sndNxt(v: number) {
    this.#sndNxt = v | 0;
  }

  /** Highest sequence number sent, kept across go-back-N. */
  get sndMax(): number {
    return this.#sndMax >>> 0;
  }

  set sndMax(v: number) {
    this.#sndMax = v | 0;
  }

  /** @internal End of the last short segment sent (Nagle/Minshall). */
  get sndSmall(): number {
    return this.#sndSmall >>> 0;
  }

  set sndSmall(v: number) {
    this.#sndSmall = v | 0;
  }

  /** Segment sequence number of the last window update (SND.WL1). */
  get sndWl1(): number {
    return this.#sndWl1 >>> 0;
  }

  set sndWl1(v: number) {
    this.#sndWl1 = v | 0;
  }

  /** Segment acknowledgment number of the last window update (SND.WL2). */
  get sndWl2(): number {
    return this.#sndWl2 >>> 0;
  }

  set sndWl2(v: number) {
    this.#sndWl2 = v | 0;
  }

  /** Initial receive sequence number. */
  get irs(): number {
    return this.#irs >>> 0;
  }

  set irs(v: number) {
    this.#irs = v | 0;
  }

  /** Next sequence number expected (RCV.NXT). */
  get rcvNxt(): number {
    return this.#rcvNxt >>> 0;
  }

  set rcvNxt(v: number) {
    this.#rcvNxt = v | 0;
  }

  /** Right edge of the window we have advertised. */
  get rcvAdv(): number {
    return this.#rcvAdv >>> 0;
  }

  set rcvAdv(v: number) {
    this.#rcvAdv = v | 0;
  }

  /** The peer's most recent timestamp to echo (RFC 7323 TS.Recent). */
  get tsRecent(): number {
    return this.#tsRecent >>> 0;
  }

  set tsRecent(v: number) {
    this.#tsRecent = v | 0;
  }

  /** Added to our clock in the timestamps we send. */
  get tsOffset(): number {
    return this.#tsOffset >>> 0;
  }

  set tsOffset(v: number) {
    this.#tsOffset = v | 0;
  }

  /** @internal The sequence number being timed (RFC 6298 without timestamps). */
  get rttSeq(): number {
    return this.#rttSeq >>> 0;
  }

  set rttSeq(v: number) {
    this.#rttSeq = v | 0;
  }

  /** @internal Where the current window of data ends (cwnd-limited tracking). */
  get cwndUsageSeq(): number {
    return this.#cwndUsageSeq >>> 0;
  }

  set cwndUsageSeq(v: number) {
    this.#cwndUsageSeq = v | 0;
  }

  /** @internal Sequence number of our FIN. */
  get finSeq(): number {
    return this.#finSeq >>> 0;
  }

  set finSeq(v: number) {
    this.#finSeq = v | 0;
  }

  /** Entered SYN-RECEIVED from LISTEN (a passive open), not from SYN-SENT. */
  get passive(): boolean {
    return (this.#bits & F_PASSIVE) !== 0;
  }

  set passive(v: boolean) {
    this.#bits = v ? this.#bits | F_PASSIVE : this.#bits & ~F_PASSIVE;
  }

  /** SACK was negotiated (RFC 2018). */
  get sackOk(): boolean {
    return (this.#bits & F_SACKOK) !== 0;
  }

  set sackOk(v: boolean) {
    this.#bits = v ? this.#bits | F_SACKOK : this.#bits & ~F_SACKOK;
  }

  /** Timestamps were negotiated (RFC 7323). */
  get tsOk(): boolean {
    return (this.#bits & F_TSOK) !== 0;
  }

  set tsOk(v: boolean) {
    this.#bits = v ? this.#bits | F_TSOK : this.#bits & ~F_TSOK;
  }

  /** Nagle off (TCP_NODELAY). */
  get noDelay(): boolean {
    return (this.#bits & F_NODELAY) !== 0;
  }

  set noDelay(v: boolean) {
    this.#bits = v ? this.#bits | F_NODELAY : this.#bits & ~F_NODELAY;
  }

  /** @internal A segment is being timed for an RTT sample. */
  get rttTiming(): boolean {
    return (this.#bits & F_RTTTIMING) !== 0;
  }

  set rttTiming(v: boolean) {
    this.#bits = v ? this.#bits | F_RTTTIMING : this.#bits & ~F_RTTTIMING;
  }

  /** @internal The window was full in the current window of data (cc.ts). */
  get cwndLimited(): boolean {
    return (this.#bits & F_CWNDLIMITED) !== 0;
  }

  set cwndLimited(v: boolean) {
    this.#bits = v ? this.#bits | F_CWNDLIMITED : this.#bits & ~F_CWNDLIMITED;
  }

  /** The application closed its sending side; a FIN follows the data. */
  get finQueued(): boolean {
    return (this.#bits & F_FINQUEUED) !== 0;
  }

  set finQueued(v: boolean) {
    this.#bits = v ? this.#bits | F_FINQUEUED : this.#bits & ~F_FINQUEUED;
  }

  /** @internal */
  get finSent(): boolean {
    return (this.#bits & F_FINSENT) !== 0;
  }

  set finSent(v: boolean) {
    this.#bits = v ? this.#bits | F_FINSENT : this.#bits & ~F_FINSENT;
  }

  /** A FIN from the peer was accepted in order. */
  get finReceived(): boolean {
    return (this.#bits & F_FINRECEIVED) !== 0;
  }

  set finReceived(v: boolean) {
    this.#bits = v ? this.#bits | F_FINRECEIVED : this.#bits & ~F_FINRECEIVED;
  }

  /** @internal */
  get writeBlocked(): boolean {
    return (this.#bits & F_WRITEBLOCKED) !== 0;
  }

  set writeBlocked(v: boolean) {
    this.#bits = v ? this.#bits | F_WRITEBLOCKED : this.#bits & ~F_WRITEBLOCKED;
  }

  /** @internal The segment being processed calls for an immediate ACK. */
  get ackNeeded(): boolean {
    return (this.#bits & F_ACKNEEDED) !== 0;
  }

  set ackNeeded(v: boolean) {
    this.#bits = v ? this.#bits | F_ACKNEEDED : this.#bits & ~F_ACKNEEDED;
  }

  /** @internal An ACK is owed and the host will flush it at the end of its batch. */
  get ackDue(): boolean {
    return (this.#bits & F_ACKDUE) !== 0;
  }

  set ackDue(v: boolean) {
    this.#bits = v ? this.#bits | F_ACKDUE : this.#bits & ~F_ACKDUE;
  }

  /** @internal The application closed for reading too: data that arrives now is answered with RST. */
  get readClosed(): boolean {
    return (this.#bits & F_READCLOSED) !== 0;
  }

  set readClosed(v: boolean) {
    this.#bits = v ? this.#bits | F_READCLOSED : this.#bits & ~F_READCLOSED;
  }

  /** @internal Opened by Fast Open: the application already has the connection. */
  get fastOpened(): boolean {
    return (this.#bits & F_FASTOPENED) !== 0;
  }

  set fastOpened(v: boolean) {
    this.#bits = v ? this.#bits | F_FASTOPENED : this.#bits & ~F_FASTOPENED;
  }

  /** Our SYN carried data and the peer's SYN,ACK acknowledged it (Linux's TCPI_OPT_SYN_DATA). */
  get synDataAcked(): boolean {
    return (this.#bits & F_SYNDATAACKED) !== 0;
  }

  set synDataAcked(v: boolean) {
    this.#bits = v ? this.#bits | F_SYNDATAACKED : this.#bits & ~F_SYNDATAACKED;
  }

  /** @internal RCV.UP holds an urgent pointer. */
  get rcvUpValid(): boolean {
    return (this.#bits & F_RCVUPVALID) !== 0;
  }

  set rcvUpValid(v: boolean) {
    this.#bits = v ? this.#bits | F_RCVUPVALID : this.#bits & ~F_RCVUPVALID;
  }

  /** @internal SND.UP holds an urgent pointer. */
  get sndUpValid(): boolean {
    return (this.#bits & F_SNDUPVALID) !== 0;
  }

  set sndUpValid(v: boolean) {
    this.#bits = v ? this.#bits | F_SNDUPVALID : this.#bits & ~F_SNDUPVALID;
  }

  /** Keep-alives are on for this connection (SO_KEEPALIVE). */
  get keepAlive(): boolean {
    return (this.#bits & F_KEEPALIVE) !== 0;
  }

  set keepAlive(v: boolean) {
    this.#bits = v ? this.#bits | F_KEEPALIVE : this.#bits & ~F_KEEPALIVE;
  }

  /** @internal Receive urgent pointer (RCV.UP). */
  get rcvUp(): number {
    return this.#rare === null ? 0 : this.#rare.rcvUp;
  }

  set rcvUp(v: number) {
    if (this.#rare !== null) this.#rare.rcvUp = v;
    else if (v !== 0) this.rare().rcvUp = v;
  }

  /** @internal Send urgent pointer (SND.UP). */
  get sndUp(): number {
    return this.#rare === null ? 0 : this.#rare.sndUp;
  }

  set sndUp(v: number) {
    if (this.#rare !== null) this.#rare.sndUp = v;
    else if (v !== 0) this.rare().sndUp = v;
  }

  /** When the next keep-alive probe is due. */
  get keepAliveAt(): number {
    return this.#rare === null ? Infinity : unpackDeadline(this.#rare.keepAliveAt);
  }

  set keepAliveAt(v: number) {
    if (this.#rare !== null) this.#rare.keepAliveAt = packDeadline(v);
    else if (v !== Infinity) this.rare().keepAliveAt = packDeadline(v);
  }

  /** @internal Keep-alive probes sent without an answer. */
  get keepAliveProbes(): number {
    return this.#rare === null ? 0 : this.#rare.keepAliveProbes;
  }

  set keepAliveProbes(v: number) {
    if (this.#rare !== null) this.#rare.keepAliveProbes = v;
    else if (v !== 0) this.rare().keepAliveProbes = v;
  }

  /** @internal Idle time before the first keep-alive probe (TCP_KEEPIDLE). */
  get keepAliveIdleMs(): number {
    return this.#rare === null ? this.cfg.keepAliveIdle : this.#rare.keepAliveIdleMs;
  }

  set keepAliveIdleMs(v: number) {
    if (this.#rare !== null) this.#rare.keepAliveIdleMs = v;
    else if (v !== this.cfg.keepAliveIdle) this.rare().keepAliveIdleMs = v;
  }

  /** Keep-alive interval of this connection (TCP_KEEPINTVL). */
  get keepAliveIntervalMs(): number {
    return this.#rare === null ? this.cfg.keepAliveInterval : this.#rare.keepAliveIntervalMs;
  }

  set keepAliveIntervalMs(v: number) {
    if (this.#rare !== null) this.#rare.keepAliveIntervalMs = v;
    else if (v !== this.cfg.keepAliveInterval) this.rare().keepAliveIntervalMs = v;
  }

  /** Keep-alive probes before the connection is dropped (TCP_KEEPCNT). */
  get keepAliveCount(): number {
    return this.#rare === null ? this.cfg.keepAliveProbes : this.#rare.keepAliveCount;
  }

  set keepAliveCount(v: number) {
    if (this.#rare !== null) this.#rare.keepAliveCount = v;
    else if (v !== this.cfg.keepAliveProbes) this.rare().keepAliveCount = v;
  }

  /**
   * How long FIN-WAIT-2 lasts once the application has closed (ms; timer.ts):
   * TcpConfig.finTimeout, or this connection's own (Linux's TCP_LINGER2); −1
   * ends it at once with RST.
   */
  get finTimeout(): number {
    return this.#rare === null ? this.cfg.finTimeout : this.#rare.finTimeout;
  }

  set finTimeout(v: number) {
    if (this.#rare !== null) this.#rare.finTimeout = v;
    else if (v !== this.cfg.finTimeout) this.rare().finTimeout = v;
  }

  /** When the next zero-window probe is due. */
  get persistAt(): number {
    return this.#rare === null ? Infinity : unpackDeadline(this.#rare.persistAt);
  }

  set persistAt(v: number) {
    if (this.#rare !== null) this.#rare.persistAt = packDeadline(v);
    else if (v !== Infinity) this.rare().persistAt = packDeadline(v);
  }

  /** @internal */
  get persistBackoff(): number {
    return this.#rare === null ? 0 : this.#rare.persistBackoff;
  }

  set persistBackoff(v: number) {
    if (this.#rare !== null) this.#rare.persistBackoff = v;
    else if (v !== 0) this.rare().persistBackoff = v;
  }

  /** @internal Zero-window probes sent since the peer last answered. */
  get probesOut(): number {
    return this.#rare === null ? 0 : this.#rare.probesOut;
  }

  set probesOut(v: number) {
    if (this.#rare !== null) this.#rare.probesOut = v;
    else if (v !== 0) this.rare().probesOut = v;
  }

  /** When TIME-WAIT ends. */
  get timeWaitAt(): number {
    return this.#rare === null ? Infinity : unpackDeadline(this.#rare.timeWaitAt);
  }

  set timeWaitAt(v: number) {
    if (this.#rare !== null) this.#rare.timeWaitAt = packDeadline(v);
    else if (v !== Infinity) this.rare().timeWaitAt = packDeadline(v);
  }

  /**
   * @internal Where the state of this connection's TIME-WAIT is kept once it
   * became a record: shared by the connection the application saw, its
   * records and the connections restored from them.
   */
  get timeWaitFate(): TimeWaitFate | null {
    return this.#rare === null ? null : this.#rare.timeWaitFate;
  }

  set timeWaitFate(v: TimeWaitFate | null) {
    if (this.#rare !== null) this.#rare.timeWaitFate = v;
    else if (v !== null) this.rare().timeWaitFate = v;
  }

  /** @internal Data that rode on the peer's SYN in a simultaneous open. */
  get synData(): Uint8Array | null {
    return this.#rare === null ? null : this.#rare.synData;
  }

  set synData(v: Uint8Array | null) {
    if (this.#rare !== null) this.#rare.synData = v;
    else if (v !== null) this.rare().synData = v;
  }

  /** @internal Bytes of data carried by our SYN (0 normally). */
  get synDataLen(): number {
    return this.#rare === null ? 0 : this.#rare.synDataLen;
  }

  set synDataLen(v: number) {
    if (this.#rare !== null) this.#rare.synDataLen = v;
    else if (v !== 0) this.rare().synDataLen = v;
  }

  /** @internal End of the SYN's data that must go again (the SYN,ACK acknowledged only the SYN); 0 when none. */
  get synResendEnd(): number {
    return this.#rare === null ? 0 : this.#rare.synResendEnd;
  }

  set synResendEnd(v: number) {
    if (this.#rare !== null) this.#rare.synResendEnd = v;
    else if (v !== 0) this.rare().synResendEnd = v;
  }

  /** @internal Fast Open on our SYN: `cookie` empty to request one (RFC 7413 §4.1.1). */
  get fastOpen(): Uint8Array | null {
    return this.#rare === null ? null : this.#rare.fastOpen;
  }

  set fastOpen(v: Uint8Array | null) {
    if (this.#rare !== null) this.#rare.fastOpen = v;
    else if (v !== null) this.rare().fastOpen = v;
  }

  /** @internal A duplicate range to report in the next ACK (D-SACK, RFC 2883). */
  get dsackPending(): [number, number] | null {
    return this.#rare === null ? null : this.#rare.dsackPending;
  }

  set dsackPending(v: [number, number] | null) {
    if (this.#rare !== null) this.#rare.dsackPending = v;
    else if (v !== null) this.rare().dsackPending = v;
  }

  /** The last soft error (ICMP, or R1 reached), reported as a ConnEvent and kept for when R2 ends it. */
  get softError(): TcpError | null {
    return this.#rare === null ? null : this.#rare.softError;
  }

  set softError(v: TcpError | null) {
    if (this.#rare !== null) this.#rare.softError = v;
    else if (v !== null) this.rare().softError = v;
  }

  /** @internal When an ACK last answered an invalid segment (see `invalidAckInterval`). */
  get lastInvalidAckAt(): number {
    return this.#rare === null ? -Infinity : this.#rare.lastInvalidAckAt;
  }

  set lastInvalidAckAt(v: number) {
    if (this.#rare !== null) this.#rare.lastInvalidAckAt = v;
    else if (v !== -Infinity) this.rare().lastInvalidAckAt = v;
  }

  /** Data and FIN retransmissions over the connection's life (Linux's tcpi_total_retrans). */
  get totalRetrans(): number {
    return this.#rare === null ? 0 : this.#rare.totalRetrans;
  }

  set totalRetrans(v: number) {
    if (this.#rare !== null) this.#rare.totalRetrans = v;
    else if (v !== 0) this.rare().totalRetrans = v;
  }

  /** R1 of RFC 9293 §3.8.3 for this connection (MUST-20). */
  get r1(): number {
    return this.#rare === null ? this.cfg.r1Retries : this.#rare.r1;
  }

  set r1(v: number) {
    if (this.#rare !== null) this.#rare.r1 = v;
    else if (v !== this.cfg.r1Retries) this.rare().r1 = v;
  }

  /** R2 of RFC 9293 §3.8.3 for this connection (MUST-21). */
  get r2(): number {
    return this.#rare === null ? this.cfg.dataRetries : this.#rare.r2;
  }

  set r2(v: number) {
    if (this.#rare !== null) this.#rare.r2 = v;
    else if (v !== this.cfg.dataRetries) this.rare().r2 = v;
  }

  /** IP TTL / hop limit of what this connection sends (MUST-48). */
  get ttl(): number {
    return this.#rare === null ? this.cfg.ttl : this.#rare.ttl;
  }

  set ttl(v: number) {
    if (this.#rare !== null) this.#rare.ttl = v;
    else if (v !== this.cfg.ttl) this.rare().ttl = v;
  }

  /** IP TOS / traffic class of what this connection sends (MUST-49). */
  get tos(): number {
    return this.#rare === null ? this.cfg.tos : this.#rare.tos;
  }

  set tos(v: number) {
    if (this.#rare !== null) this.#rare.tos = v;
    else if (v !== this.cfg.tos) this.rare().tos = v;
  }

  /** The congestion-control algorithm (TcpConfig.congestion; TCP_CONGESTION in a script). */
  get congestion(): CongestionName {
    return this.#rare === null ? this.cfg.congestion : this.#rare.congestion;
  }

  set congestion(v: CongestionName) {
    if (this.#rare !== null) this.#rare.congestion = v;
    else if (v !== this.cfg.congestion) this.rare().congestion = v;
  }
}
