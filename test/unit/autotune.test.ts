// Buffer autotuning (TcpConfig.rcvBufMax / sndBufMax): on a long fat path a
// fixed 256 KiB window caps a connection at 256 KiB per round trip; with
// autotuning the receive buffer grows while the application keeps up, the
// send buffer with the congestion window, and neither passes its ceiling. An
// application that does not read never makes the receive buffer grow.

import { describe, expect, it } from 'vitest';
import { defaultLink, Network } from '../../src/sim/network.ts';
import type { TcpConfig, TraceEvent } from '../../src/tcp/types.ts';
import { SYN } from '../../src/wire/tcp.ts';

type Seg = Extract<TraceEvent, { type: 'segment' }>;

const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 13 + (i >> 9)) & 0xff);

/** `bytes` from client to server over a 100 ms round trip; the server reads as data comes unless `reads` is false. */
function transfer(bytes: number, config: Partial<TcpConfig>, reads = true) {
  const net = new Network(7, { ...defaultLink, latency: 50 });
  const c = net.addHost('client', '198.18.0.1', { config });
  const s = net.addHost('server', '198.18.0.2', { config });
  let got = 0;
  let doneAt = Number.NaN;
  const chunks: Uint8Array[] = [];
  s.listen({ port: 80 }).on('connection', (sock) => {
    if (!reads) return;
    sock.on('data', (d) => {
      chunks.push(d);
      got += d.length;
      if (got === bytes) doneAt = net.clock.now();
    });
  });
  const sock = c.connect({ host: '198.18.0.2', port: 80 });
  const data = pattern(bytes);
  sock.on('connect', () => sock.write(data));
  net.run(60_000);
  // The SYN,ACK's window is not scaled; the synack profile announces scale 7 for the rest.
  const fromServer = net.events.filter(
    (e): e is Seg =>
      e.type === 'segment' && e.host === 'server' && e.dir === 'out' && !(e.seg.flags & SYN),
  );
  const maxWindow = Math.max(...fromServer.map((e) => e.seg.window * 128));
  const lastWindow = fromServer[fromServer.length - 1].seg.window * 128;
  return { got, doneAt, data, chunks, maxWindow, lastWindow };
}

describe('buffer autotuning (rcvBufMax, sndBufMax)', () => {
  const bytes = 12 << 20;

  it('on a 100 ms path the window grows past the initial 256 KiB, never past the ceiling, and the transfer is faster', () => {
    const tuned = transfer(bytes, { rcvBufMax: 4 << 20, sndBufMax: 4 << 20 });
    const fixed = transfer(bytes, { rcvBufMax: 256 * 1024, sndBufMax: 256 * 1024 });
    expect(tuned.got).toBe(bytes);
    expect(fixed.got).toBe(bytes);
    expect(Buffer.compare(Buffer.concat(tuned.chunks), Buffer.from(tuned.data))).toBe(0);
    expect(fixed.maxWindow).toBeLessThanOrEqual(256 * 1024);
    expect(tuned.maxWindow).toBeGreaterThan(1 << 20);
    expect(tuned.maxWindow).toBeLessThanOrEqual(4 << 20);
    // 12 MiB at 256 KiB a round trip is ~48 round trips; grown, well under half of that.
    expect(fixed.doneAt).toBeGreaterThan(4_000);
    expect(tuned.doneAt).toBeLessThan(fixed.doneAt / 2);
  });

  it('a receiver that does not read keeps its buffer: the window closes at 256 KiB', () => {
    const r = transfer(1 << 20, { rcvBufMax: 4 << 20, sndBufMax: 4 << 20 }, false);
    expect(r.maxWindow).toBeLessThanOrEqual(256 * 1024);
    expect(r.lastWindow).toBe(0);
  });

  it('a receive buffer the application set (rcvBufLocked, as SO_RCVBUF) does not grow', () => {
    const r = transfer(4 << 20, { rcvBufMax: 4 << 20, sndBufMax: 4 << 20, rcvBufLocked: true });
    expect(r.got).toBe(4 << 20);
    expect(r.maxWindow).toBeLessThanOrEqual(256 * 1024);
  });
});
