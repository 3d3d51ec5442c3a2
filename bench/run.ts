// `npm run bench`: every performance figure, each measured side by side with
// its reference in the same run, printed as one table (and `--json FILE`).
//
//   npm run bench [-- --quick] [--json FILE] [--no-tun] [--million]
//
// In memory: handshakes and bulk vs Node `net` over loopback (and a C
// connect/accept loop on the kernel when a C compiler is present; and the
// least four handshake packets cost in JavaScript, bench/floor.ts, and a lean
// engine written for them, bench/lean.ts), bytes per
// connection, the SYN flood, and scaling to 1k/10k/100k (1M with --million)
// concurrent connections. Over TUN (root; ab, wrk from Debian): HTTP per
// request and keep-alive, bulk, idle connections, vs the kernel in the same
// namespace. `node bench/readme.ts FILE` writes the README's section from the JSON.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { handshakeFloors, leanSteps } from './floor.ts';
import {
  describe,
  external,
  fmt,
  load,
  middle,
  progress,
  type Rate,
  type Report,
  type Row,
} from './lib.ts';
import {
  bytesPerConnection,
  HANDSHAKE_STEPS,
  handshakeSteps,
  nodeBulk,
  nodeHandshakes,
  scaling,
  synackBulk,
  synackHandshakes,
  synFlood,
} from './memory.ts';
import { tunFigures, tunUnavailable } from './tun.ts';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(`usage: npm run bench [-- OPTIONS]

Every performance figure, each beside its reference measured in the same run
(Node's net over loopback, a C connect/accept loop, the kernel over TUN), as
one table: median of rounds, min-max, per CPU-second, load average.

  --quick      fewer and smaller rounds (about a minute)
  --no-tun     in memory only (over TUN needs root, ab and wrk)
  --million    add 1,000,000 concurrent connections to the scaling table
  --json FILE  also write the report as JSON (npx tsx bench/readme.ts FILE
               writes the README's Performance section from it)
  -h, --help   this text`);
  process.exit(0);
}
const quick = args.includes('--quick');
const jsonAt = args.indexOf('--json');
const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
if (jsonAt >= 0 && !jsonFile) {
  console.error('bench: --json needs a file name');
  process.exit(2);
}
const known = new Set(['--quick', '--json', '--no-tun', '--million', jsonFile]);
for (const a of args)
  if (!known.has(a)) {
    console.error(
      `bench: unknown argument "${a}" (accepted: --quick, --json FILE, --no-tun, --million, --help)`,
    );
    process.exit(2);
  }
const ROUNDS = quick ? 3 : 5;

const rows: Row[] = [];

function cHandshakes(rounds: number, n: number): Rate | undefined {
  if (spawnSync('sh', ['-c', 'command -v cc']).status !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'synack-bench-'));
  const bin = join(dir, 'handshakes');
  const cc = spawnSync('cc', ['-O2', '-o', bin, join(process.cwd(), 'bench/c/handshakes.c')], {
    encoding: 'utf8',
  });
  if (cc.status !== 0) return undefined;
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const o = spawnSync(bin, [String(n)], { encoding: 'utf8' });
    const [x, y] = o.stdout.trim().split(' ').map(Number);
    a.push(x);
    b.push(y);
  }
  return external(a, b);
}

const started = new Date();
progress('handshakes: synack in memory');
const hs = await synackHandshakes(ROUNDS, quick ? 20_000 : 50_000);
progress('handshakes: Node net over loopback');
const hsNode = await nodeHandshakes(ROUNDS, quick ? 1000 : 3000);
progress('handshakes: C connect/accept loop');
const hsC = cHandshakes(ROUNDS, quick ? 5000 : 20_000);
rows.push({
  figure: 'sequential handshakes, in memory (connect, accept, RST)',
  unit: 'handshakes/s',
  synack: hs,
  reference: hsNode,
  referenceName: 'Node net, loopback',
  target: '≥ 40× Node net',
  met: hs.median >= 40 * hsNode.median,
});
if (hsC)
  rows.push({
    figure: '  the same, C connect/accept on the kernel (context)',
    unit: 'handshakes/s',
    synack: hs,
    reference: hsC,
    referenceName: 'C, loopback',
    target: '—',
  });
