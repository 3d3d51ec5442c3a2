import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAddr, parseAddr } from '../../src/wire/addr.ts';
import { finishChecksum, sumBytes } from '../../src/wire/checksum.ts';
import { decodeIp, writeIpHeader } from '../../src/wire/ip.ts';
import { decodePacket } from '../../src/wire/packet.ts';
import {
  ACK,
  decodeOptions,
  decodeTcp,
  encodePacket,
  NOP,
  optionsLength,
  SACK_OK,
  type Segment,
  SYN,
  type TcpOption,
} from '../../src/wire/tcp.ts';

const v4a = parseAddr('198.18.0.1')!;
const v4b = parseAddr('198.18.0.2')!;
const v6a = parseAddr('2001:2::1')!;
const v6b = parseAddr('2001:2::2')!;

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });

const option: fc.Arbitrary<TcpOption> = fc.oneof(
  fc.constant<TcpOption>({ kind: 'nop' }),
  u16.map<TcpOption>((value) => ({ kind: 'mss', value })),
  fc.integer({ min: 0, max: 14 }).map<TcpOption>((shift) => ({ kind: 'wscale', shift })),
  fc.constant<TcpOption>({ kind: 'sackOk' }),
  fc
    .array(u32, { minLength: 2, maxLength: 6 })
    .filter((a) => a.length % 2 === 0)
    .map<TcpOption>((blocks) => ({ kind: 'sack', blocks })),
  fc.tuple(u32, u32).map<TcpOption>(([val, ecr]) => ({ kind: 'ts', val, ecr })),
  fc
    .oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 4, maxLength: 16 }))
    .map<TcpOption>((cookie) => ({ kind: 'fo', cookie })),
  // The experimental form (kind 254, magic 0xF989) round-trips as itself.
  fc
    .oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 4, maxLength: 16 }))
    .map<TcpOption>((cookie) => ({ kind: 'fo', cookie, exp: true })),
  fc
    .tuple(fc.integer({ min: 9, max: 33 }), fc.uint8Array({ maxLength: 6 }))
    .map<TcpOption>(([type, data]) => ({ kind: 'unknown', type, data })),
);

/** Options that fit in 40 bytes, with no trailing NOPs (padding is EOL on encode). */
const options = fc.array(option, { maxLength: 6 }).filter((os) => {
  const n = optionsLength(os);
  return n <= 40 && (os.length === 0 || os[os.length - 1].kind !== 'nop' || n % 4 === 0);
});

const segment: fc.Arbitrary<Segment> = fc.record({
  srcPort: u16,
  dstPort: u16,
  seq: u32,
  ack: u32,
  flags: fc.integer({ min: 0, max: 255 }),
  window: u16,
  urgent: u16,
  options,
  payload: fc.uint8Array({ maxLength: 64 }),
});

function stripPadding(os: TcpOption[]): TcpOption[] {
  // Encoding pads with EOL to a 4-byte boundary; decoding reports that EOL.
  const i = os.findIndex((o) => o.kind === 'eol');
  return i < 0 ? os : os.slice(0, i);
}

