// A TUN device on Linux as a synack link (Node only): IP packets in and out
// of the kernel. The descriptor is non-blocking; readiness comes from poll()
// with a short timeout, called through koffi on a worker thread, so the event
// loop never blocks and nothing holds the process once the link is closed.
// Each wake-up reads every packet waiting and hands them over as one batch.
// It attaches to (or creates) the device the caller names with
// ioctl(TUNSETIFF, IFF_TUN | IFF_NO_PI) through koffi; it configures nothing
// else. With `offload`, the device also carries a virtio-net header before each
// packet (IFF_VNET_HDR) and offloads TCP checksums and segmentation
// (TUNSETOFFLOAD), as wireguard-go and Tailscale set it up: one read or write
// moves up to 64 KiB of TCP payload instead of one MSS. This is the one module
// under link/ that uses Node APIs; it is exported only from `synack/node`.

import { closeSync, constants, existsSync, openSync, writevSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Link } from '../stack/link.ts';

const TUNSETIFF = 0x400454ca;
const TUNSETOFFLOAD = 0x400454d0;
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
const IFF_VNET_HDR = 0x4000;
const IFNAMSIZ = 16;
// TUNSETOFFLOAD: checksums, TSO for IPv4 and IPv6.
const TUN_F_CSUM = 0x01;
const TUN_F_TSO4 = 0x02;
const TUN_F_TSO6 = 0x04;
// struct virtio_net_hdr (10 bytes, little-endian on the hosts this runs on).
const VNET_HDR = 10;
const VNET_F_NEEDS_CSUM = 1;
const VNET_F_DATA_VALID = 2;
const VNET_GSO_TCPV4 = 1;
const VNET_GSO_TCPV6 = 4;
/** The largest IP packet a large segment may be (what the kernel's GSO takes). */
const GSO_MAX = 65535;

export class TunError extends Error {
  constructor(
    message: string,
    readonly code: 'ENOENT' | 'EPERM' | 'EBUSY' | 'EINVAL' | 'EIO',
  ) {
    super(message);
    this.name = 'TunError';
  }
}

type Ioctl = (fd: number, req: number, arg: Buffer) => number;
type IoctlValue = (fd: number, req: number, arg: number) => number;
type PollAsync = (
  fds: Buffer,
  nfds: number,
  timeout: number,
  cb: (err: unknown, ready: number) => void,
) => void;

let ioctl: Ioctl | undefined;
let ioctlValue: IoctlValue | undefined;
let pollAsync: PollAsync | undefined;
/** read(2) and write(2) called directly: -1 on error (errno), never a thrown exception. */
let sysRead: ((fd: number, buf: Uint8Array, n: number) => number) | undefined;
let sysWrite: ((fd: number, buf: Uint8Array, n: number) => number) | undefined;
let errno: (() => number) | undefined;

/** How long one poll() waits: the longest a closed link can keep the process. */
const POLL_MS = 100;
const POLLIN = 0x1;
/** Packets handed over in one batch at most (the rest wait for the next round). */
const BATCH = 256;
/** Packets copied behind their virtio-net header rather than written with writev. */
const SMALL = 2048;

function loadIoctl(): Ioctl {
  if (ioctl) return ioctl;
  const require = createRequire(import.meta.url);
  // biome-ignore lint/suspicious/noExplicitAny: koffi's types are loose.
  let koffi: any;
  try {
    koffi = require('koffi');
  } catch {
    throw new TunError(
      'TUN devices need koffi, an optional dependency that is not installed: run "npm install koffi"',
      'ENOENT',
    );
  }
  const libc = koffi.load('libc.so.6');
  loaded = { libc, errno: () => koffi.errno() as number };
  ioctl = libc.func('int ioctl(int fd, unsigned long request, void *arg)') as Ioctl;
  // The same call with a number as its argument (TUNSETOFFLOAD takes the flags by value).
  ioctlValue = libc.func('ioctl', 'int', ['int', 'unsigned long', 'unsigned long']) as IoctlValue;
  const poll = libc.func('int poll(void *fds, unsigned long nfds, int timeout)');
  pollAsync = poll.async as PollAsync;
  // fs.readSync reports EAGAIN by throwing an exception, ~3 µs each; every batch
  // ends with one. fs.writeSync adds ~0.2 µs of its own checks to each packet.
  sysRead = libc.func('long read(int fd, void *buf, unsigned long count)');
  sysWrite = libc.func('long write(int fd, const void *buf, unsigned long count)');
  errno = () => koffi.errno() as number;
  return ioctl;
}

