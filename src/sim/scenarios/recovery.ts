// Moving data through loss: how the window opens (slow start, RFC 5681 §3.1,
// RFC 6928's initial window of ten), how a burst of losses in one window is
// repaired with SACK (RFC 6675, RACK RFC 8985, PRR RFC 6937) and without it
// (NewReno, RFC 6582), and how CUBIC (RFC 9438) and NewReno differ after a
// loss. Best seen with --format tsg and --format cwnd.

import type { TcpConfig, TraceEvent } from '../../tcp/types.ts';
import {
  bytesDelivered,
  check,
  makeNetwork,
  numParam,
  param,
  type RunOptions,
  result,
  type Scenario,
  type ScenarioParam,
  type ScenarioResult,
  segmentsSent,
} from './scenario.ts';

const CLIENT = '198.18.0.1';
const SERVER = '198.18.0.2';

type Cc = Extract<TraceEvent, { type: 'cc' }>;
type Seg = Extract<TraceEvent, { type: 'segment' }>;

/**
 * The client sends `bytes` to the server (MSS 1000, no timestamps: plain
 * arithmetic); `drop` lists which of the client's data packets the network
 * loses (1-based, counted as they are sent). Runs until all is delivered.
 */
function transfer(
  opts: RunOptions,
  bytes: number,
  drop: number[],
  config: Partial<TcpConfig>,
  latency: number,
  bandwidth = 0,
) {
  const net = makeNetwork(
    { ...opts, delay: opts.delay ?? latency },
    bandwidth ? { bandwidth } : {},
  );
  // Buffers large enough that the window, not the socket, limits the sender (Linux autotunes them).
  const base: Partial<TcpConfig> = {
    mss: 1000,
    timestamps: false,
    rcvBuf: 4 << 20,
    sndBuf: 4 << 20,
  };
  const c = net.addHost('client', CLIENT, { config: { ...base, ...config } });
  const s = net.addHost('server', SERVER, { config: { ...base, ...config } });
  for (const n of drop) {
    net.dropNth(
      (p) => p.from === 'client' && p.seg !== undefined && p.seg.payload.length > 0,
      n,
      `data packet ${n} lost`,
    );
  }
  s.listen({ port: 80 }).on('connection', (sock) => sock.on('data', () => {}));
  const sock = c.connect({ host: SERVER, port: 80 });
  sock.on('connect', () => {
    sock.write(new Uint8Array(bytes).fill(0x61));
    sock.end();
  });
  net.run(120_000);
  const cc = net.events.filter((e): e is Cc => e.type === 'cc' && e.host === 'client');
  const data = segmentsSent(net.events, 'client').filter((e) => e.seg.payload.length > 0);
  const retrans = data.filter((e) => e.why === 'retransmit');
  const done = net.events
    .filter((e) => e.type === 'app' && e.host === 'server' && e.call === 'read')
    .at(-1);
  return { net, cc, data, retrans, done: done?.t ?? Number.NaN };
}

/** Sends grouped into round trips: a gap longer than half an RTT starts a new round. */
function rounds(data: Seg[], rtt: number): number[] {
  const out: number[] = [];
  let last = -Infinity;
  for (const e of data) {
    if (e.t - last > rtt / 2) out.push(0);
    out[out.length - 1]++;
    last = e.t;
  }
  return out;
}

const sackParam: ScenarioParam = {
  name: 'sack',
  description: 'run with SACK, without it (NewReno), or both side by side',
  default: 'both',
  choices: ['both', 'on', 'off'],
};

export const lossRecovery: Scenario = {
  name: 'loss-recovery',
  title: 'Loss recovery: three losses in one window',
  description:
    'The client sends 60 KB; the network loses three of the second flight’s segments (data packets 12, 14 and 16). With SACK the receiver reports exactly what arrived: RACK marks the three holes lost, recovery starts once, cwnd is cut once (CUBIC: to 0.7) and Proportional Rate Reduction lets the three retransmissions and new data out as ACKs come back — all holes repaired within about one round trip, no timeout. Without SACK (NewReno) the sender learns of one hole per round trip: each partial ACK reveals the next. Try --format tsg and --format cwnd.',
  params: [sackParam],
  run(opts) {
    const which = param(opts, sackParam);
    const variants: [string, boolean][] = [];
    if (which !== 'off') variants.push(['SACK (RACK, PRR)', true]);
    if (which !== 'on') variants.push(['no SACK (NewReno)', false]);
    return variants.map(([variant, sack]): ScenarioResult => {
      const rtt = 2 * (opts.delay ?? 25);
      const r = transfer(opts, 60_000, [12, 14, 16], { sack }, 25);
      const recoveries = r.cc.filter((e) => e.event === 'enter-recovery');
      const timeouts = r.cc.filter((e) => e.event === 'enter-loss');
      const times = r.retrans.map((e) => e.t);
      const spread = times.length > 0 ? Math.max(...times) - Math.min(...times) : 0;
      const seqs = new Set(r.retrans.map((e) => e.seg.seq));
      const before = recoveries[0] ? r.cc[r.cc.indexOf(recoveries[0]) - 1] : undefined;
      const checks = [
        check(
          'all 60,000 bytes arrive, in order',
          bytesDelivered(r.net.events, 'server') === 60_000,
        ),
        check(
          'one recovery episode, no retransmission timeout',
          recoveries.length === 1 && timeouts.length === 0,
          `${recoveries.length} recoveries, ${timeouts.length} timeouts`,
        ),
        check(
          'each of the three lost segments is sent again exactly once',
          r.retrans.length === 3 && seqs.size === 3,
          `${r.retrans.length} retransmissions`,
        ),
        sack
          ? check(
              'with SACK the three holes are repaired within one round trip',
              spread < rtt,
              `retransmissions spread over ${spread} ms, RTT ${rtt} ms`,
            )
          : check(
              'without SACK each hole waits for the partial ACK of the one before: a round trip apart',
              times.length === 3 &&
                times[1] - times[0] >= rtt * 0.9 &&
                times[2] - times[1] >= rtt * 0.9,
              `retransmissions at ${times.join(', ')} ms, RTT ${rtt} ms`,
            ),
      ];
      return result(
        'loss-recovery',
        opts,
        r.net,
        checks,
        {
          completedMs: r.done,
          retransmissions: r.retrans.length,
          cwndBeforeRecovery: before ? before.cwnd : null,
          ssthreshInRecovery: recoveries[0]?.ssthresh ?? null,
        },
        variant,
      );
    });
  },
};

