// `synack script`: runs packet scripts and reports one line per script.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { IP_VERSIONS, type RunOptions, runScript } from '../sim/script/run.ts';
import { profiles } from '../tcp/types.ts';
import { compareWithKernel, kernelUnavailable } from './kernelscript.ts';

export interface ScriptCliOptions {
  lenient?: boolean;
  profile?: string;
  verbose?: boolean;
  /** NAME or NAME=VALUE, for the scripts' #ifdef/#if lines. */
  define?: string[];
  /** One JSON report instead of lines. */
  json?: boolean;
  /** Each outbound segment matched on its own (packetdrill's --strict_segments). */
  strictSegments?: boolean;
  strictPackets?: boolean;
  ipVersion?: string;
  toleranceUsecs?: string;
  /** The link MTU for scripts that do not set --mtu. */
  mtu?: string;
  /** Replay each run on the Linux kernel and compare (root, Linux). */
  kernel?: boolean;
}

function defines(list: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of list) {
    const m = /^([A-Za-z_]\w*)(?:=(.*))?$/.exec(d);
    if (!m) throw new UsageError(`--define takes NAME or NAME=VALUE (a C identifier), got "${d}"`);
    out[m[1]] = m[2] ?? '1';
  }
  return out;
}

/** The .pkt files at `path`: the file itself, or every one below a directory, in name order. */
export function expand(path: string): string[] {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    throw new UsageError(`no such file or directory: ${path}`);
  }
  if (!st.isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => {
      const p = join(path, name);
      let dir: boolean;
      try {
        dir = statSync(p).isDirectory();
      } catch {
        return []; // a dangling symbolic link, or a file gone meanwhile: not a script
      }
      return dir ? expand(p) : name.endsWith('.pkt') ? [p] : [];
    });
}

export class UsageError extends Error {}

