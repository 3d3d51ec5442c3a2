// Loss recovery and congestion control in the simulator: bulk transfers under
// seeded loss, reordering and duplication arrive byte for byte with every
// algorithm; PRR lets out about ssthresh during a recovery; a lost tail is
// repaired by a probe instead of a timeout; a D-SACK undoes a reduction that
// reordering caused; the cwnd plot shows what the trace says. (Each rule is
// also pinned packet by packet in test/scripts/recovery.)

import { describe, expect, it } from 'vitest';
import { defaultLink, type LinkParams, Network } from '../../src/sim/network.ts';
import { findScenario } from '../../src/sim/scenarios/index.ts';
import { validateConfig } from '../../src/tcp/config.ts';
import { defaultConfig, profiles, type TcpConfig, type TraceEvent } from '../../src/tcp/types.ts';
import { renderCwnd } from '../../src/trace/cwnd.ts';

type Cc = Extract<TraceEvent, { type: 'cc' }>;
type Seg = Extract<TraceEvent, { type: 'segment' }>;

const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 0xff);

/** The client sends `bytes` to the server; returns what the server read and the trace. */
function bulk(
  seed: number,
  bytes: number,
  link: ConstructorParameters<typeof Network>[1],
  config: Partial<TcpConfig>,
  setup?: (net: Network) => void,
  server: Partial<TcpConfig> = config,
) {
  const net = new Network(seed, link);
  const c = net.addHost('client', '198.18.0.1', { config });
  const s = net.addHost('server', '198.18.0.2', { config: server });
  setup?.(net);
  const got: Uint8Array[] = [];
  s.listen({ port: 80 }).on('connection', (sock) => sock.on('data', (d) => got.push(d)));
  const sock = c.connect({ host: '198.18.0.2', port: 80 });
  const data = pattern(bytes);
  sock.on('connect', () => {
    sock.write(data);
    sock.end();
  });
  net.run(600_000);
  const received = Buffer.concat(got);
  const cc = net.events.filter((e): e is Cc => e.type === 'cc' && e.host === 'client');
  return { net, data, received, cc };
}

const link = (p: Partial<LinkParams> = {}): LinkParams => ({ ...defaultLink, latency: 20, ...p });

describe('bulk transfers under chaos arrive byte for byte', () => {
  const cases: [string, Partial<TcpConfig>][] = [
    ['CUBIC, SACK, RACK-TLP', {}],
    ['NewReno, SACK, RACK-TLP', { congestion: 'newreno' }],
    ['NewReno without SACK', { congestion: 'newreno', sack: false }],
    ['CUBIC, SACK, RFC 6675 without RACK', { rack: false }],
    ['linux profile', { profile: profiles.linux }],
    ['freebsd profile', { profile: profiles.freebsd }],
  ];
  for (const [name, config] of cases) {
    it(name, () => {
      for (const seed of [1, 2, 3, 4, 5, 6]) {
        const faults = link({
          loss: 0.01 * seed,
          duplicate: 0.01,
          reorder: 0.02,
          reorderDelay: 15,
          jitter: seed % 2 ? 3 : 0,
        });
        const r = bulk(seed, 150_000, faults, { mss: 1000, ...config });
        expect(r.received.length, `seed ${seed}`).toBe(r.data.length);
        expect(Buffer.compare(r.received, Buffer.from(r.data)), `seed ${seed}`).toBe(0);
      }
    });
  }
});

