import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryPair } from '../../src/link/memory.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { Stack } from '../../src/stack/stack.ts';
import { seededRandom } from '../../src/tcp/random.ts';
import { State, TraceLog } from '../../src/tcp/types.ts';
import { parseAddr } from '../../src/wire/addr.ts';
import { decodePacket } from '../../src/wire/packet.ts';
import { ACK, encodePacket, FIN, RST, SYN } from '../../src/wire/tcp.ts';

/** Two stacks on one virtual clock, 198.18.0.1 (a) and 198.18.0.2 (b), not yet attached to links. */
function stacks(
  opts: { challengeAckLimit?: number; tracer?: TraceLog; timeWaitMax?: number } = {},
) {
  const clock = new VirtualClock();
  const a = new Stack({
    name: 'a',
    addresses: ['198.18.0.1'],
    clock,
    random: seededRandom(1),
    ...opts,
  });
  const b = new Stack({
    name: 'b',
    addresses: ['198.18.0.2'],
    clock,
    random: seededRandom(2),
    ...opts,
  });
  return { clock, a, b };
}

function pair(opts: { challengeAckLimit?: number; tracer?: TraceLog; timeWaitMax?: number } = {}) {
  const { clock, a, b } = stacks(opts);
  const [la, lb] = memoryPair((fn) => clock.schedule(clock.now() + 1, fn));
  a.attach(la);
  b.attach(lb);
  return { clock, a, b, la, lb };
}

const A = parseAddr('198.18.0.1')!;
const B = parseAddr('198.18.0.2')!;
const seg = (over: Partial<Parameters<typeof encodePacket>[2]>) => ({
  srcPort: 5000,
  dstPort: 80,
  seq: 1,
  ack: 0,
  flags: 0,
  window: 1000,
  urgent: 0,
  options: [],
  payload: new Uint8Array(0),
  ...over,
});

