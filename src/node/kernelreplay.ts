// Replays a recorded packet-script run on the Linux kernel (Node, Linux, root,
// inside a network namespace that holds the TUN device). The plan is what
// synack did under a script: the packets it was sent, the system calls it was
// asked to make, and what it sent back. Here the same packets go into the
// kernel through TUN — rewritten only where the kernel's own numbers differ
// (its ISS, its timestamps, its ephemeral ports) — and the same calls are made
// on kernel sockets through libc, at the same times in real time. What the
// kernel sends and what its calls return are handed back for comparison.
//
// Sockets are non-blocking underneath; a call that blocked under synack is
// retried until the kernel completes it (or gives up well after synack did),
// so later steps are never held up, as packetdrill runs blocking calls in a
// thread of their own.

import { existsSync, readFileSync, readSync, writeSync } from 'node:fs';
import { attachTun, libc } from '../link/tun.ts';
import { KERNEL_COMPARED_INFO, type RecordedStep } from '../sim/script/run.ts';
import { seqAdd } from '../tcp/seq.ts';
import { parseAddr } from '../wire/addr.ts';
import { decodePacket } from '../wire/packet.ts';
import { ACK, encodePacket, type Segment, SYN, type TcpOption } from '../wire/tcp.ts';

/** A call step of a recorded run, as `runScript` records it. */
type CallStep = Extract<RecordedStep, { kind: 'call' }>;

/** A recorded run in transferable form (packets as hex). */
export interface ReplayPlan {
  v6: boolean;
  local: string;
  remote: string;
  steps: ({ t: number; kind: 'in' | 'out'; hex: string } | CallStep)[];
}

export interface ReplayResult {
  /** What the kernel sent, ms from the start. */
  out: { t: number; hex: string }[];
  /** Per call step (by index in the plan): what the kernel returned, and when. */
  calls: { step: number; line: number; ret: number; errno?: string; t: number; note?: string }[];
}

const SOL_SOCKET = 1;
const IPPROTO_TCP = 6;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0x800;
const AF_INET = 2;
const AF_INET6 = 10;
const POLLOUT = 0x4;

/** Socket options by name: [level, option] on Linux (asm-generic/socket.h, linux/tcp.h). */
const OPTIONS: Record<string, [number, number]> = {
  SO_REUSEADDR: [SOL_SOCKET, 2],
  SO_ERROR: [SOL_SOCKET, 4],
  SO_SNDBUF: [SOL_SOCKET, 7],
  SO_RCVBUF: [SOL_SOCKET, 8],
  SO_KEEPALIVE: [SOL_SOCKET, 9],
  SO_LINGER: [SOL_SOCKET, 13],
  SO_REUSEPORT: [SOL_SOCKET, 15],
  TCP_NODELAY: [IPPROTO_TCP, 1],
  TCP_MAXSEG: [IPPROTO_TCP, 2],
  TCP_CORK: [IPPROTO_TCP, 3],
  TCP_KEEPIDLE: [IPPROTO_TCP, 4],
  TCP_KEEPINTVL: [IPPROTO_TCP, 5],
  TCP_KEEPCNT: [IPPROTO_TCP, 6],
  TCP_SYNCNT: [IPPROTO_TCP, 7],
  TCP_LINGER2: [IPPROTO_TCP, 8],
  TCP_DEFER_ACCEPT: [IPPROTO_TCP, 9],
  TCP_WINDOW_CLAMP: [IPPROTO_TCP, 10],
  TCP_QUICKACK: [IPPROTO_TCP, 12],
  TCP_USER_TIMEOUT: [IPPROTO_TCP, 18],
  TCP_FASTOPEN: [IPPROTO_TCP, 23],
  TCP_FASTOPEN_CONNECT: [IPPROTO_TCP, 30],
  TCP_CONGESTION: [IPPROTO_TCP, 13],
};

