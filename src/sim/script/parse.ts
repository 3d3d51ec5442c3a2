// Parser for packetdrill's script language (the subset synack runs): option
// lines, timed packet lines (`<` inject, `>` expect), system-call lines,
// `%{ assert tcpi_... }%` blocks and backquoted shell lines.

import {
  ACK,
  CWR,
  ECE,
  FIN,
  optionsLength,
  PSH,
  RST,
  SYN,
  type TcpOption,
  URG,
} from '../../wire/tcp.ts';

export interface TimeSpec {
  /** 'abs' from script start, 'rel' from the previous event, 'any' for `*`. */
  kind: 'abs' | 'rel' | 'any';
  /** Seconds. */
  value: number;
  /** A range `a~b`: the end, of the same kind as its own prefix. */
  end?: { kind: 'abs' | 'rel'; value: number };
  /** `start...end` on a blocking call: when it should return. */
  returns?: { kind: 'abs' | 'rel'; value: number };
}

export type OptSpec =
  | { kind: 'nop' }
  | { kind: 'eol' }
  | { kind: 'mss'; value: number }
  | { kind: 'wscale'; shift: number }
  | { kind: 'sackOk' }
  | { kind: 'sack'; blocks: number[] }
  | { kind: 'ts'; val: number; ecr: number }
  | { kind: 'fo'; cookie: Uint8Array; exp?: boolean };

export interface PacketLine {
  type: 'packet';
  dir: '<' | '>';
  /** synack extension: `<:PORT` / `>:PORT` names the script's port (another flow). */
  port?: number;
  flags: number;
  seqStart: number;
  seqEnd: number;
  len: number;
  ack?: number;
  win?: number;
  /** undefined: none written (expect none); 'any': `<...>`. */
  options?: OptSpec[] | 'any';
}

export interface SyscallLine {
  type: 'syscall';
  name: string;
  args: string[];
  ret: number;
  errno?: string;
}

export interface AssertLine {
  type: 'assert';
  checks: { field: string; op: '==' | '!='; value: string }[];
  /** Other assertions, as C-like expressions over tcpi_* fields and TCPI_* constants. */
  /**
   * Other statements in order: `assert EXPR` (a C- or Python-like expression over
   * tcpi_* fields, TCPI_* constants and names set earlier) or `NAME = EXPR`.
   */
  exprs: { expr: string; assign?: string }[];
}

/**
 * `< icmp TYPE [CODE] [mtu N] [[start:end(len)]]`: an ICMP error from the
 * script's side about a segment the stack sent (packetdrill's syntax). The
 * bracket names that segment by the stack's relative sequence numbers; without
 * it the error quotes SND.UNA.
 */
export interface IcmpLine {
  type: 'icmp';
  /** Type and code names as written (resolved for IPv4 or IPv6 when run). */
  icmpType: string;
  code?: string;
  mtu?: number;
  quote?: { seqStart: number; len: number };
}

export interface ShellLine {
  type: 'shell';
  command: string;
}

export type ScriptEvent = { line: number; text: string; time: TimeSpec } & (
  | PacketLine
  | IcmpLine
  | SyscallLine
  | AssertLine
  | ShellLine
);

export interface Script {
  options: Record<string, string>;
  events: ScriptEvent[];
}

/** The largest TCP payload an IPv4 packet carries (65535 − 20 − 20). */
const MAX_PAYLOAD = 65495;

export class ScriptSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const FLAG_LETTERS: Record<string, number> = {
  S: SYN,
  F: FIN,
  R: RST,
  P: PSH,
  '.': ACK,
  U: URG,
  E: ECE,
  W: CWR,
};

/** Removes comments but keeps line numbers. */
function stripComments(src: string): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? src.length : end + 2;
      out += src.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (src.startsWith('//', i)) {
      const end = src.indexOf('\n', i);
      i = end < 0 ? src.length : end;
    } else {
      out += src[i++];
    }
  }
  return out;
}

/**
 * Evaluates an expression already reduced to numbers and operators (names
 * replaced by values): anything else left in it, or a malformed one, gives
 * undefined — nothing but arithmetic, comparisons and logic can run.
 */
export function evaluateReduced(js: string): number | boolean | undefined {
  if (!/^[\d\s()&|!=<>+\-*/%~^.]+$/.test(js)) return undefined;
  try {
    return Function(`"use strict"; return (${js});`)() as number | boolean;
  } catch {
    return undefined;
  }
}

/**
 * The C-preprocessor subset packetdrill scripts use to serve several stacks:
 * #define NAME [VALUE], #ifdef, #ifndef, #if defined(NAME) (with !, &&, ||),
 * #else, #endif. Lines not taken become blank, so line numbers stay true.
 */
