// `npm run bench:loss`: goodput under loss, two ways.
//
//   npm run bench:loss [-- --quick] [--json FILE] [--no-tun] [--seconds N] [--rounds N] [--readme]
//
// 1. Over TUN (Linux, root): synack and the Linux kernel in a namespace of
//    their own, synack's link (src/link/impair.ts) adding the same seeded
//    delay and loss in both directions. Each cell runs twice: synack sends to
//    the kernel, then the kernel sends to synack — the kernel is then the
//    sender under identical conditions. Goodput is counted by the receiver
//    over a fixed time from the first byte. Reported: synack-as-sender ÷
//    Linux-as-sender, and synack's retransmission timeouts.
// 2. The simulator: synack to synack for a fixed virtual time over the same
//    matrix, against the Mathis et al. bound (MSS/RTT · √(3/2)/√p).

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { impairLink, lossModel } from '../src/link/impair.ts';
import { openTun } from '../src/link/tun.ts';
import { Network } from '../src/sim/network.ts';
import { realClock } from '../src/stack/clock.ts';
import { Stack } from '../src/stack/stack.ts';
import type { TraceEvent } from '../src/tcp/types.ts';
import { KERNEL, Netns, SYNACK } from '../test/interop/netns.ts';

interface Cell {
  rtt: number;
  loss: number;
  burst: number;
  name: string;
}

const CELLS: Cell[] = [];
for (const rtt of [20, 100]) {
  for (const loss of [0.001, 0.01, 0.03])
    CELLS.push({ rtt, loss, burst: 1, name: `${rtt} ms, ${loss * 100}%` });
  CELLS.push({ rtt, loss: 0.01, burst: 4, name: `${rtt} ms, 1% in bursts of 4` });
}

const MSS = 1448; // 1500-byte MTU, with timestamps
// Linux's default congestion control, set on the kernel's socket (this host's default may differ, e.g. bbr).
const CC = 'cubic';

// ---- the worker: synack on the TUN device, inside the namespace ------------

function worker(argv: string[]): void {
  const [role, portS, secondsS, delayS, lossS, burstS, seedS] = argv;
  const seconds = Number(secondsS);
  const imp = (seed: number) => ({
    delay: Number(delayS),
    loss: Number(lossS),
    burst: Number(burstS),
    seed,
  });
  const tun = openTun('syn0');
  const link = impairLink(tun, imp(Number(seedS)), imp(Number(seedS) + 1));
  let rtos = 0;
  let recoveries = 0;
  const tracer = {
    emit(e: TraceEvent) {
      if (e.type !== 'cc') return;
      if (e.event === 'enter-loss') rtos++;
      if (e.event === 'enter-recovery') recoveries++;
    },
  };
  const stack = new Stack({
    name: 'synack',
    addresses: [SYNACK],
    clock: realClock(),
    tracer,
    // Buffers and the out-of-order queue large enough for the window: the receiver is not the limit.
    config: { sndBuf: 4 << 20, rcvBuf: 4 << 20, oooMaxSegments: 8192 },
  });
  stack.attach(link);
  const done = (line: string) => {
    const st = link.stats;
    console.log(`${line} in=${st.inSent}/${st.inLost} out=${st.outSent}/${st.outLost}`);
    link.close();
    tun.close();
    process.exit(0);
  };
  if (role === 'send') {
    const sock = stack.connect({ host: KERNEL, port: Number(portS) });
    const chunk = new Uint8Array(64 * 1024);
    const pump = () => {
      while (sock.write(chunk)) {}
    };
    sock.on('connect', pump);
    sock.on('drain', pump);
    sock.on('error', () => done(`error rtos=${rtos} recoveries=${recoveries}`));
    sock.on('close', () => done(`closed rtos=${rtos} recoveries=${recoveries}`));
    setTimeout(() => done(`timeout rtos=${rtos} recoveries=${recoveries}`), (seconds + 30) * 1000);
  } else {
    const server = stack.listen({ port: Number(portS) });
    server.on('connection', (sock) => {
      let bytes = 0;
      let start = 0;
      sock.on('data', (d: Uint8Array) => {
        if (start === 0) {
          start = performance.now();
          setTimeout(() => done(`bytes=${bytes}`), seconds * 1000);
        }
        bytes += d.length;
      });
    });
    console.log('listening');
    setTimeout(() => done('bytes=0'), (seconds + 30) * 1000);
  }
}