describe('stack', () => {
  it('the timer queue lets go of connections once they close and of half-open records once they complete', () => {
    const { clock, a, b } = pair();
    const server = b.listen({ port: 80 });
    const accepted: ReturnType<typeof server.accept>[] = [];
    for (let i = 0; i < 20; i++) {
      const sock = a.connect({ host: '198.18.0.2', port: 80 });
      clock.run(clock.now() + 10);
      const peer = server.accept();
      expect(peer?.state).toBe(State.Established);
      accepted.push(peer);
      // Closed by a RST: CLOSED at once on both ends, without TIME-WAIT.
      sock.destroy();
      clock.run(clock.now() + 10);
      expect(peer?.state).toBe(State.Closed);
    }
    // Far short of any timer coming due (the SYN's and SYN,ACK's 1 s RTO):
    // an entry that still named a closed connection or a completed record
    // would keep it, and its socket, in memory until then.
    expect(clock.now()).toBeLessThan(1000);
    for (const s of [a, b]) {
      const items = (s as unknown as { timers: { items: { deadline: number }[] } }).timers.items;
      const kept = items.filter((t) => 'state' in t || 'listener' in t);
      expect(kept).toEqual([]);
    }
  });

  it('TIME-WAIT holds at most timeWaitMax connections; past it they close at once, counted and traced', () => {
    const tracer = new TraceLog();
    const { clock, a, b } = pair({ timeWaitMax: 3, tracer });
    const server = b.listen({ port: 80 });
    const states: string[] = [];
    for (let i = 0; i < 5; i++) {
      // The client closes first: its end takes TIME-WAIT, the server's closes (LAST-ACK).
      const sock = a.connect({ host: '198.18.0.2', port: 80 });
      clock.run(clock.now() + 10);
      const peer = server.accept()!;
      sock.end();
      clock.run(clock.now() + 10);
      peer.end();
      clock.run(clock.now() + 10);
      expect(peer.state).toBe(State.Closed);
      states.push(sock.state);
      // The overflow's release is delivered in the step that made it: no event
      // waits in the queue (holding the connection) for the next one.
      expect((a as unknown as { evCount: number }).evCount).toBe(0);
    }
    // Three wait; the next two closed after their last ACK instead.
    expect(states).toEqual([
      State.TimeWait,
      State.TimeWait,
      State.TimeWait,
      State.Closed,
      State.Closed,
    ]);
    expect(a.stats.counters['time-wait-overflows']).toBe(2);
    expect(b.stats.counters['time-wait-overflows'] ?? 0).toBe(0);
    const why = tracer.events.filter(
      (e) => e.type === 'state' && e.host === 'a' && e.from === State.TimeWait,
    );
    expect(why.map((e) => (e.type === 'state' ? e.why : ''))).toEqual([
      'time-wait overflow',
      'time-wait overflow',
    ]);
    // The server's last FIN was acknowledged before the client's end went: nothing
    // is retransmitted, nothing answered with RST.
    expect(b.stats.counters.retransmits ?? 0).toBe(0);
    expect(b.stats.counters['resets-received'] ?? 0).toBe(0);
    // Once the three records' TIME-WAIT ends (60 s), there is room again.
    clock.run(clock.now() + 61_000);
    const sock = a.connect({ host: '198.18.0.2', port: 80 });
    clock.run(clock.now() + 10);
    const peer = server.accept()!;
    sock.end();
    peer.end();
    clock.run(clock.now() + 10);
    expect(sock.state).toBe(State.TimeWait);
    expect(a.stats.counters['time-wait-overflows']).toBe(2);
  });

  it('closing a listener forgets its half-open records in the order their SYNs came', () => {
    // The SYN queue's slots are ordered by a keyed hash with a random secret:
    // what a close reports must not depend on it.
    const tracer = new TraceLog();
    const { b } = stacks({ tracer });
    b.attach({ onPacket: null, send: () => {} });
    const server = b.listen({ port: 80 });
    for (const port of [5007, 5001, 5005, 5003, 5000, 5006, 5002, 5004])
      b.receive(encodePacket(A, B, seg({ srcPort: port, flags: SYN, seq: 100 })));
    const states = (keep: (e: { to: State; why?: string }) => boolean) =>
      tracer.events.flatMap((e) => (e.type === 'state' && keep(e) ? [e.conn] : []));
    const arrived = states((e) => e.to === State.SynReceived);
    expect(arrived).toHaveLength(8);
    server.close();
    const forgotten = states((e) => e.why === 'listener closed');
    expect(forgotten).toEqual(arrived);
  });

  it('timeWaitMax and orphanMax must be whole numbers of connections', () => {
    const clock = new VirtualClock();
    for (const bad of [-1, 1.5, Number.NaN]) {
      expect(() => new Stack({ addresses: ['198.18.0.1'], clock, timeWaitMax: bad })).toThrow(
        /timeWaitMax must be an integer of 0 or more/,
      );
      expect(() => new Stack({ addresses: ['198.18.0.1'], clock, orphanMax: bad })).toThrow(
        /orphanMax must be an integer of 0 or more/,
      );
    }
  });

  it('a socket that connects to itself reaches ESTABLISHED through simultaneous open', () => {
    const clock = new VirtualClock();
    const log = new TraceLog();
    const s = new Stack({
      name: 'self',
      addresses: ['198.18.0.1'],
      clock,
      random: seededRandom(3),
      tracer: log,
    });
    s.attach({ onPacket: null, send: (p) => clock.schedule(clock.now() + 1, () => s.receive(p)) });
    const sock = s.connect({ host: '198.18.0.1', port: 40001, localPort: 40001 });
    let connected = false;
    sock.on('connect', () => (connected = true));
    const got: number[] = [];
    sock.on('data', (d) => got.push(...d));
    sock.on('connect', () => sock.write(new Uint8Array([1, 2, 3])));
    clock.run(10_000);
    expect(connected).toBe(true);
    expect(got).toEqual([1, 2, 3]);
    const states = log.events
      .filter((e) => e.type === 'state')
      .map((e) => (e.type === 'state' ? e.to : ''));
    expect(states).toEqual([State.SynSent, State.SynReceived, State.Established]);
  });

  it('a connection refused by RST surfaces ECONNREFUSED as an error event', () => {
    const { clock, a } = pair();
    const sock = a.connect({ host: '198.18.0.2', port: 81 });
    let code = '';
    sock.on('error', (e) => (code = e.code));
    clock.run(10_000);
    expect(code).toBe('ECONNREFUSED');
  });

  it('an RST that matches nothing is never answered; a stray ACK gets one RST', () => {
    const { a, b, clock } = pair();
    b.listen({ port: 80 });
    let out = 0;
    b.attach({ onPacket: null, send: () => out++ });
    b.receive(encodePacket(A, B, seg({ dstPort: 99, flags: RST })));
    b.receive(encodePacket(A, B, seg({ dstPort: 99, flags: ACK, ack: 5 })));
    clock.run(100);
    expect(out).toBe(1);
    expect(b.stats.drops['no-connection']).toBe(1);
    expect(b.stats.drops['no-listener']).toBe(1);
    void a;
  });

  it('challenge ACKs are rate limited per host (RFC 5961 §7)', () => {
    const { a, b, clock } = pair({ challengeAckLimit: 3 });
    b.listen({ port: 80 });
    const c = a.connect({ host: '198.18.0.2', port: 80, localPort: 5000 });
    clock.run(100);
    expect(c.state).toBe(State.Established);
    const conn = c.conn;
    for (let i = 0; i < 10; i++) {
      // In-window, not exact: each asks for a challenge ACK.
      a.receive(
        encodePacket(
          B,
          A,
          seg({ srcPort: 80, dstPort: 5000, flags: RST, seq: (conn.rcvNxt + 100 + i) >>> 0 }),
        ),
      );
    }
    expect(a.stats.counters['challenge-acks-sent']).toBe(3);
    expect(a.stats.counters['challenge-acks-suppressed']).toBe(7);
    expect(c.state).toBe(State.Established);
  });

  it('a full accept queue drops SYNs and final ACKs (counted, no RST) until accept() makes room', () => {
    const { a, b, clock } = pair();
    // SYN queue 2, accept queue 3 (Linux's rule); cookies off to see the queue itself.
    const server = b.listen({ port: 80, backlog: 2, config: { synCookies: 'off' } });
    const socks = [0, 1, 2, 3].map(() => a.connect({ host: '198.18.0.2', port: 80 }));
    clock.run(clock.now() + 5000);
    expect(b.stats.drops['syn-queue-full']).toBeGreaterThan(0);
    expect(b.stats.drops['accept-queue-full']).toBeGreaterThan(0);
    expect(server.listener.acceptQueue.length).toBe(3);
    expect(b.stats.counters['resets-sent'] ?? 0).toBe(0);
    // Every client believes it is connected: the fourth's final ACK was dropped, not refused.
    expect(socks.every((s) => s.state === State.Established)).toBe(true);
    expect(server.accept()).toBeDefined();
    clock.run(clock.now() + 10_000);
    expect(server.listener.acceptQueue.length).toBe(3);
  });

  it('garbage from the network never throws: every packet is dropped and counted', () => {
    const { b } = pair();
    b.listen({ port: 80 });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        b.receive(bytes);
      }),
      { numRuns: 3000 },
    );
    const drops = Object.values(b.stats.drops).reduce((x, y) => x + (y ?? 0), 0);
    expect(drops).toBeGreaterThan(2900);
  });

  it('user errors are clear: bad port, bad address, port in use', () => {
    const { a } = pair();
    expect(() => a.connect({ host: '198.18.0.2', port: 0 })).toThrow(
      /port must be an integer from 1 to 65535, got 0/,
    );
    expect(() => a.connect({ host: 'example', port: 80 })).toThrow(
      /"example" is not an IPv4 or IPv6 address/,
    );
    a.listen({ port: 80 });
    expect(() => a.listen({ port: 80 })).toThrow(/port 80 already has a listener/);
    expect(() => a.connect({ host: '2001:2::1', port: 80 })).toThrow(/no IPv6 address/);
  });

  it('transfers 1 MiB both ways byte-exact with a lossy link', () => {
    const clock = new VirtualClock();
    const rng = seededRandom(9);
    const a = new Stack({ name: 'a', addresses: ['198.18.0.1'], clock, random: seededRandom(1) });
    const b = new Stack({ name: 'b', addresses: ['198.18.0.2'], clock, random: seededRandom(2) });
    const lossy = (to: Stack) => ({
      onPacket: null,
      send: (p: Uint8Array) => {
        if (rng.u32() % 100 < 3) return; // 3% loss
        clock.schedule(clock.now() + 5 + (rng.u32() % 5), () => to.receive(p));
      },
    });
    a.attach(lossy(b));
    b.attach(lossy(a));
    const data = new Uint8Array(1 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 8)) & 0xff;
    const server = b.listen({ port: 80 });
    const atServer: Uint8Array[] = [];
    const atClient: Uint8Array[] = [];
    server.on('connection', (s) => {
      s.on('data', (d) => atServer.push(d));
      s.on('end', () => s.end(data));
    });
    const c = a.connect({ host: '198.18.0.2', port: 80 });
    c.on('data', (d) => atClient.push(d));
    c.end(data);
    clock.run(600_000);
    const join = (xs: Uint8Array[]) => {
      const out = new Uint8Array(xs.reduce((n, x) => n + x.length, 0));
      let o = 0;
      for (const x of xs) {
        out.set(x, o);
        o += x.length;
      }
      return out;
    };
    const same = (x: Uint8Array) => x.length === data.length && x.every((v, i) => v === data[i]);
    expect(same(join(atServer))).toBe(true);
    expect(same(join(atClient))).toBe(true);
    expect(c.error).toBeNull();
  });
});

