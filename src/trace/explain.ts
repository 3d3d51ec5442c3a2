// One plain-language line per segment: what it does and which rule applies,
// in English or Simplified Chinese. synack's own words (see the seed article
// for what a learner asks; none of its text is used here).

import type { TraceEvent } from '../tcp/types.ts';
import { formatAddr } from '../wire/addr.ts';
import { ACK, FIN, RST, SYN } from '../wire/tcp.ts';
import { flagWords, SeqBases } from './ladder.ts';

export type Lang = 'en' | 'zh';

type Key =
  | 'syn'
  | 'synData'
  | 'synRetransmit'
  | 'synAck'
  | 'synAckRetransmit'
  | 'synAckData'
  | 'synAckWithData'
  | 'synDataResend'
  | 'rstTearsDown'
  | 'handshakeAck'
  | 'thirdWithData'
  | 'data'
  | 'retransmit'
  | 'retransmitRecovery'
  | 'retransmitRto'
  | 'retransmitProbe'
  | 'ack'
  | 'dupAck'
  | 'fin'
  | 'rstOldSynAck'
  | 'rstNoListener'
  | 'rst'
  | 'abort'
  | 'challenge'
  | 'probe'
  | 'windowUpdate'
  | 'delayedAck'
  | 'lost'
  | 'held'
  | 'released';

