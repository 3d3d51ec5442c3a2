// The textbook cases: the three-way handshake, data on the third segment, a
// SYN carrying data, simultaneous open, and the close.

import { State } from '../../tcp/types.ts';
import { ACK, FIN, SYN } from '../../wire/tcp.ts';
import {
  bytesDelivered,
  check,
  inOrder,
  makeNetwork,
  result,
  type Scenario,
  segmentsSent,
  statesOf,
} from './scenario.ts';

const enc = new TextEncoder();
const CLIENT = '198.18.0.1';
const SERVER = '198.18.0.2';

export const handshake: Scenario = {
  name: 'handshake',
  title: 'The three-way handshake',
  description:
    "A client connects to a listening server. The SYN carries the client's ISN and consumes one sequence number, so the server acknowledges ISN(c)+1 in its SYN,ACK; the client's pure ACK of ISN(s)+1 consumes none, so its first data byte is still ISN(c)+1.",
  params: [],
  run(opts) {
    const net = makeNetwork(opts);
    const c = net.addHost('client', CLIENT);
    const s = net.addHost('server', SERVER);
    s.listen({ port: 80 }).on('connection', (sock) => sock.on('data', () => {}));
    const sock = c.connect({ host: SERVER, port: 80 });
    sock.on('connect', () => sock.write('hi'));
    net.run(5_000);
    const cs = segmentsSent(net.events, 'client');
    const ss = segmentsSent(net.events, 'server');
    const syn = cs.find((e) => e.seg.flags === SYN);
    const synAck = ss.find((e) => e.seg.flags === (SYN | ACK));
    const ack = cs.find((e) => e.seg.flags === ACK && e.seg.payload.length === 0);
    const data = cs.find((e) => e.seg.payload.length > 0);
    const iss = syn?.seg.seq ?? 0;
    return [
      result('handshake', opts, net, [
        check(
          'client: CLOSED → SYN-SENT → ESTABLISHED',
          inOrder(statesOf(net.events, 'client'), [State.SynSent, State.Established]),
        ),
        check(
          'server: LISTEN → SYN-RECEIVED → ESTABLISHED',
          inOrder(statesOf(net.events, 'server'), [State.SynReceived, State.Established]),
        ),
        check(
          'SYN,ACK acknowledges ISN(c)+1: the SYN consumed one sequence number',
          synAck?.seg.ack === (iss + 1) >>> 0,
        ),
        check('the ACK acknowledges ISN(s)+1', ack?.seg.ack === ((synAck?.seg.seq ?? 0) + 1) >>> 0),
        check(
          'the pure ACK consumed nothing: first data byte is still ISN(c)+1',
          ack?.seg.seq === (iss + 1) >>> 0 && data?.seg.seq === (iss + 1) >>> 0,
        ),
        check('server received the 2 bytes', bytesDelivered(net.events, 'server') === 2),
      ]),
    ];
  },
};

export const dataOnThird: Scenario = {
  name: 'data-on-third',
  title: 'Data on the third segment',
  description:
    'The client writes before the handshake completes. Its first bytes ride on the ACK that completes the handshake (the third segment): by then the client is ESTABLISHED and knows the server can send and receive, so carrying data is safe. The server accepts the data in the same step that establishes the connection.',
  params: [],
  run(opts) {
    const net = makeNetwork(opts);
    const c = net.addHost('client', CLIENT);
    const s = net.addHost('server', SERVER);
    s.listen({ port: 80 }).on('connection', (sock) => sock.on('data', () => {}));
    const sock = c.connect({ host: SERVER, port: 80 });
    sock.write('GET / HTTP/1.0\r\n\r\n');
    net.run(5_000);
    const cs = segmentsSent(net.events, 'client');
    const third = cs[1];
    return [
      result('data-on-third', opts, net, [
        check(
          'the third segment is an ACK carrying 18 bytes',
          third?.seg.flags === (ACK | 0x08) && third.seg.payload.length === 18,
        ),
        check(
          'no separate pure ACK was needed',
          cs.filter((e) => e.seg.flags === ACK && e.seg.payload.length === 0 && e.why === 'ack')
            .length === 0 || cs.indexOf(third) === 1,
        ),
        check('server delivered the 18 bytes', bytesDelivered(net.events, 'server') === 18),
        check(
          'both ends ESTABLISHED',
          inOrder(statesOf(net.events, 'server'), [State.Established]) &&
            inOrder(statesOf(net.events, 'client'), [State.Established]),
        ),
      ]),
    ];
  },
};