const TCP_INFO = 11;
const ERRNO: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  4: 'EINTR',
  9: 'EBADF',
  11: 'EAGAIN',
  22: 'EINVAL',
  32: 'EPIPE',
  88: 'ENOTSOCK',
  92: 'ENOPROTOOPT',
  95: 'EOPNOTSUPP',
  98: 'EADDRINUSE',
  99: 'EADDRNOTAVAIL',
  103: 'ECONNABORTED',
  104: 'ECONNRESET',
  106: 'EISCONN',
  107: 'ENOTCONN',
  110: 'ETIMEDOUT',
  111: 'ECONNREFUSED',
  113: 'EHOSTUNREACH',
  114: 'EALREADY',
  115: 'EINPROGRESS',
};

/** The calls a plan may use; anything else makes it not replayable. */
export const REPLAYABLE_CALLS = new Set([
  'socket',
  'setsockopt',
  'getsockopt',
  'bind',
  'listen',
  'accept',
  'connect',
  'read',
  'recv',
  'write',
  'send',
  'close',
  'shutdown',
  'fcntl',
  'ioctl',
  // An assertion's TCP_INFO fields (run.ts records the deterministic ones).
  'tcp_info',
]);

/** Why a plan cannot be replayed on the kernel, or undefined when it can. */
export function unreplayable(plan: ReplayPlan): string | undefined {
  for (const s of plan.steps) {
    if (s.kind === 'call') {
      if (!REPLAYABLE_CALLS.has(s.name)) return `line ${s.line}: ${s.name}() is not replayed`;
      if ((s.name === 'setsockopt' || s.name === 'getsockopt') && !OPTIONS[s.args[2]])
        return `line ${s.line}: socket option ${s.args[2]} is not replayed`;
      if (s.name === 'ioctl' && !IOCTLS[s.args[1]])
        return `line ${s.line}: ioctl ${s.args[1]} is not replayed`;
      if (
        s.name === 'setsockopt' &&
        /l_onoff\s*=\s*1\s*,\s*l_linger\s*=\s*[1-9]/.test(s.args[3] ?? '')
      )
        return `line ${s.line}: a linger time makes the kernel's close() block the replay`;
      if (s.name === 'send' && /MSG_FASTOPEN/.test(s.args[3] ?? ''))
        return `line ${s.line}: Fast Open sends are not replayed (the kernel's cookies differ)`;
    } else if (s.kind === 'in') {
      const p = decodePacket(hexBytes(s.hex), false);
      if (typeof p === 'string') return 'an ICMP line (only TCP packets are replayed)';
      if (p.seg.options.some((o) => o.kind === 'fo'))
        return 'Fast Open options (the kernel makes its own cookies)';
    }
  }
  return undefined;
}

const IOCTLS: Record<string, number> = { FIONREAD: 0x541b, SIOCINQ: 0x541b, SIOCOUTQ: 0x5411 };