const text: Record<Lang, Record<Key, (v: Record<string, string | number>) => string>> = {
  en: {
    syn: (v) =>
      `${v.from} asks to open a connection with its initial sequence number ISN=${v.isn}. A SYN consumes one sequence number, so the answer must acknowledge ISN+1.`,
    synData: (v) =>
      `SYN carrying ${v.len} bytes: without Fast Open the server must not hand them to its application before the handshake completes, so it will acknowledge only the SYN and the bytes must be sent again.`,
    synRetransmit: () =>
      'The SYN was not answered within the retransmission timeout: the same SYN (same ISN) goes again, and the timeout doubles (RFC 6298).',
    synAck: (v) =>
      `${v.from} acknowledges ${v.ack} = the client's ISN+1 (the SYN consumed one number) and sends its own ISN=${v.isn}.`,
    synAckData: (v) =>
      `This SYN,ACK also acknowledges the SYN's ${Number(v.ack) - 1} bytes: a server that does this has delivered data from a SYN nobody has confirmed (NOT TCP).`,
    synAckWithData: (v) =>
      `${v.from} acknowledges ${v.ack} = the client's ISN+1+${Number(v.ack) - 1}: the SYN (one number) and the ${Number(v.ack) - 1} bytes it carried; its own ISN=${v.isn}.`,
    synDataResend: (v) =>
      `The ${v.len} bytes that rode on the SYN go again, from sequence ${v.seq}: the SYN,ACK acknowledged only the SYN, so the server did not take them (no timer was needed: the acknowledgment said so).`,
    rstTearsDown: () =>
      'this SYN,ACK acknowledges a SYN the client never sent (an old duplicate), so the client rejects it. The server had already opened a connection from that stale SYN (a two-way handshake): the RST tears the established connection down, after it held resources and delivered data nobody sent.',
    synAckRetransmit: () =>
      'No final ACK came back in time: the SYN,ACK is sent again with the same ISN; the half-open record waits in SYN-RECEIVED.',
    handshakeAck: (v) =>
      `Acknowledges ${v.ack} = the server's ISN+1: the third segment. ${v.from} is now ESTABLISHED; a pure ACK consumes no sequence number, so the next byte is still ${v.seq}.`,
    thirdWithData: (v) =>
      `The third segment carries ${v.len} bytes: ${v.from} is already ESTABLISHED and has seen the server both receive and send, so data here is safe and is accepted at once.`,
    data: (v) =>
      `${v.len} bytes of data, sequence ${v.seq} to ${v.end}; the receiver will acknowledge ${v.end}.`,
    retransmit: (v) =>
      `Retransmission of data from ${v.seq}: it was not acknowledged before the timer expired or three duplicate ACKs arrived.`,
    retransmitRecovery: (v) =>
      `Fast retransmission of data from ${v.seq}: the receiver's duplicate ACKs (SACK blocks, or a partial ACK, when SACK is not in use) show that data sent after it arrived and this did not, so it is taken as lost and sent again without waiting for the timer. The congestion window is cut once for the whole episode, and new data goes out as ACKs come back (PRR).`,
    retransmitRto: (v) =>
      `Retransmission of data from ${v.seq} after the retransmission timer expired: nothing acknowledged it in time, so everything outstanding counts as lost and the congestion window restarts at one segment (slow start resends the rest).`,
    retransmitProbe: (v) =>
      `Tail loss probe: the last segment (from ${v.seq}) goes again because no ACK came for about two round trips. If the tail was lost, the probe's ACK reveals it and starts a fast recovery instead of a timeout.`,
    ack: (v) =>
      `ACK ${v.ack}: everything before ${v.ack} arrived. A pure ACK consumes no sequence number and is never itself acknowledged.`,
    dupAck: (v) =>
      `Duplicate ACK ${v.ack}: a segment arrived out of order or outside the window; this says what is still expected.`,
    fin: (v) =>
      `${v.from} has no more data to send. Like SYN, FIN consumes one sequence number, so its acknowledgment is ${v.next}.`,
    rstOldSynAck: () =>
      'this SYN,ACK acknowledges a SYN the client never sent (an old duplicate), so the client rejects it and the server can free its half-open record.',
    rstNoListener: () =>
      'nothing listens on that port, so the segment is refused (connection refused).',
    rst: () =>
      'the segment belongs to no connection here, or was unacceptable; the other side must drop its state.',
    abort: () => 'the application aborted the connection; both sides drop it at once.',
    challenge: () =>
      'Challenge ACK (RFC 5961): an RST or SYN arrived that was not exactly what was expected; instead of trusting it, ask the real peer to confirm.',
    probe: () =>
      'Zero-window probe: the receiver advertised no room; this asks again whether the window has opened.',
    windowUpdate: (v) =>
      `Window update: the application read data, so there is room for ${v.win} more.`,
    delayedAck: (v) =>
      `Delayed ACK ${v.ack}: the receiver waited (RFC 9293 §3.8.6.3) in case more data or a reply could carry this acknowledgment; none came within the delay, so it goes alone. It may wait at most 500 ms, and a second full-sized segment is acknowledged at once.`,
    lost: () => '✗ This packet was lost in the network.',
    held: (v) => `This packet is held in the network (${v.note}).`,
    released: (v) => `The held packet finally reaches ${v.to}.`,
  },
  zh: {
    syn: (v) =>
      `${v.from} 请求建立连接，初始序列号 ISN=${v.isn}。SYN 占用一个序列号，所以对方必须确认 ISN+1。`,
    synData: (v) =>
      `SYN 携带了 ${v.len} 字节数据：没有 Fast Open 时，服务器在握手完成之前不能把它交给应用，因此只确认 SYN，这些数据稍后要重发。`,
    synRetransmit: () =>
      'SYN 在重传超时内没有得到回应：再次发送同一个 SYN（同一个 ISN），超时时间加倍（RFC 6298）。',
    synAck: (v) =>
      `${v.from} 确认 ${v.ack}，即客户端 ISN+1（SYN 占用了一个序列号），同时发出自己的 ISN=${v.isn}。`,
    synAckData: (v) =>
      `这个 SYN,ACK 还确认了 SYN 携带的 ${Number(v.ack) - 1} 字节数据：这样的服务器把一个未经确认的 SYN 中的数据交给了应用（这不是 TCP）。`,
    synAckWithData: (v) =>
      `${v.from} 确认 ${v.ack}，即客户端 ISN+1+${Number(v.ack) - 1}：SYN 本身（一个序列号）加上它携带的 ${Number(v.ack) - 1} 字节；同时发出自己的 ISN=${v.isn}。`,
    synDataResend: (v) =>
      `SYN 上携带的 ${v.len} 字节从序列号 ${v.seq} 起再发一次：SYN,ACK 只确认了 SYN，说明服务器没有收下这些数据（不需要等计时器，确认号已经说明了一切）。`,
    rstTearsDown: () =>
      '这个 SYN,ACK 确认的是客户端从未发送过的 SYN（一个过期的重复报文），客户端拒绝它。服务器已经根据这个过期的 SYN 打开了连接（两次握手）：RST 拆除了这个已建立的连接，而在此之前它已占用资源，并交付了没有人发送的数据。',
    synAckRetransmit: () =>
      '最后的 ACK 没有按时到达：以同一个 ISN 重发 SYN,ACK；半连接记录仍处于 SYN-RECEIVED。',
    handshakeAck: (v) =>
      `ACK ${v.ack}，即服务器 ISN+1：这是第三个报文段。${v.from} 进入 ESTABLISHED；纯 ACK 不占用序列号，所以下一个字节仍是 ${v.seq}。`,
    thirdWithData: (v) =>
      `第三个报文段携带 ${v.len} 字节数据：${v.from} 已经是 ESTABLISHED，并已确认服务器能收能发，此时携带数据是安全的，对方会立即接收。`,
    data: (v) => `${v.len} 字节数据，序列号 ${v.seq} 到 ${v.end}；接收方将确认 ${v.end}。`,
    retransmit: (v) =>
      `从 ${v.seq} 开始重传数据：在计时器到期或收到三个重复 ACK 之前没有得到确认。`,
    retransmitRecovery: (v) =>
      `快速重传从 ${v.seq} 开始的数据：接收方的重复 ACK（以及 SACK 块；不用 SACK 时是部分确认）表明在它之后发出的数据已经到达而它没有，所以认为它丢失了，不等计时器就重发。整个恢复过程拥塞窗口只减小一次，新数据随着返回的 ACK 发出（PRR）。`,
    retransmitRto: (v) =>
      `重传计时器到期后重传从 ${v.seq} 开始的数据：没有及时得到确认，所以所有未确认的数据都算作丢失，拥塞窗口从一个报文段重新开始（慢启动重发其余部分）。`,
    retransmitProbe: (v) =>
      `尾部丢包探测：大约两个往返都没有收到 ACK，于是重发最后一个报文段（从 ${v.seq} 开始）。如果尾部确实丢了，探测报文的 ACK 会揭示这一点，从而启动快速恢复而不是等待超时。`,
    ack: (v) => `ACK ${v.ack}：${v.ack} 之前的数据都已收到。纯 ACK 不占用序列号，也不需要被确认。`,
    dupAck: (v) => `重复 ACK ${v.ack}：收到了乱序或窗口外的报文段；这里告诉对方仍在等待哪里。`,
    fin: (v) =>
      `${v.from} 不再发送数据。FIN 和 SYN 一样占用一个序列号，所以对它的确认是 ${v.next}。`,
    rstOldSynAck: () =>
      '这个 SYN,ACK 确认的是客户端从未发送过的 SYN（一个过期的重复报文），客户端拒绝它，服务器于是释放半连接记录。',
    rstNoListener: () => '该端口上没有监听者，报文被拒绝（连接被拒绝）。',
    rst: () => '这个报文段不属于这里的任何连接，或不可接受；对方必须丢弃其状态。',
    abort: () => '应用中止了连接，双方立即丢弃它。',
    challenge: () =>
      '挑战 ACK（RFC 5961）：收到的 RST 或 SYN 与预期不完全一致；不直接相信它，而是请真正的对端确认。',
    probe: () => '零窗口探测：接收方通告没有空间；再次询问窗口是否已经打开。',
    windowUpdate: (v) => `窗口更新：应用读走了数据，现在还能再接收 ${v.win} 字节。`,
    delayedAck: (v) =>
      `延迟 ACK ${v.ack}：接收方先等了一会儿（RFC 9293 §3.8.6.3），希望后续数据或应用的回复能顺带捎上这个确认；等待期间什么也没有，于是单独发出。最多只能等 500 毫秒，而且每收到第二个满长度报文段就必须立即确认。`,
    lost: () => '✗ 这个报文在网络中丢失了。',
    held: (v) => `这个报文被滞留在网络中（${v.note}）。`,
    released: (v) => `被滞留的报文终于到达 ${v.to}。`,
  },
};

