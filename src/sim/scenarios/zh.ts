// The scenario catalogue in Simplified Chinese: titles, descriptions, variant
// names, checks and fact names, so that a page or a CLI run in `zh` shows no
// English of its own. synack's own words (not taken from the seed article).

/** The languages of the lab (as `trace/explain.ts`'s Lang; declared here, below it). */
type Lang = 'en' | 'zh';

import type { Check, Scenario } from './scenario.ts';

const TITLES: Record<string, [string, string]> = {
  handshake: [
    '三次握手',
    '客户端连接一个正在监听的服务器。SYN 携带客户端的 ISN，并占用一个序列号，所以服务器在 SYN,ACK 中确认 ISN(c)+1；客户端随后的纯 ACK 确认 ISN(s)+1，它不占用序列号，因此客户端第一个数据字节仍然是 ISN(c)+1。',
  ],
  'data-on-third': [
    '第三个报文段携带数据',
    '客户端在握手完成之前就写入数据。它的第一批字节搭在完成握手的 ACK（第三个报文段）上：此时客户端已处于 ESTABLISHED，并确认服务器能收能发，所以携带数据是安全的。服务器在建立连接的同一步里接收这些数据。',
  ],
  'syn-with-data': [
    '携带数据的 SYN',
    '客户端把请求放在 SYN 上。服务器在连接建立之前不能把它交给应用（伪造一个 SYN 毫无成本：处理其中的数据会让每个伪造的 SYN 都变成攻击），所以 SYN,ACK 只确认 SYN。客户端发现数据没有被确认，握手之后再发一次；服务器只交付一次。',
  ],
  'simultaneous-open': [
    '同时打开',
    '双方使用固定端口同时连接对方，两个 SYN 在网络中交叉。双方都从 SYN-SENT 进入 SYN-RECEIVED，各自回复 SYN,ACK（使用同一个 ISN），再进入 ESTABLISHED：一条连接，而不是两条。',
  ],
  'old-duplicate-syn': [
    '过期的重复 SYN（以及为什么两个报文段不够）',
    '一个旧连接的 SYN 在网络中滞留，等到那个连接早已结束后才到达服务器。使用真正的三次握手时，服务器的 SYN,ACK 会被客户端用 RST 拒绝，什么也没有留下；而在只用两次握手的变体中（仅限模拟器，这不是 TCP），服务器会为一个没有人发送的 SYN 打开连接、交付数据并占用资源。',
  ],
  'lost-syn': [
    '丢失的 SYN',
    '第一个 SYN 在网络中丢失。客户端一直停留在 SYN-SENT，服务器毫不知情；重传计时器到期后，客户端用同一个 ISN 重发 SYN，超时时间加倍。',
  ],
  'lost-synack': [
    '丢失的 SYN,ACK',
    '服务器的 SYN,ACK 丢失。客户端仍在 SYN-SENT，服务器的半连接记录处于 SYN-RECEIVED；双方的计时器各自到期，先到期的一方的重传修复了握手。',
  ],
  'lost-ack': [
    '丢失的最后一个 ACK',
    '第三个报文段丢失。客户端认为连接已经建立（ESTABLISHED），服务器却仍在 SYN-RECEIVED；服务器重传 SYN,ACK，客户端再次确认，连接得以完成。',
  ],
  'syn-flood': [
    'SYN 洪泛',
    '攻击者用伪造的源地址发送永远不会回应的 SYN。没有防御的监听者为每个 SYN 保留一条半连接记录并在一分钟内重传五次 SYN,ACK；SYN 队列一满，合法客户端的 SYN 就被丢弃。使用 SYN cookie 时，队列满后监听者仍回答每个 SYN，但什么也不保存：真实客户端的 ACK 带回 cookie 并打开连接。场景并排展示两种情况下合法连接的成功率和占用的状态。',
  ],
  'fast-open': [
    'TCP 快速打开（Fast Open，RFC 7413）',
    '第一次连接时客户端请求一个 cookie；第二次连接把请求和 cookie 一起放在 SYN 上，服务器在 SYN-RECEIVED 中就读到请求，省下一个往返。伪造的 cookie 则退回普通握手：SYN,ACK 只确认 SYN。',
  ],
  'delayed-ack': [
    '延迟 ACK',
    '客户端用五个报文段发送 4,500 字节，然后发出一个服务器会回答的短请求。服务器先立即确认最初的几个报文段（quick-ack），之后每两个满长度报文段确认一次；最后那个单独的报文段等待延迟 ACK 计时器（这里是 40 毫秒，绝不超过 500 毫秒）。对请求的回复顺带捎上了确认，所以这个请求根本不需要单独的纯 ACK。',
  ],
  close: [
    '关闭：四个报文段、同时关闭、TIME-WAIT',
    '一方先关闭：FIN、ACK、FIN、ACK 四个报文段，先关闭的一方进入 TIME-WAIT 并停留 2×MSL；双方同时关闭时都经过 CLOSING。',
  ],
  'slow-start': [
    '慢启动：窗口每个往返翻一倍',
    '客户端在一条干净的路径上发送 300 KB。它从十个报文段开始（RFC 6928 的初始窗口），每个 ACK 让 cwnd 增加它所确认的数据量（每个 ACK 最多两个报文段，RFC 3465）：每一轮发出的报文段数逐轮翻倍——10、20、40、80——直到数据发完。没有丢包，所以 ssthresh 始终不起作用。可以试试 --format cwnd 或 --format tsg。',
  ],
  'loss-recovery': [
    '丢包恢复：同一窗口内丢失三个报文段',
    '客户端发送 60 KB；网络丢掉第二轮中的三个报文段（第 12、14、16 个数据包）。有 SACK 时，接收方准确报告收到了哪些数据：RACK 把三个空洞标记为丢失，只进入一次恢复，cwnd 只减小一次（CUBIC 减到 0.7），比例降速（PRR）让三个重传和新数据随着返回的 ACK 逐步发出——大约一个往返内补齐所有空洞，没有超时。没有 SACK 时（NewReno），发送方每个往返只能得知一个空洞：每个部分确认揭示下一个。可以试试 --format tsg 和 --format cwnd。',
  ],
  'cubic-vs-newreno': [
    '丢包之后的 CUBIC 与 NewReno',
    '同样的 4 MB 传输在一条 40 毫秒、50 Mbit/s 的路径上跑两次，窗口变大后丢一个包（第 200 个数据包）。NewReno（RFC 5681）把窗口减半，然后每个往返增加一个报文段；CUBIC（RFC 9438）保留 70% 的窗口，并沿三次曲线增长回去——离原来的最大值远时快，接近时慢，之后再向上试探。CUBIC 更早完成。用 --format cwnd 比较两者。',
  ],
  random: [
    '随机故障（混沌测试）',
    '一个带种子的混合场景：一个回显服务器，几个客户端各发送几 KB 数据后关闭，链路上有随机丢包、重复、乱序和损坏（各最多 30%）、延迟尖峰，有时服务器还会重启。不变量：没有异常逃逸；每条连接要么原样回显全部数据，要么以明确的原因关闭；序列号只会前进；全部关闭后什么也不剩。',
  ],
};

