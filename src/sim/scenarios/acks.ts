// When a receiver acknowledges (RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2, RFC
// 5681 §4.2): at once at the start of a connection (quick-ack), then every
// second full-sized segment, a lone segment after the delayed-ACK timer, and
// an ACK that rides on the application's reply costs no segment of its own.

import { ACK } from '../../wire/tcp.ts';
import {
  bytesDelivered,
  check,
  makeNetwork,
  numParam,
  result,
  type Scenario,
  type ScenarioParam,
  segmentsSent,
} from './scenario.ts';

const CLIENT = '198.18.0.1';
const SERVER = '198.18.0.2';

const quick: ScenarioParam = {
  name: 'quick-acks',
  description:
    'segments the server acknowledges at once at the start (Linux and synack default to 16; 2 keeps the diagram short)',
  default: 2,
  min: 0,
  max: 64,
  integer: true,
};

export const delayedAck: Scenario = {
  name: 'delayed-ack',
  title: 'Delayed ACKs',
  description:
    'The client sends 4,500 bytes in five segments, then a short request the server answers. The server acknowledges its first segments at once (quick-ack), then one ACK for every second full-sized segment; the last, lone segment waits for the delayed-ACK timer (40 ms here, never more than 500 ms). The reply to the request carries its ACK, so the request costs no pure ACK at all.',
  params: [quick],
  run(opts) {
    const net = makeNetwork(opts);
    const c = net.addHost('client', CLIENT);
    // No timestamps: the segments are exactly the 1,000-byte MSS, which keeps the arithmetic plain.
    const s = net.addHost('server', SERVER, {
      config: { mss: 1000, timestamps: false, quickAcks: numParam(opts, quick) },
    });
    s.listen({ port: 80 }).on('connection', (sock) =>
      sock.on('data', (d) => {
        if (d.length === 4) sock.write('pong');
      }),
    );
    const sock = c.connect({ host: SERVER, port: 80 });
    sock.on('connect', () => sock.write(new Uint8Array(4500).fill(0x61)));
    sock.on('data', () => {});
    // The request goes once all 4,500 bytes are acknowledged, whatever the delay.
    while (c.now() < 10_000 && (sock.conn.sendQueued > 0 || sock.state !== 'ESTABLISHED')) {
      net.advance(c.now() + 10);
    }
    sock.write('ping');
    net.run(c.now() + 2_000);
    const ss = segmentsSent(net.events, 'server');
    const cs = segmentsSent(net.events, 'client');
    const data = cs.filter((e) => e.seg.payload.length === 1000 || e.seg.payload.length === 500);
    const pureAcks = ss.filter((e) => e.seg.flags === ACK && e.seg.payload.length === 0);
    const delayed = pureAcks.find((e) => e.why === 'delayed-ack');
    // When the lone last segment reached the server.
    const lastData = net.events.find(
      (e) =>
        e.type === 'segment' &&
        e.dir === 'in' &&
        e.host === 'server' &&
        e.seg.payload.length === 500,
    );
    const ping = cs.find((e) => e.seg.payload.length === 4);
    const pong = ss.find((e) => e.seg.payload.length === 4);
    const iss = data[0] ? data[0].seg.seq : 0;
    const acked = (k: number) => pureAcks.find((e) => e.seg.ack === (iss + k) >>> 0);
    const quickAcks = numParam(opts, quick);
    return [
      result('delayed-ack', opts, net, [
        check(
          `the first ${quickAcks} segments are acknowledged at once (quick-ack)`,
          [...Array(quickAcks)].every((_, k) => acked(1000 * (k + 1))?.why === 'ack'),
        ),
        check(
          'then one ACK for two full-sized segments: none for the third alone',
          acked(3000) === undefined && acked(4000)?.why === 'ack',
        ),
        check(
          'the lone last segment is acknowledged by the delayed-ACK timer, 40–200 ms later',
          delayed !== undefined &&
            lastData !== undefined &&
            delayed.t - lastData.t >= 40 &&
            delayed.t - lastData.t <= 200,
        ),
        check(
          'the reply carries the ACK of the request: no pure ACK for it',
          ping !== undefined &&
            pong !== undefined &&
            pong.seg.ack === (ping.seg.seq + 4) >>> 0 &&
            !pureAcks.some((e) => e.seg.ack === (ping.seg.seq + 4) >>> 0),
        ),
        check('the server received all 4,504 bytes', bytesDelivered(net.events, 'server') === 4504),
      ]),
    ];
  },
};