/** One explained packet: the segment event it comes from and what it says. */
export interface Explained {
  /** Index in `events` of the segment sent (or of the wire event for a released packet). */
  event: number;
  /** Index in `events` of the wire event that carried it, if any. */
  wire?: number;
  t: number;
  head: string;
  text: string;
  /** What decided it, as message keys: the page shows the governing RFC section for each. */
  keys: string[];
}

/** The RFC section behind each kind of decision (shown beside the explanation). */
export const RFC_SECTION: Record<string, string> = {
  syn: 'RFC 9293 §3.5, §3.4 (ISN)',
  synData: 'RFC 9293 §3.10.7.2',
  synRetransmit: 'RFC 9293 §3.8.1, RFC 6298 §5',
  synAck: 'RFC 9293 §3.5',
  synAckRetransmit: 'RFC 9293 §3.8.1',
  synAckData: 'RFC 9293 §3.5 (NOT TCP)',
  synAckWithData: 'RFC 9293 §3.5 (NOT TCP)',
  synDataResend: 'RFC 9293 §3.10.7.3',
  handshakeAck: 'RFC 9293 §3.5',
  thirdWithData: 'RFC 9293 §3.5, §3.10.7.4',
  data: 'RFC 9293 §3.10.2',
  retransmit: 'RFC 6298 §5, RFC 5681 §3.2',
  retransmitRecovery: 'RFC 6675 §5, RFC 8985 §6, RFC 6937',
  retransmitRto: 'RFC 6298 §5, RFC 5681 §3.1, RFC 6675 §5.1',
  retransmitProbe: 'RFC 8985 §7',
  ack: 'RFC 9293 §3.10.7.4',
  dupAck: 'RFC 9293 §3.10.7.4, RFC 5681 §4.2',
  fin: 'RFC 9293 §3.6',
  rstOldSynAck: 'RFC 9293 §3.5.1, Figure 8',
  rstTearsDown: 'RFC 9293 §3.5.1 (against a two-way handshake)',
  rstNoListener: 'RFC 9293 §3.5.2',
  rst: 'RFC 9293 §3.5.2',
  abort: 'RFC 9293 §3.10.5',
  challenge: 'RFC 5961 §3, §4, §5',
  probe: 'RFC 9293 §3.8.6.1',
  windowUpdate: 'RFC 9293 §3.8.6.2.2',
  delayedAck: 'RFC 9293 §3.8.6.3',
};

