// The engine against RFC 9293 where a hostile or unusual peer pushes it: each
// test injects raw segments and checks what synack sends and keeps. The
// compliance matrix (docs/rfc9293.md) names these tests.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Reassembly } from '../../src/tcp/buffers.ts';
import { TimeWaitRecord } from '../../src/tcp/timewait.ts';
import { State, type TcpConfig } from '../../src/tcp/types.ts';
import { parseAddr } from '../../src/wire/addr.ts';
import { decodeIcmp, encodeIcmp, encodeIcmpError } from '../../src/wire/icmp.ts';
import { decodeIp, ipPayload } from '../../src/wire/ip.ts';
import { ACK, encodePacket, FIN, PSH, RST, SYN, type TcpOption, URG } from '../../src/wire/tcp.ts';
import { rawPeer, withIpv4Options, withTcpOptionBytes } from './peer.ts';

const bytes = (n: number, fill = 0x61) => new Uint8Array(n).fill(fill);
const WS: TcpOption[] = [
  { kind: 'mss', value: 1460 },
  { kind: 'nop' },
  { kind: 'wscale', shift: 7 },
];
const ALL: TcpOption[] = [
  { kind: 'mss', value: 1460 },
  { kind: 'sackOk' },
  { kind: 'ts', val: 100, ecr: 0 },
  { kind: 'nop' },
  { kind: 'wscale', shift: 7 },
];

describe('receive buffer and window (RFC 9293 §3.8.6, §3.10.7.4)', () => {
  it('bytes held never exceed the receive buffer; the window closes and data beyond it is dropped with an ACK', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 1460 })), {
          minLength: 100,
          maxLength: 600,
        }),
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 })), {
          minLength: 100,
          maxLength: 600,
        }),
        fc.boolean(),
        (sizes, reads, followAcks) => {
          const p = rawPeer({ config: { rcvBuf: 16384 } });
          const { sock } = p.handshake(WS);
          const conn = sock.conn;
          let seq = 1;
          for (let i = 0; i < sizes.length; i++) {
            p.inject({ seq, ack: 1001, flags: ACK | PSH, window: 512, payload: bytes(sizes[i]) });
            const acks = p.take();
            // A blind sender goes on regardless; a polite one resumes from what was acknowledged.
            seq += sizes[i];
            if (followAcks && acks.length > 0) seq = acks[acks.length - 1].seg.ack;
            if ((reads[i] ?? 0) > 0) sock.read(reads[i]);
            const held = conn.recvQueued + (conn.ooo ? conn.ooo.bytes : 0);
            expect(held).toBeLessThanOrEqual(16384 + 1460);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a peer writing 50-byte segments to a reader that never reads fills the buffer, then gets a zero window', () => {
    const p = rawPeer({ config: { rcvBuf: 16384 } });
    const { sock } = p.handshake(WS);
    let lastWindow = -1;
    for (let i = 0; i < 2000; i++) {
      p.inject({ seq: 1 + 50 * i, ack: 1001, window: 512, flags: ACK | PSH, payload: bytes(50) });
      for (const s of p.take()) lastWindow = s.seg.window;
      p.clock.advance(p.clock.now() + 1);
    }
    // Within one window-scale unit (128 bytes) of the buffer, never a byte more.
    expect(sock.conn.recvQueued).toBeLessThan(16384 + 128);
    expect(sock.conn.recvQueued).toBeGreaterThan(16384 - 128);
    expect(lastWindow).toBe(0);
    const before = p.stack.stats.drops['out-of-window'] ?? 0;
    p.inject({ seq: sock.conn.rcvNxt, ack: 1001, window: 512, flags: ACK, payload: bytes(50) });
    const answer = p.take();
    expect(answer).toHaveLength(1);
    expect(answer[0].seg.ack).toBe(sock.conn.rcvNxt);
    expect(p.stack.stats.drops['out-of-window']).toBe(before + 1);
  });

  it('receiver SWS avoidance: reading one byte from a full buffer does not announce a 1-byte window', () => {
    const p = rawPeer({ config: { rcvBuf: 4000 } });
    const { sock } = p.handshake([{ kind: 'mss', value: 1000 }]);
    for (let i = 0; i < 4; i++) {
      p.inject({ seq: 1 + 1000 * i, ack: 1001, flags: ACK, payload: bytes(1000) });
    }
    p.clock.advance(p.clock.now() + 500);
    const acks = p.take();
    expect(acks[acks.length - 1].seg.window).toBe(0);
    sock.read(1);
    expect(p.take()).toHaveLength(0);
    // A zero-window probe still finds the window closed.
    p.inject({ seq: 4000, ack: 1001, flags: ACK });
    expect(p.take()[0].seg.window).toBe(0);
    sock.read(999);
    const update = p.take();
    expect(update).toHaveLength(1);
    expect(update[0].seg.window).toBe(1000);
  });
});

describe('segment size (MUST-16)', () => {
  it('no packet exceeds the peer MSS plus headers, even with SACK blocks riding on data', () => {
    const p = rawPeer();
    const { sock } = p.handshake(ALL);
    // Three holes: synack holds out-of-order data, so its segments carry SACK blocks.
    for (const at of [2001, 4001, 6001]) {
      p.inject({
        seq: at,
        ack: 1001,
        flags: ACK,
        options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'ts', val: 200, ecr: 0 }],
        payload: bytes(100),
      });
    }
    p.take();
    sock.write(bytes(20000, 0x62));
    const sent = p.take();
    const data = sent.filter((s) => s.seg.payload.length > 0);
    expect(data.length).toBeGreaterThan(5);
    expect(data.some((s) => s.seg.options.some((o) => o.kind === 'sack'))).toBe(true);
    for (const s of sent) expect(s.packet.length).toBeLessThanOrEqual(1460 + 40);
  });
});

