// A hand-driven peer for engine tests in the style of smoltcp's: "this arrives,
// that must go out". One synack stack on a virtual clock; the test injects raw
// segments from the peer and reads what synack sent, decoded.

import { VirtualClock } from '../../src/sim/clock.ts';
import type { TcpServer, TcpSocket } from '../../src/stack/socket.ts';
import { Stack } from '../../src/stack/stack.ts';
import { seededRandom } from '../../src/tcp/random.ts';
import type { TcpConfig } from '../../src/tcp/types.ts';
import { parseAddr } from '../../src/wire/addr.ts';
import { finishChecksum, pseudoHeaderSum, sumBytes } from '../../src/wire/checksum.ts';
import { decodeIp, PROTO_TCP } from '../../src/wire/ip.ts';
import { decodePacket } from '../../src/wire/packet.ts';
import { ACK, encodePacket, type Segment, SYN, type TcpOption } from '../../src/wire/tcp.ts';

export const LOCAL4 = '198.18.0.1';
export const PEER4 = '198.18.0.2';
export const LOCAL6 = '2001:db8::1';
export const PEER6 = '2001:db8::2';

export interface Sent {
  packet: Uint8Array;
  seg: Segment;
  ttl: number;
  tos: number;
}

export function rawPeer(
  opts: { config?: Partial<TcpConfig>; v6?: boolean; seed?: number; orphanMax?: number } = {},
) {
  const clock = new VirtualClock();
  const local = opts.v6 ? LOCAL6 : LOCAL4;
  const peer = opts.v6 ? PEER6 : PEER4;
  const stack = new Stack({
    name: 'synack',
    addresses: [local],
    clock,
    random: seededRandom(opts.seed ?? 7),
    isn: { isn: () => 1000 },
    config: opts.config,
    orphanMax: opts.orphanMax,
  });
  const out: Uint8Array[] = [];
  stack.attach({ onPacket: null, send: (p) => out.push(p) });
  const L = parseAddr(local)!;
  const P = parseAddr(peer)!;

  /** Segments synack sent since the last call (TCP only; ICMP is in `packets()`). */
  function take(): Sent[] {
    const got: Sent[] = [];
    for (const p of out.splice(0)) {
      const d = decodePacket(p);
      const ip = decodeIp(p);
      if (typeof d === 'string' || typeof ip === 'string') continue;
      got.push({ packet: p, seg: d.seg, ttl: ip.ttl, tos: ip.tos });
    }
    return got;
  }

  /** Raw packets synack sent since the last call. */
  function packets(): Uint8Array[] {
    return out.splice(0);
  }

  function segment(over: Partial<Segment>): Segment {
    return {
      srcPort: 40000,
      dstPort: 80,
      seq: 1,
      ack: 0,
      flags: ACK,
      window: 65535,
      urgent: 0,
      options: [],
      payload: new Uint8Array(0),
      ...over,
    };
  }

  function inject(over: Partial<Segment>, from = P): void {
    stack.receive(encodePacket(from, L, segment(over)));
  }

  function injectRaw(packet: Uint8Array): void {
    stack.receive(packet);
  }

  /**
   * A passive open on port 80 completed by the peer: SYN (ISN 0, with
   * `synOptions`), synack's SYN,ACK, the final ACK. Returns the accepted socket;
   * synack's ISS is 1000, so its data starts at 1001 and the peer's at 1.
   */
  function handshake(synOptions: TcpOption[] = [{ kind: 'mss', value: 1460 }], window = 65535) {
    const server: TcpServer = stack.listen({ port: 80 });
    inject({ seq: 0, flags: SYN, options: synOptions, window });
    const synAck = take();
    inject({ seq: 1, ack: 1001, flags: ACK, window });
    const sock = server.accept() as TcpSocket;
    return { server, sock, synAck };
  }

  return { clock, stack, L, P, take, packets, inject, injectRaw, segment, handshake };
}

/** An IPv4 packet (with a 20-byte header) rebuilt with `options` (a multiple of 4 bytes) in its IP header. */
export function withIpv4Options(plain: Uint8Array, options: number[]): Uint8Array {
  const pkt = new Uint8Array(plain.length + options.length);
  pkt.set(plain.subarray(0, 20));
  pkt.set(options, 20);
  pkt.set(plain.subarray(20), 20 + options.length);
  pkt[0] = 0x40 | ((20 + options.length) / 4);
  return fixIpv4(pkt, 20 + options.length);
}

/** An IPv4 packet whose TCP header (no payload) gets `bytes` (4 of them) more option bytes, as they are. */
export function withTcpOptionBytes(plain: Uint8Array, bytes: Uint8Array): Uint8Array {
  const pkt = new Uint8Array(plain.length + bytes.length);
  pkt.set(plain);
  pkt.set(bytes, plain.length);
  pkt[32] = ((pkt.length - 20) / 4) << 4;
  fixIpv4(pkt, 20);
  pkt[36] = 0;
  pkt[37] = 0;
  const sum = pseudoHeaderSum(
    pkt.subarray(12, 16),
    pkt.subarray(16, 20),
    PROTO_TCP,
    pkt.length - 20,
  );
  const c = finishChecksum(sumBytes(pkt, 20, pkt.length, sum));
  pkt[36] = c >> 8;
  pkt[37] = c & 0xff;
  return pkt;
}

function fixIpv4(pkt: Uint8Array, ihl: number): Uint8Array {
  pkt[2] = pkt.length >> 8;
  pkt[3] = pkt.length & 0xff;
  pkt[10] = 0;
  pkt[11] = 0;
  const c = finishChecksum(sumBytes(pkt, 0, ihl));
  pkt[10] = c >> 8;
  pkt[11] = c & 0xff;
  return pkt;
}
