// `synack script`: runs packet scripts and reports one line per script.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runScript } from '../sim/script/run.ts';
import { profiles } from '../tcp/types.ts';

export interface ScriptCliOptions {
  lenient?: boolean;
  profile?: string;
  verbose?: boolean;
}

function expand(path: string): string[] {
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
      return statSync(p).isDirectory() ? expand(p) : name.endsWith('.pkt') ? [p] : [];
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
  const files = paths.flatMap(expand);
  if (files.length === 0) throw new UsageError('no .pkt files found in the given paths');
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const f of files) {
    const r = runScript(readFileSync(f, 'utf8'), { lenient: opts.lenient, profile: opts.profile });
    const ran = r.trace.events.length > 0 || r.status === 'fail';
    const notes: string[] = [];
    if (r.skipped.length > 0) notes.push(`${r.skipped.length} shell line(s) skipped`);
    if (r.ignoredOptions.length > 0)
      notes.push(`options not interpreted: ${r.ignoredOptions.join(', ')}`);
    const note = notes.length > 0 ? ` (${notes.join('; ')})` : '';
    if (r.status === 'pass' && !ran) {
      skipped++;
      out(`SKIP ${f}${note}`);
    } else if (r.status === 'pass') {
      passed++;
      out(`PASS ${f}${note}`);
    } else {
      failed++;
      out(`FAIL ${f}:${r.line ?? 0}: ${r.message}${note}`);
    }
    if (opts.verbose) for (const s of r.skipped) out(`     skipped line ${s.line}: ${s.text}`);
  }
  out(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed > 0 ? 1 : 0;
}
