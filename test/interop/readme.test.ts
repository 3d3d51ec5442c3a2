// The README's TUN recipe, run as written: the commands are read from the
// README (the block marked `sh tun-recipe`), so the two cannot drift apart.
// Only the namespace's name and the capture's path are made unique.

import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipReason, tsharkErrors } from './netns.ts';

const root = join(import.meta.dirname, '../..');
const ns = `synack-readme-${process.pid}`;
const pcap = join(tmpdir(), `${ns}.pcap`);

function recipe(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const m = /```sh tun-recipe\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error('README.md has no ```sh tun-recipe block');
  return m[1].replace(/\blab\b/g, ns).replace(/\bserve\.pcap\b/g, pcap);
}

describe.skipIf(skipReason)(
  `the README's TUN recipe${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    beforeAll(() => {
      // The recipe runs the built command, as a user would after `npm run build`.
      execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
    }, 120_000);
    afterAll(() => {
      spawnSync('ip', ['netns', 'del', ns]);
    });

    it('runs as written: the kernel and a second synack both fetch from synack serve', () => {
      const script = recipe();
      expect(script).toMatch(/synack serve 80 --http --tun syn0/);
      const r = spawnSync('bash', ['-e', '-c', script], {
        cwd: root,
        encoding: 'utf8',
        timeout: 90_000,
      });
      expect(r.status, r.stderr).toBe(0);
      // curl's page, then the second synack's whole HTTP response.
      expect(r.stdout).toMatch(/^hello from synack\nHTTP\/1\.1 200 OK\r\n/);
      expect(r.stdout.trimEnd()).toMatch(/hello from synack$/);
      expect(r.stderr).toMatch(/SIGTERM: stopping/);
      expect(r.stderr).toMatch(/synack: stats \{"connections"/);
      expect(readFileSync(pcap).length).toBeGreaterThan(24 + 10 * 56);
      expect(tsharkErrors(pcap)).toBe('');
      // The recipe cleaned up after itself.
      expect(spawnSync('ip', ['netns', 'pids', ns]).status).not.toBe(0);
    }, 120_000);
  },
);