const VARIANTS: Record<string, string> = {
  'three-way handshake (TCP)': '三次握手（TCP）',
  'two-way handshake (NOT TCP, simulator only)': '两次握手（不是 TCP，仅限模拟器）',
  'forged cookie': '伪造的 cookie',
  'valid cookie': '有效的 cookie',
  'no defences': '没有防御',
  'SYN cookies': 'SYN cookie',
  'SACK (RACK, PRR)': 'SACK（RACK、PRR）',
  'no SACK (NewReno)': '没有 SACK（NewReno）',
  CUBIC: 'CUBIC',
  NewReno: 'NewReno',
};

const CHECKS: Record<string, string> = {
  'then one ACK for two full-sized segments: none for the third alone':
    '之后每两个满长度报文段确认一次：第三个报文段单独到达时不确认',
  'the lone last segment is acknowledged by the delayed-ACK timer, 40–200 ms later':
    '最后那个单独的报文段由延迟 ACK 计时器确认，在 40–200 毫秒之后',
  'the reply carries the ACK of the request: no pure ACK for it':
    '回复顺带确认了请求：没有为它单独发送纯 ACK',
  'the server received all 4,504 bytes': '服务器收到了全部 4,504 字节',
  'client: CLOSED → SYN-SENT → ESTABLISHED': '客户端：CLOSED → SYN-SENT → ESTABLISHED',
  'server: LISTEN → SYN-RECEIVED → ESTABLISHED': '服务器：LISTEN → SYN-RECEIVED → ESTABLISHED',
  'SYN,ACK acknowledges ISN(c)+1: the SYN consumed one sequence number':
    'SYN,ACK 确认 ISN(c)+1：SYN 占用了一个序列号',
  'the ACK acknowledges ISN(s)+1': 'ACK 确认 ISN(s)+1',
  'the pure ACK consumed nothing: first data byte is still ISN(c)+1':
    '纯 ACK 不占用序列号：第一个数据字节仍是 ISN(c)+1',
  'server received the 2 bytes': '服务器收到了 2 字节',
  'the third segment is an ACK carrying 18 bytes': '第三个报文段是携带 18 字节的 ACK',
  'no separate pure ACK was needed': '不需要单独的纯 ACK',
  'server delivered the 18 bytes': '服务器交付了 18 字节',
  'both ends ESTABLISHED': '两端都进入 ESTABLISHED',
  'the SYN,ACK acknowledges only the SYN (ISN(c)+1)': 'SYN,ACK 只确认 SYN（ISN(c)+1）',
  'nothing reached the server application before ESTABLISHED':
    '在 ESTABLISHED 之前没有任何数据到达服务器应用',
  'the client sent the data again after the handshake': '客户端在握手之后再次发送了数据',
  'the server delivered them exactly once': '服务器恰好交付了一次',
  'server counted the ignored SYN data': '服务器记录了被忽略的 SYN 数据',
  'alice: SYN-SENT → SYN-RECEIVED → ESTABLISHED': 'alice：SYN-SENT → SYN-RECEIVED → ESTABLISHED',
  'bob: SYN-SENT → SYN-RECEIVED → ESTABLISHED': 'bob：SYN-SENT → SYN-RECEIVED → ESTABLISHED',
  'each sent one SYN and one SYN,ACK': '双方各发送了一个 SYN 和一个 SYN,ACK',
  'data flowed both ways': '数据在两个方向上流动',
  'client: FIN-WAIT-1 → CLOSING → TIME-WAIT → CLOSED':
    '客户端：FIN-WAIT-1 → CLOSING → TIME-WAIT → CLOSED',
  'server: FIN-WAIT-1 → CLOSING → TIME-WAIT → CLOSED':
    '服务器：FIN-WAIT-1 → CLOSING → TIME-WAIT → CLOSED',
  'client: FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT → CLOSED':
    '客户端：FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT → CLOSED',
  'server: CLOSE-WAIT → LAST-ACK → CLOSED': '服务器：CLOSE-WAIT → LAST-ACK → CLOSED',
  'four segments carry the close (FIN, ACK, FIN, ACK)':
    '关闭由四个报文段完成（FIN、ACK、FIN、ACK）',
  'TIME-WAIT lasts 2×MSL (60 s)': 'TIME-WAIT 持续 2×MSL（60 秒）',
  'the server went SYN-RECEIVED → LISTEN: the half-open record was freed':
    '服务器从 SYN-RECEIVED 回到 LISTEN：半连接记录被释放',
  'the server application never saw the stale SYN or its request':
    '服务器应用从未看到过期的 SYN 及其请求',
  'no connection is left behind': '没有遗留任何连接',
  'two-way: a full connection (ESTABLISHED, with buffers) existed for a SYN nobody sent':
    '两次握手：为一个没有人发送的 SYN 建立了完整的连接（ESTABLISHED，带缓冲区）',
  'the first connection (retransmitted SYN) was served once':
    '第一条连接（重传的 SYN）只被服务了一次',
  'the stale SYN got a SYN,ACK and the client answered RST':
    '过期的 SYN 得到了 SYN,ACK，客户端用 RST 回答',
  'both ends reach ESTABLISHED': '两端都到达 ESTABLISHED',
  'nothing lost for the application': '应用没有丢失任何数据',
  'the client sent the SYN twice, 1 s apart': '客户端发送了两次 SYN，相隔 1 秒',
  'meanwhile the server knew nothing (LISTEN)': '其间服务器毫不知情（LISTEN）',
  'meanwhile the client believed SYN-SENT and the server SYN-RECEIVED':
    '其间客户端处于 SYN-SENT，服务器处于 SYN-RECEIVED',
  'a retransmission repaired it after 1 s': '1 秒后一次重传修复了它',
  'meanwhile the client believed ESTABLISHED and the server SYN-RECEIVED':
    '其间客户端认为已是 ESTABLISHED，服务器仍在 SYN-RECEIVED',
  'the server retransmitted its SYN,ACK after 1 s': '服务器在 1 秒后重传了 SYN,ACK',
  'the first SYN asked for a cookie and the SYN,ACK carried one':
    '第一个 SYN 请求 cookie，SYN,ACK 带回了一个',
  'the request reached the server application exactly once': '请求恰好一次到达服务器应用',
  'both connections closed cleanly': '两条连接都正常关闭',
  'forged cookie: the SYN,ACK acknowledged only the SYN': '伪造的 cookie：SYN,ACK 只确认了 SYN',
  'forged cookie: the data was read only after the handshake (a round trip later)':
    '伪造的 cookie：数据在握手之后才被读取（晚一个往返）',
  'forged cookie: counted as rejected': '伪造的 cookie：记为拒绝',
  'valid cookie: the SYN,ACK acknowledged the SYN and its 9 bytes':
    '有效的 cookie：SYN,ACK 确认了 SYN 及其 9 字节',
  'valid cookie: the server read the request on the SYN itself, in SYN-RECEIVED':
    '有效的 cookie：服务器在 SYN-RECEIVED 中就读到了 SYN 上的请求',
  'valid cookie: counted as a Fast Open': '有效的 cookie：记为一次 Fast Open',
  'the SYN queue filled up to its limit': 'SYN 队列被填满到上限',
  'the half-open count never exceeded the limit': '半连接数量从未超过上限',
  'without defences, legitimate clients were refused during the flood':
    '没有防御时，合法客户端在洪泛期间被拒绝',
  'with SYN cookies, every legitimate client connected during the flood':
    '使用 SYN cookie 时，每个合法客户端都在洪泛期间连上了',
  'cookies answered the overflow (counted), no SYN was dropped':
    '溢出部分由 cookie 应答（已计数），没有 SYN 被丢弃',
  'no state was kept per spoofed SYN: connections stayed at the legitimate few':
    '没有为伪造的 SYN 保存任何状态：连接数只有那几条合法连接',
  'no exception escaped': '没有异常逃逸',
  'the SYN carries 16 bytes': 'SYN 携带 16 字节',
  'the client resent the 16 bytes after the handshake': '客户端在握手之后重发了这 16 字节',
  'two-way: the stale SYN opened a second connection': '两次握手：过期的 SYN 打开了第二条连接',
  'two-way: the stale request reached the application': '两次握手：过期的请求到达了应用',
  'SYNs were dropped for a full queue (counted)': 'SYN 因队列已满被丢弃（已计数）',
  'the second SYN carried the 9-byte request': '第二个 SYN 携带了 9 字节的请求',
  'nothing is left behind': '什么也没有遗留',
  'sequence numbers only moved forward': '序列号只向前移动',
  'every connection ended: data echoed byte-exact, or closed with a stated reason':
    '每条连接都已结束：数据逐字节回显，或以明确的原因关闭',
  'nothing is left behind after close': '关闭之后什么也不剩',
  'the first flight is ten segments (RFC 6928)': '第一轮发出十个报文段（RFC 6928）',
  'each of the next flights is about twice the one before (1.5–2×)':
    '之后每一轮大约是前一轮的两倍（1.5–2 倍）',
  'no loss, no retransmission, ssthresh untouched': '没有丢包，没有重传，ssthresh 保持不变',
  'all 300,000 bytes arrive': '300,000 字节全部到达',
  'all 60,000 bytes arrive, in order': '60,000 字节按顺序全部到达',
  'one recovery episode, no retransmission timeout': '只有一次恢复过程，没有重传超时',
  'each of the three lost segments is sent again exactly once': '三个丢失的报文段各自恰好重传一次',
  'with SACK the three holes are repaired within one round trip':
    '有 SACK 时，三个空洞在一个往返之内全部补齐',
  'without SACK each hole waits for the partial ACK of the one before: a round trip apart':
    '没有 SACK 时，每个空洞都要等前一个空洞的部分确认：彼此相隔一个往返',
  'all 4,000,000 bytes arrive': '4,000,000 字节全部到达',
  'CUBIC finishes before NewReno': 'CUBIC 比 NewReno 先完成',
};

