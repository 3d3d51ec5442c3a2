// TCP Fast Open (RFC 7413), opt-in: a first connection asks for a cookie; a
// later one puts its request on the SYN with the cookie, and the server hands
// it to the application a round trip earlier. With a forged cookie the SYN's
// data is ignored exactly as without Fast Open.

import { State } from '../../tcp/types.ts';
import { ACK, SYN } from '../../wire/tcp.ts';
import { check, makeNetwork, result, type Scenario, segmentsSent, statesOf } from './scenario.ts';

const enc = new TextEncoder();

export const fastOpen: Scenario = {
  name: 'fast-open',
  title: 'TCP Fast Open (RFC 7413)',
  description:
    "Fast Open lets a SYN carry data that the server uses at once, but only with a cookie the server issued earlier to the same client address: a spoofed SYN cannot have one, so a flood cannot make the server work. The client's first connection asks for a cookie; its second carries the request on the SYN with the cookie, and the server's application reads it before the handshake completes. A SYN with a forged cookie is treated as a plain SYN: its data is not acknowledged and is sent again later.",
  params: [],
  run(opts) {
    const out = [];
    for (const forged of [false, true]) {
      const net = makeNetwork(opts);
      const c = net.addHost('client', '198.18.0.1');
      const s = net.addHost('server', '198.18.0.2');
      const reads: { t: number; state: string; bytes: number }[] = [];
      s.listen({ port: 80, config: { fastOpen: 'on' } }).on('connection', (sock) => {
        sock.on('data', (d) => {
          reads.push({ t: net.clock.now(), state: sock.state, bytes: d.length });
          sock.end();
        });
      });
      // First connection: ask for a cookie.
      const first = c.connect({ host: '198.18.0.2', port: 80, fastOpen: true });
      first.on('connect', () => first.end('hello'));
      first.on('data', () => {});
      net.advance(1_000);
      if (forged)
        c.fastOpenCookies.set('198.18.0.2', {
          cookie: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
          mss: 1460,
        });
      const t0 = net.clock.now();
      const second = c.connect({
        host: '198.18.0.2',
        port: 80,
        fastOpen: true,
        synData: enc.encode('GET /fast'),
      });
      second.on('data', () => {});
      second.on('connect', () => second.end());
      net.run(5_000);
      const syns = segmentsSent(net.events, 'client').filter((e) => e.seg.flags === SYN);
      const secondSyn = syns[1];
      const secondSynAck = segmentsSent(net.events, 'server').filter(
        (e) => e.seg.flags === (SYN | ACK),
      )[1];
      const second9 = reads.find((r) => r.t >= t0 && r.bytes === 9);
      const facts = {
        secondRequestReadAtMs: second9 ? second9.t - t0 : -1,
        readInState: second9?.state ?? '',
      };
      const common = [
        check(
          'the first SYN asked for a cookie and the SYN,ACK carried one',
          syns[0]?.seg.options.some((o) => o.kind === 'fo' && o.cookie.length === 0) === true,
        ),
        check('the second SYN carried the 9-byte request', secondSyn?.seg.payload.length === 9),
        check(
          'the request reached the server application exactly once',
          reads.filter((r) => r.t >= t0).reduce((n, r) => n + r.bytes, 0) === 9,
        ),
        check(
          'both connections closed cleanly',
          statesOf(net.events, 'client').filter((x) => x === State.TimeWait).length === 2 ||
            c.connections.size === 0,
        ),
      ];
      const checks = forged
        ? [
            ...common,
            check(
              'forged cookie: the SYN,ACK acknowledged only the SYN',
              secondSynAck?.seg.ack === (secondSyn!.seg.seq + 1) >>> 0,
            ),
            check(
              'forged cookie: the data was read only after the handshake (a round trip later)',
              second9 !== undefined &&
                second9.state === State.Established &&
                facts.secondRequestReadAtMs >= 20,
            ),
            check(
              'forged cookie: counted as rejected',
              (s.stats.counters['fastopen-rejected'] ?? 0) === 1,
            ),
          ]
        : [
            ...common,
            check(
              'valid cookie: the SYN,ACK acknowledged the SYN and its 9 bytes',
              secondSynAck?.seg.ack === (secondSyn!.seg.seq + 10) >>> 0,
            ),
            check(
              'valid cookie: the server read the request on the SYN itself, in SYN-RECEIVED',
              second9?.state === State.SynReceived && facts.secondRequestReadAtMs === 10,
            ),
            check(
              'valid cookie: counted as a Fast Open',
              (s.stats.counters['fastopen-accepted'] ?? 0) === 1,
            ),
          ];
      out.push(
        result('fast-open', opts, net, checks, facts, forged ? 'forged cookie' : 'valid cookie'),
      );
    }
    return out;
  },
};