describe('recovery decisions', () => {
  it('PRR lets out about ssthresh in one recovery (RFC 6937), not a burst', () => {
    const [cubic] = findScenario('cubic-vs-newreno')!.run({ seed: 1, params: {} });
    const cc = cubic.events.filter((e): e is Cc => e.type === 'cc' && e.host === 'client');
    const enter = cc.find((e) => e.event === 'enter-recovery')!;
    const exit = cc.find((e) => e.event === 'exit-recovery')!;
    expect(enter && exit).toBeTruthy();
    const sent = cubic.events.filter(
      (e): e is Seg =>
        e.type === 'segment' &&
        e.host === 'client' &&
        e.dir === 'out' &&
        e.t >= enter.t &&
        e.t < exit.t,
    );
    const bytes = sent.reduce((n, e) => n + e.seg.payload.length, 0);
    expect(bytes / enter.ssthresh).toBeGreaterThan(0.85);
    expect(bytes / enter.ssthresh).toBeLessThan(1.15);
    // cwnd comes down step by step with the ACKs: more than a handful of distinct values.
    const during = cc.filter((e) => e.t >= enter.t && e.t <= exit.t).map((e) => e.cwnd);
    expect(new Set(during).size).toBeGreaterThan(10);
  });

  const dropLast = (net: Network) =>
    net.dropNth(
      (p) => p.from === 'client' && p.seg !== undefined && p.seg.payload.length > 0,
      30,
      'the last data segment',
    );

  it('a lost tail is repaired by a tail loss probe, without an RTO (RFC 8985 §7)', () => {
    const r = bulk(1, 30_000, link(), { mss: 1000, timestamps: false }, dropLast);
    expect(Buffer.compare(r.received, Buffer.from(r.data))).toBe(0);
    expect(r.cc.filter((e) => e.event === 'tlp').length).toBe(1);
    expect(r.cc.filter((e) => e.event === 'enter-loss').length).toBe(0);
  });

  it('at a sub-millisecond RTT the probe still waits 2 ms beyond 2×SRTT (as Linux: TCP_TIMEOUT_MIN)', () => {
    const r = bulk(1, 30_000, link({ latency: 0.05 }), { mss: 1000, timestamps: false }, dropLast);
    expect(Buffer.compare(r.received, Buffer.from(r.data))).toBe(0);
    const tlp = r.cc.find((e) => e.event === 'tlp');
    expect(tlp).toBeDefined();
    // The probe timer was last armed by the last ACK the client had before it.
    const acks = r.net.events.filter(
      (e): e is Seg =>
        e.type === 'segment' && e.host === 'client' && e.dir === 'in' && e.t <= tlp!.t,
    );
    const armed = acks[acks.length - 1].t;
    expect(tlp!.t - armed).toBeGreaterThanOrEqual(2);
    expect(tlp!.t - armed).toBeLessThan(3);
    expect(r.cc.filter((e) => e.event === 'enter-loss').length).toBe(0);
  });

  it('without RACK-TLP the same lost tail waits for the RTO', () => {
    const r = bulk(1, 30_000, link(), { mss: 1000, timestamps: false, rack: false }, dropLast);
    expect(Buffer.compare(r.received, Buffer.from(r.data))).toBe(0);
    expect(r.cc.filter((e) => e.event === 'tlp').length).toBe(0);
    expect(r.cc.filter((e) => e.event === 'enter-loss').length).toBe(1);
  });

  it('reordering mistaken for loss is undone by the D-SACK that follows (RFC 2883)', () => {
    // Segment 15 is held 25 ms: three later ones are SACKed first, so it is
    // retransmitted; the original then arrives and the linux-profile receiver
    // reports the retransmission as a duplicate.
    const hold = (net: Network) =>
      net.holdNth(
        (p) => p.from === 'client' && p.seg !== undefined && p.seg.payload.length > 0,
        25,
        15,
        'held 25 ms',
      );
    const r = bulk(1, 60_000, link(), { mss: 1000 }, hold, {
      mss: 1000,
      profile: profiles.linux,
    });
    expect(Buffer.compare(r.received, Buffer.from(r.data))).toBe(0);
    const enter = r.cc.find((e) => e.event === 'enter-recovery');
    const undo = r.cc.find((e) => e.event === 'undo');
    expect(enter).toBeDefined();
    expect(undo).toBeDefined();
    // The window is back where it was and ssthresh is unset again.
    expect(undo!.ssthresh).toBeGreaterThan(1 << 30);
    expect(r.net.stack('client').stats.counters['recoveries-undone']).toBe(1);
  });

  it('a socket picks its own congestion control (as TCP_CONGESTION); a bad name is refused', () => {
    const net = new Network(1, link());
    const c = net.addHost('client', '198.18.0.1');
    net.addHost('server', '198.18.0.2').listen({ port: 80 });
    const sock = c.connect({ host: '198.18.0.2', port: 80 });
    expect(sock.conn.congestion).toBe('cubic');
    sock.setCongestion('newreno');
    expect(sock.conn.congestion).toBe('newreno');
    expect(() => sock.setCongestion('bbr' as never)).toThrow(
      /setCongestion: must be one of "cubic", "newreno", got "bbr"/,
    );
  });

  it('HyStart leaves slow start when the queue builds, before any loss (RFC 9406; Linux delay detection)', () => {
    // 20 Mbit/s, 40 ms: the path holds ~100 KB; beyond it the RTT only grows (an unbounded queue).
    const run = (config: Partial<TcpConfig>) => {
      const r = bulk(1, 3_000_000, link({ bandwidth: 20e6 }), {
        mss: 1000,
        timestamps: false,
        rcvBuf: 8 << 20,
        sndBuf: 8 << 20,
        ...config,
      });
      expect(Buffer.compare(r.received, Buffer.from(r.data))).toBe(0);
      return {
        events: r.cc.map((e) => e.event),
        maxCwnd: Math.max(...r.cc.map((e) => e.cwnd)),
        ssthresh: r.cc[r.cc.length - 1].ssthresh,
      };
    };
    const off = run({ hystart: false });
    const rfc = run({});
    const linux = run({ profile: profiles.linux });
    expect(off.events).not.toContain('hystart-css');
    expect(off.ssthresh).toBeGreaterThan(1 << 30);
    // HyStart++: Conservative Slow Start, then slow start ends with ssthresh set.
    expect(rfc.events).toContain('hystart-css');
    expect(rfc.events).toContain('hystart-exit');
    expect(rfc.ssthresh).toBeLessThan(1 << 30);
    expect(rfc.maxCwnd).toBeLessThan(off.maxCwnd / 2);
    // Linux's variant ends slow start at once, with a smaller window still.
    expect(linux.events).not.toContain('hystart-css');
    expect(linux.events).toContain('hystart-exit');
    expect(linux.maxCwnd).toBeLessThan(rfc.maxCwnd);
    for (const r of [off, rfc, linux]) expect(r.events).not.toContain('enter-recovery');
  });

  it('TcpConfig.congestion and rack are checked', () => {
    expect(() => validateConfig({ ...defaultConfig(), congestion: 'vegas' as never })).toThrow(
      /TcpConfig.congestion must be one of "cubic", "newreno", got "vegas"/,
    );
    expect(() => validateConfig({ ...defaultConfig(), rack: 1 as never })).toThrow(
      /TcpConfig.rack must be one of true, false/,
    );
    expect(defaultConfig(profiles.linux).congestion).toBe('cubic');
    expect(defaultConfig(profiles.freebsd).congestion).toBe('newreno');
    expect(defaultConfig(profiles.freebsd).rack).toBe(false);
  });
});