/** Checks whose text carries a number: an English pattern and its Chinese form. */
const PATTERNS: [RegExp, (m: RegExpExecArray) => string][] = [
  [
    /^the first (\d+) segments are acknowledged at once \(quick-ack\)$/,
    (m) => `最初的 ${m[1]} 个报文段被立即确认（quick-ack）`,
  ],
  [/^leftover connections: (.*)$/, (m) => `遗留的连接：${m[1]}`],
  [
    /^one loss, one recovery: ssthresh ≈ ([\d.]+) of the window before it$/,
    (m) => `一次丢包，一次恢复：ssthresh 约为丢包前窗口的 ${m[1]}`,
  ],
];

const FACTS: Record<string, string> = {
  accepted: '接受的连接',
  completedMs: '完成时刻（毫秒）',
  cwndBefore: '丢包前的 cwnd（字节）',
  cwndBeforeRecovery: '进入恢复前的 cwnd（字节）',
  flights: '每轮发出的报文段数',
  retransmissions: '重传次数',
  ssthresh: 'ssthresh（字节）',
  ssthreshInRecovery: '恢复期间的 ssthresh（字节）',
  cookiesAccepted: '接受的 cookie',
  cookiesSent: '发出的 cookie',
  legitimateServed: '得到服务的合法客户端',
  legitimateTried: '尝试连接的合法客户端',
  maxConnections: '最多同时存在的连接',
  readInState: '读取时所处的状态',
  secondRequestReadAtMs: '第二个请求被读取的时刻（毫秒）',
  spoofedSyns: '伪造的 SYN',
  staleBytes: '过期的字节数',
  staleConnectionLifetimeMs: '过期连接存在的时间（毫秒）',
  successRateDuringFlood: '洪泛期间的成功率',
  synQueueFullDrops: 'SYN 队列满而丢弃',
  synQueueLimit: 'SYN 队列上限',
};

/** A fact's name (the key of `facts`) for people. */
export function factName(key: string, lang: Lang): string {
  return lang === 'zh' ? (FACTS[key] ?? key) : key;
}

export function scenarioTitle(sc: Scenario, lang: Lang): string {
  return lang === 'zh' ? (TITLES[sc.name]?.[0] ?? sc.title) : sc.title;
}

export function scenarioDescription(sc: Scenario, lang: Lang): string {
  return lang === 'zh' ? (TITLES[sc.name]?.[1] ?? sc.description) : sc.description;
}

export function variantName(v: string, lang: Lang): string {
  return lang === 'zh' ? (VARIANTS[v] ?? v) : v;
}

export function checkText(c: Check, lang: Lang): string {
  if (lang !== 'zh') return c.what;
  const exact = CHECKS[c.what];
  if (exact) return exact;
  for (const [re, f] of PATTERNS) {
    const m = re.exec(c.what);
    if (m) return f(m);
  }
  return c.what;
}

/** Is every check of `sc`'s results translated? (A test holds this for every scenario.) */
export function untranslated(checks: readonly Check[]): string[] {
  return checks.filter((c) => checkText(c, 'zh') === c.what).map((c) => c.what);
}