describe('zero window (MUST-35, MUST-36, MUST-37)', () => {
  it('a zero window with data in flight keeps the connection open while the peer answers', () => {
    const p = rawPeer();
    const { sock } = p.handshake([{ kind: 'mss', value: 1000 }]);
    sock.write(bytes(8000));
    const first = p.take();
    expect(first.length).toBeGreaterThan(1);
    // The peer acknowledges the first segment and closes its window.
    p.inject({ seq: 1, ack: 2001, flags: ACK, window: 0 });
    p.take();
    for (let round = 0; round < 40; round++) {
      p.clock.advance(p.clock.next());
      const out = p.take();
      if (out.length > 0) p.inject({ seq: 1, ack: 2001, flags: ACK, window: 0 });
      p.take();
    }
    expect(sock.state).toBe(State.Established);
    expect(p.clock.now()).toBeGreaterThan(15 * 60_000);
    // The window opens: the data flows again, at the latest when the backed-off timer fires.
    p.inject({ seq: 1, ack: 2001, flags: ACK, window: 65535 });
    const opened = p.clock.now();
    p.clock.advance(p.clock.next());
    expect(p.clock.now() - opened).toBeLessThanOrEqual(120_000);
    expect(p.take().some((s) => s.seg.payload.length > 0)).toBe(true);
  });

  it('unanswered zero-window probes end the connection after R2 of them', () => {
    const p = rawPeer({ config: { dataRetries: 4 } });
    const { sock } = p.handshake([{ kind: 'mss', value: 1000 }]);
    p.inject({ seq: 1, ack: 1001, flags: ACK, window: 0 });
    sock.write(bytes(100));
    let error = '';
    sock.on('error', (e) => (error = e.code));
    p.clock.run(10 * 3_600_000);
    expect(sock.state).toBe(State.Closed);
    expect(error).toBe('ETIMEDOUT');
    expect(p.stack.stats.counters['zero-window-probes']).toBe(4);
  });

  /** Answers whatever synack sends with a zero window, for `ms` of virtual time; returns how often it sent. */
  function holdWindowShut(p: ReturnType<typeof rawPeer>, ack: number, ms: number): number {
    const end = p.clock.now() + ms;
    let sent = 0;
    while (p.clock.now() < end && p.clock.next() <= end) {
      p.clock.advance(p.clock.next());
      if (p.take().length > 0) {
        sent++;
        p.inject({ seq: 1, ack, flags: ACK, window: 0 });
        p.take();
      }
    }
    return sent;
  }

  it("after close(), answered probes do not keep a zero-window connection for ever: it goes once they back off past maxRto, as Linux's orphans", () => {
    const p = rawPeer();
    const { sock } = p.handshake([{ kind: 'mss', value: 1000 }], 0);
    // 64 KiB the peer will never take, then close(): nobody is left to give up on it.
    sock.write(bytes(65536));
    sock.close();
    const probes = holdWindowShut(p, 1001, 3_600_000);
    expect(sock.conn.state).toBe(State.Closed);
    expect(p.stack.connections.size).toBe(0);
    // Linux: eight probes at least, and the last interval at maxRto (tcp_orphan_retries).
    expect(probes).toBeGreaterThanOrEqual(8);
    expect(probes).toBeLessThan(15);
    expect(p.stack.stats.counters['zero-window-timeouts']).toBe(1);
  });

  it('so does a closed connection whose data in flight meets a zero window: its retransmissions count', () => {
    const p = rawPeer();
    const { sock } = p.handshake([{ kind: 'mss', value: 1000 }]);
    sock.write(bytes(8000));
    sock.close();
    p.take();
    p.inject({ seq: 1, ack: 2001, flags: ACK, window: 0 });
    p.take();
    holdWindowShut(p, 2001, 6 * 3_600_000);
    expect(sock.conn.state).toBe(State.Closed);
    expect(p.stack.connections.size).toBe(0);
  });

  it('data nobody acknowledges is sent again R2 times (15), but 8 once the application has closed (as Linux)', () => {
    for (const close of [false, true]) {
      const p = rawPeer();
      const { sock } = p.handshake([{ kind: 'mss', value: 1000 }]);
      sock.write(bytes(500));
      if (close) sock.close();
      p.take();
      p.clock.run(p.clock.now() + 6 * 3_600_000);
      expect(sock.conn.state).toBe(State.Closed);
      expect(p.stack.stats.counters.retransmits).toBe(close ? 8 : 15);
    }
  });

  it('while the application holds the socket, answered probes go on (MUST-37)', () => {
    const p = rawPeer();
    const { sock } = p.handshake([{ kind: 'mss', value: 1000 }], 0);
    sock.write(bytes(65536));
    sock.end();
    holdWindowShut(p, 1001, 3_600_000);
    expect(sock.conn.state).toBe(State.FinWait1);
  });
});

describe('sender SWS avoidance (MUST-38)', () => {
  it('a 10-byte window does not get a 10-byte segment at once; the override timer sends it later', () => {
    const p = rawPeer();
    const { sock } = p.handshake([{ kind: 'mss', value: 1000 }]);
    p.inject({ seq: 1, ack: 1001, flags: ACK, window: 10 });
    sock.write(bytes(1000));
    expect(p.take().filter((s) => s.seg.payload.length > 0)).toHaveLength(0);
    expect(p.stack.stats.counters['sws-deferred']).toBeGreaterThan(0);
    p.clock.advance(p.clock.next());
    const later = p.take().filter((s) => s.seg.payload.length > 0);
    expect(later).toHaveLength(1);
    expect(later[0].seg.payload.length).toBe(10);
  });
});

describe('acknowledgments (RFC 9293 §3.8.6.3, MUST-40, MUST-58, MUST-59)', () => {
  const data = (p: ReturnType<typeof rawPeer>, seq: number, n = 1000) =>
    encodePacket(p.P, p.L, p.segment({ seq, ack: 1001, flags: ACK, payload: bytes(n) }));

  it('three segments arriving in one batch are acknowledged once', () => {
    const p = rawPeer();
    p.handshake([{ kind: 'mss', value: 1000 }]);
    p.stack.receiveBatch([data(p, 1), data(p, 1001), data(p, 2001)]);
    const acks = p.take();
    expect(acks).toHaveLength(1);
    expect(acks[0].seg.ack).toBe(3001);
  });

  it('after the quick-ack start, a lone segment is acknowledged after the delay (≤ 200 ms), two full-sized ones at once', () => {
    const p = rawPeer({ config: { quickAcks: 2 } });
    p.handshake([{ kind: 'mss', value: 1000 }]);
    let seq = 1;
    for (let i = 0; i < 2; i++, seq += 1000) {
      p.injectRaw(data(p, seq));
      expect(p.take()).toHaveLength(1); // quick-ack mode
    }
    p.injectRaw(data(p, seq));
    seq += 1000;
    expect(p.take()).toHaveLength(0);
    const t0 = p.clock.now();
    p.clock.advance(p.clock.next());
    const delayed = p.take();
    expect(delayed).toHaveLength(1);
    expect(delayed[0].seg.ack).toBe(seq);
    expect(p.clock.now() - t0).toBeGreaterThanOrEqual(40);
    expect(p.clock.now() - t0).toBeLessThanOrEqual(200);
    // Every second full-sized segment: the second is acknowledged at once.
    p.injectRaw(data(p, seq));
    expect(p.take()).toHaveLength(0);
    p.injectRaw(data(p, seq + 1000));
    const both = p.take();
    expect(both).toHaveLength(1);
    expect(both[0].seg.ack).toBe(seq + 2000);
  });

  it('out-of-order data and the segment that fills the hole are acknowledged at once', () => {
    const p = rawPeer({ config: { quickAcks: 0 } });
    p.handshake([{ kind: 'mss', value: 1000 }]);
    p.injectRaw(data(p, 1001));
    const dup = p.take();
    expect(dup).toHaveLength(1);
    expect(dup[0].seg.ack).toBe(1);
    p.injectRaw(data(p, 1));
    const filled = p.take();
    expect(filled).toHaveLength(1);
    expect(filled[0].seg.ack).toBe(2001);
  });

  it('delayed ACKs can be turned off: every segment is acknowledged at once', () => {
    const p = rawPeer({ config: { delayedAck: false, quickAcks: 0 } });
    p.handshake([{ kind: 'mss', value: 1000 }]);
    p.injectRaw(data(p, 1));
    expect(p.take()).toHaveLength(1);
  });

  it("the third segment goes as the SYN,ACK is processed, before the batch's next packet; data queued in SYN-SENT carries it instead", () => {
    for (const queued of [false, true]) {
      const p = rawPeer();
      const sock = p.stack.connect({ host: p.P.join('.'), port: 80 });
      if (queued) sock.write('hello');
      const [syn] = p.take();
      const synAck = encodePacket(
        p.P,
        p.L,
        p.segment({
          srcPort: 80,
          dstPort: syn.seg.srcPort,
          seq: 5000,
          ack: 1001,
          flags: SYN | ACK,
        }),
      );
      // A segment for a port with no listener: answered at once with a reset.
      const stray = encodePacket(p.P, p.L, p.segment({ dstPort: 9, seq: 7, flags: SYN }));
      p.stack.receiveBatch([synAck, stray]);
      const out = p.take().map((o) => o.seg);
      expect(out.map((s) => s.dstPort)).toEqual([80, 40000]);
      expect(out[0].ack).toBe(5001);
      expect(out[0].payload.length).toBe(queued ? 5 : 0);
    }
  });

  it('data the application answers carries the ACK: no separate pure ACK', () => {
    const p = rawPeer({ config: { quickAcks: 0 } });
    const { sock } = p.handshake([{ kind: 'mss', value: 1000 }]);
    sock.on('data', () => sock.write('pong'));
    p.injectRaw(data(p, 1, 4));
    const out = p.take();
    expect(out).toHaveLength(1);
    expect(out[0].seg.payload.length).toBe(4);
    expect(out[0].seg.ack).toBe(5);
  });
});

