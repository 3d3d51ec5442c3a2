// The package as a user installs it: npm pack, install the tarball into an
// empty project, and use it from plain Node (ESM and CommonJS), from a
// TypeScript project made by `tsc --init`, and through its `synack` command.
// koffi is left out (--omit=optional): the core must not need it.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CORE_GZIP_BUDGET } from '../scripts/budget.mjs';

const root = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'synack-pack-'));
const app = join(work, 'app');

function run(cmd: string, args: string[], cwd = app) {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 180_000 });
}

const example = (imp: string) => `${imp}
const clock = realClock();
const client = new Stack({ name: 'client', addresses: ['198.18.0.1'], clock });
const server = new Stack({ name: 'server', addresses: ['198.18.0.2'], clock });
const [a, b] = memoryPair();
client.attach(a);
server.attach(b);
server.listen({ port: 80 }).on('connection', (sock) => {
  sock.on('data', (bytes) => sock.write(bytes));
  sock.on('end', () => sock.end());
});
const sock = client.connect({ host: '198.18.0.2', port: 80 });
sock.on('connect', () => sock.end('hello'));
sock.on('data', (bytes) => console.log(new TextDecoder().decode(bytes)));
sock.on('error', (err) => console.error(err.code));
`;

describe('the installed package', () => {
  beforeAll(() => {
    const packed = execFileSync('npm', ['pack', '--pack-destination', work], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tarball = join(work, packed.trim().split('\n').pop()!);
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(
      join(app, 'package.json'),
      '{ "name": "app", "private": true, "type": "module" }\n',
    );
    const r = run('npm', ['install', '--no-audit', '--no-fund', '--omit=optional', tarball]);
    if (r.status !== 0) throw new Error(`npm install failed: ${r.stderr}`);
  }, 240_000);

  it('ships dist, LICENSE and README, not the sources or tests', () => {
    const files = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: root,
        encoding: 'utf8',
      }),
    )[0].files.map((f: { path: string }) => f.path) as string[];
    expect(files).toContain('LICENSE');
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/cjs/node.cjs');
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);
  });

  it('plain node, ESM: the README example', () => {
    writeFileSync(
      join(app, 'index.mjs'),
      example("import { Stack, memoryPair, realClock } from 'synack';"),
    );
    const r = run(process.execPath, ['index.mjs']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello\n');
  });

  it('plain node, CommonJS: require("synack")', () => {
    writeFileSync(
      join(app, 'index.cjs'),
      example("const { Stack, memoryPair, realClock } = require('synack');"),
    );
    const r = run(process.execPath, ['index.cjs']);
    expect(r.stdout).toBe('hello\n');
  });

  it('synack/script runs a packet script, from ESM and from CommonJS', () => {
    const script = [
      '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3',
      '+0 bind(3, ..., ...) = 0',
      '+0 listen(3, 1) = 0',
      '+0 < S 0:0(0) win 65535 <mss 1460>',
      '+0 > S. 0:0(0) ack 1 win 65535 <mss 1460>',
    ].join('\\n');
    writeFileSync(
      join(app, 'script.mjs'),
      `import { runScript } from 'synack/script';\nconsole.log(runScript('${script}').status);`,
    );
    writeFileSync(
      join(app, 'script.cjs'),
      `const { runScript } = require('synack/script');\nconsole.log(runScript('${script}').status);`,
    );
    expect(run(process.execPath, ['script.mjs']).stdout).toBe('pass\n');
    expect(run(process.execPath, ['script.cjs']).stdout).toBe('pass\n');
    // A wrong expectation fails: the runner is really running.
    writeFileSync(
      join(app, 'bad.mjs'),
      `import { runScript } from 'synack/script';\nconsole.log(runScript('${script.replace('ack 1 win', 'ack 2 win')}').message);`,
    );
    expect(run(process.execPath, ['bad.mjs']).stdout).toMatch(/^ack number differs/);
  });

  it('synack/node: net-compatible sockets work without koffi; a TUN device says koffi is missing', () => {
    writeFileSync(
      join(app, 'node.mjs'),
      `import { memoryPair, realClock, Stack } from 'synack';
import { connect, createServer, openTun } from 'synack/node';
const clock = realClock();
const a = new Stack({ addresses: ['198.18.0.1'], clock });
const b = new Stack({ addresses: ['198.18.0.2'], clock });
const [x, y] = memoryPair(); a.attach(x); b.attach(y);
const srv = createServer({ stack: b }, (s) => s.pipe(s)).listen(7);
const c = connect({ stack: a, host: '198.18.0.2', port: 7 });
c.end('net echo');
c.on('data', (d) => console.log(String(d)));
c.on('close', () => {
  srv.close();
  try { openTun('syntest0'); } catch (e) { console.log(e.name + ': ' + e.message); }
});
`,
    );
    const r = run(process.execPath, ['node.mjs']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^net echo\nTunError: .*koffi.*npm install koffi/);
  });

  it('a TypeScript project made by tsc --init type-checks against the declarations', () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    expect(run(process.execPath, [tsc, '--init']).status).toBe(0);
    // Check our declarations too, not only the consumer's code.
    const cfg = readFileSync(join(app, 'tsconfig.json'), 'utf8').replace(
      '"skipLibCheck": true',
      '"skipLibCheck": false',
    );
    writeFileSync(join(app, 'tsconfig.json'), cfg);
    writeFileSync(
      join(app, 'index.ts'),
      `import { connect, listen, memoryPair, realClock, Stack, type TcpConfig, type TraceEvent } from 'synack';
const cfg: Partial<TcpConfig> = { rcvBuf: 65536, delayedAck: true };
const clock = realClock();
const a = new Stack({ addresses: ['198.18.0.1'], clock, config: cfg });
const b = new Stack({ addresses: ['198.18.0.2'], clock });
const [x, y] = memoryPair();
a.attach(x);
b.attach(y);
const events: TraceEvent[] = [];
const server = listen(b, { port: 7 });
const sock = connect(a, { hostname: '198.18.0.2', port: 7 });
const info: Promise<{ remotePort: number }> = sock.opened;
const n: number = a.stats.counters['segments-out'] ?? 0;
export { events, info, n, server };
`,
    );
    const r = run(process.execPath, [tsc, '-p', '.', '--noEmit']);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the installed synack command runs with plain node: --version and run handshake', () => {
    const bin = join(app, 'node_modules/.bin/synack');
    const v = run(bin, ['--version']);
    expect(v.stdout.trim()).toBe(
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version,
    );
    const h = run(bin, ['run', 'handshake', '--no-color']);
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/ESTABLISHED/);
    expect(h.stdout).toMatch(/✓ SYN,ACK acknowledges ISN\(c\)\+1/);
  });

  it(`the browser core stays within its size budget (${CORE_GZIP_BUDGET / 1024} KiB gzip)`, () => {
    const size = JSON.parse(readFileSync(join(root, 'dist/size.json'), 'utf8'));
    expect(size.core.gzip).toBeGreaterThan(1000);
    expect(size.core.gzip).toBeLessThanOrEqual(CORE_GZIP_BUDGET);
  });
});