// biome-ignore lint/suspicious/noExplicitAny: koffi's library objects are untyped.
let loaded: { libc: any; errno: () => number } | undefined;

/** libc through koffi, for other system calls (the kernel replay of packet scripts). */
// biome-ignore lint/suspicious/noExplicitAny: koffi's library objects are untyped.
export function libc(): { libc: any; errno: () => number } {
  loadIoctl();
  return loaded!;
}

export interface TunLink extends Link {
  readonly name: string;
  /** Stops reading and closes the device. */
  close(): void;
}

/**
 * Attaches a non-blocking descriptor to the TUN device `name` (creating it if it
 * does not exist): IP packets, no packet-information header; with `offload`, a
 * virtio-net header before each packet and TCP checksum and segmentation
 * offloads on.
 */
export function attachTun(name: string, offload = false): { fd: number; name: string } {
  if (process.platform !== 'linux')
    throw new TunError('TUN devices are available on Linux only', 'EINVAL');
  if (!/^[\w.-]{1,15}$/.test(name)) {
    throw new TunError(
      `invalid device name "${name}": 1 to 15 letters, digits, '_', '.', '-'`,
      'EINVAL',
    );
  }
  if (!existsSync('/dev/net/tun')) {
    throw new TunError(
      '/dev/net/tun does not exist: load the tun module (modprobe tun) or run where TUN is available',
      'ENOENT',
    );
  }
  const ioctlFn = loadIoctl();
  let fd: number;
  try {
    fd = openSync('/dev/net/tun', constants.O_RDWR | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new TunError('cannot open /dev/net/tun: run as root or with CAP_NET_ADMIN', 'EPERM');
    }
    throw new TunError(`cannot open /dev/net/tun: ${(e as Error).message}`, 'EIO');
  }
  const ifr = Buffer.alloc(40);
  ifr.write(name, 0, IFNAMSIZ - 1, 'ascii');
  ifr.writeUInt16LE(IFF_TUN | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0), IFNAMSIZ);
  const rc = ioctlFn(fd, TUNSETIFF, ifr);
  if (rc < 0) {
    const e = errno ? errno() : 0;
    closeSync(fd);
    if (e === 1)
      throw new TunError(
        `cannot attach to TUN device ${name}: operation not permitted (need root or CAP_NET_ADMIN)`,
        'EPERM',
      );
    if (e === 16)
      throw new TunError(`TUN device ${name} is busy (another process has it open)`, 'EBUSY');
    throw new TunError(`ioctl(TUNSETIFF) on ${name} failed with errno ${e}`, 'EIO');
  }
  const actual = ifr.toString('ascii', 0, IFNAMSIZ).replace(/\0.*$/, '');
  if (offload && ioctlValue!(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) {
    const e = errno ? errno() : 0;
    closeSync(fd);
    throw new TunError(`ioctl(TUNSETOFFLOAD) on ${actual} failed with errno ${e}`, 'EIO');
  }
  return { fd, name: actual };
}

export interface TunOptions {
  /**
   * Offload TCP checksums and segmentation to the kernel (IFF_VNET_HDR,
   * TUNSETOFFLOAD): the stack sends and receives segments of up to 64 KiB,
   * which the kernel cuts into or has made from MSS-sized packets (TSO, GRO),
   * as it does for a NIC. A trace still shows whole checksums. Default off:
   * every packet as it would be on a wire.
   */
  offload?: boolean;
}

