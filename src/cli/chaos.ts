// `npm run chaos -- --runs N [--from SEED]`: the random scenario over many
// seeds, with a summary and the seeds that failed (replay one with
// `synack run random --seed N`).

import { Command, InvalidArgumentError } from 'commander';
import { runRandom } from '../sim/scenarios/random.ts';

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`${name} must be a non-negative integer, got "${v}"`);
  return n;
};

const program = new Command()
  .name('chaos')
  .description('run the random scenario over many seeds and report failures')
  .option('--runs <n>', 'how many seeds', int('--runs'), 1000)
  .option('--from <seed>', 'first seed', int('--from'), 1)
  .parse();
const { runs, from } = program.opts<{ runs: number; from: number }>();
const failed: number[] = [];
const t0 = performance.now();
for (let seed = from; seed < from + runs; seed++) {
  const r = runRandom({ seed, params: {} });
  const bad = r.checks.filter((c) => !c.ok);
  if (bad.length > 0) {
    failed.push(seed);
    console.log(`seed ${seed}: ${bad.map((c) => c.what).join('; ')}`);
  }
}
const secs = (performance.now() - t0) / 1000;
console.log(
  `runs: ${runs} (seeds ${from}..${from + runs - 1}), failures: ${failed.length}, ${secs.toFixed(1)} s`,
);
if (failed.length > 0)
  console.log(`failed seeds: ${failed.join(' ')}  (replay: synack run random --seed N)`);
console.log(`${runs - failed.length} passed, ${failed.length} failed`);
process.exitCode = failed.length > 0 ? 1 : 0;