describe('wire codecs', () => {
  it('decode(encode(segment)) gives the segment back, over IPv4 and IPv6, options in order', () => {
    fc.assert(
      fc.property(segment, fc.boolean(), (seg, v6) => {
        const [src, dst] = v6 ? [v6a, v6b] : [v4a, v4b];
        const p = decodePacket(encodePacket(src, dst, seg));
        if (typeof p === 'string') throw new Error(p);
        expect(formatAddr(p.src)).toBe(formatAddr(src));
        expect(formatAddr(p.dst)).toBe(formatAddr(dst));
        expect({
          ...p.seg,
          options: stripPadding(p.seg.options),
          payload: [...p.seg.payload],
        }).toEqual({
          ...seg,
          payload: [...seg.payload],
        });
      }),
    );
  });

  it('random bytes decode to a packet or a reason, never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const r = decodePacket(bytes);
        expect(typeof r === 'string' || typeof r === 'object').toBe(true);
        const t = decodeTcp(bytes);
        expect(typeof t === 'string' || typeof t === 'object').toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('a flipped bit anywhere in an encoded packet is caught (checksum or header check)', () => {
    fc.assert(
      fc.property(segment, fc.nat(), fc.integer({ min: 0, max: 7 }), (seg, pos, bit) => {
        const pkt = encodePacket(v4a, v4b, seg);
        const i = pos % pkt.length;
        pkt[i] ^= 1 << bit;
        const r = decodePacket(pkt);
        expect(typeof r).toBe('string');
      }),
    );
  });

  it('payload is a view into the packet, not a copy', () => {
    const pkt = encodePacket(v4a, v4b, {
      srcPort: 1,
      dstPort: 2,
      seq: 0,
      ack: 0,
      flags: ACK,
      window: 1,
      urgent: 0,
      options: [],
      payload: new Uint8Array([1, 2, 3]),
    });
    const p = decodePacket(pkt);
    if (typeof p === 'string') throw new Error(p);
    expect(p.seg.payload.buffer).toBe(pkt.buffer);
  });

  it('the two option lists decoded whole (timestamps on an ACK; a Linux SYN) and any list of their length with another option in a slot decode as written', () => {
    // An option of the same length but another kind, for any slot of the two
    // layouts: decoding must not take the list for the common one.
    const unknownOf = (len: number) =>
      fc
        .tuple(
          fc.integer({ min: 9, max: 33 }),
          fc.uint8Array({ minLength: len - 2, maxLength: len - 2 }),
        )
        .map<TcpOption>(([type, data]) => ({ kind: 'unknown', type, data }));
    const slot = (canonical: fc.Arbitrary<TcpOption>, len: number) =>
      len === 1 ? canonical : fc.oneof({ arbitrary: canonical, weight: 3 }, unknownOf(len));
    const nop = fc.constant<TcpOption>({ kind: 'nop' });
    const ts = fc.tuple(u32, u32).map<TcpOption>(([val, ecr]) => ({ kind: 'ts', val, ecr }));
    const ackLayout = fc.tuple(nop, nop, slot(ts, 10));
    const synLayout = fc.tuple(
      slot(
        u16.map<TcpOption>((value) => ({ kind: 'mss', value })),
        4,
      ),
      slot(fc.constant<TcpOption>({ kind: 'sackOk' }), 2),
      slot(ts, 10),
      // A NOP, or a four-byte option in its and the window scale's place.
      nop,
      slot(
        fc.integer({ min: 0, max: 14 }).map<TcpOption>((shift) => ({ kind: 'wscale', shift })),
        3,
      ),
    );
    // The tail of a Linux SYN after the timestamps (NOP, window scale) made of
    // other options: one of four bytes, or one of three whose data byte is
    // window scale's length, followed by a NOP.
    const head = [
      fc.constant<TcpOption>({ kind: 'mss', value: 1460 }),
      fc.constant<TcpOption>({ kind: 'sackOk' }),
      ts,
    ] as const;
    const impostorTail = fc.oneof(
      fc.tuple(...head, unknownOf(4)),
      fc.tuple(
        ...head,
        fc.integer({ min: 9, max: 33 }).map<TcpOption>((type) => ({
          kind: 'unknown',
          type,
          data: new Uint8Array([3]),
        })),
        nop,
      ),
    );
    fc.assert(
      fc.property(fc.oneof(ackLayout, synLayout, impostorTail), (list) => {
        const opts = [...list] as TcpOption[];
        const seg = {
          srcPort: 1,
          dstPort: 2,
          seq: 3,
          ack: 4,
          flags: ACK,
          window: 5,
          urgent: 0,
          options: opts,
          payload: new Uint8Array(0),
        };
        const p = decodePacket(encodePacket(v4a, v4b, seg));
        if (typeof p === 'string') throw new Error(p);
        expect(p.seg.options).toEqual(opts);
      }),
      { numRuns: 500 },
    );
  });

  it('the two common option lists, made of the shared NOP and SACK_OK, encode byte for byte as the same lists of fresh objects', () => {
    const ts = fc.tuple(u32, u32);
    fc.assert(
      fc.property(
        u16,
        ts,
        fc.integer({ min: 0, max: 14 }),
        fc.boolean(),
        (mss, [val, ecr], shift, syn) => {
          const list = (shared: boolean): TcpOption[] => {
            const nop: TcpOption = shared ? NOP : { kind: 'nop' };
            const sackOk: TcpOption = shared ? SACK_OK : { kind: 'sackOk' };
            const t: TcpOption = { kind: 'ts', val, ecr };
            return syn
              ? [{ kind: 'mss', value: mss }, sackOk, t, nop, { kind: 'wscale', shift }]
              : [nop, nop, t];
          };
          const seg = (shared: boolean): Segment => ({
            srcPort: 1,
            dstPort: 2,
            seq: 3,
            ack: 4,
            flags: syn ? SYN : ACK,
            window: 5,
            urgent: 0,
            options: list(shared),
            payload: new Uint8Array([9, 8, 7]),
          });
          expect(optionsLength(list(true))).toBe(optionsLength(list(false)));
          expect([...encodePacket(v4a, v4b, seg(true))]).toEqual([
            ...encodePacket(v4a, v4b, seg(false)),
          ]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('an IPv4 header written from any field values sums to zero with its checksum', () => {
    const addr = fc.uint8Array({ minLength: 4, maxLength: 4 });
    const byte = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(
        addr,
        addr,
        byte,
        fc.integer({ min: 0, max: 65515 }),
        byte,
        u16,
        byte,
        (src, dst, proto, len, ttl, id, tos) => {
          const out = new Uint8Array(20);
          writeIpHeader(out, src, dst, proto, len, ttl, id, tos);
          expect(finishChecksum(sumBytes(out, 0, 20))).toBe(0);
          expect([out[1], (out[2] << 8) | out[3], (out[4] << 8) | out[5], out[8], out[9]]).toEqual([
            tos,
            len + 20,
            id,
            ttl,
            proto,
          ]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('parses malformed options as far as it safely can and names the fault (MUST-7)', () => {
    const b = (...xs: number[]) => new Uint8Array(xs);
    const parse = (bytes: Uint8Array) => {
      const fault: { value?: string } = {};
      const opts = decodeOptions(bytes, 0, bytes.length, fault as never);
      return [opts, fault.value];
    };
    // Length 0 or 1: parsing stops there, what came before is kept.
    expect(parse(b(1, 2, 0, 0))).toEqual([[{ kind: 'nop' }], 'option-zero-length']);
    expect(parse(b(2, 1, 0, 0))).toEqual([[], 'option-zero-length']);
    expect(parse(b(2, 4, 5))).toEqual([[], 'option-overrun']);
    expect(parse(b(2))).toEqual([[], 'option-overrun']);
    // A known option with the wrong length is skipped by its length; the rest still counts.
    expect(parse(b(2, 3, 5, 4, 2, 1, 1))).toEqual([
      [{ kind: 'sackOk' }, { kind: 'nop' }, { kind: 'nop' }],
      'option-bad-length',
    ]);
    expect(parse(b(34, 3, 9, 1))).toEqual([[{ kind: 'nop' }], 'option-bad-length']);
    expect(parse(b(8, 9, 0, 0, 0, 0, 0, 0, 0))).toEqual([[], 'option-bad-length']);
    expect(decodeOptions(b(99, 3, 7, 1), 0, 4)).toEqual([
      { kind: 'unknown', type: 99, data: b(7) },
      { kind: 'nop' },
    ]);
  });

  it('rejects a data offset below 5 words or past the end', () => {
    const pkt = encodePacket(v4a, v4b, {
      srcPort: 1,
      dstPort: 2,
      seq: 0,
      ack: 0,
      flags: SYN,
      window: 1,
      urgent: 0,
      options: [],
      payload: new Uint8Array(0),
    });
    const tcp = pkt.slice(20);
    tcp[12] = 4 << 4;
    expect(decodeTcp(tcp)).toBe('bad-data-offset');
    tcp[12] = 15 << 4;
    expect(decodeTcp(tcp)).toBe('bad-data-offset');
  });

  it('rejects IPv4 fragments and bad lengths, skips IPv6 extension headers, rejects IPv6 fragments', () => {
    const seg: Segment = {
      srcPort: 1,
      dstPort: 2,
      seq: 0,
      ack: 0,
      flags: SYN,
      window: 1,
      urgent: 0,
      options: [],
      payload: new Uint8Array(0),
    };
    const pkt = encodePacket(v4a, v4b, seg);
    const frag = pkt.slice();
    frag[6] = 0x20; // MF
    frag[10] = frag[11] = 0;
    const c = finishChecksum(sumBytes(frag, 0, 20));
    frag[10] = c >> 8;
    frag[11] = c & 0xff;
    expect(decodeIp(frag)).toBe('fragment');
    expect(decodeIp(pkt.subarray(0, 30))).toBe('truncated');
    const v6 = encodePacket(v6a, v6b, seg);
    // Insert an 8-byte destination-options header before TCP.
    const ext = new Uint8Array(v6.length + 8);
    ext.set(v6.subarray(0, 40));
    ext[6] = 60;
    ext[40] = 6; // next: TCP
    ext[41] = 0; // (0+1)*8 bytes
    ext.set(v6.subarray(40), 48);
    const plen = v6.length - 40 + 8;
    ext[4] = plen >> 8;
    ext[5] = plen & 0xff;
    const p = decodePacket(ext);
    if (typeof p === 'string') throw new Error(p);
    expect(p.seg.flags).toBe(SYN);
    ext[6] = 44;
    expect(decodeIp(ext)).toBe('fragment');
  });

  it('parses and formats addresses (RFC 5952 for IPv6)', () => {
    expect(formatAddr(parseAddr('2001:db8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1');
    expect(formatAddr(parseAddr('::1')!)).toBe('::1');
    expect(formatAddr(parseAddr('::ffff:198.18.0.1')!)).toBe('::ffff:c612:1');
    expect(parseAddr('256.1.1.1')).toBeUndefined();
    expect(parseAddr('1::2::3')).toBeUndefined();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (a) => {
        expect([...parseAddr(formatAddr(a))!]).toEqual([...a]);
      }),
    );
  });
});
