// synack's TUN commands run for real: they stop on a signal within a second
// (leaving a valid capture), exit by themselves when their work is done, and
// `serve --http` speaks HTTP/1.1 to the kernel's curl. Each test makes and
// removes its own network namespace.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KERNEL, Netns, SYNACK, SYNACK_ON_TUN, skipReason, tsharkErrors } from './netns.ts';

/** Packets in a pcap file (its records, read back from the header lengths). */
function pcapCount(file: string): number {
  const b = readFileSync(file);
  expect(b.readUInt32LE(0)).toBe(0xa1b2c3d4);
  let n = 0;
  for (let o = 24; o + 16 <= b.length; o += 16 + b.readUInt32LE(o + 8)) n++;
  return n;
}

async function timed(p: Promise<number | null>): Promise<[number | null, number]> {
  const t0 = Date.now();
  const code = await p;
  return [code, Date.now() - t0];
}

describe.skipIf(skipReason)(
  `synack on a TUN device, run for real${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let ns: Netns;
    afterEach(() => ns?.destroy());

    it('serve stops on SIGTERM within a second with no traffic at all, leaving a valid pcap', async () => {
      ns = new Netns();
      const pcap = join(tmpdir(), `${ns.name}-idle.pcap`);
      const srv = ns.synack([
        'serve',
        '7',
        '--tun',
        'syn0',
        '--addr',
        `${SYNACK}/24`,
        '--pcap',
        pcap,
      ]);
      await srv.waitFor(/serving echo/);
      await new Promise((r) => setTimeout(r, 300));
      srv.child.kill('SIGTERM');
      const [code, ms] = await timed(srv.done);
      expect(code).toBe(0);
      expect(ms).toBeLessThan(2000);
      expect(srv.err).toMatch(/SIGTERM: stopping/);
      expect(pcapCount(pcap)).toBe(0);
      expect(tsharkErrors(pcap)).toBe('');
    }, 30_000);

    it('serve with traffic: SIGINT flushes the capture (every packet), prints its counters, exits 0', async () => {
      ns = new Netns();
      const pcap = join(tmpdir(), `${ns.name}-busy.pcap`);
      const srv = ns.synack([
        'serve',
        '7',
        '--tun',
        'syn0',
        '--addr',
        `${SYNACK}/24`,
        '--pcap',
        pcap,
        '--trace',
        'none',
        '--stats',
        '1',
      ]);
      await srv.waitFor(/serving echo/);
      const client = ns.node(`
        import net from 'node:net';
        const s = net.connect(7, '${SYNACK}', () => s.end('x'.repeat(100000)));
        let n = 0; s.on('data', (d) => (n += d.length)); s.on('end', () => console.log('echoed', n));
      `);
      await client.waitFor(/echoed 100000/);
      await srv.waitFor(/synack: stats \{"connections"/, 3000);
      srv.child.kill('SIGINT');
      const [code, ms] = await timed(srv.done);
      expect(code).toBe(0);
      expect(ms).toBeLessThan(2000);
      expect(pcapCount(pcap)).toBeGreaterThan(10);
      expect(srv.err).toMatch(new RegExp(`wrote ${pcapCount(pcap)} packets`));
      expect(tsharkErrors(pcap)).toBe('');
    }, 30_000);

    it('connect exits by itself when its work is done, --delay-in too; and on SIGTERM while it waits', async () => {
      ns = new Netns();
      const echo = ns.node(`
        import net from 'node:net';
        net.createServer((c) => c.pipe(c)).listen(9000, '${KERNEL}', () => console.log('listening'));
      `);
      await echo.waitFor(/listening/);
      const t0 = Date.now();
      const r = ns.synackSync([
        'connect',
        KERNEL,
        '9000',
        '--data',
        'hi',
        '--delay-in',
        '50',
        '--tun',
        'syn0',
        '--addr',
        `${SYNACK}/24`,
      ]);
      expect(r.stdout).toBe('hi');
      expect(r.status).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000);
      // Nobody answers at 198.18.0.99: connect waits on its SYN retries until the signal.
      const pcap = join(tmpdir(), `${ns.name}-wait.pcap`);
      const c = ns.synack([
        'connect',
        '198.18.0.99',
        '80',
        '--data',
        'x',
        '--delay-in',
        '10',
        '--tun',
        'syn0',
        '--addr',
        `${SYNACK}/24`,
        '--pcap',
        pcap,
      ]);
      await c.waitFor(/Flags \[S\]/);
      c.child.kill('SIGTERM');
      const [code, ms] = await timed(c.done);
      expect(code).toBe(143);
      expect(ms).toBeLessThan(2000);
      expect(pcapCount(pcap)).toBeGreaterThanOrEqual(1);
    }, 30_000);

    it('synack web serves the built lab page on localhost (inside the namespace) and stops on a signal', async () => {
      ns = new Netns();
      const root = join(import.meta.dirname, '../..');
      execFileSync('npm', ['run', 'build:web'], { cwd: root, stdio: 'ignore' });
      const web = ns.start(process.execPath, [
        '--import',
        'tsx',
        join(root, 'src/cli/main.ts'),
        'web',
        '--port',
        '8000',
      ]);
      await web.waitFor(/synack lab: http:\/\/127\.0\.0\.1:8000\//);
      const page = ns.run('curl', ['-sS', '-m', '5', 'http://127.0.0.1:8000/']);
      expect(page.stdout).toMatch(/<div id="app"><\/div>/);
      const asset = /src="\.\/(assets\/[^"]+\.js)"/.exec(page.stdout)![1];
      const js = ns.run('curl', [
        '-sS',
        '-m',
        '5',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code} %{content_type}',
        `http://127.0.0.1:8000/${asset}`,
      ]);
      expect(js.stdout).toBe('200 text/javascript');
      const outside = ns.run('curl', [
        '-sS',
        '-m',
        '5',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--path-as-is',
        'http://127.0.0.1:8000/../../package.json',
      ]);
      expect(outside.stdout).toBe('404');
      web.child.kill('SIGTERM');
      expect(await web.done).toBe(0);
    }, 60_000);

    it('serve --http speaks HTTP/1.1: keep-alive, HEAD, a sized body, 400 for garbage', async () => {
      ns = new Netns();
      const srv = ns.synack(['serve', '80', '--http', '--http-body', '100000', ...SYNACK_ON_TUN]);
      await srv.waitFor(/serving http/);
      const r = ns.run('curl', [
        '-sS',
        '-m',
        '5',
        '-o',
        '/dev/null',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code} %{size_download} %{num_connects}\\n',
        `http://${SYNACK}/a`,
        `http://${SYNACK}/b`,
      ]);
      expect(r.stdout).toBe('200 100000 1\n200 100000 0\n');
      const head = ns.run('curl', ['-sS', '-m', '5', '-I', `http://${SYNACK}/`]);
      expect(head.stdout).toMatch(/^HTTP\/1\.1 200 OK/);
      expect(head.stdout).toMatch(/content-length: 100000/i);
      const bad = ns.node(`
        import net from 'node:net';
        const s = net.connect(80, '${SYNACK}', () => s.write('NOT HTTP AT ALL\\r\\n\\r\\n'));
        let t = ''; s.on('data', (d) => (t += d)); s.on('end', () => console.log(JSON.stringify(t)));
      `);
      await bad.waitFor(/400 Bad Request/);
      // Two requests in one segment (pipelining): two responses, in order, on one connection;
      // the second asks to close, so the server ends it (a FIN sent early would race with
      // Node's http, which drops requests still queued when the client half-closes).
      const piped = ns.node(`
        import net from 'node:net';
        const s = net.connect(80, '${SYNACK}', () =>
          s.write('GET /1 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nHEAD /2 HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n'));
        let t = ''; s.on('data', (d) => (t += d));
        s.on('end', () => console.log('responses', (t.match(/HTTP\\/1\\.1 200 OK/g) ?? []).length, t.length));
      `);
      await piped.waitFor(/responses 2 \d+/);
      expect(Number(/responses 2 (\d+)/.exec(piped.out)![1])).toBeGreaterThan(100000);
      await srv.stop();
    }, 30_000);
  },
);
