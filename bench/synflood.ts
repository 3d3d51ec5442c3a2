// Spoofed SYNs absorbed per second by one listener, in memory, and heap
// retained per spoofed SYN: SYN cookies (always) next to the same flood with
// cookies off (SYN queue only), in the same run; medians of several rounds.
// Run: npm run bench (node --expose-gc, bundled with esbuild).

import { VirtualClock } from '../src/sim/clock.ts';
import { Stack } from '../src/stack/stack.ts';
import { seededRandom } from '../src/tcp/random.ts';
import { encodePacket, SYN } from '../src/wire/tcp.ts';

const N = Number(process.env.SYNS ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench does)');

const dst = new Uint8Array([198, 18, 0, 2]);
const rng = seededRandom(99);
const syns: Uint8Array[] = [];
for (let i = 0; i < N; i++) {
  const src = new Uint8Array([198, 19, (i >> 8) & 0xff, i & 0xff]);
  syns.push(
    encodePacket(src, dst, {
      srcPort: 1024 + (i % 60000),
      dstPort: 80,
      seq: rng.u32(),
      ack: 0,
      flags: SYN,
      window: 65535,
      urgent: 0,
      options: [
        { kind: 'mss', value: 1460 },
        { kind: 'sackOk' },
        { kind: 'ts', val: i, ecr: 0 },
        { kind: 'nop' },
        { kind: 'wscale', shift: 7 },
      ],
      payload: new Uint8Array(0),
    }),
  );
}

function round(cookies: 'always' | 'off'): { rate: number; bytesPerSyn: number; answered: number } {
  const clock = new VirtualClock();
  const stack = new Stack({
    name: 'server',
    addresses: ['198.18.0.2'],
    clock,
    random: seededRandom(1),
  });
  let answered = 0;
  stack.attach({ onPacket: null, send: () => answered++ });
  stack.listen({ port: 80, backlog: 1024, config: { synCookies: cookies } });
  // Warm up, then measure time and the heap retained across N SYNs.
  for (let i = 0; i < 20_000; i++) stack.receive(syns[i]);
  gc!();
  const before = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) stack.receive(syns[i]);
  const dt = performance.now() - t0;
  gc!();
  const after = process.memoryUsage().heapUsed;
  return { rate: (N / dt) * 1000, bytesPerSyn: (after - before) / N, answered };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const res: Record<string, { rate: number[]; bytes: number[]; answered: number }> = {
  always: { rate: [], bytes: [], answered: 0 },
  off: { rate: [], bytes: [], answered: 0 },
};
for (let r = 0; r < ROUNDS; r++) {
  for (const mode of ['always', 'off'] as const) {
    const x = round(mode);
    res[mode].rate.push(x.rate);
    res[mode].bytes.push(x.bytesPerSyn);
    res[mode].answered = x.answered;
  }
}
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
console.log(
  `spoofed SYN flood on one listener, ${N.toLocaleString('en-US')} SYNs per round, median of ${ROUNDS} (node ${process.version})`,
);
console.table([
  {
    listener: 'SYN cookies (always)',
    'SYNs/s': fmt(median(res.always.rate)),
    'heap bytes retained per SYN': median(res.always.bytes).toFixed(2),
    'SYN,ACKs sent (last round)': fmt(res.always.answered),
  },
  {
    listener: 'cookies off (SYN queue 1024)',
    'SYNs/s': fmt(median(res.off.rate)),
    'heap bytes retained per SYN': median(res.off.bytes).toFixed(2),
    'SYN,ACKs sent (last round)': fmt(res.off.answered),
  },
]);
console.log(`ratio cookies / off: ${(median(res.always.rate) / median(res.off.rate)).toFixed(2)}×`);