describe('links that never leave the process (memoryPair inProcess, Link.fresh)', () => {
  function inProcessPair(tracer?: TraceLog) {
    const clock = new VirtualClock();
    const mk = (name: string, addr: string, seed: number) =>
      new Stack({ name, addresses: [addr], clock, random: seededRandom(seed), tracer });
    const a = mk('a', '198.18.0.1', 1);
    const b = mk('b', '198.18.0.2', 2);
    const sent: Uint8Array[] = [];
    const [la, lb] = memoryPair((fn) => clock.schedule(clock.now() + 1, fn), { inProcess: true });
    const send = la.send;
    la.send = (p) => {
      sent.push(p);
      send(p);
    };
    a.attach(la);
    b.attach(lb);
    const l = b.listen({ port: 80 });
    const sock = a.connect({ host: '198.18.0.2', port: 80 });
    clock.run(clock.now() + 10);
    const peer = l.accept()!;
    const chunks: Uint8Array[] = [];
    peer.on('data', (d) => chunks.push(d));
    sock.write(new Uint8Array(3000).fill(7));
    clock.run(clock.now() + 100);
    return { sent, chunks };
  }
  const tcpChecksum = (p: Uint8Array) => (p[20 + 16] << 8) | p[20 + 17];

  it('carry data with TCP checksums left zero, as Linux loopback, and deliver views of the packets', () => {
    const { sent, chunks } = inProcessPair();
    expect(sent.length).toBeGreaterThan(2);
    expect(sent.every((p) => tcpChecksum(p) === 0)).toBe(true);
    expect(chunks.reduce((n, c) => n + c.length, 0)).toBe(3000);
    expect(chunks.every((c) => c.every((x) => x === 7))).toBe(true);
    // Views of the packets (the payload starts after the headers), not copies.
    expect(chunks.every((c) => c.byteOffset >= 40)).toBe(true);
  });

  it('with a trace: checksums computed (a capture is valid anywhere) and data copied out of the packets', () => {
    const { sent, chunks } = inProcessPair(new TraceLog());
    expect(sent.every((p) => tcpChecksum(p) !== 0)).toBe(true);
    expect(chunks.every((c) => c.byteOffset === 0)).toBe(true);
  });

  it('a plain memory pair checks every checksum: a zeroed one is dropped', () => {
    const { a, b, clock } = pair();
    b.listen({ port: 80 });
    const sock = a.connect({ host: '198.18.0.2', port: 80 });
    clock.run(clock.now() + 10);
    expect(sock.state).toBe(State.Established);
    const bad = encodePacket(A, B, seg({ flags: ACK, seq: 1, ack: 1 }), 64, 0, false);
    b.receive(bad);
    expect(b.stats.drops['bad-tcp-checksum']).toBe(1);
  });
});

