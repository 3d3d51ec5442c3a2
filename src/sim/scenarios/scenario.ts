// What a scenario is: a named, documented, deterministic run of the simulated
// network whose outcome is checked. Helpers read outcomes from the trace.

import type { TraceEvent } from '../../tcp/types.ts';
import { defaultLink, type LinkParams, Network } from '../network.ts';

/**
 * A scenario option, declared once: the CLI's parser, `synack run NAME
 * --help`, the web page's form and the scenario itself all read this.
 */
export interface ScenarioParam {
  name: string;
  description: string;
  default: string | number;
  /** For a text option: the values accepted. */
  choices?: string[];
  /** For a numeric option (its default is a number): the accepted range, and whether it is whole. */
  min?: number;
  max?: number;
  integer?: boolean;
  /** What the number counts ("ms", "SYN/s"), for help texts. */
  unit?: string;
}

/** What `p` accepts, in words: "an integer from 0 to 4096", "one of both, off, on". */
export function paramRange(p: ScenarioParam): string {
  if (p.choices) return `one of ${p.choices.join(', ')}`;
  const kind = p.integer ? 'an integer' : 'a number';
  const unit = p.unit ? ` ${p.unit}` : '';
  return `${kind} from ${p.min ?? '-∞'} to ${p.max ?? '∞'}${unit}`;
}

/** Checks a value for `p`; returns an error message, or undefined when it is accepted. */
export function checkParam(p: ScenarioParam, value: string): string | undefined {
  if (p.choices) {
    return p.choices.includes(value)
      ? undefined
      : `--${p.name} must be ${paramRange(p)}, got "${value}"`;
  }
  if (typeof p.default !== 'number') return undefined;
  const n = Number(value);
  const ok =
    value.trim() !== '' &&
    Number.isFinite(n) &&
    (p.min === undefined || n >= p.min) &&
    (p.max === undefined || n <= p.max) &&
    (!p.integer || Number.isInteger(n));
  return ok ? undefined : `--${p.name} must be ${paramRange(p)}, got "${value}"`;
}

export interface Check {
  what: string;
  ok: boolean;
  detail?: string;
}

export interface ScenarioResult {
  scenario: string;
  /** A part of a side-by-side scenario ("three-way", "two-way (not TCP)"). */
  variant?: string;
  seed: number;
  hosts: string[];
  events: TraceEvent[];
  checks: Check[];
  /** Numbers worth reporting (counters, bytes delivered, time series). */
  facts: Record<string, unknown>;
}

export interface RunOptions {
  seed: number;
  /** Random loss probability on every link (0..1). */
  loss?: number;
  /** One-way latency in ms. */
  delay?: number;
  /** Other link faults on every link (jitter, duplication, reordering, corruption). */
  link?: Partial<LinkParams>;
  /** Drop the Nth segment put on the wire (1-based), once. */
  dropNth?: number;
  /** Hold the first SYN in the network this many ms. */
  holdFirstSyn?: number;
  params: Record<string, string>;
}

export interface Scenario {
  name: string;
  title: string;
  description: string;
  params: ScenarioParam[];
  run(opts: RunOptions): ScenarioResult[];
}

/** The value of `p` for this run, checked against its declaration (a RangeError if out of range). */
export function param(opts: RunOptions, p: ScenarioParam): string {
  const v = opts.params[p.name] ?? String(p.default);
  const bad = checkParam(p, v);
  if (bad) throw new RangeError(bad);
  return v;
}

export function numParam(opts: RunOptions, p: ScenarioParam): number {
  return Number(param(opts, p));
}

export function makeNetwork(opts: RunOptions, link: Partial<LinkParams> = {}): Network {
  const net = new Network(opts.seed, {
    ...defaultLink,
    latency: opts.delay ?? defaultLink.latency,
    loss: opts.loss ?? 0,
    ...opts.link,
    ...link,
  });
  if (opts.dropNth && opts.dropNth > 0)
    net.dropNth(() => true, opts.dropNth, `segment ${opts.dropNth} dropped`);
  if (opts.holdFirstSyn && opts.holdFirstSyn > 0) {
    net.holdNth(
      (p) => p.seg !== undefined && (p.seg.flags & 0x12) === 0x02,
      opts.holdFirstSyn,
      1,
      `first SYN held ${opts.holdFirstSyn / 1000} s`,
    );
  }
  return net;
}

/** The sequence of states a host's connections went through (all connection ids merged, in order). */
export function statesOf(events: readonly TraceEvent[], host: string): string[] {
  const out: string[] = [];
  for (const e of events) if (e.type === 'state' && e.host === host) out.push(e.to);
  return out;
}

/** Checks that `want` appears in `have` in order (not necessarily adjacent). */
export function inOrder(have: readonly string[], want: readonly string[]): boolean {
  let i = 0;
  for (const h of have) if (h === want[i]) i++;
  return i === want.length;
}

export function check(what: string, ok: boolean, detail?: string): Check {
  return { what, ok, detail };
}

export function bytesDelivered(events: readonly TraceEvent[], host: string): number {
  let n = 0;
  for (const e of events)
    if (e.type === 'app' && e.host === host && e.call === 'read') n += e.bytes ?? 0;
  return n;
}

export function segmentsSent(events: readonly TraceEvent[], host: string) {
  return events.filter(
    (e) => e.type === 'segment' && e.dir === 'out' && e.host === host,
  ) as Extract<TraceEvent, { type: 'segment' }>[];
}

export function result(
  scenario: string,
  opts: RunOptions,
  net: Network,
  checks: Check[],
  facts: Record<string, unknown> = {},
  variant?: string,
): ScenarioResult {
  return {
    scenario,
    variant,
    seed: opts.seed,
    hosts: net.hostNames(),
    events: net.events,
    checks,
    facts,
  };
}
