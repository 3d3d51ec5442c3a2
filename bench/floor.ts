// The floor under the handshake figure: the least a handshake (SYN, SYN,ACK,
// ACK, then the client's RST, as in synackHandshakes) can cost in JavaScript
// on this machine, so that the engine's share of the rest can be read off.
//
// Both floors keep only what any TCP must do for those four packets: two ISNs
// from the stack's own RFC 6528 generator, one table entry per end added,
// found and removed, the four packets written and read. No state machine, no
// acceptance checks, sockets, timers or events. `codecHandshakes` goes
// through synack's codec (`encodePacket`, `decodeIp`, `decodeSegment`,
// Segment and option objects, as the engine does); `byteHandshakes` writes
// the 20-byte IPv4 and TCP headers by hand and reads back only the fields it
// needs. A third, `leanHandshakes`, runs two engines written for these four
// packets (bench/lean.ts): the state machine, checks, timers and events the
// two floors leave out, in the plainest shape — what a redesign of synack's
// hot path could reach.

import { Rfc6528Isn } from '../src/tcp/isn.ts';
import { seededRandom } from '../src/tcp/random.ts';
import type { IpAddr } from '../src/wire/addr.ts';
import { decodeIp } from '../src/wire/ip.ts';
import { decodeSegment } from '../src/wire/packet.ts';
import {
  ACK,
  encodePacket,
  NOP,
  RST,
  SACK_OK,
  type Segment,
  SYN,
  type TcpOption,
  timestampOptions,
} from '../src/wire/tcp.ts';
import { LeanStack, u32 } from './lean.ts';
import { type Rate, rate } from './lib.ts';
import { timeSteps } from './memory.ts';

const CLIENT = new Uint8Array([198, 18, 0, 1]);
const SERVER = new Uint8Array([198, 18, 0, 2]);
const EMPTY = new Uint8Array(0);

/** RFC 6528 ISNs as the stack makes them (`now` 0: the 4 µs clock adds nothing). */
export class Isn {
  private readonly gen = new Rfc6528Isn(seededRandom(1));
  of(local: IpAddr, lport: number, remote: IpAddr, rport: number): number {
    return this.gen.isn(local, lport, remote, rport, 0);
  }
}

/** One end's record: what any TCB holds at least. */
class End {
  iss = 0;
  irs = 0;
  established = false;
  constructor(
    readonly localPort: number,
    readonly remotePort: number,
  ) {}
}

const key = (localPort: number, remotePort: number) => localPort * 65536 + remotePort;

/** The client's end of the next handshake: a fresh port, its ISN, its table entry. */
function clientEnd(table: Map<number, End>, isn: Isn, port: { next: number }): End {
  const cport = (port.next = port.next >= 65000 ? 1024 : port.next + 1);
  const c = new End(cport, 80);
  c.iss = isn.of(CLIENT, cport, SERVER, 80);
  table.set(key(cport, 80), c);
  return c;
}

/** The server's end, from the SYN's ports and sequence number. */
function serverEnd(
  table: Map<number, End>,
  isn: Isn,
  lport: number,
  rport: number,
  irs: number,
): End {
  const s = new End(lport, rport);
  s.irs = irs;
  s.iss = isn.of(SERVER, lport, CLIENT, rport);
  table.set(key(lport, rport), s);
  return s;
}

function synOptions(tsVal: number, tsEcr: number): TcpOption[] {
  return [
    { kind: 'mss', value: 65495 },
    SACK_OK,
    { kind: 'ts', val: tsVal, ecr: tsEcr },
    NOP,
    { kind: 'wscale', shift: 7 },
  ];
}

function packet(
  src: IpAddr,
  dst: IpAddr,
  srcPort: number,
  dstPort: number,
  seq: number,
  ack: number,
  flags: number,
  options: TcpOption[],
): Uint8Array {
  const seg = {
    srcPort,
    dstPort,
    seq,
    ack,
    flags,
    window: 65535,
    urgent: 0,
    options,
    payload: EMPTY,
  };
  return encodePacket(src, dst, seg, 64, 0, false);
}

