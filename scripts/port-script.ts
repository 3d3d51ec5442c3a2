// Development aid: writes a profile's version of a packet script. The script
// is run in the named profile checking only what every profile shares (flags,
// sequence and ACK numbers, lengths — as --lenient); where it passes, each
// outbound line's window and options are rewritten to what that profile sent.
// The result is not evidence by itself — for the linux profile it becomes
// evidence when `synack script --kernel` finds the kernel doing the same.
//
//   npx tsx scripts/port-script.ts linux test/scripts/close/active-close.pkt OUT.pkt "comment"

import { readFileSync, writeFileSync } from 'node:fs';
import { runScript } from '../src/sim/script/run.ts';

const [profile, from, to, ...comment] = process.argv.slice(2);
if (!profile || !from || !to) {
  console.error('usage: port-script.ts PROFILE FROM.pkt TO.pkt [comment line...]');
  process.exit(2);
}
const src = readFileSync(from, 'utf8')
  .split('\n')
  .filter((l) => !/^--profile=/.test(l))
  .join('\n');
const seen = new Map<number, string>();
const r = runScript(src, { profile, lenient: true, onMatch: (line, s) => seen.set(line, s) });
if (r.status !== 'pass') {
  console.error(`${from}: fails in the ${profile} profile at line ${r.line}: ${r.message}`);
  process.exit(1);
}
const lines = src.split('\n');
for (const [line, s] of seen) {
  const i = line - 1;
  const m = /^(\S+\s+)>(.*)$/.exec(lines[i]);
  if (!m) continue;
  // Keep the script's TS val (outbound values are not compared); take the rest as sent.
  const val = /TS val (\d+)/.exec(m[2])?.[1] ?? '0';
  lines[i] = `${m[1]}${s.replace(/TS val \d+/, `TS val ${val}`).replace(/ \(to port \d+\)$/, '')}`;
}
let body = lines.join('\n');
if (comment.length > 0)
  body = body.replace(/^(\/\/.*\n)+/, `${comment.map((c) => `// ${c}`).join('\n')}\n`);
writeFileSync(to, `--profile=${profile}\n${body}`);
const check = runScript(readFileSync(to, 'utf8'), { strictPackets: true });
console.log(
  `${to}: ${check.status}${check.message ? ` — line ${check.line}: ${check.message}` : ''}`,
);
