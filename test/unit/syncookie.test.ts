import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryPair } from '../../src/link/memory.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { Stack } from '../../src/stack/stack.ts';
import { seededRandom } from '../../src/tcp/random.ts';
import { COOKIE_PERIOD, CookieJar, cookieTsVal, MSS_TABLE } from '../../src/tcp/syncookie.ts';
import { profiles, State } from '../../src/tcp/types.ts';
import { parseAddr } from '../../src/wire/addr.ts';
import { decodePacket } from '../../src/wire/packet.ts';
import { ACK, encodePacket, SYN } from '../../src/wire/tcp.ts';

const A = parseAddr('198.18.0.1')!;
const B = parseAddr('198.18.0.2')!;
const u32 = fc.integer({ min: 0, max: 0xffffffff });

describe('SYN cookie codec', () => {
  it('a cookie checks out for its own 4-tuple and client ISN, with the MSS from the table', () => {
    const jar = new CookieJar(seededRandom(1), 0);
    fc.assert(
      fc.property(
        u32,
        fc.integer({ min: 1, max: 65535 }),
        fc.integer({ min: 0, max: 2 * COOKIE_PERIOD }),
        (irs, mss, later) => {
          const c = jar.make(B, 80, A, 5000, irs, mss, 1000);
          const r = jar.check(B, 80, A, 5000, irs, c, 1000 + later);
          expect(r.ok).toBe(true);
          if (r.ok) expect(r.mss).toBe([...MSS_TABLE].reverse().find((m) => m <= mss) ?? 536);
        },
      ),
    );
  });

  it('any other tuple, ISN or flipped bit fails the MAC (bad-mac), never throws', () => {
    const jar = new CookieJar(seededRandom(2), 0);
    fc.assert(
      fc.property(u32, fc.integer({ min: 0, max: 23 }), (irs, bit) => {
        const c = jar.make(B, 80, A, 5000, irs, 1460, 0);
        expect(jar.check(B, 80, A, 5001, irs, c, 0)).toEqual({
          ok: false,
          reason: 'cookie-bad-mac',
        });
        expect(jar.check(B, 80, A, 5000, (irs + 1) >>> 0, c, 0)).toEqual({
          ok: false,
          reason: 'cookie-bad-mac',
        });
        expect(jar.check(B, 80, A, 5000, irs, (c ^ (1 << bit)) >>> 0, 0)).toEqual({
          ok: false,
          reason: 'cookie-bad-mac',
        });
      }),
    );
  });

  it('expires after MAX_AGE counter steps', () => {
    const jar = new CookieJar(seededRandom(3), 0);
    const c = jar.make(B, 80, A, 5000, 42, 1460, 0);
    expect(jar.check(B, 80, A, 5000, 42, c, 3 * COOKIE_PERIOD - 1).ok).toBe(true);
    expect(jar.check(B, 80, A, 5000, 42, c, 3 * COOKIE_PERIOD)).toEqual({
      ok: false,
      reason: 'cookie-expired',
    });
  });

  it('rotating the secret keeps cookies made under the previous one valid until they expire', () => {
    const jar = new CookieJar(seededRandom(4), 0);
    const c = jar.make(B, 80, A, 5000, 7, 1460, 0);
    jar.rotate(1000);
    expect(jar.check(B, 80, A, 5000, 7, c, 2000).ok).toBe(true);
    jar.rotate(2000); // two rotations: the original secret is gone
    expect(jar.check(B, 80, A, 5000, 7, c, 3000)).toEqual({ ok: false, reason: 'cookie-bad-mac' });
  });

  it('window scale and SACK ride in the low bits of TS val and come back in TS ecr', () => {
    fc.assert(
      fc.property(
        u32,
        fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined }),
        fc.boolean(),
        (clock, wscale, sackOk) => {
          const ts = cookieTsVal(clock, { wscale, sackOk });
          expect(((clock - ts) | 0) >= 0 && ((clock - ts) | 0) < 128).toBe(true);
          const jar = new CookieJar(seededRandom(5), 0);
          const c = jar.make(B, 80, A, 5000, 1, 1460, 0);
          const r = jar.check(B, 80, A, 5000, 1, c, 0, ts);
          expect(r.ok ? r.offer.wscale : 'failed').toBe(wscale);
          expect(r.ok ? r.offer.sackOk : 'failed').toBe(sackOk);
        },
      ),
    );
  });
});

