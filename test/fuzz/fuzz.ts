// A packet fuzzer for the engine: two hosts talk for real (listeners, a few
// established connections moving data), and every packet on the wire is also
// copied, broken at random — fields, flags, options, lengths — and fed to
// them. What must hold: nothing throws, memory stays bounded, every packet
// that is not accepted is counted under a drop reason.

import { VirtualClock } from '../../src/sim/clock.ts';
import type { TcpSocket } from '../../src/stack/socket.ts';
import { Stack } from '../../src/stack/stack.ts';
import { Connection } from '../../src/tcp/connection.ts';
import { seededRandom } from '../../src/tcp/random.ts';
import { finishChecksum, pseudoHeaderSum, sumBytes } from '../../src/wire/checksum.ts';
import { PROTO_TCP } from '../../src/wire/ip.ts';

/** Drop reasons decided before a TCP segment exists (decode, addressing, ICMP). */
export const PACKET_LEVEL = new Set([
  'truncated',
  'bad-ip-version',
  'bad-ip-header-length',
  'bad-ip-length',
  'bad-ip-checksum',
  'fragment',
  'bad-ipv6-extension',
  'no-next-header',
  'bad-data-offset',
  'bad-tcp-checksum',
  'not-tcp',
  'not-for-us',
  'bad-source-address',
  'source-route',
  'icmp-no-connection',
  'icmp-out-of-window',
  'icmp-source-quench',
  'icmp-ignored',
  'bad-icmp-checksum',
  'icmp-quote-truncated',
  'icmp-rate-limited',
]);

export interface FuzzResult {
  packets: number;
  /** Packets handed to the stacks, by the counters they keep. */
  packetsIn: number;
  drops: Record<string, number>;
  counters: Record<string, number>;
  /** Largest number of bytes any connection held (receive queue + reassembly). */
  maxHeld: number;
  maxConnections: number;
  maxHalfOpen: number;
  heapGrowth: number;
  /** Packets in that became neither a segment, nor an ICMP message acted on, nor a counted drop: must be 0. */
  unaccounted: number;
}

export function runFuzz(count: number, seed = 1): FuzzResult {
  const rng = seededRandom(seed);
  const r = (n: number) => rng.u32() % n;
  const clock = new VirtualClock();
  const config = { rcvBuf: 32768, sndBuf: 32768, fastOpen: 'on' as const };
  const server = new Stack({
    name: 'server',
    addresses: ['198.18.0.1'],
    clock,
    random: seededRandom(seed + 1),
    config,
  });
  const client = new Stack({
    name: 'client',
    addresses: ['198.18.0.2'],
    clock,
    random: seededRandom(seed + 2),
    config,
  });
  const corpus: Uint8Array[] = [];
  const keep = (p: Uint8Array) => {
    if (corpus.length < 512) corpus.push(p.slice());
    else corpus[r(512)] = p.slice();
  };
  server.attach({
    onPacket: null,
    send: (p) => {
      keep(p);
      clock.schedule(clock.now() + 1, () => client.receive(p));
    },
  });
  client.attach({
    onPacket: null,
    send: (p) => {
      keep(p);
      clock.schedule(clock.now() + 1, () => server.receive(p));
    },
  });

  const listeners = [
    server.listen({ port: 80, backlog: 16 }),
    server.listen({ port: 81, backlog: 4, config: { synCookies: 'always' } }),
    server.listen({ port: 82, backlog: 8 }),
  ];
  listeners.forEach((l, i) => {
    l.on('connection', (s: TcpSocket) => {
      s.on('error', () => {});
      // Port 82's application never reads: its receive buffers fill up.
      if (i === 2) return;
      let done = false;
      s.on('data', (d) => {
        if (done) return;
        if (r(4) === 0) s.write(d);
        if (r(50) === 0) {
          s.end();
          done = true;
        } else if (r(200) === 0) {
          s.close();
          done = true;
        }
      });
    });
  });
  const clients: TcpSocket[] = [];
  const open = () => {
    const s = client.connect({ host: '198.18.0.1', port: 80 + r(3) });
    s.on('error', () => {});
    s.on('connect', () => s.write(new Uint8Array(1 + r(3000))));
    s.on('data', () => {});
    clients.push(s);
  };
  for (let i = 0; i < 8; i++) open();
  clock.advance(clock.now() + 50);

  const heap0 = memory();
  let maxHeld = 0;
  let maxConnections = 0;
  let maxHalfOpen = 0;
  for (let i = 0; i < count; i++) {
    const base = corpus[r(corpus.length)];
    const toServer = base[19] === 1; // sent to 198.18.0.1
    const pkt = mutate(base, r);
    (toServer || r(4) === 0 ? server : client).receive(pkt);
    if (i % 64 === 0) clock.advance(clock.now() + r(300));
    if (i % 500 === 0) {
      if (clients.length > 64) for (const s of clients.splice(0, 32)) s.destroy();
      open();
      const w = clients[r(clients.length)];
      if (w.state === 'ESTABLISHED' && w.conn.sendSpace > 4096)
        w.write(new Uint8Array(1 + r(4000)));
    }
    if (i % 1000 === 0) {
      for (const st of [server, client]) {
        maxConnections = Math.max(maxConnections, st.connections.size);
        for (const c of st.connections.values()) {
          // A TIME-WAIT record holds no data at all.
          if (c instanceof Connection)
            maxHeld = Math.max(maxHeld, c.recvQueued + (c.ooo ? c.ooo.bytes : 0));
        }
      }
      for (const l of listeners) maxHalfOpen = Math.max(maxHalfOpen, l.listener.synQueue.size);
    }
  }
  clock.advance(clock.now() + 1000);
  const drops: Record<string, number> = {};
  const counters: Record<string, number> = {};
  for (const st of [server, client]) {
    for (const [k, v] of Object.entries(st.stats.drops)) drops[k] = (drops[k] ?? 0) + (v ?? 0);
    for (const [k, v] of Object.entries(st.stats.counters))
      counters[k] = (counters[k] ?? 0) + (v ?? 0);
  }
  let packetDrops = 0;
  for (const [k, v] of Object.entries(drops)) if (PACKET_LEVEL.has(k)) packetDrops += v;
  const unaccounted =
    (counters['packets-in'] ?? 0) -
    (counters['segments-in'] ?? 0) -
    packetDrops -
    (counters['icmp-echo-replies'] ?? 0) -
    (counters['icmp-errors-received'] ?? 0);
  return {
    unaccounted,
    packets: count,
    packetsIn: counters['packets-in'] ?? 0,
    drops,
    counters,
    maxHeld,
    maxConnections,
    maxHalfOpen,
    heapGrowth: memory() - heap0,
  };
}