export function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** Sleeps without the event loop (the replay is one synchronous loop). */
const sleeper = new Int32Array(new SharedArrayBuffer(4));
function nap(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Runs the plan against the kernel; `tun` is the device inside this namespace. */
export function replayOnKernel(plan: ReplayPlan, tun = 'syn0'): ReplayResult {
  const { libc: lib, errno } = libc();
  const c = {
    socket: lib.func('int socket(int, int, int)'),
    setsockopt: lib.func('int setsockopt(int, int, int, void *, uint32_t)'),
    getsockopt: lib.func('int getsockopt(int, int, int, void *, void *)'),
    bind: lib.func('int bind(int, void *, uint32_t)'),
    listen: lib.func('int listen(int, int)'),
    accept4: lib.func('int accept4(int, void *, void *, int)'),
    connect: lib.func('int connect(int, void *, uint32_t)'),
    recv: lib.func('long recv(int, void *, unsigned long, int)'),
    send: lib.func('long send(int, void *, unsigned long, int)'),
    close: lib.func('int close(int)'),
    shutdown: lib.func('int shutdown(int, int)'),
    ioctl: lib.func('int ioctl(int, unsigned long, void *)'),
    poll: lib.func('int poll(void *, unsigned long, int)'),
  };
  const { fd: tunFd } = attachTun(tun);
  // The device gets its carrier when a process attaches; until the kernel's link
  // watch has seen it (up to a second), what the kernel sends through it is lost.
  const operstate = `/sys/class/net/${tun}/operstate`;
  for (let i = 0; i < 300 && existsSync(operstate); i++) {
    if (readFileSync(operstate, 'utf8').trim() !== 'down') break;
    nap(10);
  }
  const local = parseAddr(plan.local)!;
  const remote = parseAddr(plan.remote)!;
  const sockaddr = (addr: Uint8Array, port: number): Buffer => {
    if (!plan.v6) {
      const b = Buffer.alloc(16);
      b.writeUInt16LE(AF_INET, 0);
      b.writeUInt16BE(port, 2);
      b.set(addr, 4);
      return b;
    }
    const b = Buffer.alloc(28);
    b.writeUInt16LE(AF_INET6, 0);
    b.writeUInt16BE(port, 2);
    b.set(addr, 8);
    return b;
  };
  const result: ReplayResult = { out: [], calls: [] };
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const buf = Buffer.alloc(65536);

  // Numbers the kernel chose, learned from what it sends, against synack's in the plan.
  // By connection: local port × 65536 + remote port (a listener's connections share its port).
  const simIss = new Map<number, number>(); // synack's connection → ISS
  const simTs = new Map<number, number>(); // synack's connection → first TSval
  const kIss = new Map<number, number>();
  const kTs = new Map<number, number>();
  const portMap = new Map<number, number>(); // synack local port → kernel local port
  const simSynPorts: number[] = [];
  const kSynPorts: number[] = [];
  const learn = (
    seg: Segment,
    iss: Map<number, number>,
    ts: Map<number, number>,
    ports: number[],
  ) => {
    const key = seg.srcPort * 65536 + seg.dstPort;
    // A SYN with a new ISS on a known pair of ports is a new connection on it.
    if (seg.flags & SYN && iss.get(key) !== seg.seq) {
      if (!iss.has(key)) ports.push(seg.srcPort);
      iss.set(key, seg.seq);
      const o = seg.options.find((x) => x.kind === 'ts');
      if (o && o.kind === 'ts') ts.set(key, o.val);
    }
  };
  const drain = () => {
    for (;;) {
      let n: number;
      try {
        n = readSync(tunFd, buf, 0, buf.length, null);
      } catch {
        return;
      }
      if (n <= 0) return;
      const bytes = new Uint8Array(buf.subarray(0, n));
      const p = decodePacket(bytes, false);
      if (typeof p === 'string') continue; // router solicitations and the like
      learn(p.seg, kIss, kTs, kSynPorts);
      result.out.push({ t: now(), hex: Buffer.from(bytes).toString('hex') });
    }
  };
  const kernelPort = (simPort: number): number => {
    if (portMap.has(simPort)) return portMap.get(simPort)!;
    const i = simSynPorts.indexOf(simPort);
    const k = i >= 0 ? kSynPorts[i] : undefined;
    if (k !== undefined) portMap.set(simPort, k);
    return k ?? simPort;
  };
  /** An inbound packet of the plan, in the kernel's numbers. */
  const rewrite = (hex: string): Uint8Array => {
    const p = decodePacket(hexBytes(hex), false);
    if (typeof p === 'string') return hexBytes(hex);
    const s = p.seg;
    const port = s.dstPort;
    const delta = (a: Map<number, number>, b: Map<number, number>) => {
      const x = a.get(port * 65536 + s.srcPort);
      const y = b.get(kernelPort(port) * 65536 + s.srcPort);
      return x === undefined || y === undefined ? 0 : (y - x) | 0;
    };
    const dIss = delta(simIss, kIss);
    const dTs = delta(simTs, kTs);
    const options: TcpOption[] = s.options.map((o) => {
      if (o.kind === 'ts' && o.ecr !== 0) return { ...o, ecr: seqAdd(o.ecr, dTs) };
      if (o.kind === 'sack') return { ...o, blocks: o.blocks.map((b) => seqAdd(b, dIss)) };
      return o;
    });
    const seg: Segment = {
      ...s,
      dstPort: kernelPort(port),
      ack: s.flags & ACK ? seqAdd(s.ack, dIss) : s.ack,
      options,
    };
    return encodePacket(p.src, p.dst, seg);
  };

  // Script fd → kernel fd.
  const fds = new Map<number, number>();
  const err = (): [number, string] => {
    const e = errno();
    return [-1, ERRNO[e] ?? `errno ${e}`];
  };
  const errnoNumber = new Map(Object.entries(ERRNO).map(([n, name]) => [name, Number(n)]));
  /** A number in a call's argument: `[4]`, `4`, or an errno name (`[ECONNREFUSED]`). */
  const intArg = (s: string | undefined): number => {
    const name = /[A-Z][A-Z0-9_]+/.exec(s ?? '')?.[0];
    if (name && errnoNumber.has(name)) return errnoNumber.get(name)!;
    return Number(/-?\d+/.exec(s ?? '')?.[0] ?? 0);
  };

  /** One attempt at a call: [ret, errno?, note?]. */
  const attempt = (s: CallStep): [number, string?, string?] => {
    const a = s.args;
    const fd = fds.get(Number(a[0])) ?? -1;
    switch (s.name) {
      case 'socket': {
        const r = c.socket(plan.v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
        if (r < 0) return err();
        // The linux profile is a stock kernel: CUBIC, whatever this host's namespaces default to.
        const cubic = Buffer.from('cubic', 'ascii');
        c.setsockopt(r, IPPROTO_TCP, OPTIONS.TCP_CONGESTION[1], cubic, cubic.length);
        fds.set(s.ret >= 0 ? s.ret : r, r);
        return [s.ret >= 0 ? s.ret : r];
      }
      case 'setsockopt':
      case 'getsockopt': {
        const [level, opt] = OPTIONS[a[2]];
        // TCP_CONGESTION takes and gives a name ("cubic"); as root any algorithm the kernel has.
        const name = /^"([^"]*)"$/.exec((a[3] ?? '').trim())?.[1];
        if (name !== undefined) {
          if (s.name === 'setsockopt') {
            const b = Buffer.from(name, 'ascii');
            return c.setsockopt(fd, level, opt, b, b.length) < 0 ? err() : [0];
          }
          const b = Buffer.alloc(16);
          const len = Buffer.alloc(4);
          len.writeUInt32LE(16, 0);
          if (c.getsockopt(fd, level, opt, b, len) < 0) return err();
          const got = b.toString('ascii').replace(/\0.*$/s, '');
          return [
            0,
            undefined,
            got === name ? undefined : `gave "${got}", the script expects "${name}"`,
          ];
        }
        const v = Buffer.alloc(8);
        const linger = /l_onoff\s*=\s*(\d+)\s*,\s*l_linger\s*=\s*(\d+)/.exec(a[3] ?? '');
        if (s.name === 'setsockopt') {
          if (linger) {
            v.writeInt32LE(Number(linger[1]), 0);
            v.writeInt32LE(Number(linger[2]), 4);
          } else v.writeInt32LE(intArg(a[3]), 0);
          const r = c.setsockopt(fd, level, opt, v, linger ? 8 : 4);
          return r < 0 ? err() : [0];
        }
        const len = Buffer.alloc(4);
        len.writeUInt32LE(linger ? 8 : 4, 0);
        const r = c.getsockopt(fd, level, opt, v, len);
        if (r < 0) return err();
        const got = linger
          ? `{l_onoff=${v.readInt32LE(0)}, l_linger=${v.readInt32LE(4)}}`
          : `[${v.readInt32LE(0)}]`;
        const want = (a[3] ?? '').replace(/\s+/g, ' ').trim();
        const same = linger
          ? got.replace(/\s/g, '') === want.replace(/\s/g, '')
          : intArg(want) === v.readInt32LE(0);
        return [0, undefined, same ? undefined : `gave ${got}, the script expects ${want}`];
      }
      case 'tcp_info': {
        const info = Buffer.alloc(256);
        const len = Buffer.alloc(4);
        len.writeUInt32LE(info.length, 0);
        if (c.getsockopt(fd, IPPROTO_TCP, TCP_INFO, info, len) < 0) return err();
        const want = JSON.parse(a[1]) as Record<string, number>;
        const diff: string[] = [];
        for (const [field, v] of Object.entries(want)) {
          const at = KERNEL_COMPARED_INFO[field];
          if (!at) continue;
          const got = at[1] === 1 ? info.readUInt8(at[0]) : info.readUInt32LE(at[0]);
          if (got !== v) diff.push(`${field} ${got} (synack ${v})`);
        }
        return [
          0,
          undefined,
          diff.length ? `the kernel's TCP_INFO has ${diff.join(', ')}` : undefined,
        ];
      }
      case 'bind': {
        const addr = sockaddr(local, 8080);
        return c.bind(fd, addr, addr.length) < 0 ? err() : [0];
      }
      case 'listen':
        return c.listen(fd, intArg(a[1])) < 0 ? err() : [0];
      case 'accept': {
        const r = c.accept4(fd, null, null, SOCK_NONBLOCK);
        if (r < 0) return err();
        fds.set(s.ret >= 0 ? s.ret : r, r);
        return [s.ret >= 0 ? s.ret : r];
      }
      case 'connect': {
        const addr = sockaddr(remote, 8080);
        if (c.connect(fd, addr, addr.length) === 0) return [0];
        const e = err();
        if (e[1] !== 'EALREADY' && e[1] !== 'EINPROGRESS') return e[1] === 'EISCONN' ? [0] : e;
        // In progress: writable means done, SO_ERROR says how.
        const pfd = Buffer.alloc(8);
        pfd.writeInt32LE(fd, 0);
        pfd.writeInt16LE(POLLOUT, 4);
        if (c.poll(pfd, 1, 0) <= 0) return e;
        const v = Buffer.alloc(4);
        const len = Buffer.alloc(4);
        len.writeUInt32LE(4, 0);
        c.getsockopt(fd, SOL_SOCKET, 4, v, len);
        const soErr = v.readInt32LE(0);
        return soErr === 0 ? [0] : [-1, ERRNO[soErr] ?? `errno ${soErr}`];
      }
      case 'read':
      case 'recv': {
        const n = intArg(a[2]);
        const flags = /MSG_PEEK/.test(a[3] ?? '') ? 2 : 0;
        const b = Buffer.alloc(Math.max(1, n));
        const r = c.recv(fd, b, n, flags);
        return r < 0 ? err() : [Number(r)];
      }
      case 'write':
      case 'send': {
        const n = intArg(a[2]);
        const r = c.send(fd, Buffer.alloc(Math.max(1, n)), n, 0x4000 /* MSG_NOSIGNAL */);
        return r < 0 ? err() : [Number(r)];
      }
      case 'close': {
        const r = c.close(fd);
        fds.delete(Number(a[0]));
        return r < 0 ? err() : [0];
      }
      case 'shutdown': {
        const named = { SHUT_RD: 0, SHUT_WR: 1, SHUT_RDWR: 2 }[a[1] as string];
        // An unknown name stays invalid (the kernel says EINVAL).
        const how = named ?? (/^\d+$/.test(a[1] ?? '') ? Number(a[1]) : 99);
        return c.shutdown(fd, how) < 0 ? err() : [0];
      }
      case 'fcntl':
        // Kernel sockets stay non-blocking; blocking is emulated by retrying.
        return a[1] === 'F_GETFL' ? [s.ret] : [0];
      case 'ioctl': {
        const v = Buffer.alloc(4);
        if (c.ioctl(fd, IOCTLS[a[1]], v) < 0) return err();
        const want = /\[\s*(\d+)\s*\]/.exec(a[2] ?? '')?.[1];
        const got = v.readInt32LE(0);
        return [
          0,
          undefined,
          want === undefined || Number(want) === got
            ? undefined
            : `gave [${got}], the script expects [${want}]`,
        ];
      }
    }
    return [-1, 'ENOSYS'];
  };

  const WOULD_BLOCK = new Set(['EAGAIN', 'EINPROGRESS', 'EALREADY']);
  /** How long past synack's return a blocked call is retried; how long any call may lag. */
  const GRACE_MS = 200;
  const pending: { i: number; s: CallStep; until: number }[] = [];
  const finish = (i: number, s: CallStep, r: [number, string?, string?]) =>
    result.calls.push({ step: i, line: s.line, ret: r[0], errno: r[1], t: now(), note: r[2] });
  const retry = () => {
    for (let j = 0; j < pending.length; j++) {
      const p = pending[j];
      const r = attempt(p.s);
      const blocked = r[0] < 0 && WOULD_BLOCK.has(r[1] ?? '');
      if (blocked && now() < p.until) continue;
      pending.splice(j--, 1);
      finish(p.i, p.s, r);
    }
  };
  let simOut = 0;
  /** Sim times of the last two packets synack sent. */
  let lastOut = 0;
  let gapOut = 0;
  /**
   * How far the replay runs behind the plan: when the kernel is late with a
   * packet the script answers (a timer fires late), the answer and everything
   * after it wait for it, as the script's peer would.
   */
  let shift = 0;
  const wait = (until: number, alsoFor?: () => boolean) => {
    for (;;) {
      drain();
      retry();
      if (now() >= until && !(alsoFor?.() ?? false)) return;
      nap(0.2);
    }
  };

  try {
    for (let i = 0; i < plan.steps.length; i++) {
      const s = plan.steps[i];
      wait(s.t + shift);
      if (s.kind === 'out') {
        const p = decodePacket(hexBytes(s.hex), false);
        if (typeof p !== 'string') learn(p.seg, simIss, simTs, simSynPorts);
        simOut++;
        gapOut = s.t - lastOut;
        lastOut = s.t;
        continue;
      }
      if (s.kind === 'in') {
        // Causality: what synack had sent before this packet, the kernel should have sent
        // too (its SYN,ACK carries the ISS the ACK must name). Wait for it: a little, or
        // an eighth of the wait before it (timers fire that late).
        const start = now();
        const deadline = start + 50 + gapOut / 8;
        wait(0, () => result.out.length < simOut && now() < deadline);
        if (result.out.length >= simOut) shift += Math.max(0, now() - Math.max(start, s.t + shift));
        try {
          writeSync(tunFd, rewrite(s.hex));
        } catch {}
        continue;
      }
      if (s.kind !== 'call') continue;
      // An assertion reads state the kernel reaches when it sends what synack had sent
      // by then (a timer of its own may fire late): wait for that first.
      if (s.name === 'tcp_info') {
        const deadline = now() + 50 + gapOut / 8;
        wait(0, () => result.out.length < simOut && now() < deadline);
      }
      const r = attempt(s);
      const blocked = r[0] < 0 && WOULD_BLOCK.has(r[1] ?? '');
      // Retry when synack blocked, or completed where the kernel has not caught up yet.
      const synackBlocked = s.returned > s.t;
      const synackWouldBlock = s.ret < 0 && WOULD_BLOCK.has(s.errno ?? '');
      if (blocked && (synackBlocked || !synackWouldBlock)) {
        // A timer behind it may fire late by an eighth of its length.
        const wait = s.returned - s.t;
        pending.push({ i, s, until: now() + wait + wait / 8 + GRACE_MS });
      } else finish(i, s, r);
    }
    const last = plan.steps.length > 0 ? plan.steps[plan.steps.length - 1].t : 0;
    // Timers late by up to an eighth of their length: wait a little past the plan.
    wait(Math.max(last, now()) + GRACE_MS + last / 16, () => pending.length > 0);
  } finally {
    for (const fd of fds.values()) c.close(fd);
    c.close(tunFd);
  }
  result.calls.sort((a, b) => a.step - b.step);
  return result;
}