export const synWithData: Scenario = {
  name: 'syn-with-data',
  title: 'A SYN that carries data',
  description:
    'The client puts a request on its SYN. The server must not hand it to the application before the connection is established (a SYN costs nothing to forge: processing its data would make every spoofed SYN an attack), so the SYN,ACK acknowledges only the SYN. The client sees its data unacknowledged and sends it again after the handshake; the server delivers it once.',
  params: [],
  run(opts) {
    const net = makeNetwork(opts);
    const c = net.addHost('client', CLIENT);
    const s = net.addHost('server', SERVER);
    s.listen({ port: 80 }).on('connection', (sock) => sock.on('data', () => {}));
    c.connect({ host: SERVER, port: 80, synData: enc.encode('hello in the SYN') });
    net.run(5_000);
    const cs = segmentsSent(net.events, 'client');
    const ss = segmentsSent(net.events, 'server');
    const syn = cs[0];
    const synAck = ss.find((e) => e.seg.flags === (SYN | ACK));
    const resent = cs.find((e) => !(e.seg.flags & SYN) && e.seg.payload.length === 16);
    const established = net.events.findIndex(
      (e) => e.type === 'state' && e.host === 'server' && e.to === State.Established,
    );
    const firstData = net.events.findIndex(
      (e) => e.type === 'deliver' && e.host === 'server' && e.what === 'data',
    );
    const deliveredBeforeEstablished =
      firstData >= 0 && (established < 0 || firstData < established);
    return [
      result('syn-with-data', opts, net, [
        check('the SYN carries 16 bytes', syn?.seg.flags === SYN && syn.seg.payload.length === 16),
        check(
          'the SYN,ACK acknowledges only the SYN (ISN(c)+1)',
          synAck?.seg.ack === (syn!.seg.seq + 1) >>> 0,
        ),
        check(
          'nothing reached the server application before ESTABLISHED',
          !deliveredBeforeEstablished,
        ),
        check('the client resent the 16 bytes after the handshake', resent !== undefined),
        check(
          'the server delivered them exactly once',
          bytesDelivered(net.events, 'server') === 16,
        ),
        check(
          'server counted the ignored SYN data',
          (s.stats.counters['syn-data-ignored'] ?? 0) === 1,
        ),
      ]),
    ];
  },
};

export const simultaneousOpen: Scenario = {
  name: 'simultaneous-open',
  title: 'Simultaneous open',
  description:
    "Two ends connect to each other at the same moment, each from the port the other targets. Both send SYN and enter SYN-SENT; each receives the other's SYN and moves to SYN-RECEIVED, answering SYN,ACK with its same ISN; the SYN,ACKs cross and both reach ESTABLISHED. Four segments, no listener.",
  params: [],
  run(opts) {
    const net = makeNetwork(opts);
    const a = net.addHost('alice', CLIENT);
    const b = net.addHost('bob', SERVER);
    const sa = a.connect({ host: SERVER, port: 5001, localPort: 5000 });
    const sb = b.connect({ host: CLIENT, port: 5000, localPort: 5001 });
    sa.on('connect', () => sa.write('from alice'));
    sb.on('connect', () => sb.write('from bob'));
    sa.on('data', () => {});
    sb.on('data', () => {});
    net.run(5_000);
    const want = [State.SynSent, State.SynReceived, State.Established];
    return [
      result('simultaneous-open', opts, net, [
        check(
          'alice: SYN-SENT → SYN-RECEIVED → ESTABLISHED',
          inOrder(statesOf(net.events, 'alice'), want),
        ),
        check(
          'bob: SYN-SENT → SYN-RECEIVED → ESTABLISHED',
          inOrder(statesOf(net.events, 'bob'), want),
        ),
        check(
          'each sent one SYN and one SYN,ACK',
          ['alice', 'bob'].every(
            (h) => segmentsSent(net.events, h).filter((e) => e.seg.flags & SYN).length === 2,
          ),
        ),
        check(
          'data flowed both ways',
          bytesDelivered(net.events, 'alice') === 8 && bytesDelivered(net.events, 'bob') === 10,
        ),
      ]),
    ];
  },
};

