// The figures over TUN (Linux, root): in a network namespace of its own, the
// kernel at 198.18.0.1 and synack at 198.18.0.2 on one TUN device. Each figure
// is measured twice in the same run — against `synack serve` over TUN, and
// against the same server on the kernel (Node `http`/`net`) in the same
// namespace — with the same client (ab, wrk, or a Node client on the kernel).

import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KERNEL, Netns as Ns, type Proc, SYNACK, SYNACK_ON_TUN } from '../test/interop/netns.ts';
import { external, progress, type Rate } from './lib.ts';

// npm runs the benchmark from the project's root.
const root = process.cwd();

export function tunUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun';
  if (!existsSync(join(root, 'dist/cli/main.js'))) return 'not built (npm run build)';
  return undefined;
}

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/**
 * `synack serve --offload` in the namespace, run as an installed `synack` is:
 * the built file itself, whose first line gives node its flags (no npx
 * wrapper between: signals reach it).
 */
async function serve(ns: Ns, args: string[]): Promise<Proc> {
  const s = ns.start(join(root, 'dist/cli/main.js'), [
    'serve',
    '9000',
    ...args,
    ...SYNACK_ON_TUN,
    // The kernel's NIC offloads for the TUN device (TSO/GRO, checksums), as the reference has on veth/lo.
    '--offload',
  ]);
  await s.waitFor(/serving/);
  return s;
}

async function nodeServer(ns: Ns, code: string): Promise<Proc> {
  const s = ns.node(code);
  await s.waitFor(/listening/);
  return s;
}

export interface TunFigures {
  httpNew?: { ours: Rate; theirs: Rate };
  httpKeepAlive?: { ours: Rate; theirs: Rate };
  bulk?: { ours: Rate; theirs: Rate };
  /** RSS per connection over the second batch of N (and over the first, which includes one-time growth). */
  idle?: {
    ours: number;
    theirs: number;
    oursFirst: number;
    theirsFirst: number;
    connections: number;
  };
  skipped: string[];
}

const HTTP_KERNEL = `
import http from 'node:http';
const body = Buffer.alloc(0);
http.createServer((q, s) => { s.writeHead(200, { 'content-length': 0 }); s.end(body); })
  .listen(9001, '${KERNEL}', () => console.log('listening'));`;

const ECHO_KERNEL = `
import net from 'node:net';
net.createServer((c) => { c.pipe(c); c.on('error', () => {}); })
  .listen(9001, '${KERNEL}', () => console.log('listening'));`;

/** A kernel client sending BYTES and reading them back; prints MB/s (both directions counted once). */
const bulkClient = (host: string, port: number, bytes: number) => `
import net from 'node:net';
const chunk = Buffer.alloc(65536);
const t0 = performance.now();
const c = net.connect(${port}, '${host}', async () => {
  let sent = 0;
  while (sent < ${bytes}) {
    sent += chunk.length;
    if (!c.write(chunk)) await new Promise((r) => c.once('drain', r));
  }
});
let got = 0;
c.on('data', (d) => { got += d.length; if (got >= ${bytes}) { console.log((${bytes} / ((performance.now() - t0) / 1000)).toFixed(0)); c.destroy(); } });
c.on('error', (e) => { console.error(e.message); process.exit(1); });`;

/**
 * A kernel client holding idle connections: opens N and prints "ready 1",
 * then, at a line on its stdin, N more and prints "ready 2".
 */
const idleClient = (host: string, port: number, n: number) => `
import net from 'node:net';
let open = 0;
const socks = [];
const batch = (k) => {
  for (let i = 0; i < ${n}; i++) {
    const s = net.connect(${port}, '${host}', () => { if (++open === k * ${n}) console.log('ready ' + k); });
    s.on('error', (e) => { console.error(e.message); process.exit(1); });
    socks.push(s);
  }
};
batch(1);
process.stdin.once('data', () => batch(2));
setInterval(() => {}, 1000);`;

function rssOf(pid: number): number {
  const r = spawnSync('sh', ['-c', `grep VmRSS /proc/${pid}/status`], { encoding: 'utf8' });
  return Number(/(\d+)/.exec(r.stdout)?.[1] ?? 0) * 1024;
}

