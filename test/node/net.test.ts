// synack/node's net-compatible sockets with Node's own libraries: http (server
// and client, keep-alive), undici's fetch, tls, backpressure, errors shaped
// as Node's. Two synack stacks in one process, on real time, over memory.

import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { Agent, fetch } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryPair } from '../../src/link/memory.ts';
import { connect, createServer, type Server, Socket } from '../../src/node/net.ts';
import { realClock } from '../../src/stack/clock.ts';
import { Stack } from '../../src/stack/stack.ts';

const SERVER = '198.18.0.2';

function stacks() {
  const clock = realClock();
  const client = new Stack({ name: 'client', addresses: ['198.18.0.1', '2001:db8::1'], clock });
  const server = new Stack({ name: 'server', addresses: [SERVER, '2001:db8::2'], clock });
  const [a, b] = memoryPair();
  client.attach(a);
  server.attach(b);
  return { client, server };
}

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) if (s.listening) s.close();
});

function listen(server: Server, port: number): Promise<void> {
  servers.push(server);
  return new Promise((resolve) => server.listen(port, resolve));
}

describe("Node's http over synack sockets", () => {
  it('http.createServer serves, http.request fetches (through an Agent with createConnection)', async () => {
    const { client, server } = stacks();
    const web = http.createServer((req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(`hello ${req.method} ${req.url}`);
    });
    await listen(
      createServer({ stack: server }, (s) => web.emit('connection', s)),
      80,
    );
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        {
          host: SERVER,
          port: 80,
          path: '/x',
          // A synack Socket is a stream.Duplex, which is what http needs from a connection.
          createConnection: ((o: { host?: string; port?: number }) =>
            connect({
              stack: client,
              host: o.host ?? SERVER,
              port: Number(o.port),
            })) as unknown as http.RequestOptions['createConnection'],
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve(`${res.statusCode} ${text}`));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('200 hello GET /x');
  });

  it('keep-alive: two requests on one synack connection', async () => {
    const { client, server } = stacks();
    const seen = new Set<number>();
    const web = http.createServer((req, res) => {
      seen.add(req.socket.remotePort!);
      res.end('ok');
    });
    await listen(
      createServer({ stack: server }, (s) => web.emit('connection', s)),
      80,
    );
    class SynackAgent extends http.Agent {
      override createConnection(o: { host?: string; port?: number }) {
        return connect({ stack: client, host: o.host ?? SERVER, port: Number(o.port) });
      }
    }
    const agent = new SynackAgent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<string>((resolve, reject) =>
        http
          .get({ host: SERVER, port: 80, agent }, (res) => {
            let t = '';
            res.on('data', (d) => (t += d));
            res.on('end', () => resolve(t));
          })
          .on('error', reject),
      );
    expect(await get()).toBe('ok');
    expect(await get()).toBe('ok');
    expect(seen.size).toBe(1);
    agent.destroy();
  });

  it("undici's fetch through a custom connector", async () => {
    const { client, server } = stacks();
    const web = http.createServer((_req, res) => res.end(JSON.stringify({ via: 'synack' })));
    await listen(
      createServer({ stack: server }, (s) => web.emit('connection', s)),
      8080,
    );
    const dispatcher = new Agent({
      connect: (o, cb) => {
        const s = connect({ stack: client, host: o.hostname, port: Number(o.port) });
        s.once('connect', () => cb(null, s as unknown as import('node:net').Socket));
        s.once('error', (e) => cb(e, null));
      },
    });
    const r = await fetch(`http://${SERVER}:8080/`, { dispatcher });
    expect(await r.json()).toEqual({ via: 'synack' });
    await dispatcher.close();
  });
});

describe('TLS over synack (HTTPS on user-space TCP)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synack-tls-'));
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=synack.test',
      '-addext',
      'subjectAltName=DNS:synack.test',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { encoding: 'utf8' },
  );

  it('tls.createServer and tls.connect({ socket }) talk through synack; https serves a page', async () => {
    expect(made.status, made.stderr).toBe(0);
    const key = readFileSync(join(dir, 'key.pem'));
    const cert = readFileSync(join(dir, 'cert.pem'));
    const { client, server } = stacks();
    const web = http.createServer((_req, res) => res.end('secure hello'));
    const secure = tls.createServer({ key, cert }, (s) => web.emit('connection', s));
    await listen(
      createServer({ stack: server }, (s) => secure.emit('connection', s)),
      443,
    );
    const raw = connect({ stack: client, host: SERVER, port: 443 });
    const t = tls.connect({ socket: raw, ca: cert, servername: 'synack.test' });
    await once(t, 'secureConnect');
    expect(t.authorized).toBe(true);
    t.write('GET / HTTP/1.1\r\nHost: synack.test\r\nConnection: close\r\n\r\n');
    let text = '';
    t.setEncoding('utf8');
    t.on('data', (d) => (text += d));
    await once(t, 'end');
    expect(text).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(text).toMatch(/secure hello$/);
  });
});