// ---- the kernel's ends: bench/c/bulk.c, compiled here --------------------

function compileBulk(): string | undefined {
  if (spawnSync('sh', ['-c', 'command -v cc']).status !== 0) return undefined;
  const bin = join(mkdtempSync(join(tmpdir(), 'synack-loss-')), 'bulk');
  const r = spawnSync('cc', ['-O2', '-o', bin, join(process.cwd(), 'bench/c/bulk.c')]);
  return r.status === 0 ? bin : undefined;
}

// ---- the TUN matrix --------------------------------------------------------

interface TunCell {
  cell: string;
  synackMbps: number;
  linuxMbps: number;
  /** Median of the rounds' ratios, and the lowest. */
  ratio: number;
  minRatio: number;
  synackRtos: number;
}

/** One direction of one cell: goodput in Mbit/s, and synack's RTOs when it was the sender. */
async function tunRun(
  c: Cell,
  role: 'send' | 'recv',
  seconds: number,
  seed: number,
  bundle: string,
  bulk: string,
): Promise<{ mbps: number; rtos: number }> {
  const args = (port: number) => [
    bundle,
    '--worker',
    role,
    String(port),
    String(seconds),
    String(c.rtt / 2),
    String(c.loss),
    String(c.burst),
    String(seed),
  ];
  const mbps = (line: string) => (Number(/bytes=(\d+)/.exec(line)?.[1] ?? 0) * 8) / seconds / 1e6;
  const within = (p: Promise<unknown>) =>
    Promise.race([
      p.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), (seconds + 30) * 1000)),
    ]);
  const ns = new Netns();
  try {
    if (role === 'send') {
      // synack sends, the kernel receives and counts.
      const sink = ns.start(bulk, ['sink', KERNEL, '5001', String(seconds)]);
      await sink.waitFor(/listening/);
      const w = ns.start(process.execPath, args(5001));
      if (!(await within(sink.done)))
        throw new Error(`${c.name}: synack's sender did not finish: ${w.out}${w.err.slice(-1500)}`);
      // The sink's exit closes the connection; the worker then says how it went.
      await Promise.race([w.done, new Promise((r) => setTimeout(r, 5000))]);
      w.child.kill('SIGKILL');
      return { mbps: mbps(sink.out), rtos: Number(/rtos=(\d+)/.exec(w.out)?.[1] ?? Number.NaN) };
    }
    // The kernel sends, synack receives and counts.
    const w = ns.start(process.execPath, args(5002));
    await w.waitFor(/listening/);
    const k = ns.start(bulk, ['send', SYNACK, '5002', CC]);
    if (!(await within(w.done)))
      throw new Error(
        `${c.name}: no result from synack's receiver: ${w.out}${w.err.slice(-1500)} ${k.err}`,
      );
    return { mbps: mbps(w.out), rtos: 0 };
  } finally {
    ns.destroy();
  }
}