/** The PID of the node process behind `ip netns exec` (its only child). */
function innerPid(c: ChildProcess): number {
  const r = spawnSync('pgrep', ['-P', String(c.pid)], { encoding: 'utf8' });
  return Number(r.stdout.trim().split('\n')[0]) || c.pid!;
}

export async function tunFigures(
  rounds: number,
  bulkBytes: number,
  idleN: number,
): Promise<TunFigures> {
  const out: TunFigures = { skipped: [] };
  const ns = new Ns();
  try {
    ns.sysctl('net.core.somaxconn', '4096');
    // HTTP: a new connection per request (ab), then keep-alive (wrk).
    if (has('ab') || has('wrk')) {
      const ours = await serve(ns, ['--http', '--max-connections', '100000']);
      const theirs = await nodeServer(ns, HTTP_KERNEL);
      if (has('ab')) {
        const a: { rate: number; perCpu: number }[] = [];
        const b: { rate: number; perCpu: number }[] = [];
        const oursPid = innerPid(ours.child);
        const theirsPid = innerPid(theirs.child);
        progress(`tun: ab -n ${AB_N} -c 16, warm-up (not counted)`);
        abRate(ns, `http://${SYNACK}:9000/`, oursPid);
        abRate(ns, `http://${KERNEL}:9001/`, theirsPid);
        // A round is a quarter of a second: more of them than of the others.
        const n = Math.max(rounds, 7);
        for (let r = 0; r < n; r++) {
          progress(`tun: ab -n ${AB_N} -c 16, round ${r + 1}/${n}`);
          a.push(abRate(ns, `http://${SYNACK}:9000/`, oursPid));
          b.push(abRate(ns, `http://${KERNEL}:9001/`, theirsPid));
        }
        const rate = (xs: typeof a) =>
          external(
            xs.map((x) => x.rate),
            xs.map((x) => x.perCpu),
          );
        out.httpNew = { ours: rate(a), theirs: rate(b) };
      } else out.skipped.push('HTTP per request: no ab (apt-get install apache2-utils)');
      if (has('wrk')) {
        const a: number[] = [];
        const b: number[] = [];
        progress('tun: wrk -c16 -d3s, warm-up (not counted)');
        wrkRate(ns, `http://${SYNACK}:9000/`);
        wrkRate(ns, `http://${KERNEL}:9001/`);
        for (let r = 0; r < rounds; r++) {
          progress(`tun: wrk -c16 -d3s, round ${r + 1}/${rounds}`);
          a.push(wrkRate(ns, `http://${SYNACK}:9000/`));
          b.push(wrkRate(ns, `http://${KERNEL}:9001/`));
        }
        out.httpKeepAlive = { ours: external(a), theirs: external(b) };
      } else out.skipped.push('HTTP keep-alive: no wrk (apt-get install wrk)');
      await ours.stop();
      await theirs.stop();
    } else out.skipped.push('HTTP: neither ab nor wrk (apt-get install apache2-utils wrk)');

    // Bulk: BYTES from a kernel client through an echo server and back.
    {
      const ours = await serve(ns, ['--echo']);
      const theirs = await nodeServer(ns, ECHO_KERNEL);
      const a: number[] = [];
      const b: number[] = [];
      // A server process echoes its first few hundred MiB at half speed: V8
      // compiles, and the allocator grows to hold the 64 KiB packets a young
      // collection has not yet freed (30,000 page faults in the first 100 MiB,
      // none by the fourth; CPU per 100 MiB 0.30 s, then 0.20, then 0.13). Both
      // servers get three uncounted transfers, then more rounds than the others.
      for (let w = 1; w <= 3; w++) {
        progress(`tun: bulk ${bulkBytes >> 20} MiB echoed, warm-up ${w}/3 (not counted)`);
        bulkRate(ns, SYNACK, 9000, bulkBytes);
        bulkRate(ns, KERNEL, 9001, bulkBytes);
      }
      const n = Math.max(rounds, 5);
      for (let r = 0; r < n; r++) {
        progress(`tun: bulk ${bulkBytes >> 20} MiB echoed, round ${r + 1}/${n}`);
        a.push(bulkRate(ns, SYNACK, 9000, bulkBytes));
        b.push(bulkRate(ns, KERNEL, 9001, bulkBytes));
      }
      out.bulk = { ours: external(a), theirs: external(b) };
      await ours.stop();
      await theirs.stop();
    }

    // Idle connections: the RSS each further connection adds to the server. A
    // first batch of N absorbs what a process grows by once (V8's young
    // generation, code, buffers); the figure is the growth over a second N.
    {
      const ours = await serve(ns, ['--echo', '--max-connections', String(idleN * 3)]);
      const theirs = await nodeServer(ns, ECHO_KERNEL);
      const settle = () => new Promise((r) => setTimeout(r, 1500));
      const measure = async (srv: ChildProcess, host: string, port: number) => {
        const pid = innerPid(srv);
        await settle();
        const start = rssOf(pid);
        progress(`tun: ${idleN} + ${idleN} idle connections to ${host}`);
        const cl = ns.start(process.execPath, [
          '--input-type=module',
          '-e',
          idleClient(host, port, idleN),
        ]);
        await cl.waitFor(/ready 1/, 120_000);
        await settle();
        const before = rssOf(pid);
        cl.child.stdin?.write('more\n');
        await cl.waitFor(/ready 2/, 120_000);
        await settle();
        const after = rssOf(pid);
        await cl.stop();
        return [(before - start) / idleN, (after - before) / idleN];
      };
      const [oursFirst, a] = await measure(ours.child, SYNACK, 9000);
      const [theirsFirst, b] = await measure(theirs.child, KERNEL, 9001);
      out.idle = { ours: a, theirs: b, oursFirst, theirsFirst, connections: idleN };
      await ours.stop();
      await theirs.stop();
    }
  } finally {
    ns.destroy();
  }
  return out;
}

