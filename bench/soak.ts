// A soak test over TUN: `synack serve --echo` in a network namespace of its
// own, the kernel's TCP (a Node client) opening CONNECTIONS short connections
// and then echoing BYTES through a few long ones, while serve's RSS is sampled
// every second from its --stats lines. Memory must stay flat.
//
//   npm run soak [-- CONNECTIONS [BYTES]]      (defaults: 20000 and 1 GiB; root needed)

import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const connections = Number(process.argv[2] ?? 20_000);
const bytes = Number(process.argv[3] ?? 2 ** 30);
if (!Number.isInteger(connections) || connections < 1 || !Number.isInteger(bytes) || bytes < 0) {
  console.error('usage: npm run soak -- [CONNECTIONS (a positive integer)] [BYTES (an integer)]');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('soak: needs root (a network namespace and a TUN device)');
  process.exit(2);
}
const ns = `synack-soak-${process.pid}`;
const ip = (...a: string[]) => {
  const r = spawnSync('ip', a, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
};
ip('netns', 'add', ns);
try {
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  ip('-n', ns, 'tuntap', 'add', 'dev', 'syn0', 'mode', 'tun');
  ip('-n', ns, 'addr', 'add', '198.18.0.1/24', 'dev', 'syn0');
  ip('-n', ns, 'link', 'set', 'syn0', 'up');
  await soak();
} finally {
  spawnSync('ip', ['netns', 'del', ns]);
}

async function soak(): Promise<void> {
  const serve = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      process.execPath,
      '--import',
      'tsx',
      join(root, 'src/cli/main.ts'),
      'serve',
      '7',
      '--echo',
      '--tun',
      'syn0',
      '--addr',
      '198.18.0.2/24',
      '--trace',
      'none',
      '--stats',
      '1',
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const samples: { t: number; phase: string; rss: number; heap: number; conns: number }[] = [];
  let phase = 'idle';
  const t0 = Date.now();
  let err = '';
  serve.stderr.on('data', (d) => {
    err += d;
    for (const m of String(d).matchAll(/synack: stats (\{.*\})/g)) {
      const s = JSON.parse(m[1]);
      samples.push({
        t: (Date.now() - t0) / 1000,
        phase,
        rss: s.rss,
        heap: s.heapUsed,
        conns: s.connections,
      });
    }
  });
  while (!/serving echo/.test(err)) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1500));
  const client = `
    import net from 'node:net';
    const N = ${connections}, BYTES = ${bytes}, PAR = 16;
    let started = 0, done = 0;
    const t0 = Date.now();
    await new Promise((resolve) => {
      const one = () => {
        if (started >= N) return;
        started++;
        const s = net.connect(7, '198.18.0.2', () => s.end('x'.repeat(100)));
        let got = 0;
        s.on('data', (d) => (got += d.length));
        s.on('error', () => {});
        s.on('close', () => { done++; if (done === N) resolve(); else one(); });
      };
      for (let i = 0; i < PAR; i++) one();
    });
    console.log('phase bulk', (N / ((Date.now() - t0) / 1000)).toFixed(0), 'connections/s');
    const t1 = Date.now();
    const per = Math.ceil(BYTES / 4);
    await Promise.all([0, 1, 2, 3].map(() => new Promise((resolve) => {
      const s = net.connect(7, '198.18.0.2');
      const chunk = Buffer.alloc(65536, 97);
      let sent = 0, got = 0;
      const pump = () => { while (sent < per) { sent += chunk.length; if (!s.write(chunk)) return; } s.end(); };
      s.on('drain', pump); s.on('connect', pump);
      s.on('data', (d) => (got += d.length));
      s.on('close', () => resolve(got));
    })));
    console.log('done', (BYTES / ((Date.now() - t1) / 1000) / 1e6).toFixed(1), 'MB/s echoed');
  `;
  const c = spawn(
    'ip',
    ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', client],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  phase = 'connections';
  c.stdout.on('data', (d) => {
    const text = String(d);
    process.stdout.write(`client: ${text}`);
    if (/phase bulk/.test(text)) phase = 'bulk';
  });
  await new Promise((r) => c.on('close', r));
  phase = 'after';
  await new Promise((r) => setTimeout(r, 3000));
  serve.kill('SIGTERM');
  await new Promise((r) => serve.on('close', r));
  const mb = (n: number) => (n / 1048576).toFixed(1);
  console.log('\nserve RSS (MiB), sampled every second:');
  console.log('   t(s)  phase        rss    heap  connections');
  for (const s of samples)
    console.log(
      `${s.t.toFixed(0).padStart(7)}  ${s.phase.padEnd(11)} ${mb(s.rss).padStart(6)} ${mb(s.heap).padStart(6)}  ${s.conns}`,
    );
  const by = (p: string) => samples.filter((s) => s.phase === p).map((s) => s.rss);
  for (const p of ['idle', 'connections', 'bulk', 'after']) {
    const r = by(p);
    if (r.length)
      console.log(
        `${p.padEnd(12)} min ${mb(Math.min(...r))}  max ${mb(Math.max(...r))}  last ${mb(r[r.length - 1])}`,
      );
  }
}
