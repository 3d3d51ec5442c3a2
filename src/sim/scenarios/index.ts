// The scenario catalogue, in the order the tour presents them.

import { delayedAck } from './acks.ts';
import { close, dataOnThird, handshake, simultaneousOpen, synWithData } from './basics.ts';
import { lostAck, lostSyn, lostSynAck, oldDuplicateSyn } from './failures.ts';
import { fastOpen } from './fastopen.ts';
import { synFlood } from './flood.ts';
import { random } from './random.ts';
import { cubicVsNewreno, lossRecovery, slowStart } from './recovery.ts';
import type { Scenario } from './scenario.ts';

export const scenarios: Scenario[] = [
  handshake,
  dataOnThird,
  synWithData,
  simultaneousOpen,
  oldDuplicateSyn,
  lostSyn,
  lostSynAck,
  lostAck,
  synFlood,
  fastOpen,
  delayedAck,
  close,
  slowStart,
  lossRecovery,
  cubicVsNewreno,
  random,
];

export function findScenario(name: string): Scenario | undefined {
  return scenarios.find((s) => s.name === name);
}

export type { Check, RunOptions, Scenario, ScenarioResult } from './scenario.ts';