describe('Socket and Server as net.Socket and net.Server', () => {
  it('backpressure both ways: a paused reader closes the receive window; nothing is lost', async () => {
    const { client, server } = stacks();
    let peer: Socket | undefined;
    await listen(
      createServer({ stack: server, config: { rcvBuf: 65536 } }, (s) => {
        peer = s;
        s.pause();
      }),
      9,
    );
    const c = connect({ stack: client, host: SERVER, port: 9 });
    await once(c, 'connect');
    const chunk = Buffer.alloc(64 * 1024, 7);
    let writes = 0;
    while (c.write(chunk) && writes < 1000) writes++;
    expect(writes).toBeLessThan(1000); // write() said "wait" at some point
    await new Promise((r) => setTimeout(r, 200));
    const conn = peer!.tcp!.conn;
    expect(conn.recvQueued + (conn.ooo?.bytes ?? 0)).toBeLessThanOrEqual(65536 + 127);
    expect(conn.rcvWindow()).toBeLessThan(1024);
    // Resume and count: every byte arrives.
    let got = 0;
    peer!.on('data', (d: Buffer) => (got += d.length));
    peer!.resume();
    const total = (writes + 1) * chunk.length;
    c.end();
    await once(peer!, 'end');
    expect(got).toBe(total);
  });

  it('errors carry code, errno and syscall; a missing error listener throws as in Node', async () => {
    const { client } = stacks();
    const c = connect({ stack: client, host: SERVER, port: 1 });
    const [err] = await once(c, 'error');
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.errno).toBe(-111);
    expect(err.syscall).toBe('connect');
    expect(err.message).toContain(`${SERVER}:1`);
    const named = connect({ stack: client, host: 'example.test', port: 80 });
    const [e2] = await once(named, 'error');
    expect(e2.code).toBe('ENOTFOUND');
    expect(e2.message).toMatch(/IP address|lookup/);
    expect(new Socket({ stack: client }).listenerCount('error')).toBe(0);
  });

  it("an 'error' nobody listens for ends the process, as Node's does (not swallowed)", () => {
    const root = join(import.meta.dirname, '../..');
    const code = `
      import { memoryPair, realClock, Stack } from './src/index.ts';
      import { connect } from './src/node/index.ts';
      const clock = realClock();
      const a = new Stack({ addresses: ['198.18.0.1'], clock });
      const b = new Stack({ addresses: ['198.18.0.2'], clock });
      const [x, y] = memoryPair(); a.attach(x); b.attach(y);
      connect({ stack: a, host: '198.18.0.2', port: 9 });
      setTimeout(() => console.log('still alive'), 500);
    `;
    const r = spawnSync(
      process.execPath,
      [join(root, 'node_modules/tsx/dist/cli.mjs'), '--input-type=module', '-e', code],
      { cwd: root, encoding: 'utf8', timeout: 20_000 },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/ECONNREFUSED/);
    expect(r.stdout).not.toMatch(/still alive/);
  });

  it('a lookup function resolves host names; addresses, families and byte counts are reported', async () => {
    const { client, server } = stacks();
    await listen(
      createServer({ stack: server }, (s) => s.pipe(s)),
      7,
    );
    const c = connect({
      stack: client,
      host: 'echo.test',
      port: 7,
      lookup: (_h, _o, cb) => cb(null, '2001:db8::2', 6),
    });
    await once(c, 'connect');
    expect([c.remoteAddress, c.remotePort, c.remoteFamily]).toEqual(['2001:db8::2', 7, 'IPv6']);
    expect(c.address()).toEqual({ address: '2001:db8::1', family: 'IPv6', port: c.localPort });
    expect(c.readyState).toBe('open');
    c.end('ping');
    const [d] = await once(c, 'data');
    expect(String(d)).toBe('ping');
    expect(c.bytesWritten).toBe(4);
    expect(c.bytesRead).toBe(4);
  });

  it('setTimeout emits timeout after inactivity; AbortSignal aborts a connect', async () => {
    const { client, server } = stacks();
    await listen(
      createServer({ stack: server }, () => {}),
      7,
    );
    const c = connect({ stack: client, host: SERVER, port: 7 });
    // Past setTimeout's range (24.8 days): cut to it, as Node does, not fired at once.
    let early = 0;
    c.setTimeout(3e9, () => early++);
    await new Promise((r) => setTimeout(r, 30));
    expect(early).toBe(0);
    expect(c.timeout).toBe(2 ** 31 - 1);
    c.setTimeout(50);
    await once(c, 'timeout');
    c.destroy();
    const ac = new AbortController();
    const d = connect({ stack: client, host: SERVER, port: 7, signal: ac.signal });
    ac.abort();
    const [e] = await once(d, 'error');
    expect(e.name).toBe('AbortError');
  });

  it('Server: address, getConnections, maxConnections, EADDRINUSE, close after the last connection', async () => {
    const { client, server } = stacks();
    const srv = createServer({ stack: server }, (s) => s.resume());
    srv.maxConnections = 1;
    await listen(srv, 80);
    expect(srv.address()).toEqual({ address: '0.0.0.0', family: 'IPv4', port: 80 });
    const again = createServer({ stack: server });
    again.listen(80);
    const [inUse] = await once(again, 'error');
    expect(inUse.code).toBe('EADDRINUSE');
    const a = connect({ stack: client, host: SERVER, port: 80 });
    await once(a, 'connect');
    const dropped = once(srv, 'drop');
    const b = connect({ stack: client, host: SERVER, port: 80 });
    b.on('error', () => {});
    await dropped;
    const count = await new Promise((r) => srv.getConnections((_e, n) => r(n)));
    expect(count).toBe(1);
    let closed = false;
    srv.close(() => (closed = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(false); // a connection is still open
    a.end();
    await once(srv, 'close');
    expect(closed).toBe(true);
  });
});
