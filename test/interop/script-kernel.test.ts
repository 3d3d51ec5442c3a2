// `synack script --kernel`: every linux-profile packet script is run on synack
// and replayed on the Linux kernel (a namespace and TUN device per script), and
// the two stacks must decide alike — packet for packet, call for call. The
// replay must also be able to tell them apart: the synack profile's SYN,ACK is
// not the kernel's.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expand } from '../../src/cli/script.ts';
import { skipReason } from './netns.ts';

const root = join(import.meta.dirname, '../..');
const scripts = join(root, 'test/scripts');

const linux = expand(scripts).filter((f) => /^--profile=linux$/m.test(readFileSync(f, 'utf8')));

/** Runs the CLI without blocking the test worker (its RPC must keep answering). */
function synack(args: string[]): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
      cwd: root,
    });
    let stdout = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', () => {});
    c.on('close', (status) => resolve({ status, stdout }));
  });
}

describe.skipIf(skipReason)(
  `linux-profile scripts replayed on the Linux kernel${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    it('decide as the kernel does, packet for packet', async () => {
      type Report = {
        same: number;
        different: number;
        fail: number;
        skip: number;
        files: { file: string; status: string; reason?: string; differences?: string[] }[];
      };
      const run = async (files: string[]) =>
        JSON.parse((await synack(['script', '--kernel', '--json', ...files])).stdout) as Report;
      const report = await run(linux);
      // The replay runs in real time beside other tests: a script that differs is run
      // once more, and must then agree (a decision difference is not a matter of luck).
      const again = report.files.filter((f) => f.status === 'different').map((f) => f.file);
      if (again.length > 0) {
        const second = await run(again);
        for (const f of second.files) {
          const i = report.files.findIndex((x) => x.file === f.file);
          report.files[i] = f;
          if (f.status === 'same') report.same++;
        }
      }
      const bad = report.files.filter((f) => f.status === 'different' || f.status === 'fail');
      expect(bad.map((f) => `${f.file}: ${f.differences?.[0] ?? f.reason}`)).toEqual([]);
      // Skipped: Fast Open client scripts (the kernel's cookies are its own) and
      // scripts too long to replay in real time — each with its reason.
      for (const f of report.files.filter((x) => x.status === 'skip'))
        expect(f.reason, f.file).toMatch(
          /not replayed|kernel makes its own cookies|real time|block the replay/,
        );
      expect(report.same).toBeGreaterThanOrEqual(90);
      console.log(
        `kernel replay: ${report.same} same, ${report.skip} not replayed, of ${linux.length} linux-profile scripts`,
      );
    }, 600_000);

    it('tells the stacks apart: the synack profile answers a SYN differently', async () => {
      const r = await synack([
        'script',
        '--kernel',
        '--profile',
        'synack',
        join(scripts, 'handshake/passive-open.pkt'),
      ]);
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(
        /DIFF .*passive-open\.pkt: packet 1 differs:\n\s+synack: .*win 65535[\s\S]*kernel: .*win 64240/,
      );
    }, 60_000);
  },
);