export function preprocess(src: string, defines: Record<string, string> = {}): string {
  const defs = new Map(Object.entries(defines));
  const lines = src.split('\n');
  // Each open #if: [is this branch taken, was any branch taken, was the enclosing region live].
  const stack: [boolean, boolean, boolean][] = [];
  const live = () => stack.every((f) => f[0]);
  const cond = (expr: string, n: number): boolean => {
    if (expr.trim() === '')
      throw new ScriptSyntaxError(n, '#if needs a condition, e.g. #if defined(LINUX)');
    const js = expr
      .replace(/defined\s*\(\s*(\w+)\s*\)/g, (_m, name) => (defs.has(name) ? '1' : '0'))
      .replace(/defined\s+(\w+)/g, (_m, name) => (defs.has(name) ? '1' : '0'))
      .replace(/\b[A-Za-z_]\w*\b/g, (name) => {
        const v = defs.get(name);
        return v !== undefined && /^\d+$/.test(v) ? v : '0';
      });
    // Only digits, parentheses and ! && || == < > may remain: a safe boolean expression.
    const v = /^[\d\s!&|()<>=]*$/.test(js) ? evaluateReduced(js || '0') : undefined;
    if (v === undefined) throw new ScriptSyntaxError(n, `#if: cannot evaluate "${expr}"`);
    return Boolean(v);
  };
  let inShell = false;
  return lines
    .map((raw, k) => {
      const n = k + 1;
      // Inside a multi-line backquoted shell command, a # line is the shell's comment.
      const wasInShell = inShell;
      if ((raw.match(/`/g) ?? []).length % 2 === 1) inShell = !inShell;
      const m = wasInShell ? null : /^\s*#\s*(\w+)\s*(.*?)\s*$/.exec(raw);
      if (!m) return live() ? raw : '';
      const [, dir, arg] = m;
      switch (dir) {
        case 'define': {
          if (live()) {
            const d = /^(\w+)(?:\s+(.*))?$/.exec(arg);
            if (!d) throw new ScriptSyntaxError(n, `#define needs a name, got "${arg}"`);
            defs.set(d[1], d[2] ?? '1');
          }
          return '';
        }
        case 'undef':
          if (live()) defs.delete(arg);
          return '';
        case 'ifdef':
        case 'ifndef':
        case 'if': {
          const outer = live();
          const v =
            dir === 'ifdef' ? defs.has(arg) : dir === 'ifndef' ? !defs.has(arg) : cond(arg, n);
          stack.push([outer && v, outer && v, outer]);
          return '';
        }
        case 'elif': {
          const top = stack[stack.length - 1];
          if (!top) throw new ScriptSyntaxError(n, '#elif without #if');
          const v = top[2] && !top[1] && cond(arg, n);
          top[0] = v;
          top[1] ||= v;
          return '';
        }
        case 'else': {
          const top = stack[stack.length - 1];
          if (!top) throw new ScriptSyntaxError(n, '#else without #if');
          top[0] = top[2] && !top[1];
          top[1] = true;
          return '';
        }
        case 'endif':
          if (!stack.pop()) throw new ScriptSyntaxError(n, '#endif without #if');
          return '';
        default:
          throw new ScriptSyntaxError(
            n,
            `unknown preprocessor line "#${dir}" (accepted: #define, #undef, #ifdef, #ifndef, #if, #elif, #else, #endif)`,
          );
      }
    })
    .join('\n');
}

