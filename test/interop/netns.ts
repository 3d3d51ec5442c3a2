// A network namespace with a TUN device, for tests against the Linux kernel:
// the kernel is 198.18.0.1 (2001:2::1) on device syn0 inside the namespace,
// synack runs inside the same namespace as 198.18.0.2 (2001:2::2) on that
// device. Only addresses inside the namespace are ever used; everything is
// removed afterwards.

import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePacket } from '../../src/wire/packet.ts';
import type { Segment } from '../../src/wire/tcp.ts';

const root = join(import.meta.dirname, '../..');
export const KERNEL = '198.18.0.1';
export const SYNACK = '198.18.0.2';
/** The arguments that put a synack command on the namespace's TUN device as SYNACK, with no live trace. */
export const SYNACK_ON_TUN = ['--tun', 'syn0', '--addr', `${SYNACK}/24`, '--trace', 'none'];
export const KERNEL6 = '2001:2::1';
export const SYNACK6 = '2001:2::2';

function why(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (network namespaces and TUN need root)';
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun';
  if (spawnSync('ip', ['-V']).status !== 0) return 'no iproute2 (ip)';
  const probe = `synack-probe-${process.pid}`;
  if (spawnSync('ip', ['netns', 'add', probe]).status !== 0)
    return 'cannot create network namespaces here';
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

/** Why interop tests cannot run here, or undefined when they can. */
export const skipReason = why();

let n = 0;

export class Netns {
  readonly name = `synack-t${process.pid}-${n++}`;
  private children: ChildProcess[] = [];

  constructor() {
    const ip = (...a: string[]) => {
      const r = spawnSync('ip', a, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
    };
    ip('netns', 'add', this.name);
    ip('-n', this.name, 'link', 'set', 'lo', 'up');
    ip('-n', this.name, 'tuntap', 'add', 'dev', 'syn0', 'mode', 'tun');
    ip('-n', this.name, 'addr', 'add', `${KERNEL}/24`, 'dev', 'syn0');
    ip('-n', this.name, 'addr', 'add', `${KERNEL6}/64`, 'dev', 'syn0', 'nodad');
    ip('-n', this.name, 'link', 'set', 'syn0', 'up');
  }

  /** Runs a command inside the namespace and waits for it. */
  run(cmd: string, args: string[], input?: string, timeout = 20_000) {
    return spawnSync('ip', ['netns', 'exec', this.name, cmd, ...args], {
      encoding: 'utf8',
      input,
      timeout,
      // Bulk transfers print megabytes; spawnSync's default of 1 MiB would cut them off (ENOBUFS).
      maxBuffer: 64 << 20,
    });
  }

  sysctl(key: string, value: string): void {
    this.run('sysctl', ['-q', '-w', `${key}=${value}`]);
  }

  /** Starts a command inside the namespace; its output is collected. */
  start(cmd: string, args: string[]): Proc {
    const c = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.children.push(c);
    return new Proc(c);
  }

  /**
   * `synack ARGS...` inside the namespace, from source in one process (tsx as
   * a loader, not a wrapper), so a signal sent to it reaches synack itself.
   */
  synack(args: string[]): Proc {
    if (!args.includes('--pcap'))
      args = [...args, '--pcap', join(tmpdir(), `${this.name}-${this.pcaps.length}.pcap`)];
    this.pcaps.push(args[args.indexOf('--pcap') + 1]);
    return this.start(process.execPath, [
      '--import',
      'tsx',
      join(root, 'src/cli/main.ts'),
      ...args,
    ]);
  }

  /** Captures written by synack runs in this namespace (each run gets --pcap unless it names one). */
  readonly pcaps: string[] = [];

  synackSync(args: string[], timeout = 30_000) {
    const all = [...args];
    if (!all.includes('--pcap')) {
      const pcap = join(tmpdir(), `${this.name}-${this.pcaps.length}.pcap`);
      all.push('--pcap', pcap);
    }
    this.pcaps.push(all[all.indexOf('--pcap') + 1]);
    return this.run(
      process.execPath,
      ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...all],
      undefined,
      timeout,
    );
  }

  /** A TypeScript program (through tsx) inside the namespace. */
  tsx(file: string, args: string[] = []): Proc {
    return this.start(process.execPath, [
      join(root, 'node_modules/tsx/dist/cli.mjs'),
      file,
      ...args,
    ]);
  }

  /** A Node `net` program (the kernel's TCP) inside the namespace. */
  node(script: string): Proc {
    return this.start(process.execPath, ['--input-type=module', '-e', script]);
  }

  destroy(): void {
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', this.name]);
  }
}

export class Proc {
  out = '';
  err = '';
  readonly done: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d) => (this.out += d));
    child.stderr?.on('data', (d) => (this.err += d));
    this.done = new Promise((r) => child.on('close', (code) => r(code)));
  }

  /** Waits until `pattern` appears on stderr or stdout (on stderr after offset `from`, if given). */
  async waitFor(pattern: RegExp, ms = 10_000, from = 0): Promise<void> {
    const t0 = Date.now();
    while (
      from > 0
        ? !pattern.test(this.err.slice(from))
        : !pattern.test(this.out) && !pattern.test(this.err)
    ) {
      if (Date.now() - t0 > ms)
        throw new Error(`timed out waiting for ${pattern}; stderr: ${this.err.slice(-2000)}`);
      if (this.child.exitCode !== null)
        throw new Error(
          `exited ${this.child.exitCode} before ${pattern}; stderr: ${this.err.slice(-2000)}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.done;
  }
}

const hasTshark = spawnSync('sh', ['-c', 'command -v tshark']).status === 0;

/** The packets of a pcap file (its records' data, raw IP as synack writes it). */
export function pcapPackets(file: string): Uint8Array[] {
  const b = readFileSync(file);
  const out: Uint8Array[] = [];
  for (let o = 24; o + 16 <= b.length; ) {
    const len = b.readUInt32LE(o + 8);
    out.push(new Uint8Array(b.subarray(o + 16, o + 16 + len)));
    o += 16 + len;
  }
  return out;
}

/**
 * Packets of a pcap file, decoded, with their source address; a packet that
 * does not decode (a bad checksum among others) is left out.
 */
export function pcapSegments(file: string): { src: string; seg: Segment }[] {
  const out: { src: string; seg: Segment }[] = [];
  for (const packet of pcapPackets(file)) {
    const p = decodePacket(packet);
    if (typeof p !== 'string') out.push({ src: [...p.src].join('.'), seg: p.seg });
  }
  return out;
}

/** Problems tshark's expert system reports as errors in a capture ('' when clean or no tshark). */
export function tsharkErrors(file: string): string {
  if (!hasTshark || !existsSync(file)) return '';
  const out = execFileSync('tshark', ['-r', file, '-q', '-z', 'expert,error'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return /^\s*Error/m.test(out) ? out : '';
}