async function tunMatrix(
  seconds: number,
  rounds: number,
  bundle: string,
  bulk: string,
  quick: boolean,
): Promise<TunCell[]> {
  const out: TunCell[] = [];
  const cells = quick ? CELLS.filter((c) => c.loss >= 0.01) : CELLS;
  for (const [k, c] of cells.entries()) {
    const ours: number[] = [];
    const theirs: number[] = [];
    const ratios: number[] = [];
    let rtos = 0;
    // Each round: both directions with the same seed, side by side.
    for (let r = 0; r < rounds; r++) {
      const seed = 1000 + 16 * k + r;
      const a = await tunRun(c, 'send', seconds, seed, bundle, bulk);
      const b = await tunRun(c, 'recv', seconds, seed, bundle, bulk);
      ours.push(a.mbps);
      theirs.push(b.mbps);
      ratios.push(a.mbps / b.mbps);
      rtos += a.rtos;
    }
    const row = {
      cell: c.name,
      synackMbps: median(ours),
      linuxMbps: median(theirs),
      ratio: median(ratios),
      minRatio: Math.min(...ratios),
      synackRtos: rtos,
    };
    process.stderr.write(
      `  ${c.name.padEnd(26)} synack ${row.synackMbps.toFixed(2)} Mbit/s, Linux ${row.linuxMbps.toFixed(2)} Mbit/s: ${row.ratio.toFixed(2)} (rounds ${ratios.map((x) => x.toFixed(2)).join(' ')}; synack RTOs ${rtos})\n`,
    );
    out.push(row);
  }
  return out;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---- the simulator matrix --------------------------------------------------

interface SimCell {
  cell: string;
  mbps: number;
  mathisMbps: number;
  ratio: number;
  rtos: number;
}

function simMatrix(seconds: number): SimCell[] {
  const out: SimCell[] = [];
  for (const c of CELLS) {
    const n = new Network(7, {
      latency: c.rtt / 2,
      jitter: 0,
      bandwidth: 1e9,
      loss: 0,
      duplicate: 0,
      corrupt: 0,
      reorder: 0,
      reorderDelay: 0,
    });
    const cfg = { sndBuf: 16 << 20, rcvBuf: 16 << 20 };
    const a = n.addHost('a', '198.18.0.1', { config: cfg });
    const b = n.addHost('b', '198.18.0.2', { config: cfg });
    // The data direction only, with the same loss model as over TUN.
    const lose = lossModel({ delay: 0, loss: c.loss, burst: c.burst, seed: 99 });
    n.dropIf(
      (p) =>
        p.from === 'a' && p.seg !== undefined && p.seg.payload.length > 0 && lose(n.clock.now()),
      'loss model',
    );
    let bytes = 0;
    let start = -1;
    b.listen({ port: 9 }).on('connection', (s) =>
      s.on('data', (d) => {
        if (start < 0) start = n.clock.now();
        if (n.clock.now() - start <= seconds * 1000) bytes += d.length;
      }),
    );
    const s = a.connect({ host: '198.18.0.2', port: 9 });
    const chunk = new Uint8Array(256 * 1024);
    const pump = () => {
      while (s.write(chunk)) {}
    };
    s.on('connect', pump);
    s.on('drain', pump);
    n.run(seconds * 1000 + 2000);
    const rtos = n.events.filter(
      (e) => e.type === 'cc' && e.host === 'a' && e.event === 'enter-loss',
    ).length;
    const mbps = (bytes * 8) / seconds / 1e6;
    const mathis = (((MSS * 8) / (c.rtt / 1000)) * (Math.sqrt(1.5) / Math.sqrt(c.loss))) / 1e6;
    out.push({ cell: c.name, mbps, mathisMbps: mathis, ratio: mbps / mathis, rtos });
  }
  return out;
}

// ---- main ------------------------------------------------------------------

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--worker') return worker(args.slice(1));
  const quick = args.includes('--quick');
  const noTun = args.includes('--no-tun');
  const j = args.indexOf('--json');
  const jsonFile = j >= 0 ? args[j + 1] : undefined;
  const s = args.indexOf('--seconds');
  const seconds = s >= 0 ? Number(args[s + 1]) : quick ? 4 : 10;
  const rr = args.indexOf('--rounds');
  const rounds = rr >= 0 ? Number(args[rr + 1]) : quick ? 1 : 3;
  const known = new Set([
    '--quick',
    '--no-tun',
    '--readme',
    '--json',
    '--seconds',
    jsonFile,
    s >= 0 ? args[s + 1] : undefined,
    '--rounds',
    rr >= 0 ? args[rr + 1] : undefined,
  ]);
  for (const a of args)
    if (!known.has(a) || (s >= 0 && !(seconds > 0)) || !(Number.isInteger(rounds) && rounds > 0)) {
      console.error(
        `bench:loss: bad argument "${a}" (accepted: --quick, --no-tun, --readme, --json FILE, --seconds N > 0, --rounds N ≥ 1)`,
      );
      process.exit(2);
    }
  console.error(`simulator, ${seconds * 3} s of virtual time per cell:`);
  const sim = simMatrix(seconds * 3);
  for (const r of sim)
    console.error(
      `  ${r.cell.padEnd(26)} ${r.mbps.toFixed(2)} Mbit/s, Mathis ${r.mathisMbps.toFixed(2)}: ${r.ratio.toFixed(2)} (RTOs ${r.rtos})`,
    );
  let tun: TunCell[] | string = 'skipped (--no-tun)';
  if (!noTun) {
    const why =
      process.platform !== 'linux'
        ? 'not Linux'
        : process.getuid?.() !== 0
          ? 'not root'
          : spawnSync('ip', ['-V']).status !== 0
            ? 'no ip(8)'
            : undefined;
    const bulk = why ? undefined : compileBulk();
    if (why) tun = `skipped (${why})`;
    else if (!bulk) tun = 'skipped (no C compiler for bench/c/bulk.c)';
    else {
      console.error(
        `over TUN, ${rounds} round(s) of ${seconds} s per direction and cell (Linux sends with ${CC}):`,
      );
      // The workers run a copy of this bundle: a rebuild of dist/ meanwhile must not pull it away.
      const copy = join(
        process.cwd(),
        'node_modules/.cache',
        `synack-bench-loss-${process.pid}.mjs`,
      );
      mkdirSync(dirname(copy), { recursive: true });
      copyFileSync(process.argv[1], copy);
      try {
        tun = await tunMatrix(seconds, rounds, copy, bulk, quick);
      } finally {
        rmSync(copy, { force: true });
      }
    }
  }
  const report = { date: new Date().toISOString(), seconds, sim, tun };
  if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  console.log(table(report));
  if (args.includes('--readme')) {
    // The README's section between its markers, with the date and the command.
    const readme = readFileSync('README.md', 'utf8');
    const a = readme.indexOf('<!-- loss:start -->');
    const b = readme.indexOf('<!-- loss:end -->');
    if (a < 0 || b < a) throw new Error('README.md has no <!-- loss:start/end --> markers');
    const body = `\n\nMeasured ${report.date.slice(0, 10)} on this project's 2-core machine with \`npm run bench:loss -- ${args.filter((x) => x !== '--readme').join(' ')}\` (over TUN: medians of ${rounds} rounds of ${seconds} s per direction and cell; ${seconds * 3} s of virtual time in the simulator):\n\n${table(report)}\n\n`;
    writeFileSync(
      'README.md',
      readme.slice(0, a + '<!-- loss:start -->'.length) + body + readme.slice(b),
    );
  }
}

function table(r: { sim: SimCell[]; tun: TunCell[] | string }): string {
  const lines = [
    '| over TUN: RTT, loss | synack as sender | Linux as sender | ratio (median) | lowest | synack RTOs |',
    '|---|---|---|---|---|---|',
  ];
  if (typeof r.tun === 'string') lines.push(`| over TUN: ${r.tun} | | | | | |`);
  else
    for (const c of r.tun)
      lines.push(
        `| ${c.cell} | ${c.synackMbps.toFixed(2)} Mbit/s | ${c.linuxMbps.toFixed(2)} Mbit/s | ${c.ratio.toFixed(2)} | ${c.minRatio.toFixed(2)} | ${c.synackRtos} |`,
      );
  lines.push('', '| simulator | synack | Mathis bound | ratio | RTOs |', '|---|---|---|---|---|');
  for (const c of r.sim)
    lines.push(
      `| ${c.cell} | ${c.mbps.toFixed(2)} Mbit/s | ${c.mathisMbps.toFixed(2)} Mbit/s | ${c.ratio.toFixed(2)} | ${c.rtos} |`,
    );
  return lines.join('\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