progress('handshakes: the floors in JavaScript (bench/floor.ts, bench/lean.ts)');
const floor = await handshakeFloors(ROUNDS, quick ? 20_000 : 50_000);
rows.push(
  {
    figure:
      '  the same, a lean engine written for these four packets: a TCB per end, their RFC 9293 checks, timers, events (bench/lean.ts; context)',
    unit: 'handshakes/s',
    synack: hs,
    reference: floor.lean,
    referenceName: 'lean engine',
    target: '—',
  },
  {
    figure:
      "  the same, the least any stack in JavaScript does: synack's codec, two ISNs, a table per end (context)",
    unit: 'handshakes/s',
    synack: hs,
    reference: floor.codec,
    referenceName: 'codec floor',
    target: '—',
  },
  {
    figure: '  the same, headers written and read by hand (context)',
    unit: 'handshakes/s',
    synack: hs,
    reference: floor.bytes,
    referenceName: 'byte floor',
    target: '—',
  },
);

progress('handshakes: step by step');
const leanNs = leanSteps(ROUNDS);
const steps = handshakeSteps(ROUNDS).map((ns, i) => ({
  step: HANDSHAKE_STEPS[i],
  ns,
  lean: leanNs[i],
}));

const BULK = quick ? 32 << 20 : 128 << 20;
progress('bulk: synack in memory');
const bulk = await synackBulk(ROUNDS, BULK);
progress('bulk: Node net over loopback');
const bulkNode = await nodeBulk(ROUNDS, BULK);
progress('bulk: synack in memory, MTU 1500 with checksums');
const bulkEth = await synackBulk(ROUNDS, BULK >> 2, 'ethernet');
rows.push({
  figure: `bulk, one connection, in memory as loopback (${BULK >> 20} MiB; MTU 65536, no checksums, as lo)`,
  unit: 'bytes/s',
  synack: bulk,
  reference: bulkNode,
  referenceName: 'Node net, loopback',
  target: '≥ 1.0× Node net',
  met: bulk.median >= bulkNode.median,
});
rows.push({
  figure: '  the same at MTU 1500, every checksum computed and verified (context)',
  unit: 'bytes/s',
  synack: bulkEth,
  reference: bulkNode,
  referenceName: 'Node net, loopback',
  target: '—',
});

progress('memory: bytes per connection');
const mem = await bytesPerConnection(quick ? 10_000 : 50_000);
rows.push(
  {
    figure: 'idle ESTABLISHED connection, client end',
    unit: 'bytes',
    synack: mem.client,
    target: '≤ 1024',
    met: mem.client <= 1024,
  },
  {
    figure: 'idle ESTABLISHED connection, server end',
    unit: 'bytes',
    synack: mem.server,
    target: '≤ 1024',
    met: mem.server <= 1024,
  },
  {
    figure: 'TIME-WAIT',
    unit: 'bytes',
    synack: mem.timeWait,
    target: '≤ 256',
    met: mem.timeWait <= 256,
  },
  {
    figure: 'half-open (SYN queue)',
    unit: 'bytes',
    synack: mem.halfOpen,
    target: '≤ 256',
    met: mem.halfOpen <= 256,
  },
);

progress('SYN flood: cookies on and off');
const SYNS = quick ? 100_000 : 200_000;
const on = synFlood(ROUNDS, SYNS, 'always');
const off = synFlood(ROUNDS, SYNS, 'off');
rows.push({
  figure: `spoofed SYNs absorbed with cookies (${fmt(on.bytesPerSyn, 1)} B retained per SYN)`,
  unit: 'SYNs/s',
  synack: on.rate,
  reference: off.rate,
  referenceName: 'same stack, cookies off',
  target: '≥ 1,000,000/s, 0 B retained',
  met: on.rate.median >= 1e6 && on.bytesPerSyn < 1,
});

const scale: ({ n: number } & Awaited<ReturnType<typeof scaling>>)[] = [];
// Warm the JIT on a small run first, so the smallest row measures the stack, not the compiler.
await scaling(2000);
for (const n of [1000, 10_000, 100_000, ...(args.includes('--million') ? [1_000_000] : [])]) {
  progress(`scaling: ${fmt(n)} concurrent connections`);
  scale.push({ n, ...(await scaling(n)) });
}