function read(p: Uint8Array): Segment {
  const ip = decodeIp(p);
  if (typeof ip === 'string') throw new Error(ip);
  const seg = decodeSegment(ip, false);
  if (typeof seg === 'string') throw new Error(seg);
  return seg;
}

/** `n` handshakes through synack's codec. */
function codecHandshakes(n: number, isn: Isn, port: { next: number }): void {
  const client = new Map<number, End>();
  const server = new Map<number, End>();
  for (let i = 0; i < n; i++) {
    const c = clientEnd(client, isn, port);
    const cport = c.localPort;
    let seg = read(packet(CLIENT, SERVER, cport, 80, c.iss, 0, SYN, synOptions(i, 0)));

    const s = serverEnd(server, isn, seg.dstPort, seg.srcPort, seg.seq);
    const synAck = packet(
      SERVER,
      CLIENT,
      80,
      seg.srcPort,
      s.iss,
      (seg.seq + 1) >>> 0,
      SYN | ACK,
      synOptions(i, i),
    );
    seg = read(synAck);

    const cc = client.get(key(seg.dstPort, seg.srcPort));
    if (!cc || seg.ack !== (cc.iss + 1) >>> 0) throw new Error('bad SYN,ACK');
    cc.irs = seg.seq;
    cc.established = true;
    const opts = timestampOptions(i, i);
    seg = read(
      packet(CLIENT, SERVER, cport, 80, (cc.iss + 1) >>> 0, (cc.irs + 1) >>> 0, ACK, opts),
    );

    const ss = server.get(key(seg.dstPort, seg.srcPort));
    if (!ss) throw new Error('no server end');
    ss.established = true;
    seg = read(
      packet(CLIENT, SERVER, cport, 80, (cc.iss + 1) >>> 0, 0, RST, timestampOptions(i, i)),
    );
    client.delete(key(cport, 80));
    server.delete(key(seg.dstPort, seg.srcPort));
  }
}

/** An IPv4 packet of `len` bytes (TCP header and options zeroed but for the fields a handshake reads). */
function bytes(
  len: number,
  src: IpAddr,
  dst: IpAddr,
  sp: number,
  dp: number,
  seq: number,
  ack: number,
  flags: number,
): Uint8Array {
  const b = new Uint8Array(len);
  b[0] = 0x45;
  b[2] = len >> 8;
  b[3] = len & 0xff;
  b[8] = 64;
  b[9] = 6;
  for (let i = 0; i < 4; i++) {
    b[12 + i] = src[i];
    b[16 + i] = dst[i];
  }
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (b[i] << 8) | b[i + 1];
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = ~((sum & 0xffff) + (sum >>> 16)) & 0xffff;
  b[10] = sum >> 8;
  b[11] = sum & 0xff;
  b[20] = sp >> 8;
  b[21] = sp & 0xff;
  b[22] = dp >> 8;
  b[23] = dp & 0xff;
  b[24] = seq >>> 24;
  b[25] = seq >>> 16;
  b[26] = seq >>> 8;
  b[27] = seq;
  b[28] = ack >>> 24;
  b[29] = ack >>> 16;
  b[30] = ack >>> 8;
  b[31] = ack;
  b[32] = ((len - 20) >> 2) << 4;
  b[33] = flags;
  b[34] = 0xff;
  b[35] = 0xff;
  return b;
}

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];

/** `n` handshakes with headers written and read by hand (SYNs 60 bytes, the rest 52, as with timestamps). */
function byteHandshakes(n: number, isn: Isn, port: { next: number }): void {
  const client = new Map<number, End>();
  const server = new Map<number, End>();
  for (let i = 0; i < n; i++) {
    const c = clientEnd(client, isn, port);
    const cport = c.localPort;
    let p = bytes(60, CLIENT, SERVER, cport, 80, c.iss, 0, SYN);

    const s = serverEnd(server, isn, u16(p, 22), u16(p, 20), u32(p, 24));
    p = bytes(60, SERVER, CLIENT, 80, s.remotePort, s.iss, (s.irs + 1) >>> 0, SYN | ACK);

    const cc = client.get(key(u16(p, 22), u16(p, 20)));
    if (!cc || u32(p, 28) !== (cc.iss + 1) >>> 0) throw new Error('bad SYN,ACK');
    cc.irs = u32(p, 24);
    cc.established = true;
    p = bytes(52, CLIENT, SERVER, cport, 80, (cc.iss + 1) >>> 0, (cc.irs + 1) >>> 0, ACK);

    const ss = server.get(key(u16(p, 22), u16(p, 20)));
    if (!ss) throw new Error('no server end');
    ss.established = true;
    p = bytes(52, CLIENT, SERVER, cport, 80, (cc.iss + 1) >>> 0, 0, RST);
    client.delete(key(cport, 80));
    server.delete(key(u16(p, 22), u16(p, 20)));
  }
}