/**
 * Explains each segment sent, from what the engine reported (why it sent it,
 * what happened next), in English or Chinese. The CLI's `--format explain` and
 * the web page both use this.
 */
export function explainSegments(
  events: readonly TraceEvent[],
  lang: Lang = 'en',
  absolute = false,
): Explained[] {
  const t = text[lang];
  const bases = new SeqBases(absolute);
  const owner = new Map<string, string>();
  for (const e of events)
    if (e.type === 'segment' && e.dir === 'out') owner.set(formatAddr(e.src), e.host);
  const out: Explained[] = [];
  // Which (host, connection) already sent its SYN; which endpoint still owes its third segment.
  const synSent = new Set<string>();
  const owesThird = new Set<string>();
  const wireIdx: number[] = [];
  events.forEach((e, i) => {
    if (e.type === 'wire' && e.fate !== 'released' && e.fate !== 'duplicated') wireIdx.push(i);
  });
  let wi = 0;
  // What loss recovery last decided per connection: says why data goes again.
  const lastCc = new Map<string, string>();
  events.forEach((e, i) => {
    if (e.type === 'cc' && e.event !== 'cwnd') {
      lastCc.set(`${e.host}/${e.conn}`, e.event);
      return;
    }
    if (e.type === 'wire' && e.fate === 'released') {
      out.push({ event: i, wire: i, t: e.t, head: '', text: t.released({ to: e.to }), keys: [] });
      return;
    }
    if (e.type === 'segment' && e.dir === 'in' && (e.seg.flags & (SYN | ACK)) === (SYN | ACK)) {
      owesThird.add(`${e.host}/${e.conn}`);
      return;
    }
    if (e.type !== 'segment' || e.dir !== 'out') return;
    const wIndex = wireIdx[wi];
    const w = wIndex !== undefined ? events[wIndex] : undefined;
    if (w) wi++;
    const s = e.seg;
    const to = owner.get(formatAddr(e.dst)) ?? formatAddr(e.dst);
    const fromEp = `${formatAddr(e.src)}:${s.srcPort}`;
    const toEp = `${formatAddr(e.dst)}:${s.dstPort}`;
    bases.note(fromEp, s);
    const seq = bases.seq(fromEp, s.seq);
    const ack = bases.ack(toEp, s.ack);
    const len = s.payload.length;
    const v = {
      isn: s.seq,
      from: e.host,
      to,
      seq,
      ack,
      len,
      end: (seq + len) >>> 0,
      next: (seq + len + 1) >>> 0,
      win: s.window,
    };
    const me = `${e.host}/${e.conn}`;
    const keys: Key[] = [];
    if (s.flags & RST) {
      if (e.why === 'reset' && e.conn === 0 && s.flags & ACK) keys.push('rstNoListener');
      else if (e.why === 'reset' && e.conn === 0) {
        // What the RST did at the other end says what it was for.
        keys.push(resetEffect(events, i, to) === 'established' ? 'rstTearsDown' : 'rstOldSynAck');
      } else if (e.why === 'reset' && e.conn !== 0 && !(s.flags & ACK)) keys.push('rst');
      else keys.push('abort');
    } else if (s.flags & SYN && !(s.flags & ACK)) {
      keys.push(e.why === 'retransmit' || synSent.has(me) ? 'synRetransmit' : 'syn');
      synSent.add(me);
      if (len > 0) keys.push('synData');
    } else if (s.flags & SYN) {
      const withData = ack !== 1 && !absolute;
      keys.push(
        e.why === 'retransmit' ? 'synAckRetransmit' : withData ? 'synAckWithData' : 'synAck',
      );
      if (withData) keys.push('synAckData');
    } else if (e.why === 'syn-data-resend') keys.push('synDataResend');
    else if (e.why === 'challenge-ack') keys.push('challenge');
    else if (e.why === 'probe') keys.push('probe');
    else if (e.why === 'window-update') keys.push('windowUpdate');
    else if (e.why === 'delayed-ack') keys.push('delayedAck');
    else if (e.why === 'retransmit') {
      const cc = lastCc.get(me);
      keys.push(
        cc === 'enter-loss'
          ? 'retransmitRto'
          : cc === 'tlp'
            ? 'retransmitProbe'
            : cc === 'enter-recovery' || cc === 'marked-lost'
              ? 'retransmitRecovery'
              : 'retransmit',
      );
      if (cc === 'tlp') lastCc.delete(me);
    } else if (s.flags & FIN) keys.push('fin');
    else if (owesThird.has(me)) {
      // The first segment after receiving the SYN,ACK completes the handshake.
      keys.push(len > 0 ? 'thirdWithData' : 'handshakeAck');
      owesThird.delete(me);
    } else if (len > 0) keys.push('data');
    else if (e.why === 'dup-ack') keys.push('dupAck');
    else keys.push('ack');
    owesThird.delete(me);
    const head = `${e.host} → ${to}  ${flagWords(s.flags)}${len > 0 ? ` (${len} B)` : ''}`;
    let line = keys.map((k) => t[k](v)).join(' ');
    if (w && w.type === 'wire' && (w.fate === 'lost' || w.fate === 'cut')) line += ` ${t.lost(v)}`;
    if (w && w.type === 'wire' && w.fate === 'held') line += ` ${t.held({ note: w.note ?? '' })}`;
    out.push({ event: i, wire: wIndex, t: e.t, head, text: line, keys });
  });
  return out;
}

/** After the RST sent at event `i`, what the receiving host's connection had been: half-open or established. */
function resetEffect(
  events: readonly TraceEvent[],
  i: number,
  host: string,
): 'half-open' | 'established' | 'none' {
  for (let k = i + 1; k < events.length && k < i + 64; k++) {
    const e = events[k];
    if (e.type === 'state' && e.host === host && (e.to === 'CLOSED' || e.to === 'LISTEN')) {
      return e.from === 'SYN-RECEIVED' ? 'half-open' : 'established';
    }
  }
  return 'none';
}

export function renderExplain(
  events: readonly TraceEvent[],
  lang: Lang = 'en',
  absolute = false,
): string[] {
  return explainSegments(events, lang, absolute).map((x) =>
    x.head ? `${stamp(x.t)}  ${x.head}: ${x.text}` : `${stamp(x.t)}  ${x.text}`,
  );
}

function stamp(ms: number): string {
  return `${(ms / 1000).toFixed(3).padStart(7)}s`;
}
