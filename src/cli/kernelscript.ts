// `synack script --kernel`: runs each script on synack, then replays the same
// run on the Linux kernel in a network namespace of its own (a TUN device,
// 198.18.0.1/15, removed afterwards) and compares the two stacks' decisions
// packet by packet and call by call. A script that passes on synack and shows
// no difference is evidence that the profile decides as the kernel does.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { ReplayPlan, ReplayResult } from '../node/kernelreplay.ts';
import { unreplayable } from '../node/kernelreplay.ts';
import { type CallOutcome, compareRuns } from '../sim/script/compare.ts';
import { type RecordedStep, type RunOptions, runScript } from '../sim/script/run.ts';
import { decodePacket } from '../wire/packet.ts';
import { SYN } from '../wire/tcp.ts';

export type KernelVerdict =
  | { status: 'same'; ours: string[] }
  | { status: 'different'; differences: string[]; ours: string[]; theirs: string[] }
  | { status: 'fail'; line?: number; reason: string }
  | { status: 'skip'; reason: string };

/** Why the kernel cannot be driven here, or undefined. */
export function kernelUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'the kernel replay needs Linux';
  if (process.getuid?.() !== 0)
    return 'the kernel replay needs root (it creates a network namespace and a TUN device)';
  if (!existsSync('/dev/net/tun')) return 'the kernel replay needs /dev/net/tun';
  if (spawnSync('ip', ['-V']).status !== 0) return 'the kernel replay needs iproute2 (ip)';
  return undefined;
}

/** The longest script the replay runs (it runs in real time). */
const MAX_REPLAY_MS = Number(process.env.SYNACK_REPLAY_MAX_MS ?? 30_000);

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
let seq = 0;