export const close: Scenario = {
  name: 'close',
  title: 'Closing: four segments, simultaneous close, TIME-WAIT',
  description:
    'First the usual close: the client sends FIN (FIN-WAIT-1), the server acknowledges (client FIN-WAIT-2, server CLOSE-WAIT), the server sends its FIN (LAST-ACK), the client acknowledges and waits in TIME-WAIT for 2×MSL so that a lost last ACK can be repeated and old segments die out. Then both ends close at once: the FINs cross and both pass through CLOSING to TIME-WAIT.',
  params: [],
  run(opts) {
    const out = [];
    for (const simultaneous of [false, true]) {
      const net = makeNetwork(opts);
      const c = net.addHost('client', CLIENT);
      const s = net.addHost('server', SERVER);
      s.listen({ port: 80 }).on('connection', (sock) => {
        sock.on('data', () => {});
        if (simultaneous) sock.on('connect', () => {});
        if (simultaneous) net.clock.schedule(500, () => sock.end());
        else sock.on('end', () => sock.end());
      });
      const sock = c.connect({ host: SERVER, port: 80 });
      sock.on('data', () => {});
      net.clock.schedule(500, () => sock.end());
      net.run(200_000);
      const cs = statesOf(net.events, 'client');
      const ss = statesOf(net.events, 'server');
      const checks = simultaneous
        ? [
            check(
              'client: FIN-WAIT-1 → CLOSING → TIME-WAIT → CLOSED',
              inOrder(cs, [State.FinWait1, State.Closing, State.TimeWait, State.Closed]),
            ),
            check(
              'server: FIN-WAIT-1 → CLOSING → TIME-WAIT → CLOSED',
              inOrder(ss, [State.FinWait1, State.Closing, State.TimeWait, State.Closed]),
            ),
          ]
        : [
            check(
              'client: FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT → CLOSED',
              inOrder(cs, [State.FinWait1, State.FinWait2, State.TimeWait, State.Closed]),
            ),
            check(
              'server: CLOSE-WAIT → LAST-ACK → CLOSED',
              inOrder(ss, [State.CloseWait, State.LastAck, State.Closed]),
            ),
            check(
              'four segments carry the close (FIN, ACK, FIN, ACK)',
              countClose(net.events) === 4,
            ),
          ];
      const states = net.events.filter((e) => e.type === 'state');
      const tw = states.find((e) => e.to === State.TimeWait);
      const closedAfter = states.filter((e) => e.host === tw?.host && e.to === State.Closed).pop();
      checks.push(
        check(
          'TIME-WAIT lasts 2×MSL (60 s)',
          tw !== undefined && closedAfter !== undefined && closedAfter.t - tw.t === 60_000,
        ),
      );
      checks.push(
        check('nothing is left behind', c.connections.size === 0 && s.connections.size === 0),
      );
      out.push(
        result(
          'close',
          opts,
          net,
          checks,
          {},
          simultaneous ? 'simultaneous close' : 'four-segment close',
        ),
      );
    }
    return out;
  },
};

function countClose(events: readonly import('../../tcp/types.ts').TraceEvent[]): number {
  let fins = 0;
  let n = 0;
  for (const e of events) {
    if (e.type !== 'segment' || e.dir !== 'out') continue;
    if (e.seg.flags & FIN) {
      fins++;
      n++;
    } else if (fins > 0 && e.seg.payload.length === 0) n++;
  }
  return n;
}
