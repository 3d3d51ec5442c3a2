// A SYN flood: spoofed SYNs from addresses that never answer fill the
// listener's SYN queue, and legitimate clients are refused service. The
// listener defences (SYN cookies) are reported here once they exist.

import type { TcpSocket } from '../../stack/socket.ts';
import { State } from '../../tcp/types.ts';
import { parseAddr } from '../../wire/addr.ts';
import { encodePacket, SYN } from '../../wire/tcp.ts';
import {
  check,
  makeNetwork,
  numParam,
  param,
  type RunOptions,
  result,
  type Scenario,
  type ScenarioParam,
  type ScenarioResult,
} from './scenario.ts';

const rate: ScenarioParam = {
  name: 'rate',
  description: 'spoofed SYNs per second',
  default: 2000,
  min: 1,
  max: 50_000,
  integer: true,
  unit: 'SYN/s',
};
const duration: ScenarioParam = {
  name: 'duration',
  description: 'how long the flood lasts',
  default: 10_000,
  min: 100,
  max: 60_000,
  integer: true,
  unit: 'ms',
};
const backlog: ScenarioParam = {
  name: 'backlog',
  description: "the server's listen() backlog",
  default: 128,
  min: 0,
  max: 4096,
  integer: true,
};
const cookies: ScenarioParam = {
  name: 'cookies',
  description:
    "which listeners to run: 'both' side by side, 'off' (no defence) or 'on' (SYN cookies when the SYN queue is full)",
  default: 'both',
  choices: ['both', 'off', 'on'],
};

export const synFlood: Scenario = {
  name: 'syn-flood',
  title: 'SYN flood',
  description:
    "An attacker sends SYNs with forged source addresses that will never answer. Each one costs a listener without defences a half-open record and five SYN,ACK retransmissions over a minute; once the SYN queue is full, legitimate clients' SYNs are dropped and they time out or connect late. With SYN cookies the listener answers every SYN once it is full but keeps nothing for it: the ACK of a real client brings the cookie back and opens the connection. The scenario reports the legitimate success rate and the state held over time, side by side.",
  params: [rate, duration, backlog, cookies],
  run(opts) {
    const c = param(opts, cookies);

    const out: ScenarioResult[] = [];
    if (c !== 'on') out.push(flood(opts, false));
    if (c !== 'off') out.push(flood(opts, true));
    return out;
  },
};

function flood(opts: RunOptions, withCookies: boolean): ScenarioResult {
  const perSec = numParam(opts, rate);
  const dur = numParam(opts, duration);
  const net = makeNetwork(opts);
  const client = net.addHost('client', '198.18.0.1');
  // The flood is counted, not traced segment by segment: the server's trace would be huge.
  const server = net.addHost('server', '198.18.0.2', { tracer: null });
  const listener = server.listen({
    port: 80,
    backlog: numParam(opts, backlog),
    config: { synCookies: withCookies ? 'auto' : 'off' },
  });
  listener.on('connection', (s) => s.destroy());
  const dst = parseAddr('198.18.0.2')!;
  let spoofed = 0;
  const interval = 1000 / perSec;
  for (let t = 100; t < 100 + dur; t += interval) {
    net.clock.schedule(t, () => {
      const n = spoofed++;
      const src = new Uint8Array([198, 19, (n >> 8) & 0xff, n & 0xff]);
      const seg = {
        srcPort: 1024 + (n % 60000),
        dstPort: 80,
        seq: net.rng.u32(),
        ack: 0,
        flags: SYN,
        window: 65535,
        urgent: 0,
        options: [],
        payload: new Uint8Array(0),
      };
      server.receive(encodePacket(src, dst, seg));
    });
  }
  // A legitimate client tries once every 500 ms, giving each attempt 3 s.
  let tried = 0;
  let served = 0;
  const attempts: [number, boolean][] = [];
  for (let t = 0; t < dur + 2000; t += 500) {
    net.clock.schedule(t, () => {
      tried++;
      const at = net.clock.now();
      const sock: TcpSocket = client.connect({ host: '198.18.0.2', port: 80 });
      let ok = false;
      sock.on('connect', () => {
        if (net.clock.now() - at <= 3000) {
          ok = true;
          served++;
        }
        sock.destroy();
      });
      sock.on('error', () => {});
      net.clock.schedule(at + 3000, () => {
        attempts.push([at, ok]);
        if (sock.state !== State.Closed) sock.destroy();
      });
    });
  }
  const halfOpen: [number, number][] = [];
  const connections: [number, number][] = [];
  for (let t = 0; t <= dur + 5000; t += 250) {
    net.clock.schedule(t, () => {
      halfOpen.push([t, listener.listener.synQueue.size]);
      connections.push([t, server.connections.size]);
    });
  }
  net.run(dur + 6000);
  const during = attempts.filter(([t]) => t >= 500 && t < dur);
  const duringOk = during.filter(([, ok]) => ok).length;
  const limit = listener.listener.synQueueLimit;
  const facts = {
    spoofedSyns: spoofed,
    legitimateTried: tried,
    legitimateServed: served,
    successRateDuringFlood: during.length > 0 ? duringOk / during.length : 1,
    synQueueLimit: limit,
    halfOpenOverTime: halfOpen,
    connectionsOverTime: connections,
    synQueueFullDrops: server.stats.drops['syn-queue-full'] ?? 0,
    cookiesSent: server.stats.counters['cookies-sent'] ?? 0,
    cookiesAccepted: server.stats.counters['cookies-accepted'] ?? 0,
    maxConnections: Math.max(...connections.map(([, n]) => n)),
  };
  const common = [
    check(
      'the SYN queue filled up to its limit',
      halfOpen.some(([, n]) => n === limit),
    ),
    check(
      'the half-open count never exceeded the limit',
      halfOpen.every(([, n]) => n <= limit),
    ),
  ];
  if (!withCookies) {
    return result(
      'syn-flood',
      opts,
      net,
      [
        ...common,
        check('SYNs were dropped for a full queue (counted)', facts.synQueueFullDrops > 0),
        check(
          'without defences, legitimate clients were refused during the flood',
          facts.successRateDuringFlood < 0.5,
        ),
      ],
      facts,
      'no defences',
    );
  }
  return result(
    'syn-flood',
    opts,
    net,
    [
      ...common,
      check(
        'with SYN cookies, every legitimate client connected during the flood',
        facts.successRateDuringFlood === 1,
      ),
      check(
        'cookies answered the overflow (counted), no SYN was dropped',
        facts.cookiesSent > 0 && facts.synQueueFullDrops === 0,
      ),
      check(
        'no state was kept per spoofed SYN: connections stayed at the legitimate few',
        facts.maxConnections <= 2,
      ),
    ],
    facts,
    'SYN cookies',
  );
}
