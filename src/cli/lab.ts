// `synack list`, `synack run` and `synack tour`: the scenario catalogue from
// the command line, rendered as a ladder, tcpdump lines, JSON, explanations
// or a state timeline, optionally with a pcap per run.

import { accessSync, constants, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SimulationLimit } from '../sim/network.ts';
import { findScenario, type ScenarioResult, scenarios } from '../sim/scenarios/index.ts';
import { checkParam, paramRange, type Scenario } from '../sim/scenarios/scenario.ts';
import {
  checkText,
  factName,
  scenarioDescription,
  scenarioTitle,
  variantName,
} from '../sim/scenarios/zh.ts';
import { renderCwnd } from '../trace/cwnd.ts';
import { type Lang, renderExplain } from '../trace/explain.ts';
import { renderJson } from '../trace/json.ts';
import { renderLadder } from '../trace/ladder.ts';
import { renderPcap } from '../trace/pcap.ts';
import { renderTcpdump } from '../trace/tcpdump.ts';
import { renderTimeline } from '../trace/timeline.ts';
import { renderTsg } from '../trace/tsg.ts';
import { UsageError } from './script.ts';

export const FORMATS = ['ladder', 'tcpdump', 'json', 'explain', 'timeline', 'tsg', 'cwnd'] as const;
export type Format = (typeof FORMATS)[number];

export interface RunCliOptions {
  seed: number;
  loss?: number;
  delay?: number;
  format: Format;
  pcap?: string;
  /** Write the rendered run to this file (one per variant: FILE.1.svg, ...) instead of stdout. */
  outFile?: string;
  lang: Lang;
  absolute: boolean;
  color: boolean;
  /** Ladder width in columns. */
  width?: number;
  params: Record<string, string>;
}

export function listCommand(out: (s: string) => void): number {
  const w = Math.max(...scenarios.map((s) => s.name.length));
  for (const s of scenarios) out(`${s.name.padEnd(w)}  ${s.title}`);
  out('');
  out(
    'Run one with: synack run <name> [--format ladder|tcpdump|json|explain|timeline] (see synack run --help)',
  );
  return 0;
}

/** `synack run NAME --help`: what the scenario shows, and its options with their ranges and defaults. */
export function scenarioHelp(sc: Scenario, out: (s: string) => void, width = 80): void {
  out(`Usage: synack run ${sc.name} [options]${sc.params.length > 0 ? ' [scenario options]' : ''}`);
  out('');
  out(sc.title);
  for (const line of wrap(sc.description, width - 2)) out(`  ${line}`);
  out('');
  if (sc.params.length === 0) {
    out('This scenario takes no options of its own.');
  } else {
    out('Scenario options:');
    for (const p of sc.params) {
      out(`  --${p.name} <${p.choices ? 'choice' : 'n'}>`);
      for (const line of wrap(
        `${p.description}: ${paramRange(p)} (default ${p.default})`,
        width - 6,
      ))
        out(`      ${line}`);
    }
  }
  out('');
  out('Every scenario also takes --seed, --loss, --delay, --format, --pcap, --lang, -S');
  out('(see "synack run --help").');
}

/** Splits `--name value` / `--name=value` pairs meant for the scenario, checking them against its parameters. */
export function scenarioParams(sc: Scenario, rest: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(a);
    const accepted = sc.params.length > 0 ? sc.params.map((p) => `--${p.name}`).join(', ') : 'none';
    if (!m)
      throw new UsageError(`unexpected argument "${a}" (scenario ${sc.name} takes: ${accepted})`);
    const p = sc.params.find((x) => x.name === m[1]);
    if (!p)
      throw new UsageError(
        `unknown option --${m[1]} for scenario ${sc.name} (it takes: ${accepted})`,
      );
    const v = m[2] ?? rest[++i];
    if (v === undefined) throw new UsageError(`--${p.name} needs a value (${paramRange(p)})`);
    const bad = checkParam(p, v);
    if (bad) throw new UsageError(bad);
    out[p.name] = v;
  }
  return out;
}

export function runScenario(sc: Scenario, o: RunCliOptions): ScenarioResult[] {
  try {
    return sc.run({ seed: o.seed, loss: o.loss, delay: o.delay, params: o.params });
  } catch (e) {
    // Options out of range, or a run that hit its bound on events or virtual time.
    if (e instanceof RangeError || e instanceof SimulationLimit) throw new UsageError(e.message);
    throw e;
  }
}

export function render(
  r: ScenarioResult,
  o: Pick<RunCliOptions, 'format' | 'lang' | 'absolute' | 'color' | 'width'>,
  maxLines?: number,
): string[] {
  switch (o.format) {
    case 'ladder':
      return renderLadder(r.events, {
        hosts: r.hosts,
        absolute: o.absolute,
        color: o.color,
        width: o.width,
        maxLines,
      });
    case 'tcpdump':
      return renderTcpdump(r.events, { absolute: o.absolute });
    case 'explain':
      return renderExplain(r.events, o.lang, o.absolute);
    case 'timeline':
      return renderTimeline(r.events);
    case 'tsg':
      return renderTsg(r.events).svg;
    case 'cwnd':
      return renderCwnd(r.events).svg;
    case 'json':
      return renderJson(r.events, {
        scenario: r.scenario,
        variant: r.variant,
        seed: r.seed,
        ok: r.checks.every((c) => c.ok),
        checks: r.checks,
        facts: r.facts,
      });
  }
}