/** Opens the TUN device `name` (creating it if it does not exist) and starts reading packets. */
export function openTun(name: string, opts: TunOptions = {}): TunLink {
  const offload = opts.offload === true;
  const { fd, name: actual } = attachTun(name, offload);
  let open = true;
  let polling = false;
  const hdrLen = offload ? VNET_HDR : 0;
  const buf = Buffer.alloc(65536 + hdrLen);
  // With offload, a packet of up to SMALL bytes is written after its header in
  // one buffer (a copy costs less than writev's array of buffers); larger ones by writev.
  const out = Buffer.alloc(VNET_HDR + SMALL);
  const hdr = out.subarray(0, VNET_HDR);
  // struct pollfd { int fd; short events; short revents; }
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(POLLIN, 4);
  const link: TunLink = {
    name: actual,
    onPacket: null,
    onPackets: null,
    // Each packet read is copied into a buffer of its own (below).
    fresh: true,
    // write(2) copies each packet into the kernel before send returns.
    copies: true,
    offload: offload ? { gso: GSO_MAX } : undefined,
    send(packet, gso) {
      if (!open) return;
      // A failed write (the device is down, its queue is full) loses the packet, as on a wire.
      if (!offload) {
        sysWrite!(fd, packet, packet.length);
        return;
      }
      try {
        // The stack wrote the pseudo-header sum: the kernel completes the checksum, and
        // cuts a large segment into ones of `gso` payload bytes.
        const v6 = packet[0] >> 4 === 6;
        const ipLen = v6 ? 40 : (packet[0] & 0x0f) * 4;
        const tcp = v6 ? packet[6] === 6 : packet[9] === 6;
        hdr.fill(0);
        if (tcp && packet.length >= ipLen + 20) {
          hdr[0] = VNET_F_NEEDS_CSUM;
          hdr.writeUInt16LE(ipLen, 6); // csum_start
          hdr.writeUInt16LE(16, 8); // csum_offset: the TCP checksum field
          if (gso && gso > 0) {
            hdr[1] = v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4;
            hdr.writeUInt16LE(ipLen + (packet[ipLen + 12] >> 4) * 4, 2); // hdr_len
            hdr.writeUInt16LE(gso, 4); // gso_size
          }
        }
        if (packet.length <= SMALL) {
          out.set(packet, VNET_HDR);
          sysWrite!(fd, out, VNET_HDR + packet.length);
        } else writevSync(fd, [hdr, packet]);
      } catch {
        // The device is down or its queue is full: the packet is lost, as on a wire.
      }
    },
    close() {
      if (!open) return;
      open = false;
      // A poll() in flight returns within POLL_MS; the descriptor is closed after it.
      if (!polling) closeFd();
    },
  };
  const closeFd = () => {
    try {
      closeSync(fd);
    } catch {}
  };
  /** Which of the packets `drain` read last came with their checksum vouched for (offload). */
  const verified: boolean[] = [];
  /** Reads every packet waiting (non-blocking), at most BATCH. */
  const drain = (): Uint8Array[] => {
    const got: Uint8Array[] = [];
    verified.length = 0;
    while (got.length < BATCH) {
      const n = sysRead!(fd, buf, buf.length);
      if (n <= hdrLen) break; // -1 with EAGAIN: nothing more now
      // Copy: the buffer is reused for the next read.
      got.push(new Uint8Array(buf.subarray(hdrLen, n)));
      // The kernel made it (partial checksum) or checked it: nothing to verify.
      verified.push(offload && (buf[0] & (VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID)) !== 0);
    }
    return got;
  };
  /** Hands over what is waiting; true if there was anything. */
  const deliver = (): boolean => {
    const packets = drain();
    if (packets.length === 0) return false;
    if (link.onPackets) link.onPackets(packets, verified);
    else for (let i = 0; i < packets.length; i++) link.onPacket?.(packets[i], verified[i]);
    return true;
  };
  // While packets keep coming, read again as soon as the event loop has had its
  // turn (setImmediate), without a round trip through poll() on the thread pool;
  // once the device is quiet, wait in poll() again.
  const busy = () => {
    if (!open) return;
    if (deliver()) setImmediate(busy);
    else loop();
  };
  const loop = () => {
    if (!open) return;
    polling = true;
    pollAsync!(pfd, 1, POLL_MS, (err, ready) => {
      polling = false;
      if (!open) {
        closeFd();
        return;
      }
      if (!err && ready > 0 && deliver()) setImmediate(busy);
      else loop();
    });
  };
  loop();
  return link;
}