export function parseScript(src: string, defines: Record<string, string> = {}): Script {
  const text = stripComments(preprocess(src, defines));
  const lines = text.split('\n');
  const options: Record<string, string> = {};
  const events: ScriptEvent[] = [];
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n];
    const line = raw.trim();
    if (line === '') continue;
    const lineNo = n + 1;
    if (line.startsWith('--')) {
      const m = /^--([a-zA-Z_][\w-]*)(?:=(.*))?$/.exec(line);
      if (!m) throw new ScriptSyntaxError(lineNo, `bad option line "${line}"`);
      options[m[1]] = (m[2] ?? 'true').trim();
      continue;
    }
    // A %{ ... }% block may span lines.
    let body = line;
    let startLine = lineNo;
    if (line.includes('%{') && !line.includes('}%')) {
      while (++n < lines.length && !lines[n].includes('}%')) body += `\n${lines[n]}`;
      if (n >= lines.length) throw new ScriptSyntaxError(startLine, 'unterminated %{ block');
      body += `\n${lines[n]}`;
    }
    // A system call's arguments may span lines (structs in poll, sendmsg, recvmsg): join
    // lines until the parentheses balance.
    const depth = (t: string) => (t.match(/\(/g) ?? []).length - (t.match(/\)/g) ?? []).length;
    if (!line.includes('%{') && !line.includes('`') && depth(body) > 0) {
      while (depth(body) > 0 && ++n < lines.length) body += ` ${lines[n].trim()}`;
      if (depth(body) > 0) throw new ScriptSyntaxError(startLine, 'unbalanced parentheses');
    }
    // So may a backquoted shell command (packetdrill scripts set many sysctls in one).
    if (/^[\d.+*~\s]*`/.test(line) && (line.match(/`/g) ?? []).length % 2 === 1) {
      while (++n < lines.length && !lines[n].includes('`')) body += `\n${lines[n]}`;
      if (n >= lines.length) throw new ScriptSyntaxError(startLine, 'unterminated ` shell command');
      body += `\n${lines[n]}`;
    }
    startLine = lineNo;
    const { time, rest } = parseTime(body, startLine);
    events.push({ line: startLine, text: body.trim(), time, ...parseBody(rest.trim(), startLine) });
  }
  return { options, events };
}

function num(s: string): number {
  return Number(s.startsWith('.') ? `0${s}` : s);
}

function parseTime(line: string, n: number): { time: TimeSpec; rest: string } {
  if (line.startsWith('*')) return { time: { kind: 'any', value: 0 }, rest: line.slice(1) };
  if (line.startsWith('%{') || line.startsWith('`'))
    return { time: { kind: 'rel', value: 0 }, rest: line };
  const t =
    /^(\+?)(\d*\.?\d+)(?:\s*~\s*(\+?)(\d*\.?\d+))?(?:\s*\.\.\.\s*(\+?)(\d*\.?\d+))?\s+/.exec(line);
  if (!t)
    throw new ScriptSyntaxError(
      n,
      `expected a time ("0.100", "+.1", "*") at the start of "${line}"`,
    );
  const time: TimeSpec = { kind: t[1] ? 'rel' : 'abs', value: num(t[2]) };
  if (t[4] !== undefined) time.end = { kind: t[3] ? 'rel' : 'abs', value: num(t[4]) };
  if (t[6] !== undefined) time.returns = { kind: t[5] ? 'rel' : 'abs', value: num(t[6]) };
  return { time, rest: line.slice(t[0].length) };
}

type Body = PacketLine | IcmpLine | SyscallLine | AssertLine | ShellLine;

function parseBody(s: string, n: number): Body {
  if (s.startsWith('`')) {
    const end = s.lastIndexOf('`');
    return { type: 'shell', command: s.slice(1, end > 0 ? end : undefined) };
  }
  if (s.startsWith('%{')) return parseAssert(s, n);
  if (/^[<>]\s*icmp\b/.test(s)) return parseIcmp(s, n);
  if (s.startsWith('<') || s.startsWith('>')) return parsePacket(s, n);
  return parseSyscall(s, n);
}

/** What an expression may hold: names, numbers (hex too), arithmetic, comparisons, logic. */
const EXPRESSION = /^[\w\s()&|!=<>+\-*/%~^]+$/;

/** `EXPR, 'message' % x` → `EXPR`: the part before a comma outside parentheses and quotes. */
function beforeTopLevelComma(s: string): string {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) return s.slice(0, i);
  }
  return s;
}

function parseAssert(s: string, n: number): AssertLine {
  const inner = s.replace(/^%\{/, '').replace(/\}%\s*$/, '');
  const checks: AssertLine['checks'] = [];
  const exprs: AssertLine['exprs'] = [];
  for (const raw of inner.split(/\n|;/)) {
    const l = raw.trim();
    if (l === '' || l.startsWith('#')) continue;
    // print(...) shows a value in packetdrill; here it has nothing to check.
    if (/^print\s*\(.*\)$/.test(l)) continue;
    const a = /^([A-Za-z_]\w*)\s*=(?!=)\s*(.+)$/.exec(l);
    if (a && EXPRESSION.test(a[2])) {
      exprs.push({ expr: a[2], assign: a[1] });
      continue;
    }
    const m = /^assert\s+(\w+)\s*(==|!=)\s*([\w|]+)\s*(?:,.*)?$/.exec(l);
    if (m) {
      checks.push({ field: m[1], op: m[2] as '==' | '!=', value: m[3] });
      continue;
    }
    // assert EXPR[, what to print]: the expression is checked when the line runs.
    const e = /^assert\s+(.+)$/.exec(l);
    const expr = e ? beforeTopLevelComma(e[1]).trim() : '';
    if (!e || !EXPRESSION.test(expr))
      throw new ScriptSyntaxError(
        n,
        `unsupported %{ }% statement "${l}": only "assert EXPRESSION" and "NAME = EXPRESSION" over tcpi_* fields are run`,
      );
    exprs.push({ expr });
  }
  return { type: 'assert', checks, exprs };
}

