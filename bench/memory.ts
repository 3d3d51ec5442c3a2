// The in-memory figures: synack against itself over a memory link, side by
// side with Node's `net` over loopback (the Linux kernel) in the same process
// and run — handshakes, bulk transfer, bytes per connection, the SYN flood.

import net from 'node:net';
import { VirtualClock } from '../src/sim/clock.ts';
import type { Link } from '../src/stack/link.ts';
import type { TcpSocket } from '../src/stack/socket.ts';
import { Stack } from '../src/stack/stack.ts';
import { seededRandom } from '../src/tcp/random.ts';
import { State } from '../src/tcp/types.ts';
import { encodePacket, SYN } from '../src/wire/tcp.ts';
import { gcPauses, heap, median, type Rate, rate, settle } from './lib.ts';

/**
 * How the two stacks of a pair are joined. `loopback` is what Node's `net`
 * gets from Linux's `lo` in the same run: MTU 65536 (MSS 65495) and no TCP
 * checksums computed or verified (an in-process memory pair). `ethernet`:
 * MTU 1500, every checksum computed and verified, data copied.
 */
export type PairLink = 'loopback' | 'ethernet';

/**
 * Where the benchmark's virtual clocks start: at a fraction of a millisecond,
 * as `performance.now()` reads. A clock of whole milliseconds would let every
 * time a connection keeps be a small integer to V8, and the heap figures
 * would leave out the boxes real, fractional times can cost.
 */
const CLOCK_START = 1000.37;

/**
 * Two stacks joined by a synchronous memory link, on one virtual clock (or each
 * on its own, so that one can be let go and its memory counted). `links`: the
 * client's and the server's link instead (to hold packets between steps).
 */
export function pair(
  clientAddresses = ['198.18.0.1'],
  ownClocks = false,
  link: PairLink = 'loopback',
  links: [Link, Link] = syncPair(link === 'loopback'),
) {
  const clock = new VirtualClock(CLOCK_START);
  const config = link === 'loopback' ? { mss: 65495 } : {};
  const client = new Stack({
    name: 'c',
    addresses: clientAddresses,
    clock: ownClocks ? new VirtualClock(CLOCK_START) : clock,
    random: seededRandom(1),
    config,
  });
  const server = new Stack({
    name: 's',
    addresses: ['198.18.0.2'],
    clock,
    random: seededRandom(2),
    config,
  });
  const [a, b] = links;
  client.attach(a);
  server.attach(b);
  const listener = server.listen({ port: 80, backlog: 1 << 20 });
  return { clock, client, server, listener, links: [a, b] as const };
}

/**
 * A memory pair that delivers each packet inside the call that sent it (the
 * receiving stack queues what arrives while it is busy): memoryPair with a
 * synchronous defer, without the closure it makes per packet, which is the
 * harness's cost and not the stack's.
 */
function syncPair(inProcess: boolean): [Link, Link] {
  const a: Link = { onPacket: null, fresh: true, inProcess, send: (p) => b.onPacket?.(p) };
  const b: Link = { onPacket: null, fresh: true, inProcess, send: (p) => a.onPacket?.(p) };
  return [a, b];
}

export async function synackHandshakes(rounds: number, n: number): Promise<Rate> {
  const p = pair();
  return rate(rounds, n, (k) => {
    for (let i = 0; i < k; i++) {
      const sock = p.client.connect({ host: '198.18.0.2', port: 80 });
      const peer = p.listener.accept();
      if (!peer || sock.state !== 'ESTABLISHED') throw new Error('handshake did not complete');
      sock.destroy();
    }
  });
}

export async function nodeHandshakes(rounds: number, n: number): Promise<Rate> {
  const server = net.createServer((s) => s.on('error', () => {}));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.resetAndDestroy();
        resolve();
      });
      c.on('error', reject);
    });
  try {
    return await rate(rounds, n, async (k) => {
      for (let i = 0; i < k; i++) await once();
    });
  } finally {
    server.close();
  }
}