function memory(): number {
  const g = globalThis as { gc?: () => void; process?: { memoryUsage(): { heapUsed: number } } };
  g.gc?.();
  return g.process ? g.process.memoryUsage().heapUsed : 0;
}

/** A copy of a valid packet with one to four things broken; checksums are usually fixed so TCP sees it. */
function mutate(base: Uint8Array, r: (n: number) => number): Uint8Array {
  let p = base.slice();
  const ihl = (p[0] & 0x0f) * 4;
  const n = 1 + r(4);
  for (let k = 0; k < n; k++) {
    switch (r(12)) {
      case 0: // a random bit anywhere
        p[r(p.length)] ^= 1 << r(8);
        break;
      case 1: // flags
        p[ihl + 13] = r(256);
        break;
      case 2: // sequence number near or far
        writeU32(p, ihl + 4, r(2) ? readU32(p, ihl + 4) + r(200000) - 100000 : r(0x100000000));
        break;
      case 3: // acknowledgment number
        writeU32(p, ihl + 8, r(2) ? readU32(p, ihl + 8) + r(200000) - 100000 : r(0x100000000));
        break;
      case 4: // window
        p[ihl + 14] = r(256);
        p[ihl + 15] = r(256);
        break;
      case 5: // data offset
        p[ihl + 12] = (r(16) << 4) | (p[ihl + 12] & 0x0f);
        break;
      case 6: // option bytes
        for (let i = ihl + 20; i < Math.min(p.length, ihl + 60); i++) if (r(3) === 0) p[i] = r(256);
        break;
      case 7: {
        // truncate
        p = p.subarray(0, Math.max(1, p.length - r(40)));
        break;
      }
      case 8: {
        // extend with payload
        const q = new Uint8Array(p.length + r(1500));
        q.set(p);
        for (let i = p.length; i < q.length; i++) q[i] = r(256);
        p = q;
        break;
      }
      case 9: // urgent pointer
        p[ihl + 18] = r(256);
        p[ihl + 19] = r(256);
        break;
      case 10: // ports
        p[ihl + 2] = 0;
        p[ihl + 3] = 80 + r(4);
        break;
      default: // IP header fields: TTL, TOS, length, fragment bits, protocol
        p[r(Math.min(ihl, p.length))] = r(256);
    }
  }
  if (r(10) !== 0) fixChecksums(p);
  return p;
}

function fixChecksums(p: Uint8Array): void {
  if (p.length < 20 || p[0] >> 4 !== 4) return;
  const ihl = (p[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > p.length) return;
  const total = Math.min(p.length, ihl + 65535);
  p[2] = total >> 8;
  p[3] = total & 0xff;
  p[10] = 0;
  p[11] = 0;
  const c = finishChecksum(sumBytes(p, 0, ihl));
  p[10] = c >> 8;
  p[11] = c & 0xff;
  if (p[9] !== PROTO_TCP || p.length < ihl + 20) return;
  p[ihl + 16] = 0;
  p[ihl + 17] = 0;
  const len = total - ihl;
  const t = finishChecksum(
    sumBytes(
      p,
      ihl,
      total,
      pseudoHeaderSum(p.subarray(12, 16), p.subarray(16, 20), PROTO_TCP, len),
    ),
  );
  p[ihl + 16] = t >> 8;
  p[ihl + 17] = t & 0xff;
}

function readU32(p: Uint8Array, i: number): number {
  return ((p[i] << 24) | (p[i + 1] << 16) | (p[i + 2] << 8) | p[i + 3]) >>> 0;
}

function writeU32(p: Uint8Array, i: number, v: number): void {
  const x = v >>> 0;
  p[i] = x >>> 24;
  p[i + 1] = (x >>> 16) & 0xff;
  p[i + 2] = (x >>> 8) & 0xff;
  p[i + 3] = x & 0xff;
}
