// A link that offloads segmentation (Link.offload, as a TUN device with
// IFF_VNET_HDR): the sender hands over TCP segments of up to 64 KiB with only
// the pseudo-header sum, and this test's link cuts them into MSS-sized packets
// with whole checksums, as the kernel's GSO does, before a seeded loss drops
// some. The transfer must arrive byte for byte, segments on the wire never
// exceed the MSS, and retransmissions (one MSS at most) repair the losses.

import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/sim/clock.ts';
import type { Link } from '../../src/stack/link.ts';
import { Stack } from '../../src/stack/stack.ts';
import { seededRandom } from '../../src/tcp/random.ts';
import { decodeIp } from '../../src/wire/ip.ts';
import { decodePacket } from '../../src/wire/packet.ts';
import { encodePacket, FIN, PSH, type Segment } from '../../src/wire/tcp.ts';

/** Software GSO: one IP packet per `gso` bytes of payload, headers copied, checksums whole. */
function segment(packet: Uint8Array, gso: number): Uint8Array[] {
  const ip = decodeIp(packet);
  const p = decodePacket(packet, false);
  if (typeof ip === 'string' || typeof p === 'string') throw new Error(`bad packet: ${p}`);
  const { seg } = p;
  const out: Uint8Array[] = [];
  for (let off = 0; off < seg.payload.length; off += gso) {
    const last = off + gso >= seg.payload.length;
    const piece: Segment = {
      ...seg,
      seq: (seg.seq + off) >>> 0,
      // PSH and FIN belong to the last piece, as the kernel's GSO leaves them.
      flags: last ? seg.flags : seg.flags & ~(PSH | FIN),
      payload: seg.payload.subarray(off, Math.min(seg.payload.length, off + gso)),
    };
    out.push(encodePacket(ip.src, ip.dst, piece, ip.ttl, ip.tos));
  }
  return out;
}

function offloadPair(seed: number, loss: number) {
  const clock = new VirtualClock();
  const rng = seededRandom(seed);
  const wire: { from: string; len: number; checksumOk: boolean }[] = [];
  let superSegments = 0;
  const mk = (name: string, addr: string, s: number) =>
    new Stack({ name, addresses: [addr], clock, random: seededRandom(s) });
  const a = mk('a', '198.18.0.1', 1);
  const b = mk('b', '198.18.0.2', 2);
  const links: Link[] = [];
  const deliver = (to: () => Link, from: string) => (packet: Uint8Array, gso?: number) => {
    let pieces = [packet];
    if (gso && gso > 0) {
      superSegments++;
      pieces = segment(packet, gso);
    } else {
      // A packet the stack left with a partial checksum: the device completes it.
      const p = decodePacket(packet, false);
      const ip = decodeIp(packet);
      if (typeof p !== 'string' && typeof ip !== 'string')
        pieces = [encodePacket(ip.src, ip.dst, p.seg, ip.ttl, ip.tos)];
    }
    for (const q of pieces) {
      const d = decodePacket(q);
      wire.push({
        from,
        len: typeof d === 'string' ? -1 : d.seg.payload.length,
        checksumOk: typeof d !== 'string',
      });
      if (rng.u32() / 2 ** 32 < loss) continue;
      clock.schedule(clock.now() + 5, () => to().onPacket?.(q, true));
    }
  };
  links.push(
    { onPacket: null, offload: { gso: 65535 }, send: deliver(() => links[1], 'a') },
    { onPacket: null, offload: { gso: 65535 }, send: deliver(() => links[0], 'b') },
  );
  a.attach(links[0]);
  b.attach(links[1]);
  return { clock, a, b, wire, superSegments: () => superSegments };
}

const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 13 + (i >> 9)) & 0xff);

describe('TCP segmentation offload (Link.offload)', () => {
  for (const [seed, loss] of [
    [1, 0],
    [2, 0.02],
    [3, 0.05],
  ] as const) {
    it(`4 MiB through a link that cuts 64 KiB segments, ${loss * 100}% loss (seed ${seed}): byte for byte`, () => {
      const { clock, a, b, wire, superSegments } = offloadPair(seed, loss);
      const got: Uint8Array[] = [];
      b.listen({ port: 80 }).on('connection', (s) => s.on('data', (d) => got.push(d.slice())));
      const sock = a.connect({ host: '198.18.0.2', port: 80 });
      const data = pattern(4 << 20);
      sock.on('connect', () => {
        sock.write(data);
        sock.end();
      });
      clock.run(clock.now() + 600_000);
      expect(Buffer.concat(got).equals(Buffer.from(data))).toBe(true);
      // The stack sent large segments, the link cut them: nothing on the wire above the MSS.
      expect(superSegments()).toBeGreaterThan(10);
      expect(wire.every((w) => w.checksumOk)).toBe(true);
      expect(Math.max(...wire.map((w) => w.len))).toBeLessThanOrEqual(1460);
      if (loss > 0) expect(a.stats.counters.retransmits ?? 0).toBeGreaterThan(0);
    });
  }
});