/**
 * One handshake between the lean engines, each packet read back by synack's
 * decoder: the flags in order, the acknowledgements and the options are what
 * a TCP sends (the lean engine is measured doing real work).
 */
function checkLean(client: LeanStack, server: LeanStack): void {
  const seen: Segment[] = [];
  const tap = (p: Uint8Array) => seen.push(read(p));
  client.tap = tap;
  server.tap = tap;
  leanHandshakes(1, client, server);
  client.tap = null;
  server.tap = null;
  const flags = seen.map((s) => s.flags).join();
  if (flags !== [SYN, SYN | ACK, ACK, RST].join())
    throw new Error(`lean engine sent flags ${flags}`);
  const [syn, synAck, ack, rst] = seen;
  const kinds = (s: Segment) => s.options.map((o) => o.kind).join();
  if (kinds(syn) !== 'mss,sackOk,ts,nop,wscale' || kinds(synAck) !== kinds(syn))
    throw new Error(`lean engine's SYN options: ${kinds(syn)} / ${kinds(synAck)}`);
  if (kinds(ack) !== 'nop,nop,ts' || kinds(rst) !== 'nop,nop,ts')
    throw new Error(`lean engine's ACK or RST options: ${kinds(ack)} / ${kinds(rst)}`);
  const ok =
    synAck.ack === (syn.seq + 1) >>> 0 &&
    ack.seq === synAck.ack &&
    ack.ack === (synAck.seq + 1) >>> 0 &&
    rst.seq === ack.seq &&
    syn.srcPort === synAck.dstPort &&
    ack.srcPort === syn.srcPort;
  if (!ok) throw new Error('lean engine: sequence numbers or ports do not line up');
}

/** `n` handshakes between two lean engines (bench/lean.ts), as synackHandshakes runs them. */
function leanHandshakes(n: number, client: LeanStack, server: LeanStack): void {
  for (let i = 0; i < n; i++) {
    const sock = client.connect(SERVER, 80);
    const peer = server.accept();
    if (!peer || !sock.connected) throw new Error('lean handshake did not complete');
    client.destroy(sock);
    if (!peer.closed || peer.error !== 'ECONNRESET') throw new Error('lean RST not taken');
  }
}

export async function handshakeFloors(
  rounds: number,
  n: number,
): Promise<{ codec: Rate; bytes: Rate; lean: Rate }> {
  const isn = new Isn();
  const port = { next: 1024 };
  const client = new LeanStack(CLIENT, isn);
  const server = new LeanStack(SERVER, isn, 80);
  client.peer = server;
  server.peer = client;
  checkLean(client, server);
  return {
    codec: await rate(rounds, n, (k) => codecHandshakes(k, isn, port)),
    bytes: await rate(rounds, n, (k) => byteHandshakes(k, isn, port)),
    lean: await rate(rounds, n, (k) => leanHandshakes(k, client, server)),
  };
}

/** The lean engine's handshake step by step, as handshakeSteps times synack's (same driver, same batches). */
export function leanSteps(rounds: number, batch = 1000): number[] {
  return timeSteps<ReturnType<LeanStack['connect']>>(
    (fromClient, fromServer) => {
      const isn = new Isn();
      const client = new LeanStack(CLIENT, isn);
      const server = new LeanStack(SERVER, isn, 80);
      client.tap = fromClient;
      server.tap = fromServer;
      return {
        connect: () => client.connect(SERVER, 80),
        accept: () => server.accept() !== undefined,
        destroy: (s) => client.destroy(s),
        toServer: (p) => server.receive(p),
        toClient: (p) => client.receive(p),
      };
    },
    rounds,
    batch,
  );
}
