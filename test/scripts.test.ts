// Every packet script under test/scripts/ must pass; and the runner must be
// able to fail: altered copies of a passing script are rejected at the right line.

import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expand } from '../src/cli/script.ts';
import { scriptLines } from '../src/sim/script/compare.ts';
import { runScript } from '../src/sim/script/run.ts';
import { parseAddr } from '../src/wire/addr.ts';
import { ACK, encodePacket, RST, SYN } from '../src/wire/tcp.ts';

const root = join(import.meta.dirname, 'scripts');

const files = expand(root);

describe('packet scripts', () => {
  it('there are at least 80 of them, each starting with a comment naming its rule', () => {
    expect(files.length).toBeGreaterThanOrEqual(80);
    for (const f of files) {
      const first = readFileSync(f, 'utf8')
        .split('\n')
        .find((l) => !l.startsWith('--'));
      expect(first, f).toMatch(/^\/\/ \S/);
    }
  });

  for (const f of files) {
    it(relative(root, f), () => {
      // Our own scripts list every packet: run them strict.
      const r = runScript(readFileSync(f, 'utf8'), { strictPackets: true });
      expect(r.message ?? '', `line ${r.line}`).toBe('');
      expect(r.status).toBe('pass');
    });
  }
});

describe('the script runner fails when the stack does not do what the script says', () => {
  const base = readFileSync(join(root, 'handshake/passive-open.pkt'), 'utf8');
  const cases: [string, string, RegExp][] = [
    ['ack 1 win 65535', 'ack 2 win 65535', /ack number differs/],
    ['> S. 0:0(0)', '> S 0:0(0)', /flags differ/],
    ['win 65535 <mss 1460,nop,nop', 'win 65534 <mss 1460,nop,nop', /window differs/],
    [
      '<mss 1460,nop,nop,sackOK,nop,wscale 7>\n+.1',
      '<mss 1400,nop,nop,sackOK,nop,wscale 7>\n+.1',
      /options differ/,
    ],
    ['accept(3, ..., ...) = 4', 'accept(3, ..., ...) = 5', /returned 4/],
    ['TCPI_ESTABLISHED', 'TCPI_SYN_RECV', /it is TCP_ESTABLISHED/],
    ['+0  > S. 0:0(0)', '+.5 > S. 0:0(0)', /sent at 0\.000000s, expected at 0\.500000s/],
  ];
  for (const [from, to, why] of cases) {
    it(`${from} → ${to}`, () => {
      expect(base).toContain(from);
      const r = runScript(base.replace(from, to));
      expect(r.status).toBe('fail');
      expect(r.message).toMatch(why);
    });
  }

  it('an outbound packet the script does not list: an error with --strict-packets; otherwise, as packetdrill, it fails the next expected packet', () => {
    // Data arrives and the stack acknowledges it; the script does not list that ACK.
    const unlisted = `${base}+0 < P. 1:101(100) ack 1 win 257\n+.5 read(4, ..., 1000) = 100\n+0 close(4) = 0\n+0 > F. 1:1(0) ack 101\n`;
    const strict = runScript(unlisted, { strictPackets: true });
    expect(strict.status).toBe('fail');
    expect(strict.message).toMatch(/unexpected outbound packet.*> \. 1:1\(0\) ack 101/);
    // Without the flag the unlisted ACK is what the next expected packet (the FIN) meets.
    const next = runScript(unlisted);
    expect(next.status).toBe('fail');
    expect(next.message).toMatch(/expected: \+0 > F\.[\s\S]*seen: +> \. 1:1\(0\) ack 101/);
    expect(runScript(unlisted.replace('+.5 read', '+0 > . 1:1(0) ack 101\n+.5 read')).status).toBe(
      'pass',
    );
    // A packet sent after the last line is not examined, unless strict.
    const tail = `${base}+0 close(4) = 0\n`;
    expect(runScript(tail).status).toBe('pass');
    expect(runScript(tail, { strictPackets: true }).message).toMatch(
      /unexpected outbound packet.*> F\./,
    );
  });

  it('--lenient accepts another layout but still checks numbers', () => {
    const other = base.replace(
      'win 65535 <mss 1460,nop,nop,sackOK,nop,wscale 7>',
      'win 29200 <mss 1460,sackOK>',
    );
    expect(runScript(other).status).toBe('fail');
    expect(runScript(other, { lenient: true }).status).toBe('pass');
    expect(
      runScript(other.replace('ack 1 win 29200', 'ack 9 win 29200'), { lenient: true }).status,
    ).toBe('fail');
  });

  it('a second flow (<:PORT) is checked for its port', () => {
    const two = readFileSync(join(root, 'listener/syn-queue-full-sends-cookie.pkt'), 'utf8');
    expect(runScript(two).status).toBe('pass');
    const r = runScript(two.replace('+0  >:40001 S. 0:0(0)', '+0  >:40002 S. 0:0(0)'));
    expect(r.status).toBe('fail');
    expect(r.message).toMatch(/sent to port 40001, expected port 40002/);
  });

  it('reports syntax errors with the line', () => {
    const r = runScript('0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < Q 0:0(0) win 1\n');
    expect(r.status).toBe('fail');
    expect(r.line).toBe(2);
    expect(r.message).toMatch(/unknown TCP flag "Q"/);
  });

  it('a known sysctl configures the stack; any other shell line is an error, or skipped and counted with --lenient', () => {
    // tcp_sack=0: the SYN,ACK no longer offers sackOK, so the unchanged script fails at that line.
    const sackOff = runScript(`\`sysctl -w net.ipv4.tcp_sack=0\`\n${base}`);
    expect(sackOff.status).toBe('fail');
    expect(sackOff.message).toMatch(/options differ/);
    const other = `\`ip link set dev tun0 mtu 1400\`\n${base}`;
    const strict = runScript(other);
    expect(strict.status).toBe('fail');
    expect(strict.line).toBe(1);
    expect(strict.message).toMatch(
      /shell line not interpreted: "ip link set dev tun0 mtu 1400".*--lenient/,
    );
    const lenient = runScript(other, { lenient: true });
    expect(lenient.status).toBe('pass');
    expect(lenient.skipped).toHaveLength(1);
    // A value out of range is not applied, and says so.
    expect(runScript(`\`sysctl -q net.ipv4.tcp_syncookies=7\`\n${base}`).message).toMatch(
      /out of range/,
    );
  });
});

