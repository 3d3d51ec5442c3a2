// The WinterTC-shaped Web Streams API over synack: echo, half-close,
// backpressure into the receive window, errors through the promises.

import { describe, expect, it } from 'vitest';
import { connect, listen, memoryPair, realClock, Stack } from '../../src/index.ts';

function stacks() {
  const clock = realClock();
  const a = new Stack({ name: 'a', addresses: ['198.18.0.1'], clock });
  const b = new Stack({ name: 'b', addresses: ['198.18.0.2'], clock });
  const [x, y] = memoryPair();
  a.attach(x);
  b.attach(y);
  return { a, b };
}

async function readAll(r: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of r as unknown as AsyncIterable<Uint8Array>) parts.push(c);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let k = 0;
  for (const p of parts) {
    out.set(p, k);
    k += p.length;
  }
  return out;
}

describe('Web Streams sockets (the WinterTC sockets shape)', () => {
  it('an echo: connect, write, close the writable (half-close), read everything back', async () => {
    const { a, b } = stacks();
    const server = listen(b, { port: 7 });
    (async () => {
      for await (const s of server) s.readable.pipeTo(s.writable);
    })();
    const sock = connect(a, '198.18.0.2:7');
    const info = await sock.opened;
    expect(info.remoteAddress).toBe('198.18.0.2');
    const w = sock.writable.getWriter();
    const data = new Uint8Array(300_000).map((_, i) => i & 0xff);
    await w.write(data);
    await w.close();
    const back = await readAll(sock.readable);
    expect(back).toEqual(data);
    await sock.closed;
    server.close();
  });

  it('backpressure: a reader that stops leaves the receive window closed; nothing is lost', async () => {
    const { a, b } = stacks();
    const server = listen(b, { port: 9, highWaterMark: 16384, config: { rcvBuf: 32768 } });
    const it = server[Symbol.asyncIterator]();
    const sock = connect(a, { hostname: '198.18.0.2', port: 9 });
    const peer = (await it.next()).value!;
    const w = sock.writable.getWriter();
    const total = 1 << 20;
    const writing = (async () => {
      for (let i = 0; i < total / 65536; i++) await w.write(new Uint8Array(65536).fill(i));
      await w.close();
    })();
    await new Promise((r) => setTimeout(r, 100));
    const conn = peer.tcp.conn;
    expect(conn.recvQueued).toBeLessThanOrEqual(32768 + 127);
    expect(conn.rcvWindow()).toBeLessThan(1460); // less than one segment: closed to the sender
    const got = await readAll(peer.readable);
    await writing;
    expect(got.length).toBe(total);
    expect(got[total - 1]).toBe(total / 65536 - 1);
    server.close();
  });

  it('a refused connection rejects opened and closed, and errors the readable', async () => {
    const { a } = stacks();
    const sock = connect(a, '198.18.0.2:1');
    await expect(sock.opened).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(sock.closed).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(sock.readable.getReader().read()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a malformed address is a clear TypeError', () => {
    const { a } = stacks();
    expect(() => connect(a, '198.18.0.2')).toThrow(/HOST:PORT/);
  });
});