const AB_N = 5000;

/**
 * ab against `url`: its requests per second, and requests per CPU-second of
 * the server (`server`, by its /proc entry) and ab together. Where a packet's
 * kernel work runs in whichever process's system call made it (the client's
 * TCP inside synack's write() to the device; both ends' inside ab's and the
 * server's calls on the kernel), the sum is the fair unit. Work left to
 * ksoftirqd is in neither.
 */
function abRate(ns: Ns, url: string, server: number): { rate: number; perCpu: number } {
  const c0 = cpuSeconds(server);
  // `times` prints the shell's, then its children's, user and system time.
  const r = ns.run('bash', ['-c', `ab -q -n ${AB_N} -c 16 ${url} && times`], undefined, 120_000);
  const serverCpu = cpuSeconds(server) - c0;
  const m = /Requests per second:\s+([\d.]+)/.exec(r.stdout);
  const t = /\n(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(r.stdout);
  if (!m || !t) throw new Error(`ab ${url}: ${r.stdout.slice(-400)}${r.stderr.slice(-400)}`);
  const client = Number(t[1]) * 60 + Number(t[2]) + Number(t[3]) * 60 + Number(t[4]);
  return { rate: Number(m[1]), perCpu: AB_N / (serverCpu + client) };
}

/** User and system CPU seconds `pid` has used (its threads included), from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
}

/** The kernel's clock ticks per second for /proc times (USER_HZ: 100 on Linux). */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

function wrkRate(ns: Ns, url: string): number {
  const r = ns.run('wrk', ['-c', '16', '-t', '2', '-d', '3s', url], undefined, 120_000);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  if (!m) throw new Error(`wrk ${url}: ${r.stdout.slice(-400)}${r.stderr.slice(-400)}`);
  return Number(m[1]);
}

function bulkRate(ns: Ns, host: string, port: number, bytes: number): number {
  const r = ns.run(
    process.execPath,
    ['--input-type=module', '-e', bulkClient(host, port, bytes)],
    undefined,
    300_000,
  );
  const v = Number(r.stdout.trim());
  if (!v) throw new Error(`bulk to ${host}: ${r.stderr.slice(-400)}`);
  return v;
}