describe('addresses that cannot be a peer (MUST-46, MUST-57, MUST-63, RFC 1122 §4.2.3.10)', () => {
  for (const from of ['255.255.255.255', '224.0.0.1', '0.0.0.0', '127.0.0.1']) {
    it(`a SYN from ${from} gets neither SYN,ACK nor RST`, () => {
      const p = rawPeer();
      p.stack.listen({ port: 80 });
      p.inject({ seq: 0, flags: SYN }, parseAddr(from)!);
      p.inject({ seq: 0, flags: SYN, dstPort: 81 }, parseAddr(from)!);
      expect(p.take()).toHaveLength(0);
      expect(p.stack.stats.drops['bad-source-address']).toBe(2);
    });
  }

  for (const to of ['224.0.0.1', '255.255.255.255', '0.0.0.0', 'ff02::1']) {
    it(`connect() to ${to} is refused and sends nothing`, () => {
      const p = rawPeer({ v6: to.includes(':') });
      expect(() => p.stack.connect({ host: to, port: 80 })).toThrow(/ENETUNREACH|unicast/);
      expect(p.packets()).toHaveLength(0);
    });
  }

  it('a segment to a broadcast or multicast address is discarded silently', () => {
    const p = rawPeer();
    p.stack.listen({ port: 80 });
    const pkt = encodePacket(p.P, parseAddr('224.0.0.9')!, p.segment({ seq: 0, flags: SYN }));
    p.injectRaw(pkt);
    expect(p.take()).toHaveLength(0);
    expect(p.stack.stats.drops['not-for-us']).toBe(1);
  });
});

describe('packets a host must not answer', () => {
  it('a SYN from our own address to our own port (LAND) is dropped, not answered', () => {
    const p = rawPeer();
    p.stack.listen({ port: 80 });
    p.injectRaw(encodePacket(p.L, p.L, p.segment({ srcPort: 80, seq: 0, flags: SYN })));
    expect(p.take()).toHaveLength(0);
    expect(p.stack.stats.drops.land).toBe(1);
  });

  it('a SYN with an IPv4 source-route option is dropped, not answered around the route', () => {
    const p = rawPeer();
    p.stack.listen({ port: 80 });
    const plain = encodePacket(p.P, p.L, p.segment({ seq: 0, flags: SYN }));
    // An LSRR option (type 131, length 7, pointer 4, one hop) and an EOL.
    const pkt = withIpv4Options(plain, [131, 7, 4, 198, 18, 9, 9, 0]);
    p.injectRaw(pkt);
    expect(p.take()).toHaveLength(0);
    expect(p.stack.stats.drops['source-route']).toBe(1);
    // The same SYN without the option is answered.
    p.injectRaw(plain);
    expect(p.take()).toHaveLength(1);
  });
});

describe('RST acceptance (RFC 5961 §3.2, MUST-66)', () => {
  it('an RST 100,001 bytes past RCV.NXT, beyond the 65,535 advertised, is dropped without a challenge ACK', () => {
    const p = rawPeer();
    const { sock } = p.handshake([{ kind: 'mss', value: 1460 }]);
    p.inject({ seq: 1, ack: 1001, flags: ACK, payload: bytes(10) });
    expect(p.take()[0].seg.window).toBe(65535);
    p.inject({ seq: 11 + 100_001, flags: RST });
    expect(p.take()).toHaveLength(0);
    expect(p.stack.stats.drops['rst-out-of-window']).toBe(1);
    expect(sock.state).toBe(State.Established);
    // Inside the advertised window but not exact: a challenge ACK.
    p.inject({ seq: 11 + 60_000, flags: RST });
    expect(p.take()).toHaveLength(1);
  });

  it('an exact RST carrying data at a zero window resets the connection', () => {
    const p = rawPeer({ config: { rcvBuf: 2000 } });
    const { sock } = p.handshake([{ kind: 'mss', value: 1000 }]);
    p.inject({ seq: 1, ack: 1001, flags: ACK, payload: bytes(1000) });
    p.inject({ seq: 1001, ack: 1001, flags: ACK, payload: bytes(1000) });
    const acks = p.take();
    expect(acks[acks.length - 1].seg.window).toBe(0);
    let code = '';
    sock.on('error', (e) => (code = e.code));
    p.inject({ seq: 2001, flags: RST | ACK, ack: 1001, payload: bytes(20) });
    expect(sock.state).toBe(State.Closed);
    expect(code).toBe('ECONNRESET');
  });

  it('at a zero window, a segment still delivers its ACK and urgent pointer', () => {
    const p = rawPeer({ config: { rcvBuf: 1000 } });
    const { sock } = p.handshake([{ kind: 'mss', value: 1000 }]);
    sock.write(bytes(500));
    p.take();
    p.inject({ seq: 1, ack: 1001, flags: ACK, payload: bytes(1000) });
    p.take();
    let urgent = -1;
    sock.on('urgent', (n) => (urgent = n));
    p.inject({ seq: 1001, ack: 1501, flags: ACK | URG, urgent: 5, payload: bytes(10) });
    expect(sock.conn.sndUna).toBe(1501);
    expect(urgent).toBeGreaterThan(0);
  });
});

