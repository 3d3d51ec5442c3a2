// The figures over TUN (Linux, root): in a network namespace of its own, the
// kernel at 198.18.0.1 and synack at 198.18.0.2 on one TUN device. Each figure
// is measured twice in the same run — against `synack serve` over TUN, and
// against the same server on the kernel (Node `http`/`net`) in the same
// namespace — with the same client (ab, wrk, or a Node client on the kernel).

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { external, median, progress, type Rate } from './lib.ts';

// npm runs the benchmark from the project's root.
const root = process.cwd();
const KERNEL = '198.18.0.1';
const SYNACK = '198.18.0.2';

export function tunUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun';
  if (!existsSync(join(root, 'dist/cli/main.js'))) return 'not built (npm run build)';
  return undefined;
}

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

class Ns {
  readonly name = `synack-bench-${process.pid}`;
  private kids: ChildProcess[] = [];
  constructor() {
    const ip = (...a: string[]) => {
      const r = spawnSync('ip', a, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
    };
    ip('netns', 'add', this.name);
    ip('-n', this.name, 'link', 'set', 'lo', 'up');
    ip('-n', this.name, 'tuntap', 'add', 'dev', 'syn0', 'mode', 'tun');
    ip('-n', this.name, 'addr', 'add', `${KERNEL}/24`, 'dev', 'syn0');
    ip('-n', this.name, 'link', 'set', 'syn0', 'up');
  }
  exec(cmd: string, args: string[], timeout = 120_000) {
    return spawnSync('ip', ['netns', 'exec', this.name, cmd, ...args], {
      encoding: 'utf8',
      timeout,
      maxBuffer: 64 << 20,
    });
  }
  start(cmd: string, args: string[]): { child: ChildProcess; out: () => string } {
    const child = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    this.kids.push(child);
    return { child, out: () => out };
  }
  async waitFor(get: () => string, re: RegExp, ms = 15_000): Promise<void> {
    const t0 = Date.now();
    while (!re.test(get())) {
      if (Date.now() - t0 > ms)
        throw new Error(`timed out waiting for ${re}: ${get().slice(-500)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  destroy(): void {
    for (const k of this.kids) if (k.exitCode === null) k.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', this.name]);
  }
}

/** `synack serve` in the namespace (built JavaScript, run by node itself). */
async function serve(ns: Ns, args: string[]) {
  const s = ns.start(process.execPath, [
    join(root, 'dist/cli/main.js'),
    'serve',
    '9000',
    ...args,
    '--tun',
    'syn0',
    '--addr',
    `${SYNACK}/24`,
    '--trace',
    'none',
  ]);
  await ns.waitFor(s.out, /serving/);
  return s;
}

async function nodeServer(ns: Ns, code: string) {
  const s = ns.start(process.execPath, ['--input-type=module', '-e', code]);
  await ns.waitFor(s.out, /listening/);
  return s;
}

const stop = async (c: ChildProcess) => {
  c.kill('SIGTERM');
  await new Promise((r) => (c.exitCode !== null ? r(null) : c.once('close', r)));
};

export interface TunFigures {
  httpNew?: { ours: Rate; theirs: Rate };
  httpKeepAlive?: { ours: Rate; theirs: Rate };
  bulk?: { ours: Rate; theirs: Rate };
  idle?: { ours: number; theirs: number; connections: number };
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

/** A kernel client holding N idle connections; prints "ready" once all are open. */
const idleClient = (host: string, port: number, n: number) => `
import net from 'node:net';
let open = 0;
const socks = [];
for (let i = 0; i < ${n}; i++) {
  const s = net.connect(${port}, '${host}', () => { if (++open === ${n}) console.log('ready'); });
  s.on('error', (e) => { console.error(e.message); process.exit(1); });
  socks.push(s);
}
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
    ns.exec('sysctl', ['-q', '-w', 'net.core.somaxconn=4096']);
    // HTTP: a new connection per request (ab), then keep-alive (wrk).
    if (has('ab') || has('wrk')) {
      const ours = await serve(ns, ['--http', '--max-connections', '100000']);
      const theirs = await nodeServer(ns, HTTP_KERNEL);
      if (has('ab')) {
        const a: number[] = [];
        const b: number[] = [];
        for (let r = 0; r < rounds; r++) {
          progress(`tun: ab -n 5000 -c 16, round ${r + 1}/${rounds}`);
          a.push(abRate(ns, `http://${SYNACK}:9000/`));
          b.push(abRate(ns, `http://${KERNEL}:9001/`));
        }
        out.httpNew = { ours: external(a), theirs: external(b) };
      } else out.skipped.push('HTTP per request: no ab (apt-get install apache2-utils)');
      if (has('wrk')) {
        const a: number[] = [];
        const b: number[] = [];
        for (let r = 0; r < rounds; r++) {
          progress(`tun: wrk -c16 -d3s, round ${r + 1}/${rounds}`);
          a.push(wrkRate(ns, `http://${SYNACK}:9000/`));
          b.push(wrkRate(ns, `http://${KERNEL}:9001/`));
        }
        out.httpKeepAlive = { ours: external(a), theirs: external(b) };
      } else out.skipped.push('HTTP keep-alive: no wrk (apt-get install wrk)');
      await stop(ours.child);
      await stop(theirs.child);
    } else out.skipped.push('HTTP: neither ab nor wrk (apt-get install apache2-utils wrk)');

    // Bulk: BYTES from a kernel client through an echo server and back.
    {
      const ours = await serve(ns, ['--echo']);
      const theirs = await nodeServer(ns, ECHO_KERNEL);
      const a: number[] = [];
      const b: number[] = [];
      for (let r = 0; r < rounds; r++) {
        progress(`tun: bulk ${bulkBytes >> 20} MiB echoed, round ${r + 1}/${rounds}`);
        a.push(bulkRate(ns, SYNACK, 9000, bulkBytes));
        b.push(bulkRate(ns, KERNEL, 9001, bulkBytes));
      }
      out.bulk = { ours: external(a), theirs: external(b) };
      await stop(ours.child);
      await stop(theirs.child);
    }

    // Idle connections: RSS growth per connection held by the server.
    {
      const ours = await serve(ns, ['--echo', '--max-connections', String(idleN * 2)]);
      const theirs = await nodeServer(ns, ECHO_KERNEL);
      const measure = async (srv: ChildProcess, host: string, port: number) => {
        const pid = innerPid(srv);
        await new Promise((r) => setTimeout(r, 500));
        const before = rssOf(pid);
        progress(`tun: ${idleN} idle connections to ${host}`);
        const cl = ns.start(process.execPath, [
          '--input-type=module',
          '-e',
          idleClient(host, port, idleN),
        ]);
        await ns.waitFor(cl.out, /ready/, 120_000);
        await new Promise((r) => setTimeout(r, 1000));
        const after = rssOf(pid);
        await stop(cl.child);
        return (after - before) / idleN;
      };
      const a = await measure(ours.child, SYNACK, 9000);
      const b = await measure(theirs.child, KERNEL, 9001);
      out.idle = { ours: a, theirs: b, connections: idleN };
      await stop(ours.child);
      await stop(theirs.child);
    }
  } finally {
    ns.destroy();
  }
  return out;
}

function abRate(ns: Ns, url: string): number {
  const r = ns.exec('ab', ['-q', '-n', '5000', '-c', '16', url]);
  const m = /Requests per second:\s+([\d.]+)/.exec(r.stdout);
  if (!m) throw new Error(`ab ${url}: ${r.stdout.slice(-400)}${r.stderr.slice(-400)}`);
  return Number(m[1]);
}

function wrkRate(ns: Ns, url: string): number {
  const r = ns.exec('wrk', ['-c', '16', '-t', '2', '-d', '3s', url]);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  if (!m) throw new Error(`wrk ${url}: ${r.stdout.slice(-400)}${r.stderr.slice(-400)}`);
  return Number(m[1]);
}

function bulkRate(ns: Ns, host: string, port: number, bytes: number): number {
  const r = ns.exec(
    process.execPath,
    ['--input-type=module', '-e', bulkClient(host, port, bytes)],
    300_000,
  );
  const v = Number(r.stdout.trim());
  if (!v) throw new Error(`bulk to ${host}: ${r.stderr.slice(-400)}`);
  return v;
}

export { median };
