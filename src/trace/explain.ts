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
  | 'handshakeAck'
  | 'thirdWithData'
  | 'data'
  | 'retransmit'
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
    synAckRetransmit: () =>
      '最后的 ACK 没有按时到达：以同一个 ISN 重发 SYN,ACK；半连接记录仍处于 SYN-RECEIVED。',
    handshakeAck: (v) =>
      `ACK ${v.ack}，即服务器 ISN+1：这是第三个报文段。${v.from} 进入 ESTABLISHED；纯 ACK 不占用序列号，所以下一个字节仍是 ${v.seq}。`,
    thirdWithData: (v) =>
      `第三个报文段携带 ${v.len} 字节数据：${v.from} 已经是 ESTABLISHED，并已确认服务器能收能发，此时携带数据是安全的，对方会立即接收。`,
    data: (v) => `${v.len} 字节数据，序列号 ${v.seq} 到 ${v.end}；接收方将确认 ${v.end}。`,
    retransmit: (v) =>
      `从 ${v.seq} 开始重传数据：在计时器到期或收到三个重复 ACK 之前没有得到确认。`,
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

export function renderExplain(
  events: readonly TraceEvent[],
  lang: Lang = 'en',
  absolute = false,
): string[] {
  const t = text[lang];
  const bases = new SeqBases(absolute);
  const owner = new Map<string, string>();
  for (const e of events)
    if (e.type === 'segment' && e.dir === 'out') owner.set(formatAddr(e.src), e.host);
  const lines: string[] = [];
  // Which (host, connection) already sent its SYN, and which host completed its handshake.
  const synSent = new Set<string>();
  const thirdSent = new Set<string>();
  const wires = events.filter(
    (e) => e.type === 'wire' && e.fate !== 'released' && e.fate !== 'duplicated',
  );
  let wi = 0;
  for (const e of events) {
    if (e.type === 'wire' && e.fate === 'released') {
      lines.push(`${stamp(e.t)}  ${t.released({ to: e.to })}`);
      continue;
    }
    if (e.type !== 'segment' || e.dir !== 'out') continue;
    const w = wires[wi];
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
    const keys: Key[] = [];
    if (s.flags & RST) {
      if (e.why === 'reset' && e.conn === 0 && s.flags & ACK) keys.push('rstNoListener');
      else if (e.why === 'reset' && e.conn === 0) keys.push('rstOldSynAck');
      else if (e.why === 'reset' && e.conn !== 0 && !(s.flags & ACK)) keys.push('rst');
      else keys.push('abort');
    } else if (s.flags & SYN && !(s.flags & ACK)) {
      keys.push(
        e.why === 'retransmit' || synSent.has(`${e.host}/${e.conn}`) ? 'synRetransmit' : 'syn',
      );
      synSent.add(`${e.host}/${e.conn}`);
      if (len > 0) keys.push('synData');
    } else if (s.flags & SYN) {
      keys.push(e.why === 'retransmit' ? 'synAckRetransmit' : 'synAck');
      if (ack !== 1) keys.push('synAckData');
    } else if (e.why === 'challenge-ack') keys.push('challenge');
    else if (e.why === 'probe') keys.push('probe');
    else if (e.why === 'window-update') keys.push('windowUpdate');
    else if (e.why === 'delayed-ack') keys.push('delayedAck');
    else if (e.why === 'retransmit') keys.push('retransmit');
    else if (s.flags & FIN) keys.push('fin');
    else if (seq === 1 && ack === 1 && !thirdSent.has(`${e.host}/${e.conn}`)) {
      keys.push(len > 0 ? 'thirdWithData' : 'handshakeAck');
      thirdSent.add(`${e.host}/${e.conn}`);
    } else if (len > 0) keys.push('data');
    else if (e.why === 'dup-ack') keys.push('dupAck');
    else keys.push('ack');
    const head = `${stamp(e.t)}  ${e.host} → ${to}  ${flagWords(s.flags)}${len > 0 ? ` (${len} B)` : ''}: `;
    let line = head + keys.map((k) => t[k](v)).join(' ');
    if (w && w.type === 'wire' && (w.fate === 'lost' || w.fate === 'cut')) line += ` ${t.lost(v)}`;
    if (w && w.type === 'wire' && w.fate === 'held') line += ` ${t.held({ note: w.note ?? '' })}`;
    lines.push(line);
  }
  return lines;

  function stamp(ms: number): string {
    return `${(ms / 1000).toFixed(3).padStart(7)}s`;
  }
}