/** Runs the scripts; returns the process exit code (0 all passed, 1 any failed). */
export function scriptCommand(
  paths: string[],
  opts: ScriptCliOptions,
  out: (s: string) => void,
): number {
  if (opts.profile && !(opts.profile in profiles)) {
    throw new UsageError(
      `unknown profile "${opts.profile}" (accepted: ${Object.keys(profiles).join(', ')})`,
    );
  }
  if (opts.ipVersion !== undefined && !IP_VERSIONS.includes(opts.ipVersion)) {
    throw new UsageError(
      `unknown --ip-version "${opts.ipVersion}" (accepted: ${IP_VERSIONS.join(', ')})`,
    );
  }
  let toleranceUsecs: number | undefined;
  if (opts.toleranceUsecs !== undefined) {
    toleranceUsecs = Number(opts.toleranceUsecs);
    if (!/^\d+$/.test(opts.toleranceUsecs) || toleranceUsecs > 10_000_000) {
      throw new UsageError(
        `--tolerance-usecs takes a whole number of microseconds from 0 to 10000000, got "${opts.toleranceUsecs}"`,
      );
    }
  }
  let mtu: number | undefined;
  if (opts.mtu !== undefined) {
    mtu = Number(opts.mtu);
    if (!/^\d+$/.test(opts.mtu) || mtu < 104 || mtu > 65535) {
      throw new UsageError(
        `--mtu takes a whole number of bytes from 104 to 65535 (IPv6: from 1280), got "${opts.mtu}"`,
      );
    }
  }
  const files = paths.flatMap(expand);
  if (files.length === 0) throw new UsageError('no .pkt files found in the given paths');
  const run: RunOptions = {
    lenient: opts.lenient,
    profile: opts.profile,
    defines: defines(opts.define),
    strictSegments: opts.strictSegments,
    strictPackets: opts.strictPackets,
    ipVersion: opts.ipVersion,
    toleranceUsecs,
    mtu,
  };
  if (opts.kernel) return kernelCommand(files, opts, run, out);
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let shell = 0;
  const ignored = new Map<string, number>();
  const report: Record<string, unknown>[] = [];
  const say = opts.json ? () => {} : out;
  for (const f of files) {
    const r = runScript(readFileSync(f, 'utf8'), run);
    shell += r.skipped.length;
    for (const o of r.ignoredOptions) ignored.set(o, (ignored.get(o) ?? 0) + 1);
    const ran = r.trace.events.length > 0 || r.status === 'fail';
    const notes: string[] = [];
    if (r.skipped.length > 0) notes.push(`${r.skipped.length} shell line(s) skipped`);
    if (r.ignoredOptions.length > 0)
      notes.push(`options not interpreted: ${r.ignoredOptions.join(', ')}`);
    const note = notes.length > 0 ? ` (${notes.join('; ')})` : '';
    const status = r.status === 'pass' && !ran ? 'skip' : r.status;
    if (status === 'skip') {
      skipped++;
      say(`SKIP ${f}${note}`);
    } else if (status === 'pass') {
      passed++;
      say(`PASS ${f}${note}`);
    } else {
      failed++;
      say(`FAIL ${f}:${r.line ?? 0}: ${r.message}${note}`);
    }
    if (opts.verbose) for (const s of r.skipped) say(`     skipped line ${s.line}: ${s.text}`);
    report.push({
      file: f,
      status,
      ...(status === 'fail' ? { line: r.line ?? 0, reason: r.message } : {}),
      shellLinesSkipped: r.skipped.map((x) => ({ line: x.line, text: x.text })),
      optionsNotInterpreted: r.ignoredOptions,
    });
  }
  const unsupported = [...ignored].map(([o, n]) => `--${o} (${n})`).join(', ');
  if (opts.json) {
    out(
      JSON.stringify({
        passed,
        failed,
        skipped,
        shellLinesSkipped: shell,
        optionsNotInterpreted: Object.fromEntries(ignored),
        files: report,
      }),
    );
  } else {
    out(`${passed} passed, ${failed} failed, ${skipped} skipped`);
    if (shell > 0 || ignored.size > 0)
      out(
        `not interpreted: ${shell} shell line(s)${ignored.size > 0 ? `; script options ${unsupported}` : ''}`,
      );
  }
  return failed > 0 ? 1 : 0;
}

/** `--kernel`: each script on synack and replayed on the kernel; one line per script. */
function kernelCommand(
  files: string[],
  opts: ScriptCliOptions,
  run: RunOptions,
  out: (s: string) => void,
): number {
  const why = kernelUnavailable();
  if (why) throw new UsageError(`--kernel: ${why}`);
  const counts = { same: 0, different: 0, fail: 0, skip: 0 };
  const report: Record<string, unknown>[] = [];
  const say = opts.json ? () => {} : out;
  for (const f of files) {
    const v = compareWithKernel(readFileSync(f, 'utf8'), { ...run, fallbackProfile: 'linux' });
    counts[v.status]++;
    report.push({ file: f, ...v });
    if (v.status === 'same') say(`SAME ${f}`);
    else if (v.status === 'skip') say(`SKIP ${f}: ${v.reason}`);
    else if (v.status === 'fail') say(`FAIL ${f}:${v.line ?? 0}: on synack: ${v.reason}`);
    else {
      say(`DIFF ${f}: ${v.differences[0]}`);
      if (opts.verbose) {
        for (const d of v.differences.slice(1)) say(`     ${d}`);
        say('     synack:');
        for (const l of v.ours) say(`       ${l}`);
        say('     kernel:');
        for (const l of v.theirs) say(`       ${l}`);
      }
    }
  }
  if (opts.json) out(JSON.stringify({ ...counts, files: report }));
  else
    out(
      `${counts.same} same as the kernel, ${counts.different} different, ${counts.fail} failed on synack, ${counts.skip} not replayed`,
    );
  return counts.different + counts.fail > 0 ? 1 : 0;
}
