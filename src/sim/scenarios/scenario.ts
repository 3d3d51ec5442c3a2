// What a scenario is: a named, documented, deterministic run of the simulated
// network whose outcome is checked. Helpers read outcomes from the trace.

import type { TraceEvent } from '../../tcp/types.ts';
import { defaultLink, type LinkParams, Network } from '../network.ts';

export interface ScenarioParam {
  name: string;
  description: string;
  default: string | number;
  choices?: string[];
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
  params: Record<string, string>;
}

export interface Scenario {
  name: string;
  title: string;
  description: string;
  params: ScenarioParam[];
  run(opts: RunOptions): ScenarioResult[];
}

export function param(opts: RunOptions, p: ScenarioParam): string {
  return opts.params[p.name] ?? String(p.default);
}

export function numParam(opts: RunOptions, p: ScenarioParam): number {
  const v = Number(param(opts, p));
  if (!Number.isFinite(v))
    throw new RangeError(`--${p.name} must be a number, got "${param(opts, p)}"`);
  return v;
}

export function makeNetwork(opts: RunOptions, link: Partial<LinkParams> = {}): Network {
  return new Network(opts.seed, {
    ...defaultLink,
    latency: opts.delay ?? defaultLink.latency,
    loss: opts.loss ?? 0,
    ...link,
  });
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
