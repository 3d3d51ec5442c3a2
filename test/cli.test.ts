// The synack command as a user meets it: help, exit codes, clear errors.

import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const run = (...args: string[]) => {
  const r = spawnSync(
    process.execPath,
    [join(root, 'node_modules/tsx/dist/cli.mjs'), join(root, 'src/cli/main.ts'), ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
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
  });
});