/** A namespace with the TUN device the kernel side of the replay talks through. */
function withNetns<T>(
  v6: boolean,
  mtu: number,
  sysctls: [string, string][],
  body: (name: string) => T,
): T {
  const name = `synack-k${process.pid}-${seq++}`;
  const ip = (...a: string[]) => {
    const r = spawnSync('ip', a, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr.trim()}`);
  };
  ip('netns', 'add', name);
  try {
    const sysctl = (k: string, v: string) =>
      spawnSync('ip', ['netns', 'exec', name, 'sysctl', '-q', '-w', `${k}=${v}`]);
    ip('-n', name, 'link', 'set', 'lo', 'up');
    ip('-n', name, 'tuntap', 'add', 'dev', 'syn0', 'mode', 'tun');
    // The script's --mtu: the MSS the kernel announces follows the device's MTU.
    ip('-n', name, 'link', 'set', 'syn0', 'mtu', String(mtu));
    if (v6) ip('-n', name, 'addr', 'add', '2001:2::1/64', 'dev', 'syn0', 'nodad');
    else {
      sysctl('net.ipv6.conf.syn0.disable_ipv6', '1');
      ip('-n', name, 'addr', 'add', '198.18.0.1/15', 'dev', 'syn0');
    }
    // The linux profile models Linux's long-standing tcp_rmem maximum of 6 MiB
    // (window scale 7); newer kernels default to 32 MiB.
    sysctl('net.ipv4.tcp_rmem', '4096 131072 6291456');
    for (const [k, v] of sysctls) sysctl(k, v);
    ip('-n', name, 'link', 'set', 'syn0', 'up');
    return body(name);
  } finally {
    spawnSync('ip', ['netns', 'del', name]);
  }
}

/** `sysctl [-q] [-w] key=value` lines; anything else makes a script not replayable. */
function sysctlsOf(steps: RecordedStep[]): [string, string][] | string {
  const out: [string, string][] = [];
  for (const s of steps) {
    if (s.kind !== 'shell') continue;
    for (const part of s.command.split(/;|&&|\n/)) {
      const cmd = part.trim();
      if (cmd === '') continue;
      const words = cmd.split(/\s+/);
      if (words[0] !== 'sysctl') return `line ${s.line}: shell command "${cmd}" is not replayed`;
      for (const w of words.slice(1)) {
        if (w === '-q' || w === '-w') continue;
        const m = /^([\w.]+)=("?)(.*)\2$/.exec(w);
        if (!m) return `line ${s.line}: shell command "${cmd}" is not replayed`;
        out.push([m[1], m[3]]);
      }
    }
  }
  return out;
}

/** Runs one script on synack and on the kernel, and compares. */
export function compareWithKernel(src: string, opts: RunOptions, tolMs = 15): KernelVerdict {
  const record: RecordedStep[] = [];
  const r = runScript(src, { ...opts, record });
  if (r.status === 'fail')
    return { status: 'fail', line: r.line, reason: r.message ?? 'failed on synack' };
  const first = record.find((s) => s.kind === 'in' || s.kind === 'out') as
    | { packet: Uint8Array }
    | undefined;
  const v6 = first ? first.packet[0] >> 4 === 6 : false;
  const plan: ReplayPlan = {
    v6,
    local: v6 ? '2001:2::1' : '198.18.0.1',
    remote: v6 ? '2001:2::2' : '198.19.0.1',
    steps: record.flatMap((s): ReplayPlan['steps'] => {
      if (s.kind === 'shell') return [];
      if (s.kind === 'call') return [s];
      return [{ t: s.t, kind: s.kind, hex: hex(s.packet) }];
    }),
  };
  const why = unreplayable(plan);
  if (why) return { status: 'skip', reason: why };
  const lasts = record.length > 0 ? record[record.length - 1].t : 0;
  if (lasts > MAX_REPLAY_MS)
    return {
      status: 'skip',
      reason: `it lasts ${(lasts / 1000).toFixed(0)} s; the kernel replay runs in real time, up to ${MAX_REPLAY_MS / 1000} s`,
    };
  const sysctls = sysctlsOf(record);
  if (typeof sysctls === 'string') return { status: 'skip', reason: sysctls };

  const child = withNetns(v6, r.mtu, sysctls, (ns) =>
    spawnSync(
      'ip',
      [
        'netns',
        'exec',
        ns,
        process.execPath,
        ...process.execArgv,
        process.argv[1],
        '__kernel-replay',
      ],
      // The replay runs in real time: as long as the script, and time to set up.
      {
        input: JSON.stringify(plan),
        encoding: 'utf8',
        timeout: MAX_REPLAY_MS + 90_000,
        maxBuffer: 256 << 20,
      },
    ),
  );
  if (child.status !== 0)
    return {
      status: 'skip',
      reason: `the kernel replay failed: ${child.stderr.trim().slice(-500)}`,
    };
  const res = JSON.parse(child.stdout) as ReplayResult;

  // ACK numbers are shown from the script's first SYN (the same bytes went to both stacks).
  let remoteBase = 0;
  for (const s of record) {
    if (s.kind !== 'in') continue;
    const p = decodePacket(s.packet, false);
    if (typeof p !== 'string' && p.seg.flags & SYN) {
      remoteBase = p.seg.seq;
      break;
    }
  }
  const ours: CallOutcome[] = [];
  for (const s of record)
    if (s.kind === 'call')
      ours.push({ line: s.line, name: s.name, ret: s.ret, errno: s.errno, t: s.returned });
  const theirs: CallOutcome[] = res.calls.map((c) => ({
    line: c.line,
    name: '',
    ret: c.ret,
    errno: c.errno,
    t: c.t,
    note: c.note,
  }));
  const cmp = compareRuns(
    {
      out: record.flatMap((s) => (s.kind === 'out' ? [{ t: s.t, packet: s.packet }] : [])),
      calls: ours,
    },
    {
      out: res.out.map((o) => ({ t: o.t, packet: Uint8Array.from(Buffer.from(o.hex, 'hex')) })),
      calls: theirs,
    },
    remoteBase,
    tolMs,
    lasts,
  );
  return cmp.same
    ? { status: 'same', ours: cmp.ours }
    : { status: 'different', differences: cmp.differences, ours: cmp.ours, theirs: cmp.theirs };
}
