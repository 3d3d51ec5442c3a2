// npm run fuzz [-- COUNT [SEED]]: the full fuzz run, with its figures.

import { runFuzz } from './fuzz.ts';

const count = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 1);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- [COUNT (a positive integer)] [SEED (an integer)]');
  process.exit(2);
}
const t0 = performance.now();
const r = runFuzz(count, seed);
const s = (performance.now() - t0) / 1000;
console.log(
  `${r.packets} mutated packets in ${s.toFixed(1)} s (${Math.round(r.packets / s)}/s), seed ${seed}`,
);
console.log(
  `packets in: ${r.packetsIn}; segments processed: ${r.counters['segments-in'] ?? 0}; unaccounted: ${r.unaccounted}`,
);
console.log(
  `most bytes held by a connection: ${r.maxHeld}; most connections: ${r.maxConnections}; most half-open: ${r.maxHalfOpen}`,
);
console.log(`heap growth: ${(r.heapGrowth / 1048576).toFixed(1)} MiB`);
console.log('drops by reason:');
for (const [k, v] of Object.entries(r.drops).sort((a, b) => b[1] - a[1]))
  console.log(`  ${k.padEnd(24)} ${v}`);
const bad = r.unaccounted !== 0 || r.maxHeld >= 32768 + 128;
process.exit(bad ? 1 : 0);