function pair(
  cookies: 'auto' | 'always' | 'off',
  backlog: number,
  extra: { listenerResetLimit?: number } = {},
) {
  const clock = new VirtualClock();
  const a = new Stack({ name: 'a', addresses: ['198.18.0.1'], clock, random: seededRandom(1) });
  const b = new Stack({
    name: 'b',
    addresses: ['198.18.0.2'],
    clock,
    random: seededRandom(2),
    ...extra,
  });
  const [la, lb] = memoryPair((fn) => clock.schedule(clock.now() + 1, fn));
  a.attach(la);
  b.attach(lb);
  const server = b.listen({ port: 80, backlog, config: { synCookies: cookies } });
  return { clock, a, b, server };
}

const spoof = (n: number) =>
  encodePacket(new Uint8Array([198, 19, n >> 8, n & 0xff]), B, {
    srcPort: 1024 + n,
    dstPort: 80,
    seq: n * 7919,
    ack: 0,
    flags: SYN,
    window: 65535,
    urgent: 0,
    options: [],
    payload: new Uint8Array(0),
  });

describe('listener defences', () => {
  it("'auto': once the SYN queue is full, SYNs get cookies and real clients still connect", () => {
    const { clock, a, b, server } = pair('auto', 4);
    for (let i = 0; i < 100; i++) b.receive(spoof(i));
    expect(server.listener.synQueue.size).toBe(4);
    const socks = [0, 1, 2].map(() => a.connect({ host: '198.18.0.2', port: 80 }));
    clock.run(clock.now() + 100);
    expect(socks.map((s) => s.state)).toEqual([
      State.Established,
      State.Established,
      State.Established,
    ]);
    expect(b.stats.counters['cookies-sent']).toBe(96 + 3);
    expect(b.stats.counters['cookies-accepted']).toBe(3);
    expect(b.stats.counters['syn-queue-overflows']).toBe(99);
    expect(server.listener.synQueue.size).toBe(4);
  });

  it("'off': the same flood drops SYNs (counted) and real clients are not served", () => {
    const { clock, a, b, server } = pair('off', 4);
    for (let i = 0; i < 100; i++) b.receive(spoof(i));
    const s = a.connect({ host: '198.18.0.2', port: 80 });
    clock.run(clock.now() + 500);
    expect(s.state).toBe(State.SynSent);
    expect(b.stats.drops['syn-queue-full']).toBe(97);
    expect(server.listener.synQueue.size).toBe(4);
  });

  it('a valid cookie ACK with a full accept queue is dropped and counted, not reset', () => {
    const { clock, a, b, server } = pair('always', 0); // accept queue holds 1
    const s1 = a.connect({ host: '198.18.0.2', port: 80 });
    clock.run(clock.now() + 50);
    const s2 = a.connect({ host: '198.18.0.2', port: 80 });
    clock.run(clock.now() + 50);
    expect(s1.state).toBe(State.Established);
    expect(server.listener.acceptQueue.length).toBe(1);
    expect(b.stats.drops['accept-queue-full']).toBeGreaterThan(0);
    expect(b.stats.counters['resets-sent'] ?? 0).toBe(0);
    void s2;
  });

  it('RSTs for stray ACKs at a listener are rate limited and counted', () => {
    const { b } = pair('always', 16, { listenerResetLimit: 5 });
    let out = 0;
    b.attach({ onPacket: null, send: () => out++ });
    for (let i = 0; i < 50; i++) {
      b.receive(
        encodePacket(A, B, {
          srcPort: 2000 + i,
          dstPort: 80,
          seq: 1,
          ack: i * 1000,
          flags: ACK,
          window: 1,
          urgent: 0,
          options: [],
          payload: new Uint8Array(0),
        }),
      );
    }
    expect(b.stats.counters['cookies-rejected']).toBe(50);
    expect(b.stats.counters['resets-suppressed']).toBe(45);
    expect(out).toBe(5);
  });
});