let tun: Awaited<ReturnType<typeof tunFigures>> | undefined;
const why = args.includes('--no-tun') ? 'skipped (--no-tun)' : tunUnavailable();
if (!why) {
  // Idle: 8,000 then 8,000 more (16,000 descriptors for Node's side, under a 20,000 limit).
  tun = await tunFigures(quick ? 2 : 3, quick ? 20 << 20 : 100 << 20, quick ? 2000 : 8000);
  if (tun.httpNew)
    rows.push({
      figure:
        'HTTP over TUN, new connection per request (ab -n 5000 -c 16; per CPU-s: server and ab together)',
      unit: 'requests/s',
      synack: tun.httpNew.ours,
      reference: tun.httpNew.theirs,
      referenceName: 'Node http on the kernel',
      target: '≥ 1.0×',
      met: tun.httpNew.ours.median >= tun.httpNew.theirs.median,
    });
  if (tun.httpKeepAlive)
    rows.push({
      figure: 'HTTP over TUN, keep-alive (wrk -c16 -t2 -d3s)',
      unit: 'requests/s',
      synack: tun.httpKeepAlive.ours,
      reference: tun.httpKeepAlive.theirs,
      referenceName: 'Node http on the kernel',
      target: '≥ 0.5×',
      met: tun.httpKeepAlive.ours.median >= 0.5 * tun.httpKeepAlive.theirs.median,
    });
  if (tun.bulk)
    rows.push({
      figure: 'bulk over TUN, echoed through the server',
      unit: 'bytes/s',
      synack: tun.bulk.ours,
      reference: tun.bulk.theirs,
      referenceName: 'kernel ↔ kernel, same namespace',
      target: '≥ 0.5×',
      met: tun.bulk.ours.median >= 0.5 * tun.bulk.theirs.median,
    });
  if (tun.idle)
    rows.push({
      figure: `idle connections over TUN: server RSS per connection, ${fmt(tun.idle.connections)} more after ${fmt(tun.idle.connections)}`,
      unit: 'bytes',
      synack: tun.idle.ours,
      reference: tun.idle.theirs,
      referenceName: 'Node net on the kernel',
      target: '≤ 2048',
      met: tun.idle.ours <= 2048,
    });
  if (tun.idle)
    rows.push({
      figure: `  the first ${fmt(tun.idle.connections)} (with the process's one-time growth; context)`,
      unit: 'bytes',
      synack: tun.idle.oursFirst,
      reference: tun.idle.theirsFirst,
      referenceName: 'Node net on the kernel',
      target: '—',
    });
}
progress('');

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}`;
const report: Report = {
  date: started.toISOString(),
  machine,
  load: load(),
  command: `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`,
  rounds: ROUNDS,
  rows,
  scaling: scale,
  steps,
  tunSkipped: why ?? tun?.skipped.join('; ') ?? '',
};

console.log(
  `synack benchmarks — ${machine}; load ${report.load}; median of ${ROUNDS} rounds (min–max)`,
);
console.table(
  rows.map((r) => ({
    figure: r.figure,
    synack: describe(r.synack, r.unit),
    reference:
      r.reference === undefined ? '' : `${describe(r.reference, r.unit)} ${r.referenceName}`,
    ratio:
      r.reference === undefined ? '' : `${(middle(r.synack) / middle(r.reference)).toFixed(2)}×`,
    target: r.target,
    met: r.met === undefined ? '' : r.met ? 'yes' : 'no',
  })),
);
console.table(
  steps.map((s) => ({
    'a handshake, step by step (batches of 1,000)': s.step,
    'synack ns': fmt(s.ns),
    'lean engine ns': fmt(s.lean),
    ratio: `${(s.ns / s.lean).toFixed(1)}×`,
  })),
);
console.table(
  scale.map((s) => ({
    'concurrent connections': fmt(s.n),
    'handshakes/s': fmt(s.rate),
    'per CPU-s': fmt(s.perCpu),
    'µs per handshake': fmt(s.usPerHandshake, 2),
    'of which GC pauses': fmt(s.gcUsPerHandshake, 2),
    'heap bytes per end': fmt(s.bytesPerEnd),
  })),
);
if (report.tunSkipped) console.log(`over TUN: ${report.tunSkipped}`);
if (jsonFile) {
  writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  // As the project's formatter lays JSON out, so that `npm run check` passes on a committed report.
  spawnSync('npx', ['biome', 'format', '--write', jsonFile], { stdio: 'ignore' });
}