const rttParam: ScenarioParam = {
  name: 'rtt',
  description: 'round-trip time of the path',
  default: 100,
  min: 2,
  max: 2000,
  integer: true,
  unit: 'ms',
};

export const slowStart: Scenario = {
  name: 'slow-start',
  title: 'Slow start: the window doubles every round trip',
  description:
    'The client sends 300 KB over a clean path. It starts with ten segments (RFC 6928’s initial window), and every ACK grows cwnd by what it acknowledges (at most two segments, RFC 3465): the flights double each round trip — 10, 20, 40, 80 — until the data runs out. No loss, so ssthresh never comes into play. Try --format cwnd or --format tsg.',
  params: [rttParam],
  run(opts) {
    const rtt = numParam(opts, rttParam);
    const r = transfer({ ...opts, delay: undefined }, 300_000, [], {}, rtt / 2);
    const flights = rounds(r.data, rtt);
    const growth = flights.slice(1, 4).map((n, i) => n / flights[i]);
    return [
      result(
        'slow-start',
        opts,
        r.net,
        [
          check('the first flight is ten segments (RFC 6928)', flights[0] === 10, `${flights[0]}`),
          check(
            'each of the next flights is about twice the one before (1.5–2×)',
            growth.length === 3 && growth.every((g) => g >= 1.5 && g <= 2),
            `flights ${flights.join(', ')}`,
          ),
          check(
            'no loss, no retransmission, ssthresh untouched',
            r.retrans.length === 0 && r.cc.every((e) => e.ssthresh >= 0x3fffffff),
          ),
          check('all 300,000 bytes arrive', bytesDelivered(r.net.events, 'server') === 300_000),
        ],
        { flights, completedMs: r.done },
      ),
    ];
  },
};

export const cubicVsNewreno: Scenario = {
  name: 'cubic-vs-newreno',
  title: 'CUBIC and NewReno after a loss',
  description:
    'The same 4 MB transfer twice over a 40 ms, 50 Mbit/s path with one loss once the window is large (data packet 200). NewReno (RFC 5681) halves the window and then adds one segment per round trip; CUBIC (RFC 9438) keeps 70% of it and grows back along a cubic curve — fast while far below the old maximum, slowly near it, then probing beyond. CUBIC finishes sooner. Compare them with --format cwnd.',
  params: [],
  run(opts) {
    const out: ScenarioResult[] = [];
    const stats: { ssthresh: number; before: number; done: number }[] = [];
    for (const algo of ['cubic', 'newreno'] as const) {
      const r = transfer(opts, 4_000_000, [200], { congestion: algo }, 20, 50e6);
      const rec = r.cc.find((e) => e.event === 'enter-recovery');
      const before = rec ? r.cc[r.cc.indexOf(rec) - 1] : undefined;
      stats.push({ ssthresh: rec?.ssthresh ?? 0, before: before?.cwnd ?? 0, done: r.done });
      const ratio = rec && before ? rec.ssthresh / before.cwnd : 0;
      const want = algo === 'cubic' ? 0.7 : 0.5;
      out.push(
        result(
          'cubic-vs-newreno',
          opts,
          r.net,
          [
            check(
              `one loss, one recovery: ssthresh ≈ ${want} of the window before it`,
              rec !== undefined && Math.abs(ratio - want) < 0.06,
              `cwnd ${before?.cwnd} → ssthresh ${rec?.ssthresh} (${ratio.toFixed(2)})`,
            ),
            check(
              'all 4,000,000 bytes arrive',
              bytesDelivered(r.net.events, 'server') === 4_000_000,
            ),
          ],
          { completedMs: r.done, cwndBefore: before?.cwnd, ssthresh: rec?.ssthresh },
          algo === 'cubic' ? 'CUBIC' : 'NewReno',
        ),
      );
    }
    out[0].checks.push(
      check(
        'CUBIC finishes before NewReno',
        stats[0].done < stats[1].done,
        `${stats[0].done} ms vs ${stats[1].done} ms`,
      ),
    );
    return out;
  },
};