describe('malformed options (MUST-6, MUST-7)', () => {
  const cases: [string, Uint8Array][] = [
    ['a Fast Open option with a 1-byte cookie', new Uint8Array([34, 3, 9, 1])],
    ['an MSS option of length 3', new Uint8Array([2, 3, 5, 1])],
    ['an option of length 0', new Uint8Array([1, 1, 99, 0])],
    ['an option of length 1', new Uint8Array([99, 1, 0, 0])],
    ['an option running past the header', new Uint8Array([1, 1, 8, 10])],
  ];
  for (const [what, opt] of cases) {
    it(`a SYN with ${what} is still answered, and the fault counted`, () => {
      const p = rawPeer();
      p.stack.listen({ port: 80 });
      const seg = p.segment({ seq: 0, flags: SYN, options: [{ kind: 'mss', value: 1200 }] });
      const plain = encodePacket(p.P, p.L, seg);
      const pkt = withTcpOptionBytes(plain, opt);
      p.injectRaw(pkt);
      const out = p.take();
      expect(out).toHaveLength(1);
      expect(out[0].seg.flags).toBe(SYN | ACK);
      const c = p.stack.stats.counters;
      expect(
        (c['options-bad-length'] ?? 0) +
          (c['options-zero-length'] ?? 0) +
          (c['options-overrun'] ?? 0),
      ).toBe(1);
    });
  }
});

describe('TIME-WAIT (RFC 9293 §3.10.7.4, RFC 6191)', () => {
  /** A connection synack closed first, now in TIME-WAIT; the peer used timestamps (TSval 500). */
  function timeWait() {
    const p = rawPeer();
    const { sock } = p.handshake(ALL);
    const ts = (val: number): TcpOption[] => [
      { kind: 'nop' },
      { kind: 'nop' },
      { kind: 'ts', val, ecr: 0 },
    ];
    sock.end();
    p.take();
    p.inject({ seq: 1, ack: 1002, flags: ACK | FIN, options: ts(500) });
    p.take();
    expect(sock.state).toBe(State.TimeWait);
    return { p, sock, ts };
  }

  it('a SYN+FIN above RCV.NXT does not end TIME-WAIT', () => {
    const { p, sock, ts } = timeWait();
    p.inject({ seq: 100_000, flags: SYN | FIN, options: ts(600) });
    expect(sock.conn.state).toBe(State.TimeWait);
    expect(p.take().every((s) => (s.seg.flags & SYN) === 0)).toBe(true);
  });

  it('a new SYN whose timestamp is older than TS.Recent does not reopen it, though its sequence number is higher', () => {
    const { p, sock, ts } = timeWait();
    p.inject({ seq: 100_000, flags: SYN, options: ts(400) });
    expect(sock.conn.state).toBe(State.TimeWait);
    expect(p.take().every((s) => (s.seg.flags & SYN) === 0)).toBe(true);
  });

  /** What the host's table holds for the connection: its TIME-WAIT record, the connection, or nothing. */
  const entry = (p: ReturnType<typeof rawPeer>) => [...p.stack.connections.values()][0];

  it('lasts 2×MSL as a compact record, then the socket reads CLOSED and nothing is kept', () => {
    const { p, sock } = timeWait();
    const start = p.clock.now();
    expect(entry(p)).toBeInstanceOf(TimeWaitRecord);
    p.clock.run(start + 60_000 - 1);
    expect(entry(p)).toBeInstanceOf(TimeWaitRecord);
    expect(sock.state).toBe(State.TimeWait);
    p.clock.run(start + 60_000);
    expect(p.stack.connections.size).toBe(0);
    expect(sock.state).toBe(State.Closed);
  });

  it('once a record, nothing the host keeps leads to the connection the application holds (it is garbage when let go)', () => {
    const { p, sock, ts } = timeWait();
    /** Whether `target` can be reached from `root` through properties, entries and WeakRefs (which a young collection keeps). */
    const reaches = (root: object, target: object): boolean => {
      const seen = new Set<object>();
      const todo: unknown[] = [root];
      while (todo.length > 0) {
        const x = todo.pop();
        if (typeof x !== 'object' || x === null || seen.has(x) || ArrayBuffer.isView(x)) continue;
        if (x === target) return true;
        seen.add(x);
        if (x instanceof WeakRef) todo.push(x.deref());
        else if (x instanceof Map) for (const [k, v] of x) todo.push(k, v);
        else if (x instanceof Set) for (const v of x) todo.push(v);
        else for (const k of Reflect.ownKeys(x)) todo.push((x as Record<PropertyKey, unknown>)[k]);
      }
      return false;
    };
    expect(entry(p)).toBeInstanceOf(TimeWaitRecord);
    expect(reaches(p.stack, sock.conn)).toBe(false);
    // Restored by a segment and made a record again: still nothing leads to it.
    p.inject({ seq: 1, ack: 1002, flags: ACK | FIN, options: ts(501) });
    p.take();
    expect(entry(p)).toBeInstanceOf(TimeWaitRecord);
    expect(reaches(p.stack, sock.conn)).toBe(false);
    expect(sock.state).toBe(State.TimeWait);
  });

  it('a retransmitted FIN restarts 2×MSL (RFC 9293 §3.10.7.4): the record made then ends later', () => {
    const { p, sock, ts } = timeWait();
    const start = p.clock.now();
    p.clock.run(start + 30_000);
    p.inject({ seq: 1, ack: 1002, flags: ACK | FIN, options: ts(501) });
    // The FIN is acknowledged again, and the connection is a record again after the batch.
    expect(p.take().some((s) => s.seg.flags === ACK && s.seg.ack === 2)).toBe(true);
    expect(entry(p)).toBeInstanceOf(TimeWaitRecord);
    p.clock.run(start + 60_000);
    expect(sock.state).toBe(State.TimeWait);
    p.clock.run(start + 90_000);
    expect(sock.state).toBe(State.Closed);
    expect(p.stack.connections.size).toBe(0);
  });

  it('a segment that does not restart it leaves the end where it was (the same record, filled again)', () => {
    const { p, sock, ts } = timeWait();
    const start = p.clock.now();
    const rec = entry(p);
    p.clock.run(start + 30_000);
    // An old duplicate below RCV.NXT: answered with an ACK, TIME-WAIT goes on unchanged.
    p.inject({ seq: 0, ack: 1002, flags: ACK, payload: new Uint8Array(1), options: ts(501) });
    expect(p.take().length).toBeGreaterThan(0);
    expect(entry(p)).toBe(rec);
    p.clock.run(start + 60_000);
    expect(sock.state).toBe(State.Closed);
    expect(p.stack.connections.size).toBe(0);
  });

  it('a new SYN with a newer timestamp reopens it: a SYN,ACK answers', () => {
    const { p, sock, ts } = timeWait();
    p.inject({ seq: 100_000, flags: SYN, options: ts(600) });
    expect(sock.conn.state).toBe(State.Closed);
    const out = p.take();
    expect(out.some((s) => s.seg.flags === (SYN | ACK) && s.seg.ack === 100_001)).toBe(true);
  });
});