function parseIcmp(s: string, n: number): IcmpLine {
  if (s[0] !== '<')
    throw new ScriptSyntaxError(n, 'only inbound ICMP lines ("< icmp ...") are supported');
  const m =
    /^<\s*icmp\s+([a-z_]+)(?:\s+(?!mtu\b)([a-z_]+|code_\d+))?(?:\s+mtu\s+(\d+))?(?:\s*\[\s*(\d+):(\d+)\((\d+)\)\s*\])?\s*$/.exec(
      s,
    );
  if (!m)
    throw new ScriptSyntaxError(
      n,
      `bad ICMP line "${s}" (accepted: < icmp TYPE [CODE] [mtu N] [[start:end(len)]])`,
    );
  const line: IcmpLine = { type: 'icmp', icmpType: m[1] };
  if (m[2] !== undefined) line.code = m[2];
  if (m[3] !== undefined) {
    line.mtu = Number(m[3]);
    if (line.mtu > 65535) throw new ScriptSyntaxError(n, `mtu ${m[3]} out of range 0..65535`);
  }
  if (m[4] !== undefined) {
    const start = Number(m[4]);
    const len = Number(m[6]);
    if (start > 0xffffffff || Number(m[5]) - start !== len)
      throw new ScriptSyntaxError(n, `bad quoted segment [${m[4]}:${m[5]}(${m[6]})]`);
    line.quote = { seqStart: start, len };
  }
  return line;
}

function parsePacket(s: string, n: number): PacketLine {
  const dir = s[0] as '<' | '>';
  let rest = s.slice(1);
  let port: number | undefined;
  const pm = /^:(\d{1,5})\s/.exec(rest);
  if (pm) {
    port = Number(pm[1]);
    if (port < 1 || port > 65535)
      throw new ScriptSyntaxError(n, `port ${pm[1]} out of range 1..65535`);
    rest = rest.slice(pm[0].length);
  }
  rest = rest.trim();
  // Options in angle brackets at the end.
  let options: PacketLine['options'];
  const lt = rest.indexOf('<');
  if (lt >= 0) {
    const gt = rest.lastIndexOf('>');
    if (gt < lt) throw new ScriptSyntaxError(n, 'unterminated option list "<..."');
    options = parseOptions(rest.slice(lt + 1, gt).trim(), n);
    rest = rest.slice(0, lt).trim();
  }
  const words = rest.split(/\s+/);
  const flagWord = words.shift() ?? '';
  let flags = 0;
  for (const ch of flagWord) {
    const f = FLAG_LETTERS[ch];
    if (f === undefined)
      throw new ScriptSyntaxError(
        n,
        `unknown TCP flag "${ch}" in "${flagWord}" (accepted: S . P F R U E W)`,
      );
    flags |= f;
  }
  const seqWord = words.shift() ?? '';
  const sm = /^(\d+):(\d+)\((\d+)\)$/.exec(seqWord);
  if (!sm)
    throw new ScriptSyntaxError(
      n,
      `expected "start:end(length)" after the flags, got "${seqWord}"`,
    );
  const pkt: PacketLine = {
    type: 'packet',
    dir,
    port,
    flags,
    seqStart: Number(sm[1]),
    seqEnd: Number(sm[2]),
    len: Number(sm[3]),
    options,
  };
  if (pkt.seqEnd - pkt.seqStart !== pkt.len && (pkt.seqEnd - pkt.seqStart) >>> 0 !== pkt.len) {
    throw new ScriptSyntaxError(n, `sequence range ${seqWord} does not match its length`);
  }
  // Checked here, before anything is built: a typo must not allocate gigabytes.
  if (pkt.len > MAX_PAYLOAD) {
    throw new ScriptSyntaxError(
      n,
      `a payload of ${pkt.len} bytes does not fit an IP packet (at most ${MAX_PAYLOAD})`,
    );
  }
  if (pkt.seqStart > 0xffffffff || pkt.seqEnd > 0xffffffff) {
    throw new ScriptSyntaxError(n, `sequence numbers are 32 bits (at most 4294967295): ${seqWord}`);
  }
  if (options && options !== 'any') {
    const bytes = optionsLength(options as TcpOption[]);
    if (bytes > 40) {
      throw new ScriptSyntaxError(
        n,
        `the TCP options take ${bytes} bytes; at most 40 fit in a TCP header`,
      );
    }
  }
  while (words.length > 0) {
    const w = words.shift()!;
    const v = words.shift();
    if (v === undefined || !/^\d+$/.test(v))
      throw new ScriptSyntaxError(n, `"${w}" needs a number`);
    if (w === 'ack') {
      if (Number(v) > 0xffffffff)
        throw new ScriptSyntaxError(n, `ack is 32 bits (at most 4294967295), got ${v}`);
      pkt.ack = Number(v);
    } else if (w === 'win') {
      if (Number(v) > 0xffff)
        throw new ScriptSyntaxError(n, `win is a 16-bit field (at most 65535), got ${v}`);
      pkt.win = Number(v);
    } else throw new ScriptSyntaxError(n, `unknown packet field "${w}" (accepted: ack, win)`);
  }
  // As packetdrill: an ACK-flagged line without "ack N" means ack 0 (relative to the ISN).
  if (flags & ACK && pkt.ack === undefined) pkt.ack = 0;
  return pkt;
}

