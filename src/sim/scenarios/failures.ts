// When the network misbehaves: an old duplicate SYN (and why a two-way
// handshake fails), and a lost SYN, SYN,ACK or final ACK.

import type { Stack } from '../../stack/stack.ts';
import { State, type TraceEvent } from '../../tcp/types.ts';
import { ACK, RST, SYN } from '../../wire/tcp.ts';
import type { PacketView } from '../network.ts';
import {
  bytesDelivered,
  check,
  inOrder,
  makeNetwork,
  numParam,
  param,
  type RunOptions,
  result,
  type Scenario,
  type ScenarioParam,
  type ScenarioResult,
  segmentsSent,
  statesOf,
} from './scenario.ts';

const CLIENT = '198.18.0.1';
const SERVER = '198.18.0.2';
const enc = new TextEncoder();

const holdParam: ScenarioParam = {
  name: 'hold',
  description:
    'how long the network holds the first SYN, in ms (it must outlive the connection and its TIME-WAIT)',
  default: 90_000,
  min: 0,
  max: 600_000,
  integer: true,
  unit: 'ms',
};
const handshakeParam: ScenarioParam = {
  name: 'handshake',
  description:
    "which servers to run: 'both' side by side, 'three-way' (TCP), or 'two-way' (NOT TCP: a simulator-only server that treats a SYN as enough)",
  default: 'both',
  choices: ['both', 'three-way', 'two-way'],
};

const isFirstSyn = (p: PacketView) =>
  p.from === 'client' && p.seg !== undefined && p.seg.flags === SYN;

export const oldDuplicateSyn: Scenario = {
  name: 'old-duplicate-syn',
  title: 'An old duplicate SYN (and why two segments are not enough)',
  description:
    "The client's first SYN, carrying a request, gets stuck in the network. The client retransmits, the connection works and is closed. Long after, the stale SYN arrives. A TCP server answers SYN,ACK; the client, which has no such connection, answers RST, and the server frees the half-open record: the application never saw it. A server that treated the SYN as enough (a two-way handshake, NOT TCP, simulator only) opens a connection nobody owns, hands the stale request to its application and holds a connection's resources until something tears it down.",
  params: [holdParam, handshakeParam],
  run(opts) {
    const which = param(opts, handshakeParam);
    const out: ScenarioResult[] = [];
    if (which !== 'two-way') out.push(runOldSyn(opts, false));
    if (which !== 'three-way') out.push(runOldSyn(opts, true));
    return out;
  },
};

function runOldSyn(opts: RunOptions, twoWay: boolean): ScenarioResult {
  const hold = numParam(opts, holdParam);
  const net = makeNetwork(opts);
  const c = net.addHost('client', CLIENT);
  const s = net.addHost('server', SERVER);
  net.holdNth(isFirstSyn, hold, 1, `old SYN held ${hold / 1000} s in the network`);
  let accepted = 0;
  let staleBytes = 0;
  const series: [number, number][] = [];
  s.listen({ port: 80, handshake: twoWay ? 'two-way' : 'three-way' }).on('connection', (sock) => {
    accepted++;
    sock.on('data', (d) => {
      if (net.clock.now() > hold / 2) staleBytes += d.length;
    });
    sock.on('end', () => sock.end());
  });
  const sock = c.connect({
    host: SERVER,
    port: 80,
    localPort: 40000,
    synData: enc.encode('GET /transfer?amount=100'),
  });
  sock.on('data', () => {});
  net.clock.schedule(3_000, () => sock.end());
  sample(net.clock, s, series, hold + 5_000);
  net.run(hold + 120_000);
  const ss = statesOf(net.events, 'server');
  const lateRst = net.events.some(
    (e) =>
      e.type === 'segment' &&
      e.dir === 'out' &&
      e.host === 'client' &&
      e.seg.flags & RST &&
      e.t >= hold,
  );
  const staleOpen = net.events.find(
    (e) => e.type === 'state' && e.host === 'server' && e.to === State.Established && e.t >= hold,
  );
  const staleClosed = net.events.find(
    (e) => e.type === 'state' && e.host === 'server' && e.to === State.Closed && e.t >= hold,
  );
  const facts = {
    accepted,
    staleBytes,
    staleConnectionLifetimeMs: staleOpen ? (staleClosed?.t ?? net.clock.now()) - staleOpen.t : 0,
    serverConnectionsSampled: series.filter(([t]) => t >= hold - 200),
  };
  if (!twoWay) {
    return result(
      'old-duplicate-syn',
      opts,
      net,
      [
        check('the first connection (retransmitted SYN) was served once', accepted === 1),
        check('the stale SYN got a SYN,ACK and the client answered RST', lateRst),
        check(
          'the server went SYN-RECEIVED → LISTEN: the half-open record was freed',
          inOrder(ss.slice(1), [State.SynReceived, State.Listen]),
        ),
        check(
          'the server application never saw the stale SYN or its request',
          accepted === 1 && staleBytes === 0,
        ),
        check(
          'no connection is left behind',
          s.connections.size === 0 && [...s.listeners[0].synQueue.values()].length === 0,
        ),
      ],
      facts,
      'three-way handshake (TCP)',
    );
  }
  return result(
    'old-duplicate-syn',
    opts,
    net,
    [
      check('two-way: the stale SYN opened a second connection', accepted === 2),
      check('two-way: the stale request reached the application', staleBytes > 0),
      check(
        'two-way: a full connection (ESTABLISHED, with buffers) existed for a SYN nobody sent',
        staleOpen !== undefined,
      ),
    ],
    facts,
    'two-way handshake (NOT TCP, simulator only)',
  );
}