describe('packetdrill semantics in the runner', () => {
  const head = `0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+0  < S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>
`;

  it('a C-preprocessor subset: #define, #ifdef/#ifndef, #if defined() with ! && ||, #elif, #else, --define', () => {
    const script = `#define SYNACK_WINDOW 1
#ifdef LINUX
--profile=linux
#endif
${head}#if defined(LINUX) && !defined(OLD_KERNEL)
+0  > S. 0:0(0) ack 1 win 64240 <mss 1460,nop,nop,sackOK,nop,wscale 7>
#elif defined(SYNACK_WINDOW) || defined(FREEBSD)
+0  > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK,nop,wscale 7>
#else
+0  > S. 0:0(0) ack 1 win 1 <mss 1460>
#endif
#ifndef LINUX
+.1 < . 1:1(0) ack 1 win 257
#endif
`;
    expect(runScript(script).status).toBe('pass');
    expect(runScript(script, { defines: { LINUX: '1' } }).status).toBe('pass');
    const r = runScript(script, { defines: { LINUX: '1', OLD_KERNEL: '1' } });
    expect(r.status).toBe('fail');
    expect(r.message).toMatch(/window differs/);
    // Line numbers stay those of the file.
    expect(r.line).toBe(13);
    expect(runScript(`#if\n${head}`).message).toMatch(/cannot evaluate|#if/);
    // A malformed condition is a syntax error at its line, not an internal error.
    const bad = runScript(`#if defined(A) &&\n#endif\n${head}`);
    expect(bad.line).toBe(1);
    expect(bad.message).toMatch(/#if: cannot evaluate "defined\(A\) &&"/);
    expect(runScript(`#endif\n${head}`).message).toMatch(/#endif without #if/);
    expect(runScript(`#include "x.h"\n${head}`).message).toMatch(
      /unknown preprocessor line "#include"/,
    );
  });

  it('a * line fails with "nothing was sent" when the stack has nothing more scheduled, instead of waiting for ever', () => {
    const script = `${head}+0  > S. 0:0(0) ack 1 <...>
+.1 < . 1:1(0) ack 1 win 257
*   > F. 1:1(0) ack 1 <...>
`;
    const r = runScript(script);
    expect(r.status).toBe('fail');
    expect(r.message).toMatch(/nothing was sent \(the stack has nothing more scheduled\)/);
    expect(r.line).toBe(8);
  });
});

describe('--mtu, as packetdrill and the kernel selftests use it', () => {
  // Scripts written for IPv4 expect <mss 1460>; over IPv6 the MSS is 1440 at
  // MTU 1500. Linux's selftests run them over IPv6 with --mtu=1520.
  const v4 = [
    'handshake/passive-open-linux.pkt',
    'handshake/active-open.pkt',
    'data/in-order-data-acked.pkt',
  ];
  it('IPv4 scripts pass over IPv6 with an MTU of 1520, and not with 1500', () => {
    for (const f of v4) {
      const src = readFileSync(join(root, f), 'utf8');
      const at1520 = runScript(src, { ipVersion: 'ipv6', mtu: 1520, strictPackets: true });
      expect(at1520.message ?? '', f).toBe('');
      expect(at1520.mtu).toBe(1520);
      const at1500 = runScript(src, { ipVersion: 'ipv6', strictPackets: true });
      expect(at1500.status, f).toBe('fail');
      expect(at1500.message).toMatch(/mss 1440/);
    }
  });

  it("a script's own --mtu line wins over the caller's; a value out of range is refused with the range", () => {
    const src = readFileSync(join(root, 'handshake/passive-open-linux.pkt'), 'utf8');
    const own = runScript(`--mtu=1000\n${src}`, { mtu: 1500 });
    expect(own.status).toBe('fail');
    expect(own.message).toMatch(/mss 960/);
    const bad = runScript(`--mtu=1279\n--ip_version=ipv6\n${src}`);
    expect(bad.message).toMatch(/--mtu=1279: a whole number of bytes from 1280 to 65535/);
  });
});

describe('outbound coalescing (packetdrill without --strict_segments)', () => {
  const script = readFileSync(join(root, 'data/coalesced-sends-match-one-line.pkt'), 'utf8');
  it('back-to-back segments match one larger expected segment; --strict_segments refuses that', () => {
    expect(runScript(script).status).toBe('pass');
    const strict = runScript(script, { strictSegments: true });
    expect(strict.status).toBe('fail');
    expect(strict.message).toMatch(/flags differ/);
    expect(runScript(`--strict_segments\n${script}`).status).toBe('fail');
    // Coalescing never hides a wrong total: 2999 bytes expected is still a mismatch.
    expect(runScript(script.replace('1:3001(3000)', '1:3000(2999)')).status).toBe('fail');
  });
});

describe('multi-line shell commands, as packetdrill suites write them', () => {
  it('a backquoted command may span lines; # lines inside it are the shell comments, not directives', () => {
    const base = readFileSync(join(root, 'handshake/passive-open.pkt'), 'utf8');
    const script = `\`sysctl -q net.ipv4.tcp_timestamps=1
#Disable nothing: a shell comment
sysctl -q net.ipv4.tcp_sack=1\`
${base}`;
    expect(runScript(script).status).toBe('pass');
    const other = `\`echo one
echo two\`
${base}`;
    expect(runScript(other).status).toBe('fail');
    expect(runScript(other, { lenient: true }).skipped).toHaveLength(1);
    expect(runScript(`\`echo never closed\n${base}`).message).toMatch(
      /unterminated ` shell command/,
    );
  });
});

describe('ICMP lines', () => {
  const base = readFileSync(join(root, 'icmp/port-unreachable-aborts-syn-sent.pkt'), 'utf8');
  it('an unknown type or code, or an outbound ICMP line, is refused with what is accepted', () => {
    expect(runScript(base.replace('port_unreachable', 'port_closed')).message).toMatch(
      /unknown code port_closed for ICMP unreachable \(accepted: net_unreachable, .*code_N\)/,
    );
    expect(runScript(base.replace('icmp unreachable', 'icmp unreach')).message).toMatch(
      /unknown ICMP type unreach \(accepted: unreachable, /,
    );
    expect(runScript(base.replace('< icmp', '> icmp')).message).toMatch(/only inbound ICMP lines/);
    // code_N names a code by number: 3 is port unreachable.
    expect(runScript(base.replace('port_unreachable', 'code_3')).status).toBe('pass');
    expect(runScript(base.replace('port_unreachable', 'code_1')).status).toBe('fail');
  });
});

describe("packetdrill's sequence numbering", () => {
  it("a SYN's number is a label: the peer's later numbers count from its SYN, ours from our ISS", () => {
    const script = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 999000:999000(0) win 32792 <mss 1460,nop,nop,sackOK,nop,wscale 6>
+0 > S. 1234:1234(0) ack 999001 <...>
+0 < . 1:1(0) ack 1 win 100
+0 accept(3, ..., ...) = 4
+0 < P. 1:11(10) ack 1 win 100
+0 > . 1:1(0) ack 11 <...>
`;
    expect(runScript(script, { lenient: true }).status).toBe('pass');
    // Counting the peer's data from 0 instead of its SYN is a different segment altogether.
    expect(
      runScript(script.replace('> . 1:1(0) ack 11', '> . 1:1(0) ack 999011'), { lenient: true })
        .message,
    ).toMatch(/ack number differs/);
    expect(
      runScript(script.replace('> . 1:1(0) ack 11', '> . 1235:1235(0) ack 11'), { lenient: true })
        .message,
    ).toMatch(/sequence number differs/);
  });
});

describe('%{ }% blocks as packetdrill suites write them', () => {
  const base = readFileSync(join(root, 'handshake/passive-open.pkt'), 'utf8');
  const run = (block: string) => runScript(`${base}%{\n${block}\n}%\n`);
  it('Python spellings: chained comparisons, and/or/not, hex, a message after the comma, print(), assignments', () => {
    expect(run("assert 0 < tcpi_rto <= 0x7fffffff, 'rto=%d' % tcpi_rto").status).toBe('pass');
    expect(run('assert 200000 <= tcpi_rto <= 500000').message).toMatch(
      /assert 200000 <= tcpi_rto <= 500000 failed \(tcpi_rto=1000000\)/,
    );
    expect(run('assert tcpi_snd_mss == 1460 and not tcpi_retransmits').status).toBe('pass');
    expect(run('assert tcpi_snd_mss == 1000 or tcpi_retransmits == 1').status).toBe('fail');
    expect(run('print(tcpi_snd_cwnd)\nLIMIT = 2 * 1460\nassert tcpi_snd_mss < LIMIT').status).toBe(
      'pass',
    );
    expect(run('LIMIT = 1000\nassert tcpi_snd_mss < LIMIT').status).toBe('fail');
    expect(run('assert tcpi_ca_state == TCP_CA_Open').status).toBe('pass');
    // Anything but names, numbers and operators is refused before it could run.
    expect(run('assert process.exit(1)').message).toMatch(
      /unsupported %\{ \}% statement|cannot evaluate|unknown name/,
    );
  });
});

describe('system calls whose arguments span lines', () => {
  it('lines are joined until the parentheses balance; a call never closed is a syntax error', () => {
    const base = readFileSync(join(root, 'handshake/passive-open.pkt'), 'utf8');
    const ok = `${base}\n+0 poll([{fd=4,\n    events=POLLOUT,\n    revents=POLLOUT}], 1, 0) = 1\n`;
    expect(runScript(ok).status).toBe('pass');
    const wrong = ok.replace('revents=POLLOUT}', 'revents=POLLIN}');
    expect(runScript(wrong).status).toBe('fail');
    expect(runScript(`${base}\n+0 poll([{fd=4,\n events=POLLOUT}], 1, 0\n`).message).toMatch(
      /unbalanced parentheses/,
    );
  });
});

describe('assertions as expressions over TCP_INFO', () => {
  it('an expression assert is evaluated and can fail, naming the values it saw', () => {
    const script = readFileSync(join(root, 'options/fastopen-tcpi-syn-data.pkt'), 'utf8');
    expect(runScript(script).status).toBe('pass');
    const r = runScript(script.replace('TCPI_OPT_SYN_DATA) != 0', 'TCPI_OPT_SYN_DATA) == 0'));
    expect(r.status).toBe('fail');
    expect(r.message).toMatch(
      /assert \(tcpi_options & TCPI_OPT_SYN_DATA\) == 0 failed \(tcpi_options=\d+, TCPI_OPT_SYN_DATA=32\)/,
    );
    expect(
      runScript(script.replace('tcpi_options }%', 'tcpi_options }%\n%{ assert tcpi_nosuch > 1 }%'))
        .message,
    ).toMatch(/unsupported field tcpi_nosuch/);
  });
});

describe('the kernel comparison numbers each connection from its own ISS', () => {
  it("a listener's connections share its port, a new ISS starts a new connection, a reset to a segment without ACK says 0", () => {
    const local = parseAddr('198.18.0.1')!;
    const remote = parseAddr('198.19.0.1')!;
    const out = (port: number, seq: number, flags: number, ack: number) =>
      encodePacket(local, remote, {
        srcPort: 8080,
        dstPort: port,
        seq,
        ack,
        flags,
        window: flags & RST ? 0 : 64240,
        urgent: 0,
        options: [],
        payload: new Uint8Array(0),
      });
    const lines = scriptLines(
      [
        { t: 0, packet: out(40000, 1000, SYN | ACK, 1) },
        { t: 0, packet: out(40001, 987654321, SYN | ACK, 1) },
        { t: 0, packet: out(40000, 0, RST | ACK, 901) },
        { t: 0, packet: out(40000, 5555, SYN | ACK, 901) },
        { t: 0, packet: out(40000, 5555, SYN | ACK, 901) },
      ],
      0,
    ).map((l) => l.line);
    expect(lines).toEqual([
      '> S. 0:0(0) ack 1 win 64240',
      '> S. 0:0(0) ack 1 win 64240',
      '> R. 0:0(0) ack 901 win 0',
      '> S. 0:0(0) ack 901 win 64240',
      '> S. 0:0(0) ack 901 win 64240',
    ]);
  });
});