describe('congestion window plot (--format cwnd)', () => {
  it('draws what the trace has: recoveries, timeouts and probes marked, well formed', () => {
    for (const name of ['loss-recovery', 'cubic-vs-newreno', 'random']) {
      for (const r of findScenario(name)!.run({ seed: 3, params: {} })) {
        const { svg, summary } = renderCwnd(r.events);
        const text = svg.join('\n');
        const cc = r.events.filter(
          (e): e is Cc =>
            e.type === 'cc' && e.host === summary.host && `#${e.conn}` === summary.connection,
        );
        expect(summary.samples).toBe(cc.length);
        expect(summary.recoveries).toBe(cc.filter((e) => e.event === 'enter-recovery').length);
        expect(summary.timeouts).toBe(cc.filter((e) => e.event === 'enter-loss').length);
        expect((text.match(/class="enter-recovery"/g) ?? []).length).toBe(summary.recoveries);
        expect(text.startsWith('<svg ')).toBe(true);
        expect(text.trimEnd().endsWith('</svg>')).toBe(true);
        if (name !== 'random') expect(summary.recoveries).toBeGreaterThan(0);
      }
    }
  });

  it('says so when nothing changed the window', () => {
    const [r] = findScenario('handshake')!.run({ seed: 1, params: {} });
    expect(renderCwnd(r.events).svg.join('')).toMatch(/No congestion-window changes/);
  });
});