export function checkLines(r: ScenarioResult, color: boolean, lang: Lang = 'en'): string[] {
  const paint = (ok: boolean, s: string) =>
    color ? `${ok ? '\x1b[32m' : '\x1b[31m'}${s}\x1b[0m` : s;
  const lines = r.checks.map((c) =>
    paint(
      c.ok,
      `  ${c.ok ? '✓' : '✗'} ${checkText(c, lang)}${!c.ok && c.detail ? ` — ${c.detail.slice(0, 400)}` : ''}`,
    ),
  );
  for (const [k, v] of Object.entries(r.facts)) {
    if (typeof v === 'number' || typeof v === 'string')
      lines.push(
        `  · ${factName(k, lang)}: ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : v}`,
      );
  }
  return lines;
}

/** For tcpdump and json, stdout carries only those lines (pipe-friendly); the rest goes to `note`. */
export function runCommand(
  name: string,
  o: RunCliOptions,
  out: (s: string) => void,
  note: (s: string) => void = out,
): number {
  const sc = findScenario(name);
  if (!sc)
    throw new UsageError(
      `unknown scenario "${name}" (run "synack list"; accepted: ${scenarios.map((s) => s.name).join(', ')})`,
    );
  // The capture's folder must be writable before anything runs.
  if (o.pcap) {
    try {
      accessSync(dirname(resolve(o.pcap)), constants.W_OK);
    } catch {
      throw new UsageError(
        `cannot write --pcap ${o.pcap}: its folder does not exist or is not writable`,
      );
    }
  }
  if (o.outFile) {
    try {
      accessSync(dirname(resolve(o.outFile)), constants.W_OK);
    } catch {
      throw new UsageError(
        `cannot write --out ${o.outFile}: its folder does not exist or is not writable`,
      );
    }
  }
  const results = runScenario(sc, o);
  let ok = true;
  // An SVG graph goes to a file (--out) or alone to stdout; the rest is a note.
  const machine =
    o.format === 'json' ||
    o.format === 'tcpdump' ||
    o.format === 'tsg' ||
    o.format === 'cwnd' ||
    !!o.outFile;
  const say = machine ? note : out;
  results.forEach((r, i) => {
    if (o.format !== 'json') {
      const variant = r.variant ? ` — ${variantName(r.variant, o.lang)}` : '';
      say(
        `${scenarioTitle(sc, o.lang)}${variant}  (${o.lang === 'zh' ? '种子' : 'seed'} ${r.seed})`,
      );
      if (!machine) say('');
    }
    const lines = render(r, o);
    if (o.outFile) {
      const ext = /\.[^./]+$/.exec(o.outFile)?.[0] ?? '';
      const path =
        results.length > 1
          ? `${o.outFile.slice(0, o.outFile.length - ext.length)}.${i + 1}${ext}`
          : o.outFile;
      try {
        writeFileSync(path, `${lines.join('\n')}\n`);
      } catch (e) {
        throw new UsageError(`cannot write --out ${path}: ${(e as Error).message}`);
      }
      note(`wrote ${path}`);
    } else for (const l of lines) out(l);
    if (o.format !== 'json') {
      if (!machine) say('');
      for (const l of checkLines(r, o.color, o.lang)) say(l);
      if (!machine) say('');
    }
    if (!r.checks.every((c) => c.ok)) ok = false;
    if (o.pcap) {
      const path = results.length > 1 ? o.pcap.replace(/(\.pcap)?$/, `.${i + 1}.pcap`) : o.pcap;
      try {
        writeFileSync(path, renderPcap(r.events));
      } catch (e) {
        throw new UsageError(`cannot write --pcap ${path}: ${(e as Error).message}`);
      }
      note(`wrote ${path}`);
    }
  });
  return ok ? 0 : 1;
}

const TOUR = [
  'handshake',
  'data-on-third',
  'syn-with-data',
  'simultaneous-open',
  'old-duplicate-syn',
  'lost-syn',
  'lost-synack',
  'lost-ack',
  'syn-flood',
  'close',
];

export function tourCommand(
  o: { color: boolean; lang: Lang; width?: number },
  out: (s: string) => void,
): number {
  let ok = true;
  TOUR.forEach((name, n) => {
    const sc = findScenario(name)!;
    const rule = '═'.repeat(78);
    out(rule);
    out(`${n + 1}. ${scenarioTitle(sc, o.lang)}   (synack run ${sc.name})`);
    out(rule);
    const desc = scenarioDescription(sc, o.lang);
    for (const l of o.lang === 'zh' ? (desc.match(/.{1,38}/gu) ?? []) : wrap(desc, 78)) out(l);
    out('');
    for (const r of sc.run({ seed: 1, params: {} })) {
      if (r.variant) out(`── ${variantName(r.variant, o.lang)}`);
      for (const l of render(
        r,
        { format: 'ladder', lang: o.lang, absolute: false, color: o.color, width: o.width },
        40,
      ))
        out(l);
      out('');
      for (const l of checkLines(r, o.color, o.lang)) out(l);
      out('');
      if (!r.checks.every((c) => c.ok)) ok = false;
    }
  });
  out(
    'More: synack run <scenario> --format explain (or --lang zh), --format tcpdump, --pcap FILE.',
  );
  return ok ? 0 : 1;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const w of text.split(/\s+/)) {
    if (cur.length + w.length + 1 > width) {
      lines.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  return lines;
}