function sample(
  clock: { now(): number; schedule(at: number, fn: () => void): void },
  s: Stack,
  out: [number, number][],
  until: number,
): void {
  const tick = () => {
    out.push([clock.now(), s.connections.size]);
    if (clock.now() < until) clock.schedule(clock.now() + 100, tick);
  };
  clock.schedule(0, tick);
}

function lossScenario(
  name: string,
  title: string,
  description: string,
  filter: (p: PacketView) => boolean,
  extra: (
    events: readonly TraceEvent[],
    net: { clientSends: number; serverSends: number },
  ) => ReturnType<typeof check>[],
  clientWrites: boolean,
): Scenario {
  return {
    name,
    title,
    description,
    params: [],
    run(opts) {
      const net = makeNetwork(opts);
      const c = net.addHost('client', CLIENT);
      const s = net.addHost('server', SERVER);
      net.dropNth(filter, 1, `${title.toLowerCase()}`);
      s.listen({ port: 80 }).on('connection', (sock) => sock.on('data', () => {}));
      const sock = c.connect({ host: SERVER, port: 80 });
      if (clientWrites) net.clock.schedule(2_500, () => sock.write('late data'));
      net.run(20_000);
      const clientSyns = segmentsSent(net.events, 'client').filter(
        (e) => e.seg.flags === SYN,
      ).length;
      const serverSynAcks = segmentsSent(net.events, 'server').filter(
        (e) => e.seg.flags === (SYN | ACK),
      ).length;
      return [
        result(name, opts, net, [
          check(
            'both ends reach ESTABLISHED',
            inOrder(statesOf(net.events, 'client'), [State.Established]) &&
              inOrder(statesOf(net.events, 'server'), [State.Established]),
          ),
          ...extra(net.events, { clientSends: clientSyns, serverSends: serverSynAcks }),
          check(
            'nothing lost for the application',
            !clientWrites || bytesDelivered(net.events, 'server') === 9,
          ),
        ]),
      ];
    },
  };
}

function stateAt(events: readonly TraceEvent[], host: string, t: number): string {
  let st: string = State.Closed;
  for (const e of events) if (e.type === 'state' && e.host === host && e.t <= t) st = e.to;
  return st;
}

export const lostSyn = lossScenario(
  'lost-syn',
  'Lost SYN',
  'The first SYN is lost. The client stays in SYN-SENT, the server knows nothing; after the initial RTO of 1 s the client sends the same SYN again (same ISN) and the handshake completes.',
  (p) => p.from === 'client' && p.seg?.flags === SYN,
  (ev, n) => [
    check(
      'the client sent the SYN twice, 1 s apart',
      n.clientSends === 2 && synGap(ev, 'client', SYN) === 1000,
    ),
    check(
      'meanwhile the server knew nothing (LISTEN)',
      stateAt(ev, 'server', 999) === State.Closed,
    ),
  ],
  false,
);

export const lostSynAck = lossScenario(
  'lost-synack',
  'Lost SYN,ACK',
  'The SYN,ACK is lost. The server holds a half-open record in SYN-RECEIVED and the client is still in SYN-SENT; both retransmit after 1 s — the client its SYN, the server its SYN,ACK — and whichever arrives first completes the handshake.',
  (p) => p.from === 'server' && p.seg?.flags === (SYN | ACK),
  (ev) => [
    check(
      'meanwhile the client believed SYN-SENT and the server SYN-RECEIVED',
      stateAt(ev, 'client', 900) === State.SynSent &&
        stateAt(ev, 'server', 900) === State.SynReceived,
    ),
    check(
      'a retransmission repaired it after 1 s',
      segmentsSent(ev, 'client').filter((e) => e.seg.flags === SYN).length +
        segmentsSent(ev, 'server').filter((e) => e.seg.flags === (SYN | ACK)).length >=
        3,
    ),
  ],
  false,
);

export const lostAck = lossScenario(
  'lost-ack',
  'Lost final ACK',
  "The third segment is lost. The client is already ESTABLISHED; the server is still SYN-RECEIVED. Either the client's first data (which carries the same acknowledgment) or the server's SYN,ACK retransmission, answered by the client with an ACK, completes the server's side. Here the client stays quiet for 2.5 s, so the server's retransmission at 1 s repairs it.",
  (p) => p.from === 'client' && p.seg?.flags === ACK && p.seg.payload.length === 0,
  (ev) => [
    check(
      'meanwhile the client believed ESTABLISHED and the server SYN-RECEIVED',
      stateAt(ev, 'client', 500) === State.Established &&
        stateAt(ev, 'server', 500) === State.SynReceived,
    ),
    check(
      'the server retransmitted its SYN,ACK after 1 s',
      synGap(ev, 'server', SYN | ACK) === 1000,
    ),
  ],
  true,
);

function synGap(ev: readonly TraceEvent[], host: string, flags: number): number {
  const ts = segmentsSent(ev, host)
    .filter((e) => e.seg.flags === flags)
    .map((e) => e.t);
  return ts.length >= 2 ? ts[1] - ts[0] : -1;
}