describe('cookie SYN,ACKs without a trace (options reused between SYNs)', () => {
  it('each SYN,ACK carries its own SYN’s echo and the options its SYN offered; both clients connect', () => {
    const clock = new VirtualClock();
    const b = new Stack({ name: 'b', addresses: ['198.18.0.2'], clock, random: seededRandom(2) });
    const out: Uint8Array[] = [];
    b.attach({ onPacket: null, send: (p) => out.push(p) });
    b.listen({ port: 80, backlog: 16, config: { synCookies: 'always' } });
    const syn = (port: number, val: number, sack: boolean) =>
      encodePacket(A, B, {
        srcPort: port,
        dstPort: 80,
        seq: 1000,
        ack: 0,
        flags: SYN,
        window: 65535,
        urgent: 0,
        options: [
          { kind: 'mss', value: 1460 },
          ...(sack ? [{ kind: 'sackOk' } as const] : []),
          { kind: 'ts', val, ecr: 0 },
          { kind: 'nop' },
          { kind: 'wscale', shift: 7 },
        ],
        payload: new Uint8Array(0),
      });
    b.receive(syn(5001, 111, true));
    b.receive(syn(5002, 222, false));
    const replies = out.map((p) => decodePacket(p)).filter((p) => typeof p !== 'string');
    expect(replies).toHaveLength(2);
    const ts = (i: number) => replies[i].seg.options.find((o) => o.kind === 'ts');
    expect(ts(0)).toMatchObject({ ecr: 111 });
    expect(ts(1)).toMatchObject({ ecr: 222 });
    expect(replies[0].seg.options.some((o) => o.kind === 'sackOk')).toBe(true);
    expect(replies[1].seg.options.some((o) => o.kind === 'sackOk')).toBe(false);
    // The ACKs that return the cookies open both connections.
    for (const [i, port] of [5001, 5002].entries()) {
      const r = replies[i].seg;
      const t = ts(i) as { val: number };
      b.receive(
        encodePacket(A, B, {
          srcPort: port,
          dstPort: 80,
          seq: 1001,
          ack: (r.seq + 1) >>> 0,
          flags: ACK,
          window: 512,
          urgent: 0,
          options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'ts', val: 1000 + i, ecr: t.val }],
          payload: new Uint8Array(0),
        }),
      );
    }
    expect(b.stats.counters['cookies-accepted']).toBe(2);
  });
});

describe('an RTT sample from the SYN,ACK, only when it made a round trip', () => {
  // A Linux-profile listener takes the SYN,ACK's round trip as the first RTT
  // sample (tcp_synack_rtt_meas) — only from a record that knows when it left
  // (RFC 6298 §3: a sample measures a round trip). A record rebuilt from a
  // cookie does not; the simulator's two-way listener sends none before.
  for (const [name, listen, sampled] of [
    ['from the SYN queue: the SYN,ACK gives a sample', { synCookies: 'off' }, true],
    ['from a cookie: no sample', { synCookies: 'always' }, false],
    ['from a two-way listener (NOT TCP): no sample', { handshake: 'two-way' }, false],
  ] as const) {
    it(name, () => {
      const clock = new VirtualClock();
      const b = new Stack({ name: 'b', addresses: ['198.18.0.2'], clock, random: seededRandom(5) });
      const out: Uint8Array[] = [];
      b.attach({ onPacket: null, send: (p) => out.push(p) });
      const l = b.listen({
        port: 80,
        handshake: 'handshake' in listen ? listen.handshake : undefined,
        config: {
          synCookies: 'synCookies' in listen ? listen.synCookies : 'off',
          profile: profiles.linux,
        },
      });
      const seg = {
        srcPort: 5001,
        dstPort: 80,
        window: 65535,
        urgent: 0,
        payload: new Uint8Array(0),
      };
      b.receive(
        encodePacket(A, B, {
          ...seg,
          seq: 1000,
          ack: 0,
          flags: SYN,
          options: [{ kind: 'mss', value: 1460 }],
        }),
      );
      const synAck = decodePacket(out[0]);
      if (typeof synAck === 'string') throw new Error(synAck);
      clock.advance(40);
      b.receive(
        encodePacket(A, B, {
          ...seg,
          seq: 1001,
          ack: (synAck.seg.seq + 1) >>> 0,
          flags: ACK,
          options: [],
        }),
      );
      const peer = l.accept();
      expect(peer?.state).toBe('ESTABLISHED');
      const conn = peer!.conn;
      expect(conn.rttSampled).toBe(sampled);
      if (sampled) expect(conn.srtt).toBe(40);
    });
  }
});
