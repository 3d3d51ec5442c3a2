// Development aid: writes the outbound lines of a packet script from what the
// stack sends. The input lists only what goes in (inbound packets, calls,
// assertions); each packet the stack sent is inserted where it went out, in
// script notation, relative to the line before. The result is not evidence by
// itself: read it against the RFC, and for the linux profile replay it on the
// kernel (`synack script --kernel`).
//
//   npx tsx scripts/fill-script.ts IN.pkt OUT.pkt

import { readFileSync, writeFileSync } from 'node:fs';
import { formatScriptPacket } from '../src/sim/script/format.ts';
import { type RecordedStep, runScript } from '../src/sim/script/run.ts';
import { decodePacket } from '../src/wire/packet.ts';
import { SYN } from '../src/wire/tcp.ts';

const [from, to] = process.argv.slice(2);
if (!from || !to) {
  console.error('usage: fill-script.ts IN.pkt OUT.pkt');
  process.exit(2);
}
const text = readFileSync(from, 'utf8');
const record: RecordedStep[] = [];
// Outbound lines the input already has stay as they are.
const listed: string[] = [];
const r = runScript(text, { record, onMatch: (_line, seen) => listed.push(seen) });
if (r.status !== 'pass') {
  console.error(`${from}: ${r.message}`);
  process.exit(1);
}
// Walk the recorded run in order: each inbound packet is the script's next `<`
// line, each call names its line, each outbound packet not listed goes in
// where it happened. Times are rewritten relative to the line before.
const lines = text.split('\n');
const timed = (l: string) => /^\s*\+?\d*\.?\d+\s/.test(l);
const out: string[] = [];
let last = 0;
const stamp = (ms: number) => {
  const d = Math.round(ms - last) / 1000;
  last = ms;
  return (d === 0 ? '+0' : `+${d}`.replace('+0.', '+.')).padEnd(3);
};
let next = 0; // next script line not yet written
/** Writes the script's lines up to index `to` (inclusive); the timed one at `to` gets time `t`. */
const upTo = (to: number, t: number) => {
  for (; next <= to && next < lines.length; next++) {
    const l = lines[next];
    out.push(next === to && timed(l) ? l.replace(/^\s*\+?\d*\.?\d+\s*/, `${stamp(t)} `) : l);
  }
};
const findNext = (re: RegExp) => {
  for (let j = next; j < lines.length; j++) if (re.test(lines[j])) return j;
  return -1;
};
let iss: number | undefined;
let remote = 0;
for (const s of record) {
  if (s.kind === 'call') upTo(s.line - 1, s.t);
  else if (s.kind === 'in') {
    const p = decodePacket(s.packet, false);
    if (typeof p !== 'string' && p.seg.flags & SYN && remote === 0) remote = p.seg.seq;
    upTo(findNext(/^\s*\+?\d*\.?\d+\s+</), s.t);
  } else if (s.kind === 'out') {
    const p = decodePacket(s.packet, false);
    if (typeof p === 'string') continue;
    if (iss === undefined) iss = p.seg.seq;
    const line = formatScriptPacket(p.seg, '>', iss, remote);
    const i = listed.indexOf(line);
    if (i >= 0) {
      listed.splice(i, 1);
      upTo(findNext(/^\s*\+?\d*\.?\d+\s+>/), s.t);
    } else out.push(`${stamp(s.t)} ${line}`);
  }
}
upTo(lines.length - 1, last);
writeFileSync(to, out.join('\n'));
console.log(`${to}: written`);