describe('MSS (MUST-15, MUST-16, MUST-67)', () => {
  it('IPv6 connections announce MSS 1440 (MTU 1500 − 60)', () => {
    const p = rawPeer({ v6: true });
    const { synAck } = p.handshake();
    expect(synAck[0].seg.options).toContainEqual({ kind: 'mss', value: 1440 });
  });

  it('without an MSS option the send MSS is 536 (IPv4) and 1220 (IPv6)', () => {
    for (const v6 of [false, true]) {
      const p = rawPeer({ v6 });
      const { sock } = p.handshake([]);
      expect(sock.conn.sndMss).toBe(v6 ? 1220 : 536);
    }
  });
});

describe('CLOSE with data the application never read (RFC 9293 §3.10.4, RFC 2525 §2.17)', () => {
  it('close() with unread data sends RST, not FIN', () => {
    const p = rawPeer();
    const { sock } = p.handshake();
    p.inject({ seq: 1, ack: 1001, flags: ACK, payload: bytes(100) });
    p.take();
    sock.close();
    const out = p.take();
    expect(out).toHaveLength(1);
    expect(out[0].seg.flags & RST).toBe(RST);
    expect(sock.state).toBe(State.Closed);
    expect(p.stack.stats.counters['resets-unread-data']).toBe(1);
  });

  it('close() with everything read sends FIN; data arriving afterwards is answered with RST', () => {
    const p = rawPeer();
    const { sock } = p.handshake();
    sock.close();
    const fin = p.take();
    expect(fin[0].seg.flags & FIN).toBe(FIN);
    p.inject({ seq: 1, ack: 1002, flags: ACK, payload: bytes(100) });
    const out = p.take();
    expect(out.some((s) => (s.seg.flags & RST) !== 0)).toBe(true);
    expect(sock.conn.state).toBe(State.Closed);
    expect(p.stack.stats.drops['data-after-close']).toBe(1);
  });

  it('end() is a half-close: data still arrives and is read', () => {
    const p = rawPeer();
    const { sock } = p.handshake();
    sock.end();
    p.take();
    p.inject({ seq: 1, ack: 1002, flags: ACK, payload: bytes(100) });
    expect(sock.read()?.length).toBe(100);
  });
});

describe('FIN-WAIT-2 after close(): the peer never sends its FIN', () => {
  /** A connection the application closed whole; the peer acknowledged our FIN and sent none. */
  function orphaned(config?: Partial<TcpConfig>) {
    const p = rawPeer({ config });
    const { sock } = p.handshake();
    sock.close();
    expect(p.take()[0].seg.flags & FIN).toBe(FIN);
    p.inject({ seq: 1, ack: 1002, flags: ACK });
    expect(sock.conn.state).toBe(State.FinWait2);
    return { p, sock, start: p.clock.now() };
  }

  it('ends after finTimeout (60 s), silently: nothing is kept, nothing is sent', () => {
    const { p, sock, start } = orphaned();
    p.clock.run(start + 60_000 - 1);
    expect(sock.conn.state).toBe(State.FinWait2);
    p.clock.run(start + 60_000);
    expect(sock.conn.state).toBe(State.Closed);
    expect(p.stack.connections.size).toBe(0);
    expect(p.take()).toHaveLength(0);
    expect(p.stack.stats.counters['fin-wait-2-timeouts']).toBe(1);
  });

  it('a FIN before then is answered and leads to TIME-WAIT, as always', () => {
    const { p, sock, start } = orphaned();
    p.clock.run(start + 30_000);
    p.inject({ seq: 1, ack: 1002, flags: ACK | FIN });
    expect(p.take().map((s) => s.seg.ack)).toEqual([2]);
    expect(sock.state).toBe(State.TimeWait);
    expect(p.stack.stats.counters['fin-wait-2-timeouts']).toBeUndefined();
  });

  it('lasts at least 3.5 RTOs, time for the peer to send its FIN again (as Linux)', () => {
    // The handshake took no time: RTO is its 200 ms floor, so at least 700 ms.
    const { p, sock, start } = orphaned({ finTimeout: 100 });
    p.clock.run(start + 699);
    expect(sock.conn.state).toBe(State.FinWait2);
    p.clock.run(start + 700);
    expect(sock.conn.state).toBe(State.Closed);
  });

  /** A connection half-closed with end(): our FIN acknowledged, the application still reading. */
  function halfClosed() {
    const p = rawPeer();
    const { sock } = p.handshake();
    sock.end();
    p.take();
    p.inject({ seq: 1, ack: 1002, flags: ACK });
    expect(sock.conn.state).toBe(State.FinWait2);
    return { p, sock };
  }

  it('after end() alone the application still reads: FIN-WAIT-2 waits as long as the peer keeps sending', () => {
    const { p, sock } = halfClosed();
    p.clock.run(p.clock.now() + 3_600_000);
    expect(sock.conn.state).toBe(State.FinWait2);
    p.inject({ seq: 1, ack: 1002, flags: ACK, payload: bytes(100) });
    expect(sock.read()?.length).toBe(100);
  });

  it('close() after end() starts the wait where the connection already is', () => {
    const { p, sock } = halfClosed();
    p.clock.run(p.clock.now() + 10_000);
    const closedAt = p.clock.now();
    sock.close();
    p.clock.run(closedAt + 60_000 - 1);
    expect(sock.conn.state).toBe(State.FinWait2);
    p.clock.run(closedAt + 60_000);
    expect(sock.conn.state).toBe(State.Closed);
  });

  it("past the host's bound on such connections (orphanMax, Linux's tcp_max_orphans) close() resets instead", () => {
    const p = rawPeer({ orphanMax: 2 });
    const server = p.stack.listen({ port: 80 });
    const open = (port: number) => {
      p.inject({ srcPort: port, seq: 0, flags: SYN, options: [{ kind: 'mss', value: 1460 }] });
      p.inject({ srcPort: port, seq: 1, ack: 1001, flags: ACK });
      return server.accept()!;
    };
    const socks = [open(20001), open(20002), open(20003)];
    p.take();
    for (const s of socks) s.close();
    const sent = p.take();
    expect(sent.map((s) => s.seg.flags & (FIN | RST))).toEqual([FIN, FIN, RST]);
    expect(socks.map((s) => s.state)).toEqual([State.FinWait1, State.FinWait1, State.Closed]);
    expect(p.stack.stats.counters['orphan-overflows']).toBe(1);
    // One of them ends (the peer's FIN, then TIME-WAIT): room for one more.
    p.inject({ srcPort: 20001, seq: 1, ack: 1002, flags: ACK | FIN });
    expect(socks[0].state).toBe(State.TimeWait);
    const next = open(20004);
    p.take();
    next.close();
    expect(p.take().map((s) => s.seg.flags & (FIN | RST))).toEqual([FIN]);
  });

  it('close() with writes still waiting for buffer space counts against orphanMax when they have gone', () => {
    const p = rawPeer({ orphanMax: 0, config: { sndBuf: 1000 } });
    const { sock } = p.handshake([{ kind: 'mss', value: 1000 }]);
    expect(sock.write(bytes(3000))).toBe(false);
    sock.close();
    // The peer takes everything; the last write goes, then the close it held back.
    for (let ack = 2001; ack <= 4001; ack += 1000) {
      p.take();
      p.inject({ seq: 1, ack, flags: ACK });
    }
    const last = p.take();
    expect(last.some((s) => (s.seg.flags & RST) !== 0)).toBe(true);
    expect(sock.state).toBe(State.Closed);
    expect(p.stack.stats.counters['orphan-overflows']).toBe(1);
  });

  it('a thousand peers that never send their FIN hold nothing a minute later', () => {
    const p = rawPeer();
    const server = p.stack.listen({ port: 80, backlog: 2048 });
    for (let i = 0; i < 1000; i++) {
      const port = 20000 + i;
      p.inject({ srcPort: port, seq: 0, flags: SYN, options: [{ kind: 'mss', value: 1460 }] });
      p.inject({ srcPort: port, seq: 1, ack: 1001, flags: ACK });
      server.accept()!.close();
      p.inject({ srcPort: port, seq: 1, ack: 1002, flags: ACK });
    }
    p.take();
    expect(p.stack.connections.size).toBe(1000);
    p.clock.run(p.clock.now() + 60_000);
    expect(p.stack.connections.size).toBe(0);
    expect(p.stack.stats.counters['fin-wait-2-timeouts']).toBe(1000);
  });
});