describe('links that copy a packet out on send (Link.copies, as a TUN device)', () => {
  function copyingPair(tracer?: TraceLog) {
    const { clock, a, b } = stacks({ tracer });
    // What a's link was handed, and what it copied out at the time (a device's write).
    const handed: Uint8Array[] = [];
    const copied: Uint8Array[] = [];
    const [, lb] = memoryPair((fn) => clock.schedule(clock.now() + 1, fn));
    a.attach({
      copies: true,
      onPacket: null,
      send(p) {
        handed.push(p);
        const copy = p.slice();
        copied.push(copy);
        clock.schedule(clock.now() + 1, () => b.receive(copy));
      },
    });
    lb.send = (p) => clock.schedule(clock.now() + 1, () => a.receive(p));
    b.attach(lb);
    const l = b.listen({ port: 80 });
    const sock = a.connect({ host: '198.18.0.2', port: 80 });
    clock.run(clock.now() + 10);
    const peer = l.accept()!;
    const got: number[] = [];
    peer.on('data', (d) => got.push(...d));
    const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff);
    sock.write(data);
    clock.run(clock.now() + 100);
    return { handed, copied, got, data, b };
  }

  it('reuses one set of bytes for every packet, and the peer receives each as it was sent', () => {
    const { handed, copied, got, data, b } = copyingPair();
    expect(handed.length).toBeGreaterThan(4);
    // Every packet handed over lives in the same buffer: nothing allocated per packet.
    expect(new Set(handed.map((p) => p.buffer)).size).toBe(1);
    expect(got).toEqual([...data]);
    expect(b.stats.drops['bad-tcp-checksum'] ?? 0).toBe(0);
    // The bytes a packet was handed over with changed afterwards (the next packet went there).
    expect(handed.some((p, i) => !p.every((x, j) => x === copied[i][j]))).toBe(true);
  });

  it('with a trace, each packet is a buffer of its own (the trace keeps them)', () => {
    const { handed, got, data } = copyingPair(new TraceLog());
    expect(new Set(handed.map((p) => p.buffer)).size).toBe(handed.length);
    expect(got).toEqual([...data]);
  });
});

