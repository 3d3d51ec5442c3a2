// The synack command as a user meets it: help, exit codes, clear errors.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
/** The escape character that starts an ANSI colour sequence. */
const ESC = String.fromCharCode(27);
const run = (...args: string[]) => {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      cwd: root,
    },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('synack CLI', () => {
  it('--help lists the commands', () => {
    const r = run('--help');
    expect(r.code).toBe(0);
    for (const c of ['script', 'list', 'run', 'tour']) expect(r.out).toContain(c);
  });

  it('list names every scenario', () => {
    const r = run('list');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^old-duplicate-syn\s+An old duplicate SYN/m);
  });

  it('run prints the ladder and the checks, exit 0', () => {
    const r = run('run', 'handshake');
    expect(r.code).toBe(0);
    expect(r.out).toContain('SYN-SENT');
    expect(r.out).toContain('✓ SYN,ACK acknowledges ISN(c)+1');
  });

  it('run takes scenario options and rejects unknown ones with what is accepted (exit 2)', () => {
    expect(
      run('run', 'old-duplicate-syn', '--handshake', 'two-way', '--format', 'json').out,
    ).toMatch(/"type":"outcome".*"variant":"two-way/);
    const bad = run('run', 'old-duplicate-syn', '--frobnicate', '1');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(
      /unknown option --frobnicate for scenario old-duplicate-syn \(it takes: --hold, --handshake\)/,
    );
    const badChoice = run('run', 'old-duplicate-syn', '--handshake', 'one-way');
    expect(badChoice.code).toBe(2);
    expect(badChoice.err).toMatch(/--handshake must be one of both, three-way, two-way/);
  });

  it('bad global flags are usage errors (exit 2) that say what is accepted', () => {
    const r = run('run', 'handshake', '--format', 'xml');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Allowed choices are ladder, tcpdump, json, explain, timeline/);
    const l = run('run', 'handshake', '--loss', '2');
    expect(l.code).toBe(2);
    expect(l.err).toMatch(/--loss must be a number from 0 to 1/);
    expect(run('run', 'nosuch').code).toBe(2);
  });

  // Every command with bad input: exit 2, one line that names what was wrong, no stack trace.
  const nowhere = '/nonexistent-synack-dir/x.pcap';
  const wire = ['--tun', 'syntest9', '--addr', '198.18.0.2/24'];
  const bad: [string[], RegExp][] = [
    [['bogus'], /unknown command 'bogus'/],
    [['script'], /missing required argument/],
    [['script', '/nonexistent.pkt'], /no such file or directory: \/nonexistent\.pkt/],
    [['script', '--profile', 'bsd', 'x.pkt'], /Allowed choices are synack, linux, freebsd/],
    [
      ['script', '--ip-version', 'ipv5', 'x.pkt'],
      /unknown --ip-version "ipv5" \(accepted: ipv4, ipv6, ipv4-mapped-ipv6\)/,
    ],
    [['script', '--tolerance-usecs', '-3', 'x.pkt'], /--tolerance-usecs takes a whole number/],
    [['script', '--mtu', '9x', 'x.pkt'], /--mtu takes a whole number of bytes from 104 to 65535/],
    [['run'], /missing required argument 'scenario'/],
    [['run', 'handshake', '--seed', '-1'], /--seed must be a number from 0/],
    [['run', 'handshake', '--delay', 'abc'], /--delay must be a number/],
    [['run', 'handshake', '--width', '10'], /--width must be an integer from 60/],
    [['run', 'handshake', '--pcap', nowhere], /cannot write --pcap/],
    [
      ['run', 'syn-flood', '--rate', '-5'],
      /--rate must be an integer from 1 to 50000 SYN\/s, got "-5"/,
    ],
    [['run', 'syn-flood', '--rate', '1e9'], /--rate must be an integer from 1 to 50000/],
    [
      ['run', 'syn-flood', '--duration', '1e12'],
      /--duration must be an integer from 100 to 60000 ms/,
    ],
    [['run', 'syn-flood', '--backlog', '-1'], /--backlog must be an integer from 0 to 4096/],
    [
      ['run', 'old-duplicate-syn', '--hold', '1e12'],
      /--hold must be an integer from 0 to 600000 ms/,
    ],
    [['run', 'delayed-ack', '--quick-acks'], /--quick-acks needs a value/],
    [['tour', '--lang', 'fr'], /Allowed choices are en, zh/],
    [['tour', '--width', 'wide'], /--width must be an integer from 60/],
    [['web', '--port', '99999'], /--port must be an integer from 0 to 65,535/],
    [['list', 'extra'], /too many arguments/],
    [['connect', '198.18.0.1', '80'], /required option '--tun <name>'/],
    [['connect', '198.18.0.1', '99999', ...wire], /PORT must be an integer from 1 to 65535/],
    [
      ['connect', '198.18.0.1', '80', '--tun', 'x', '--addr', 'nope'],
      /--addr must be ADDRESS\/PREFIX/,
    ],
    [['connect', '198.18.0.1', '80', ...wire, '--send', '-1'], /--send must be an integer from 0/],
    [
      ['connect', '198.18.0.1', '80', ...wire, '--delay-in', '1e9'],
      /--delay-in must be a number from 0 to 60000/,
    ],
    [['connect', '198.18.0.1', '80', ...wire, '--syn-data'], /--syn-data needs --data/],
    [
      ['connect', '198.18.0.1', '80', ...wire, '--data', 'x', '--send', '5'],
      /choose one of --data and --send/,
    ],
    [['serve', '0', ...wire], /PORT must be an integer from 1 to 65535/],
    [['serve', '80', '--http', '--discard', ...wire], /choose one of --echo, --http, --discard/],
    [['serve', '80', '--backlog', '5', ...wire], /unknown option '--backlog'/],
    [
      ['serve', '80', '--http', '--http-body', '-5', ...wire],
      /--http-body must be an integer from 0/,
    ],
    [['serve', '80', '--http-body', '5', ...wire], /--http-body needs --http/],
    [
      ['serve', '80', '--max-connections', '0', ...wire],
      /--max-connections must be an integer from 1/,
    ],
    [['serve', '80', '--stats', '0', ...wire], /--stats must be an integer from 1/],
    [['serve', '80', ...wire, '--pcap', nowhere], /cannot write --pcap/],
    [
      ['serve', '80', '--tun', 'bad!name', '--addr', '198.18.0.2/24'],
      /invalid device name "bad!name"/,
    ],
  ];
  for (const [args, why] of bad) {
    it(`synack ${args.join(' ')}: exit 2, one line, no stack trace`, () => {
      const r = run(...args);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(why);
      expect(r.err.trimEnd().split('\n'), r.err).toHaveLength(1);
      expect(r.err).toMatch(/^synack: /);
      expect(r.err).not.toMatch(/^\s+at /m);
      expect(r.out).toBe('');
    });
  }

  it('--version prints the version; output into a closed pipe ends quietly', () => {
    expect(run('--version').out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const r = spawnSync(
      'sh',
      [
        '-c',
        `node --import tsx ${join(root, 'src/cli/main.ts')} run syn-flood --format json | head -c 100 >/dev/null`,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('run SCENARIO --help lists its options with ranges and defaults', () => {
    const r = run('run', 'syn-flood', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /--rate <n>\n\s+spoofed SYNs per second: an integer from 1 to 50000 SYN\/s \(default 2000\)/,
    );
    expect(r.out).toMatch(/--cookies <choice>/);
  });

  it('NO_COLOR and FORCE_COLOR decide colour; --width sets the ladder width', () => {
    const forced = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'run', 'handshake', '--width', '70'],
      { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '1', NO_COLOR: '' } },
    );
    expect(forced.stdout).toContain(ESC);
    const widest = Math.max(
      ...forced.stdout
        .replaceAll(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '')
        .split('\n')
        .filter((l) => l.includes('──'))
        .map((l) => l.length),
    );
    expect(widest).toBeLessThanOrEqual(70);
    expect(run('run', 'handshake').out).not.toContain(ESC);
  });

  it.runIf(spawnSync('sh', ['-c', 'command -v tcpdump']).status === 0)(
    'run handshake --format tcpdump prints on stdout exactly what tcpdump -n -r prints for its pcap',
    () => {
      const pcap = join(mkdtempSync(join(tmpdir(), 'synack-cli-')), 'h.pcap');
      const ours = run('run', 'handshake', '--format', 'tcpdump', '--pcap', pcap);
      expect(ours.code).toBe(0);
      const theirs = spawnSync('tcpdump', ['-n', '-r', pcap], {
        encoding: 'utf8',
        env: { ...process.env, TZ: 'UTC' },
      });
      expect(ours.out).toBe(theirs.stdout);
      expect(ours.out.split('\n').length).toBeGreaterThan(4);
    },
  );

  it('run --format tsg: the SVG alone on stdout, or to --out FILE (FILE.1.svg, ... per variant)', () => {
    const alone = run('run', 'random', '--seed', '3', '--format', 'tsg');
    expect(alone.code).toBe(0);
    expect(alone.out.startsWith('<svg ')).toBe(true);
    expect(alone.out.trimEnd().endsWith('</svg>')).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'synack-cli-'));
    const one = run('run', 'random', '--seed', '3', '--format', 'tsg', '--out', join(dir, 'r.svg'));
    expect(one.code).toBe(0);
    expect(one.err).toContain(`wrote ${join(dir, 'r.svg')}`);
    expect(readFileSync(join(dir, 'r.svg'), 'utf8')).toBe(alone.out);
    // A scenario with variants writes one file each.
    const many = run('run', 'close', '--format', 'tsg', '--out', join(dir, 'c.svg'));
    expect(many.code).toBe(0);
    expect(many.err).toContain(`wrote ${join(dir, 'c.1.svg')}`);
    expect(readFileSync(join(dir, 'c.2.svg'), 'utf8')).toMatch(/^<svg /);
    const bad = run('run', 'random', '--format', 'tsg', '--out', '/nonexistent/dir/r.svg');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/cannot write --out \/nonexistent\/dir\/r\.svg/);
  });

  it('a failing scenario check exits 1', () => {
    // With every packet lost nothing can be established.
    const r = run('run', 'handshake', '--loss', '1');
    expect(r.code).toBe(1);
    expect(r.out).toContain('✗');
  });

  it('script reports pass/fail per file and a summary line; exit 1 on failure', () => {
    const ok = run('script', join(root, 'test/scripts/handshake'));
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^\d+ passed, 0 failed, 0 skipped$/m);
    // --ip-version: IPv4-mapped IPv6 is IPv4 on the wire; IPv6 changes what a v4 script sees (MSS 1440).
    const one = join(root, 'test/scripts/handshake/passive-open.pkt');
    expect(run('script', '--ip-version', 'ipv4-mapped-ipv6', one).code).toBe(0);
    const v6 = run('script', '--ip-version', 'ipv6', one);
    expect(v6.code).toBe(1);
    expect(v6.out).toMatch(/seen: .*<mss 1440/);
    // --mtu 1520: the MSS an IPv4 script expects, over IPv6 (as Linux's selftests run them).
    expect(run('script', '--ip-version', 'ipv6', '--mtu', '1520', one).code).toBe(0);
    // --tolerance-usecs: a packet 1 ms late passes only with the tolerance widened.
    const late = join(tmpdir(), `late-${process.pid}.pkt`);
    writeFileSync(late, readFileSync(one, 'utf8').replace('+0  > S.', '+.001 > S.'));
    expect(run('script', '--tolerance-usecs', '0', late).code).toBe(1);
    expect(run('script', '--tolerance-usecs', '2000', late).code).toBe(0);
    rmSync(late);
  });
});
