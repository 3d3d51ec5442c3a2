// A TUN device on Linux as a synack link (Node only): IP packets in and out
// of the kernel. The descriptor is non-blocking; readiness comes from poll()
// with a short timeout, called through koffi on a worker thread, so the event
// loop never blocks and nothing holds the process once the link is closed.
// Each wake-up reads every packet waiting and hands them over as one batch.
// It attaches to (or creates) the device the caller names with
// ioctl(TUNSETIFF, IFF_TUN | IFF_NO_PI) through koffi; it configures nothing
// else. This is the one module under link/ that uses Node APIs; it is
// exported only from `synack/node`.

import { closeSync, constants, existsSync, openSync, readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Link } from '../stack/link.ts';

const TUNSETIFF = 0x400454ca;
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
const IFNAMSIZ = 16;

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
type PollAsync = (
  fds: Buffer,
  nfds: number,
  timeout: number,
  cb: (err: unknown, ready: number) => void,
) => void;

let ioctl: Ioctl | undefined;
let pollAsync: PollAsync | undefined;
let errno: (() => number) | undefined;

/** How long one poll() waits: the longest a closed link can keep the process. */
const POLL_MS = 100;
const POLLIN = 0x1;
/** Packets handed over in one batch at most (the rest wait for the next round). */
const BATCH = 256;

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
  const poll = libc.func('int poll(void *fds, unsigned long nfds, int timeout)');
  pollAsync = poll.async as PollAsync;
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
 * does not exist): IP packets, no packet-information header.
 */
export function attachTun(name: string): { fd: number; name: string } {
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
  ifr.writeUInt16LE(IFF_TUN | IFF_NO_PI, IFNAMSIZ);
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
  return { fd, name: actual };
}

/** Opens the TUN device `name` (creating it if it does not exist) and starts reading packets. */
export function openTun(name: string): TunLink {
  const { fd, name: actual } = attachTun(name);
  let open = true;
  let polling = false;
  const buf = Buffer.alloc(65536);
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
    send(packet) {
      if (!open) return;
      try {
        writeSync(fd, packet);
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
  /** Reads every packet waiting (non-blocking), at most BATCH. */
  const drain = (): Uint8Array[] => {
    const got: Uint8Array[] = [];
    while (got.length < BATCH) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch {
        break; // EAGAIN: nothing more now
      }
      if (n <= 0) break;
      // Copy: the buffer is reused for the next read.
      got.push(new Uint8Array(buf.subarray(0, n)));
    }
    return got;
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
      if (!err && ready > 0) {
        const packets = drain();
        if (packets.length > 0) {
          if (link.onPackets) link.onPackets(packets);
          else for (const p of packets) link.onPacket?.(p);
        }
      }
      loop();
    });
  };
  loop();
  return link;
}