describe('deferOutput: what the application writes in one turn leaves as one burst', () => {
  /** An HTTP/1.0-like exchange; b answers each request with a reply and end() in the same turn. */
  function exchange(defer: boolean) {
    const clock = new VirtualClock();
    const a = new Stack({ name: 'a', addresses: ['198.18.0.1'], clock, random: seededRandom(1) });
    const flushes: number[] = [];
    const b = new Stack({
      name: 'b',
      addresses: ['198.18.0.2'],
      clock,
      random: seededRandom(2),
      // As setImmediate: later, at the same time, once this turn is done.
      deferOutput: defer
        ? (flush) => {
            flushes.push(clock.now());
            clock.schedule(clock.now(), flush);
          }
        : undefined,
    });
    const [la, lb] = memoryPair((fn) => clock.schedule(clock.now() + 1, fn));
    const fromB: { flags: number; len: number }[] = [];
    const send = lb.send;
    lb.send = (p) => {
      const d = decodePacket(p);
      if (typeof d !== 'string') fromB.push({ flags: d.seg.flags, len: d.seg.payload.length });
      send(p);
    };
    a.attach(la);
    b.attach(lb);
    const reply = new Uint8Array(300).fill(0x61);
    b.listen({ port: 80 }).on('connection', (s) =>
      s.on('data', () => {
        s.write(reply);
        s.end();
      }),
    );
    const sock = a.connect({ host: '198.18.0.2', port: 80 });
    const got: number[] = [];
    let ended = false;
    sock.on('data', (d) => got.push(...d));
    sock.on('end', () => {
      ended = true;
      sock.end();
    });
    sock.on('connect', () => sock.write(new Uint8Array(80).fill(0x47)));
    clock.run(clock.now() + 1000);
    return { fromB, got, ended, flushes };
  }

  it('a reply and end() in one turn: one segment carries the ACK, the data and the FIN', () => {
    const { fromB, got, ended, flushes } = exchange(true);
    expect(got.length).toBe(300);
    expect(ended).toBe(true);
    expect(flushes.length).toBeGreaterThan(0);
    // After the SYN,ACK: the reply with FIN (and the ACK of the request), then the last ACK.
    const after = fromB.filter((s) => !(s.flags & SYN));
    expect(after[0].len).toBe(300);
    expect(after[0].flags & (FIN | ACK)).toBe(FIN | ACK);
    expect(after.length).toBe(2);
  });

  it('without it (the simulator): the ACK, the data and the FIN go as separate segments', () => {
    const { fromB, got } = exchange(false);
    expect(got.length).toBe(300);
    const after = fromB.filter((s) => !(s.flags & SYN));
    expect(after.length).toBeGreaterThan(2);
    expect(after[0].len).toBe(0);
  });

  it('a deferOutput that is not a function is refused', () => {
    const clock = new VirtualClock();
    expect(
      () =>
        new Stack({
          addresses: ['198.18.0.2'],
          clock,
          deferOutput: 5 as unknown as (f: () => void) => void,
        }),
    ).toThrow(/deferOutput must be a function/);
  });
});

describe('timers on whole milliseconds (src/tcp/deadline.ts)', () => {
  it('a SYN sent at a fraction of a millisecond is sent again at the next whole one after its RTO', () => {
    const clock = new VirtualClock(10.3);
    const a = new Stack({ name: 'a', addresses: ['198.18.0.1'], clock, random: seededRandom(1) });
    const sent: number[] = [];
    a.attach({ onPacket: null, send: () => void sent.push(clock.now()) });
    a.connect({ host: '198.18.0.2', port: 80 }).on('error', () => {});
    clock.run(2000);
    // RFC 6298's initial RTO of 1 s: 1010.3 ms, rounded up (deadline.ts), as the connection keeps it.
    expect(sent.slice(0, 2)).toEqual([10.3, 1011]);
  });
});