/** Bytes per second through one connection: `total` bytes in 64 KiB writes, counted as received. */
export async function synackBulk(
  rounds: number,
  total: number,
  link: PairLink = 'loopback',
): Promise<Rate> {
  const chunk = new Uint8Array(65536);
  return rate(rounds, total, (bytes) => {
    const p = pair(undefined, false, link);
    const sock = p.client.connect({ host: '198.18.0.2', port: 80 });
    const peer = p.listener.accept() as TcpSocket;
    let got = 0;
    peer.on('data', (d) => {
      got += d.length;
    });
    let sent = 0;
    let guard = 0;
    while (got < bytes) {
      while (sent < bytes && sock.write(chunk.subarray(0, Math.min(chunk.length, bytes - sent))))
        sent += Math.min(chunk.length, bytes - sent);
      // Timers (delayed ACKs) run on the virtual clock; nothing waits in real time.
      if (!p.clock.runOne() && ++guard > 1e7) throw new Error('bulk transfer stalled');
    }
    sock.destroy();
  });
}

export async function nodeBulk(rounds: number, total: number): Promise<Rate> {
  const chunk = Buffer.alloc(65536);
  let onDone: (() => void) | null = null;
  let want = 0;
  let got = 0;
  const server = net.createServer((s) => {
    s.on('data', (d) => {
      got += d.length;
      if (got >= want && onDone) {
        const f = onDone;
        onDone = null;
        f();
      }
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  try {
    return await rate(rounds, total, async (bytes) => {
      got = 0;
      want = bytes;
      const c = net.connect(port, '127.0.0.1');
      await new Promise<void>((r) => c.once('connect', () => r()));
      const done = new Promise<void>((r) => (onDone = r));
      let sent = 0;
      while (sent < bytes) {
        const n = Math.min(chunk.length, bytes - sent);
        sent += n;
        if (!c.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
          await new Promise<void>((r) => c.once('drain', () => r()));
      }
      await done;
      c.destroy();
    });
  } finally {
    server.close();
  }
}

/**
 * Heap bytes per connection end: `n` established connections with both ends
 * kept, then the client stack is let go (its share is what the heap loses);
 * TIME-WAIT (the client closes first); half-open records (SYNs nobody completes).
 */
export async function bytesPerConnection(n: number): Promise<{
  client: number;
  server: number;
  timeWait: number;
  halfOpen: number;
}> {
  await settle();
  const base = heap();
  const { both, serverOnly } = await established(n);
  const server = (serverOnly - base) / n;
  const client = (both - serverOnly) / n;
  await settle();
  const base2 = heap();
  const timeWait = ((await timeWaitHeap(n)) - base2) / n;
  await settle();
  const base3 = heap();
  const halfOpen = (halfOpenHeap(n) - base3) / n;
  return { client, server, timeWait, halfOpen };
}

async function established(n: number): Promise<{ both: number; serverOnly: number }> {
  const p = pair(addressesFor(n), true);
  const socks = open(p, n);
  const serverSocks = socks.slice(n);
  socks.length = 0;
  await settle();
  const both = heap();
  // Cut the client loose: nothing references its stack, clock or sockets any more.
  for (const l of p.links) {
    l.onPacket = null;
    l.onPackets = null;
  }
  (p as { client: unknown }).client = null;
  await settle();
  const serverOnly = heap();
  if (serverSocks.length !== n || p.server.connections.size !== n)
    throw new Error('lost connections');
  return { both, serverOnly };
}

async function timeWaitHeap(n: number): Promise<number> {
  const q = pair(addressesFor(n), true);
  const socks = open(q, n);
  for (const s of socks) s.end();
  socks.length = 0;
  // Let the FINs and ACKs cross (not the 60 s of TIME-WAIT): the server's clock runs.
  q.clock.run(q.clock.now() + 1000);
  let tw = 0;
  for (const c of q.client.connections.values()) if (c.state === State.TimeWait) tw++;
  if (tw !== n) throw new Error(`${tw} of ${n} connections reached TIME-WAIT`);
  if (q.server.connections.size !== 0) throw new Error('server ends still open');
  // Only the records count: the server (whose tables stay sized for n connections) is let go.
  for (const l of q.links) {
    l.onPacket = null;
    l.onPackets = null;
  }
  (q as { server: unknown }).server = null;
  (q as { listener: unknown }).listener = null;
  // And the server's clock: a wake the server still has pending on it would
  // keep the server (and its tables) alive, counted as the records' bytes.
  (q as { clock: unknown }).clock = null;
  await settle();
  const h = heap();
  // Keep the client (and its TIME-WAIT records) alive until measured.
  if (q.client.connections.size !== n) throw new Error('TIME-WAIT records gone');
  return h;
}

function halfOpenHeap(n: number): number {
  const clock = new VirtualClock(CLOCK_START);
  const srv = new Stack({ name: 's', addresses: ['198.18.0.2'], clock, random: seededRandom(3) });
  srv.attach({ onPacket: null, send: () => {} });
  // A SYN queue holds at most 4096 (as somaxconn): one listener per 4000 SYNs.
  const ls = Array.from({ length: Math.ceil(n / 4000) }, (_, k) =>
    srv.listen({ port: 80 + k, backlog: 4096, config: { synCookies: 'off' } }),
  );
  const dst = new Uint8Array([198, 18, 0, 2]);
  for (let i = 0; i < n; i++) {
    const src = new Uint8Array([198, 19, (i >> 8) & 0xff, i & 0xff]);
    srv.receive(
      encodePacket(src, dst, {
        srcPort: 1024 + (i % 60000),
        dstPort: 80 + Math.floor(i / 4000),
        seq: i * 7919,
        ack: 0,
        flags: SYN,
        window: 65535,
        urgent: 0,
        options: [{ kind: 'mss', value: 1460 }],
        payload: new Uint8Array(0),
      }),
    );
  }
  const h = heap();
  const queued = ls.reduce((k, l) => k + l.listener.synQueue.size, 0);
  if (queued !== n) throw new Error(`${queued} of ${n} SYNs queued`);
  return h;
}

function addressesFor(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i * 28000 < n; i++) out.push(`198.18.${1 + (i >> 8)}.${i & 0xff}`);
  return out;
}

/** Opens n connections and keeps both ends (client sockets, then the accepted server sockets). */
export function open(p: ReturnType<typeof pair>, n: number): TcpSocket[] {
  const addrs = addressesFor(n);
  const socks: TcpSocket[] = [];
  const peers: TcpSocket[] = [];
  for (let i = 0; i < n; i++) {
    const a = addrs[Math.floor(i / 28000)];
    socks.push(
      p.client.connect({
        host: '198.18.0.2',
        port: 80,
        localAddress: a,
        localPort: 20000 + (i % 28000),
      }),
    );
    const peer = p.listener.accept();
    if (!peer) throw new Error('handshake did not complete');
    peers.push(peer);
  }
  return socks.concat(peers);
}

/**
 * Opening n concurrent connections (kept): handshakes per second, heap bytes
 * per end, and how the time per handshake splits between V8's collection
 * pauses (main thread) and everything else.
 */
export async function scaling(n: number): Promise<{
  /** Handshakes per second of elapsed time and per CPU-second, all repetitions together. */
  rate: number;
  perCpu: number;
  bytesPerEnd: number;
  /** Microseconds per handshake, and of them V8's collection pauses on the main thread. */
  usPerHandshake: number;
  gcUsPerHandshake: number;
}> {
  // n connections opened on a fresh pair and kept, repeated until about
  // 100,000 were opened, after a warm-up on connections that are let go (the
  // JIT has compiled the paths, V8's young generation has grown). The rate
  // is over all repetitions together, not their median: collections are
  // lumpy, and most repetitions of 1,000 see none (their median ran 1.5×
  // the rate of the whole).
  open(pair(addressesFor(Math.min(n, 10_000))), Math.min(n, 10_000));
  let elapsedMs = 0;
  let cpuUs = 0;
  let pausedMs = 0;
  const reps = Math.max(1, Math.floor(100_000 / n));
  const gc = gcPauses();
  try {
    for (let r = 0; r < reps; r++) {
      const p = pair(addressesFor(n));
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const socks = open(p, n);
      const t1 = performance.now();
      const c = process.cpuUsage(c0);
      if (socks.length !== 2 * n) throw new Error('not all connections opened');
      elapsedMs += t1 - t0;
      cpuUs += c.user + c.system;
      pausedMs += await gc.pausedBetween(t0, t1);
    }
  } finally {
    gc.stop();
  }
  // The bytes: one more set of n, measured alone.
  await settle();
  const base = heap();
  const socks = open(pair(addressesFor(n)), n);
  await settle();
  const used = heap() - base;
  if (socks.length !== 2 * n) throw new Error('not all connections opened');
  const total = reps * n;
  return {
    rate: total / (elapsedMs / 1000),
    perCpu: total / (cpuUs / 1e6),
    bytesPerEnd: used / (2 * n),
    usPerHandshake: (elapsedMs * 1000) / total,
    gcUsPerHandshake: (pausedMs * 1000) / total,
  };
}

/** Spoofed SYNs absorbed per second by one listener, and heap retained per SYN. */
export function synFlood(
  rounds: number,
  n: number,
  cookies: 'always' | 'off',
): { rate: Rate; bytesPerSyn: number } {
  const dst = new Uint8Array([198, 18, 0, 2]);
  const rng = seededRandom(99);
  const syns: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const src = new Uint8Array([198, 19, (i >> 8) & 0xff, i & 0xff]);
    syns.push(
      encodePacket(src, dst, {
        srcPort: 1024 + (i % 60000),
        dstPort: 80,
        seq: rng.u32(),
        ack: 0,
        flags: SYN,
        window: 65535,
        urgent: 0,
        options: [
          { kind: 'mss', value: 1460 },
          { kind: 'sackOk' },
          { kind: 'ts', val: i, ecr: 0 },
          { kind: 'nop' },
          { kind: 'wscale', shift: 7 },
        ],
        payload: new Uint8Array(0),
      }),
    );
  }
  const rates: number[] = [];
  const cpu: number[] = [];
  const bytes: number[] = [];
  for (let r = 0; r <= rounds; r++) {
    const clock = new VirtualClock(CLOCK_START);
    const stack = new Stack({
      name: 's',
      addresses: ['198.18.0.2'],
      clock,
      random: seededRandom(1),
    });
    // A device written synchronously, as TUN: done with each packet when send returns.
    stack.attach({ onPacket: null, send: () => {}, copies: true });
    stack.listen({ port: 80, backlog: 1024, config: { synCookies: cookies } });
    for (let i = 0; i < 20_000; i++) stack.receive(syns[i]);
    const before = heap();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) stack.receive(syns[i]);
    const dt = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const after = heap();
    if (r === 0) continue; // warm-up
    rates.push(n / dt);
    cpu.push(n / ((c.user + c.system) / 1e6));
    bytes.push(Math.max(0, (after - before) / n));
  }
  const sorted = [...rates].sort((a, b) => a - b);
  return {
    rate: {
      median: sorted[sorted.length >> 1],
      min: sorted[0],
      max: sorted[sorted.length - 1],
      perCpu: [...cpu].sort((a, b) => a - b)[cpu.length >> 1],
      rounds: rates,
    },
    bytesPerSyn: [...bytes].sort((a, b) => a - b)[bytes.length >> 1],
  };
}

/** The steps of one handshake, as handshakeSteps times them. */
export const HANDSHAKE_STEPS = [
  'connect(): the client sends its SYN',
  'the server takes the SYN and answers SYN,ACK',
  'the client takes the SYN,ACK: ESTABLISHED, and answers ACK',
  'the server takes the ACK: ESTABLISHED, queued for accept',
  'accept()',
  'destroy(): the client sends RST and lets go',
  'the server takes the RST and lets go',
] as const;

/**
 * An engine as timeSteps drives it: a client and a server that hand every
 * packet they send to the `fromClient` and `fromServer` that `make` was given
 * (nothing is delivered until the driver does).
 */
export interface StepEngine<S> {
  connect(): S;
  accept(): boolean;
  destroy(s: S): void;
  toServer(packet: Uint8Array): void;
  toClient(packet: Uint8Array): void;
}

/**
 * Where a handshake's time goes: the same connect, accept, RST as the
 * handshake loop, each step done for a batch of `batch` connections and timed
 * alone, the packets between steps held. `make` builds the engine, given
 * where its client and its server put what they send. Nanoseconds per
 * connection for each step, medians of `rounds` after thirty warm-up rounds.
 */
export function timeSteps<S>(
  make: (fromClient: (p: Uint8Array) => void, fromServer: (p: Uint8Array) => void) => StepEngine<S>,
  rounds: number,
  batch = 1000,
): number[] {
  let fromClient: Uint8Array[] = [];
  let fromServer: Uint8Array[] = [];
  const e = make(
    (p) => fromClient.push(p),
    (p) => fromServer.push(p),
  );
  /** What one side has sent since last asked, handed to `to`. */
  const pass = (side: 'client' | 'server', to: (p: Uint8Array) => void): Uint8Array[] => {
    const packets = side === 'client' ? fromClient : fromServer;
    if (side === 'client') fromClient = [];
    else fromServer = [];
    for (const p of packets) to(p);
    return packets;
  };
  const steps: number[][] = HANDSHAKE_STEPS.map(() => []);
  // Thirty batches first: fewer left the JIT's work in the first rounds (the
  // ACK's step read 1.9 µs after 5,000 connections, 0.8 after 30,000).
  const warmUp = 30;
  for (let r = 0; r < warmUp + rounds; r++) {
    const t = [performance.now()];
    const socks: S[] = [];
    for (let i = 0; i < batch; i++) socks.push(e.connect());
    t.push(performance.now());
    const syns = pass('client', e.toServer);
    t.push(performance.now());
    const synAcks = pass('server', e.toClient);
    t.push(performance.now());
    const acks = pass('client', e.toServer);
    t.push(performance.now());
    for (let i = 0; i < batch; i++) if (!e.accept()) throw new Error('handshake did not complete');
    t.push(performance.now());
    for (const s of socks) e.destroy(s);
    t.push(performance.now());
    const rsts = pass('client', e.toServer);
    t.push(performance.now());
    if (
      syns.length + synAcks.length + acks.length + rsts.length !== 4 * batch ||
      fromServer.length > 0
    )
      throw new Error('a handshake took other packets than SYN, SYN,ACK, ACK, RST');
    if (r < warmUp) continue;
    for (let k = 0; k < steps.length; k++) steps[k].push(((t[k + 1] - t[k]) * 1e6) / batch);
  }
  return steps.map(median);
}

/** timeSteps of synack: the loopback pair's stacks, with links that collect what is sent. */
export function handshakeSteps(rounds: number, batch = 1000): number[] {
  return timeSteps<TcpSocket>(
    (fromClient, fromServer) => {
      const link = (send: (p: Uint8Array) => void): Link => ({
        onPacket: null,
        fresh: true,
        inProcess: true,
        send,
      });
      const clientLink = link(fromClient);
      const serverLink = link(fromServer);
      const { client, listener } = pair(undefined, false, 'loopback', [clientLink, serverLink]);
      // A link's onPacket is its stack's receive.
      return {
        connect: () => client.connect({ host: '198.18.0.2', port: 80 }),
        accept: () => listener.accept() !== undefined,
        destroy: (s) => s.destroy(),
        toServer: (p) => serverLink.onPacket?.(p),
        toClient: (p) => clientLink.onPacket?.(p),
      };
    },
    rounds,
    batch,
  );
}