describe('out-of-order queue under attack', () => {
  it('1-byte segments with gaps: held runs stay within their count bound, the highest are pruned', () => {
    const p = rawPeer({ config: { oooMaxSegments: 64 } });
    const { sock } = p.handshake(WS);
    for (let i = 0; i < 5000; i++) {
      p.inject({ seq: 3 + 2 * i, ack: 1001, flags: ACK, payload: bytes(1) });
      p.take();
    }
    const ooo = sock.conn.ooo!;
    expect(ooo.count).toBeLessThanOrEqual(64);
    expect(p.stack.stats.drops['ooo-pruned']).toBeGreaterThan(0);
    // The lowest runs were kept: filling the first gap delivers the bytes in order.
    p.inject({ seq: 1, ack: 1001, flags: ACK, payload: bytes(2, 0x7a) });
    const got = sock.read()!;
    expect(got[0]).toBe(0x7a);
    expect(got.length).toBe(3);
  });

  it('reassembly holds exactly the bytes a model holds, coalescing adjacent runs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 60 })), {
          maxLength: 80,
        }),
        (arrivals) => {
          const r = new Reassembly(1000);
          const model = new Map<number, number>();
          for (const [off, len] of arrivals) {
            const seq = 1000 + off;
            const d = new Uint8Array(len).map((_, k) => (seq + k) & 0xff);
            r.insert(seq, d, false);
            for (let k = 0; k < len; k++) model.set(seq + k, (seq + k) & 0xff);
          }
          expect(r.bytes).toBe(model.size);
          // No two runs touch: every SACK block is separated from the next by a gap.
          const blocks = r.sackBlocks(1000);
          const sorted: [number, number][] = [];
          for (let i = 0; i < blocks.length; i += 2) sorted.push([blocks[i], blocks[i + 1]]);
          sorted.sort((a, b) => a[0] - b[0]);
          for (let i = 1; i < sorted.length; i++)
            expect(sorted[i][0]).toBeGreaterThan(sorted[i - 1][1]);
          // Filling from 1001 yields exactly the model's bytes up to the first gap.
          const out: number[] = [];
          const res = r.pull(1001, (d) => out.push(...d));
          let expectNext = 1001;
          while (model.has(expectNext)) expectNext++;
          expect(res.next).toBe(expectNext);
          expect(out).toEqual([...Array(expectNext - 1001)].map((_, k) => (1001 + k) & 0xff));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('connection failures (RFC 9293 §3.8.3: R1, R2)', () => {
  it('after R1 SYN retransmissions the application hears a soft error, and TCP keeps trying', () => {
    const p = rawPeer();
    const sock = p.stack.connect({ host: p.P, port: 80 });
    const soft: string[] = [];
    sock.on('softError', (e) => soft.push(e.code));
    p.clock.advance(8_000); // SYN at 0, resends at 1, 3 and 7 s
    expect(soft).toEqual(['ETIMEDOUT']);
    expect(sock.state).toBe(State.SynSent);
    p.clock.run();
    expect(p.clock.now()).toBeGreaterThanOrEqual(180_000); // MUST-23
  });

  it('the application sets R2 per connection (MUST-21)', () => {
    const p = rawPeer();
    const { sock } = p.handshake();
    sock.setRetries(1, 2);
    let code = '';
    const soft: string[] = [];
    sock.on('error', (e) => (code = e.code));
    sock.on('softError', (e) => soft.push(e.code));
    sock.write(bytes(100));
    p.clock.run();
    expect(code).toBe('ETIMEDOUT');
    expect(soft).toEqual(['ETIMEDOUT']);
    expect(p.stack.stats.counters.retransmits).toBe(2);
    expect(() => sock.setRetries(3, 2)).toThrow(RangeError);
  });
});

describe('ICMP (MUST-54, MUST-55, MUST-56, SHLD-25, RFC 5927)', () => {
  const router = parseAddr('198.18.7.1')!;

  function withDataInFlight() {
    const p = rawPeer();
    const { sock } = p.handshake([{ kind: 'mss', value: 1460 }]);
    sock.write(bytes(3000));
    const sent = p.take();
    return { p, sock, sent };
  }

  it('port unreachable for a segment in flight is a soft error in ESTABLISHED', () => {
    const { p, sock, sent } = withDataInFlight();
    const soft: string[] = [];
    sock.on('softError', (e) => soft.push(e.code));
    p.injectRaw(encodeIcmpError(router, sent[0].packet, 3, 3));
    expect(soft).toEqual(['ECONNREFUSED']);
    expect(sock.state).toBe(State.Established);
  });

  it('a forged error quoting a sequence number outside the flight is ignored', () => {
    const { p, sock, sent } = withDataInFlight();
    const forged = sent[0].packet.slice();
    forged[24] ^= 0x40; // the quoted TCP sequence number, far from the flight
    let soft = 0;
    sock.on('softError', () => soft++);
    p.injectRaw(encodeIcmpError(router, forged, 3, 1));
    p.injectRaw(encodeIcmpError(router, forged, 3, 4, 576));
    expect(soft).toBe(0);
    expect(sock.conn.sndMss).toBe(1460);
    expect(p.stack.stats.drops['icmp-out-of-window']).toBe(2);
  });

  it('an error for no connection of ours changes nothing', () => {
    const { p, sent } = withDataInFlight();
    const other = sent[0].packet.slice();
    other[20] ^= 1; // another source port
    p.injectRaw(encodeIcmpError(router, other, 3, 3));
    expect(p.stack.stats.drops['icmp-no-connection']).toBe(1);
  });

  it('source quench is discarded silently (MUST-55); time exceeded and parameter problem do not abort (MUST-56)', () => {
    const { p, sock, sent } = withDataInFlight();
    p.injectRaw(encodeIcmpError(router, sent[0].packet, 4, 0));
    expect(p.stack.stats.drops['icmp-source-quench']).toBe(1);
    p.injectRaw(encodeIcmpError(router, sent[0].packet, 11, 0));
    p.injectRaw(encodeIcmpError(router, sent[0].packet, 12, 0));
    p.injectRaw(encodeIcmpError(router, sent[0].packet, 3, 1));
    expect(sock.state).toBe(State.Established);
    expect(p.stack.stats.counters['soft-errors']).toBe(3);
  });

  it('a hard error ends a connection still opening; a soft one lets it keep trying and names the failure', () => {
    const p = rawPeer({ config: { synRetries: 2 } });
    const refused = p.stack.connect({ host: p.P, port: 80 });
    let code = '';
    refused.on('error', (e) => (code = e.code));
    const [syn] = p.take();
    p.injectRaw(encodeIcmpError(router, syn.packet, 3, 3));
    expect(refused.state).toBe(State.Closed);
    expect(code).toBe('ECONNREFUSED');

    const slow = p.stack.connect({ host: p.P, port: 81 });
    let final = '';
    slow.on('error', (e) => (final = e.code));
    const [syn2] = p.take();
    p.injectRaw(encodeIcmpError(router, syn2.packet, 3, 1));
    expect(slow.state).toBe(State.SynSent);
    p.clock.run();
    expect(final).toBe('EHOSTUNREACH');
  });

  it('fragmentation needed lowers the MSS and resends at once; a floor keeps it sane', () => {
    const { p, sock, sent } = withDataInFlight();
    p.injectRaw(encodeIcmpError(router, sent[0].packet, 3, 4, 1200));
    expect(sock.conn.sndMss).toBe(1200 - 40);
    const resent = p.take();
    expect(resent).toHaveLength(1);
    expect(resent[0].packet.length).toBeLessThanOrEqual(1200);
    p.injectRaw(encodeIcmpError(router, resent[0].packet, 3, 4, 100));
    expect(sock.conn.sndMss).toBe(552 - 40);
  });

  it('ICMPv6 packet too big lowers the MSS, not below the IPv6 minimum MTU', () => {
    const p = rawPeer({ v6: true });
    const { sock } = p.handshake([{ kind: 'mss', value: 1440 }]);
    sock.write(bytes(3000));
    const sent = p.take();
    const r6 = parseAddr('2001:db8:7::1')!;
    p.injectRaw(encodeIcmpError(r6, sent[0].packet, 2, 0, 1300));
    expect(sock.conn.sndMss).toBe(1300 - 60);
    p.injectRaw(encodeIcmpError(r6, sent[0].packet, 2, 0, 600));
    expect(sock.conn.sndMss).toBe(1280 - 60);
  });

  for (const v6 of [false, true]) {
    it(`echo requests are answered (ping, IPv${v6 ? 6 : 4})`, () => {
      const p = rawPeer({ v6 });
      const data = new Uint8Array([1, 2, 3, 4, 5]);
      p.injectRaw(encodeIcmp(p.P, p.L, v6 ? 128 : 8, 0, (0x1234 << 16) | 7, data));
      const [reply] = p.packets();
      const ip = decodeIp(reply);
      if (typeof ip === 'string') throw new Error(ip);
      const m = decodeIcmp(ip);
      expect(ipPayload(ip)[0]).toBe(v6 ? 129 : 0);
      expect(typeof m).not.toBe('string');
      expect(ipPayload(ip).subarray(4, 8)).toEqual(new Uint8Array([0x12, 0x34, 0, 7]));
      expect(ipPayload(ip).subarray(8)).toEqual(data);
    });
  }
});

describe('urgent data (MUST-30..33, MUST-62, RFC 6093)', () => {
  it('sent urgent data carries URG with the pointer just past its last byte', () => {
    const p = rawPeer();
    const { sock } = p.handshake();
    sock.writeUrgent('!!');
    const [seg] = p.take();
    expect(seg.seg.flags & URG).toBe(URG);
    expect(seg.seg.urgent).toBe(2);
  });

  it('urgent data of any length: every segment up to the pointer says so', () => {
    const p = rawPeer();
    const { sock } = p.handshake([{ kind: 'mss', value: 1000 }]);
    sock.writeUrgent(bytes(2500));
    const segs = p.take();
    expect(segs.map((s) => [s.seg.flags & URG, s.seg.urgent])).toEqual([
      [URG, 2500],
      [URG, 1500],
      [URG, 500],
    ]);
  });

  it('received urgent data is announced at once and stays inline; the application learns how much', () => {
    const p = rawPeer();
    const { sock } = p.handshake();
    const seen: number[] = [];
    sock.on('urgent', (n) => seen.push(n));
    p.inject({ seq: 1, ack: 1001, flags: ACK | URG, urgent: 3, payload: bytes(10) });
    expect(seen).toEqual([3]);
    expect(sock.urgentPending).toBe(3);
    expect(sock.read(2)?.length).toBe(2);
    expect(sock.urgentPending).toBe(1);
    expect(sock.read()?.length).toBe(8);
    expect(sock.urgentPending).toBe(0);
  });
});

describe('TTL and DiffServ per connection (MUST-48, MUST-49)', () => {
  it('segments carry the TTL and TOS the application set; defaults are 64 and 0', () => {
    const p = rawPeer();
    const { sock, synAck } = p.handshake();
    expect([synAck[0].ttl, synAck[0].tos]).toEqual([64, 0]);
    sock.setTTL(42).setTOS(0xb8);
    sock.write('x');
    const [s] = p.take();
    expect([s.ttl, s.tos]).toEqual([42, 0xb8]);
    expect(() => sock.setTTL(0)).toThrow(RangeError);
    expect(() => sock.setTOS(256)).toThrow(RangeError);
  });

  it('IPv6 carries them as hop limit and traffic class', () => {
    const p = rawPeer({ v6: true, config: { ttl: 9, tos: 0x28 } });
    const { synAck } = p.handshake();
    expect([synAck[0].ttl, synAck[0].tos]).toEqual([9, 0x28]);
  });
});

describe('ACK loops between desynchronised ends (RFC 5961 §7)', () => {
  it('out-of-window pure ACKs are answered at most once per 500 ms; data segments always', () => {
    const p = rawPeer();
    p.handshake();
    p.inject({ seq: 1, ack: 1001, flags: ACK, payload: bytes(100) });
    p.take();
    for (let i = 0; i < 10; i++) p.inject({ seq: 1, ack: 1001, flags: ACK });
    expect(p.take()).toHaveLength(1);
    expect(p.stack.stats.counters['invalid-acks-suppressed']).toBe(9);
    for (let i = 0; i < 3; i++) p.inject({ seq: 1, ack: 1001, flags: ACK, payload: bytes(10) });
    expect(p.take()).toHaveLength(3);
    p.clock.advance(p.clock.now() + 500);
    p.inject({ seq: 1, ack: 1001, flags: ACK });
    expect(p.take()).toHaveLength(1);
  });
});

describe('keep-alive (RFC 9293 §3.8.4, MUST-24..29)', () => {
  const probes = (p: ReturnType<typeof rawPeer>) =>
    p.take().filter((s) => s.seg.payload.length === 0 && s.seg.seq === 1000);

  it('off by default: an idle connection sends nothing for hours', () => {
    const p = rawPeer();
    p.handshake();
    p.clock.advance(5 * 3_600_000);
    expect(p.take()).toHaveLength(0);
  });

  it('when the application asks, probes start after the default idle time of 2 hours, not before', () => {
    const p = rawPeer();
    const { sock } = p.handshake();
    sock.setKeepAlive(true);
    p.clock.advance(2 * 3_600_000 - 1);
    expect(probes(p)).toHaveLength(0);
    p.clock.advance(2 * 3_600_000);
    expect(probes(p)).toHaveLength(1);
  });

  it('the idle interval is configurable, and only idleness counts: traffic postpones the probe', () => {
    const p = rawPeer();
    const { sock } = p.handshake();
    sock.setKeepAlive(true, 10_000);
    p.clock.advance(8_000);
    p.inject({ seq: 1, ack: 1001, flags: ACK, payload: bytes(10) });
    p.take();
    p.clock.advance(16_000);
    expect(probes(p)).toHaveLength(0);
    p.clock.advance(18_001);
    expect(probes(p)).toHaveLength(1);
  });

  it('tolerates lost ACKs: several unanswered probes, then an answer keeps the connection', () => {
    const p = rawPeer({ config: { keepAliveInterval: 1000 } });
    const { sock } = p.handshake();
    sock.setKeepAlive(true, 1000);
    p.clock.advance(p.clock.now() + 1000 + 5 * 1000);
    expect(probes(p).length).toBeGreaterThanOrEqual(5);
    // The answer comes late, after five lost probes: the count starts again from none.
    p.inject({ seq: 1, ack: 1001, flags: ACK });
    p.clock.advance(p.clock.now() + 8_000);
    expect(sock.state).toBe(State.Established);
  });

  it('a peer that never answers is given up after the configured probes', () => {
    const p = rawPeer({ config: { keepAliveInterval: 1000, keepAliveProbes: 3 } });
    const { sock } = p.handshake();
    let code = '';
    sock.on('error', (e) => (code = e.code));
    sock.setKeepAlive(true, 1000);
    p.clock.run();
    expect(code).toBe('ETIMEDOUT');
    expect(p.stack.stats.counters['keepalive-probes']).toBe(3);
  });
});

describe('more of RFC 9293 §3, checked directly', () => {
  it('robust against a shrinking window (MUST-34): nothing is sent past the new edge; sending resumes when it opens', () => {
    const p = rawPeer();
    const { sock } = p.handshake([{ kind: 'mss', value: 1000 }], 10_000);
    sock.write(bytes(30_000));
    const first = p.take();
    expect(first.reduce((n, s) => n + s.seg.payload.length, 0)).toBe(10_000);
    // The peer acknowledges 1,000 bytes and shrinks its window to 2,000: the edge moves left.
    p.inject({ seq: 1, ack: 2001, flags: ACK, window: 2000 });
    expect(p.take().filter((s) => s.seg.payload.length > 0)).toHaveLength(0);
    expect(sock.state).toBe(State.Established);
    p.inject({ seq: 1, ack: 11001, flags: ACK, window: 10_000 });
    const more = p.take().filter((s) => s.seg.payload.length > 0);
    expect(more.length).toBeGreaterThan(0);
    expect(more[0].seg.seq).toBe(11001);
  });

  it('the MSS option goes only on SYN segments (MUST-65)', () => {
    const p = rawPeer();
    const { sock, synAck } = p.handshake(ALL);
    expect(synAck[0].seg.options.some((o) => o.kind === 'mss')).toBe(true);
    sock.write(bytes(5000));
    sock.end();
    for (const s of p.take()) expect(s.seg.options.some((o) => o.kind === 'mss')).toBe(false);
  });

  it('options are found at any alignment (MUST-64) and our own are padded with zeros (MUST-69)', () => {
    const p = rawPeer();
    p.stack.listen({ port: 80 });
    p.inject({
      seq: 0,
      flags: SYN,
      options: [
        { kind: 'nop' },
        { kind: 'wscale', shift: 5 },
        { kind: 'mss', value: 1000 },
        { kind: 'sackOk' },
      ],
    });
    const [synAck] = p.take();
    expect(synAck.seg.options).toContainEqual({ kind: 'wscale', shift: 7 });
    expect(synAck.seg.options).toContainEqual({ kind: 'sackOk' });
    const conn = [...p.stack.listeners[0].synQueue.values()][0];
    expect(conn.offer.mss).toBe(1000);
    // A 3-byte option list is padded to 4 with a zero byte.
    const pkt = encodePacket(p.P, p.L, p.segment({ options: [{ kind: 'wscale', shift: 1 }] }));
    expect(pkt[20 + 12] >> 4).toBe(6);
    expect(pkt[20 + 23]).toBe(0);
  });

  it('IPv4 options TCP does not understand are ignored (MUST-50): the SYN is answered', () => {
    const p = rawPeer();
    p.stack.listen({ port: 80 });
    const plain = encodePacket(p.P, p.L, p.segment({ seq: 0, flags: SYN }));
    // Record route (type 7, length 7, pointer 4, room for one address) and an EOL.
    const pkt = withIpv4Options(plain, [7, 7, 4, 0, 0, 0, 0, 0]);
    p.injectRaw(pkt);
    const out = p.take();
    expect(out).toHaveLength(1);
    expect(out[0].seg.flags).toBe(SYN | ACK);
  });

  it('OPEN takes an optional local address; without one the source is chosen for the destination (MUST-43..45)', () => {
    const p = rawPeer();
    const two = new (p.stack.constructor as typeof import('../../src/stack/stack.ts').Stack)({
      addresses: ['198.18.0.1', '198.18.0.3', '2001:db8::1'],
      clock: p.clock,
    });
    const sent: Uint8Array[] = [];
    two.attach({ onPacket: null, send: (x) => sent.push(x) });
    two.connect({ host: '198.18.0.2', port: 80, localAddress: '198.18.0.3' });
    two.connect({ host: '2001:db8::2', port: 80 });
    const srcs = sent.map((x) => {
      const ip = decodeIp(x);
      return typeof ip === 'string' ? '' : ip.src.join('.');
    });
    expect(srcs[0]).toBe('198.18.0.3');
    expect(srcs[1].split('.').length).toBe(16);
  });

  it('a passive OPEN does not disturb connections already using its port (MUST-41)', () => {
    const p = rawPeer();
    const { sock } = p.handshake();
    // A second client's SYN to the same listening port makes a half-open record, nothing more.
    p.inject({ srcPort: 40001, seq: 0, flags: SYN });
    p.inject({ seq: 1, ack: 1001, flags: ACK, payload: bytes(5) });
    expect(sock.state).toBe(State.Established);
    expect(sock.read()?.length).toBe(5);
    expect(p.stack.listeners[0].synQueue.size).toBe(1);
  });
});