function parseOptions(s: string, n: number): OptSpec[] | 'any' {
  if (s === '...') return 'any';
  const out: OptSpec[] = [];
  for (const part of s.split(',')) {
    const p = part.trim().split(/\s+/);
    const bad = () => new ScriptSyntaxError(n, `bad option "${part.trim()}"`);
    switch (p[0]) {
      case 'nop':
        out.push({ kind: 'nop' });
        break;
      case 'eol':
        out.push({ kind: 'eol' });
        break;
      case 'mss':
        if (!/^\d+$/.test(p[1] ?? '') || Number(p[1]) > 0xffff) throw bad();
        out.push({ kind: 'mss', value: Number(p[1]) });
        break;
      case 'wscale':
        if (!/^\d+$/.test(p[1] ?? '') || Number(p[1]) > 255) throw bad();
        out.push({ kind: 'wscale', shift: Number(p[1]) });
        break;
      case 'sackOK':
        out.push({ kind: 'sackOk' });
        break;
      case 'sack': {
        const blocks: number[] = [];
        for (const b of p.slice(1)) {
          const m = /^(\d+):(\d+)$/.exec(b);
          if (!m) throw bad();
          blocks.push(Number(m[1]), Number(m[2]));
        }
        if (blocks.length === 0) throw bad();
        out.push({ kind: 'sack', blocks });
        break;
      }
      case 'TS':
        if (
          p[1] !== 'val' ||
          p[3] !== 'ecr' ||
          !/^\d+$/.test(p[2] ?? '') ||
          !/^\d+$/.test(p[4] ?? '')
        )
          throw bad();
        out.push({ kind: 'ts', val: Number(p[2]) >>> 0, ecr: Number(p[4]) >>> 0 });
        break;
      case 'FO':
      case 'FOEXP': {
        const hex = p[1] ?? '';
        if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw bad();
        const cookie = new Uint8Array(hex.length / 2);
        for (let i = 0; i < cookie.length; i++)
          cookie[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
        out.push(p[0] === 'FOEXP' ? { kind: 'fo', cookie, exp: true } : { kind: 'fo', cookie });
        break;
      }
      default:
        throw new ScriptSyntaxError(
          n,
          `unknown option "${p[0]}" (accepted: nop, eol, mss, wscale, sackOK, sack, TS val/ecr, FO, FOEXP)`,
        );
    }
  }
  return out;
}

function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  let quote = false;
  for (const ch of s) {
    if (ch === '"') quote = !quote;
    if (!quote && (ch === '[' || ch === '{' || ch === '(')) depth++;
    if (!quote && (ch === ']' || ch === '}' || ch === ')')) depth--;
    if (!quote && depth === 0 && ch === ',') {
      out.push(cur.trim());
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

function parseSyscall(s: string, n: number): SyscallLine {
  const m = /^(\w+)\((.*)\)\s*=\s*(-?(?:0x[0-9a-fA-F]+|\d+))\s*(\w+)?\s*(?:\(.*\))?\s*$/.exec(s);
  if (!m) {
    throw new ScriptSyntaxError(
      n,
      `not a packet, a system call "name(args) = ret", %{ assert }% or \`shell\`: "${s}"`,
    );
  }
  return { type: 'syscall', name: m[1], args: splitArgs(m[2]), ret: Number(m[3]), errno: m[4] };
}
