// `synack/script`: packet scripts (packetdrill syntax) — parse, run against a
// synack stack in virtual time, format packets in script notation, and compare
// two stacks' runs. Kept apart from the core entry, which browsers load.

export { type CallOutcome, type Comparison, compareRuns } from './sim/script/compare.ts';
export { formatScriptPacket } from './sim/script/format.ts';
export { parseScript } from './sim/script/parse.ts';
export {
  type RecordedStep,
  type RunOptions,
  runScript,
  type ScriptResult,
} from './sim/script/run.ts';
