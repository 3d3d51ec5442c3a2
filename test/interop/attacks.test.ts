// Attacks against synack from inside a network namespace the test creates:
// blind RST/SYN injection into an established connection, a bounded SYN
// flood while curl fetches, and nmap scans. Counts and times are bounded;
// packets go only to addresses inside the namespace.

import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { KERNEL, Netns, SYNACK, SYNACK_ON_TUN, skipReason, tsharkErrors } from './netns.ts';

const missing = ['hping3', 'nmap'].filter(
  (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0,
);
const skip = skipReason ?? (missing.length > 0 ? `missing ${missing.join(', ')}` : undefined);

function stats(err: string): {
  counters: Record<string, number>;
  drops: Record<string, number>;
  heapUsed: number;
} {
  const m = /synack: stats (\{.*\})/.exec(err);
  if (!m) throw new Error(`no stats in: ${err.slice(-500)}`);
  return JSON.parse(m[1]);
}

describe.skipIf(skip)(`attacks on synack${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let ns: Netns;
  afterEach(() => {
    ns?.destroy();
    // Every capture synack wrote must read cleanly in tshark (no expert errors).
    for (const f of ns?.pcaps ?? []) expect(tsharkErrors(f), f).toBe('');
  });

  it('blind in-window RST and SYN injected into an established connection get challenge ACKs; it survives', async () => {
    ns = new Netns();
    const srv = ns.synack([
      'serve',
      '7',
      '--echo',
      '--tun',
      'syn0',
      '--addr',
      `${SYNACK}/24`,
      '-S',
    ]);
    await srv.waitFor(/serving echo/);
    const client = ns.node(`
import net from 'node:net';
import readline from 'node:readline';
const c = net.connect(7, '${SYNACK}', () => c.write('one'));
c.on('data', (d) => console.log('echo:' + d));
c.on('error', (e) => console.log('error:' + e.code));
readline.createInterface({ input: process.stdin }).on('line', () => c.end('two'));
`);
    await client.waitFor(/echo:one/);
    const m = [
      ...srv.err.matchAll(
        /IP 198\.18\.0\.1\.(\d+) > 198\.18\.0\.2\.7: Flags \[P\.\], seq (\d+):(\d+)/g,
      ),
    ].pop()!;
    const [port, end] = [m[1], Number(m[3])];
    const before = srv.err.length;
    // In window, not exact: RFC 5961 says challenge, never reset.
    ns.run('hping3', [
      '-q',
      '-c',
      '1',
      '-R',
      '-s',
      port,
      '-k',
      '-p',
      '7',
      '-M',
      String((end + 1000) >>> 0),
      SYNACK,
    ]);
    const challenge = new RegExp(
      `198\\.18\\.0\\.2\\.7 > 198\\.18\\.0\\.1\\.${port}: Flags \\[\\.\\], ack ${end},`,
    );
    await srv.waitFor(/Flags \[R\]/, 5_000, before);
    await srv.waitFor(challenge, 5_000, before);
    // A SYN on the established 4-tuple: also a challenge ACK.
    const mid = srv.err.length;
    ns.run('hping3', ['-q', '-c', '1', '-S', '-s', port, '-k', '-p', '7', '-M', '12345', SYNACK]);
    await srv.waitFor(/Flags \[S\]/, 5_000, mid);
    await srv.waitFor(challenge, 5_000, mid);
    // The connection survived both.
    client.child.stdin!.write('go\n');
    await client.waitFor(/echo:two/);
    expect(client.out).not.toMatch(/error:/);
    await srv.stop();
    const s = stats(srv.err);
    expect(s.counters['challenge-acks-sent']).toBe(2);
    expect(s.counters['resets-received'] ?? 0).toBe(0);
  }, 30_000);

  it('a bounded spoofed SYN flood (hping3) while curl fetches: every fetch succeeds, state stays bounded', async () => {
    ns = new Netns();
    const srv = ns.synack(['serve', '80', '--http', ...SYNACK_ON_TUN]);
    await srv.waitFor(/serving http/);
    // 3000 SYNs from random sources, 200 µs apart (about 0.6 s), in the background.
    const flood = ns.start('hping3', [
      '-q',
      '-S',
      '-p',
      '80',
      '-i',
      'u200',
      '-c',
      '3000',
      '--rand-source',
      SYNACK,
    ]);
    let ok = 0;
    for (let i = 0; i < 5; i++) {
      const r = ns.run('curl', ['-sS', '-m', '5', `http://${SYNACK}/`]);
      if (r.stdout === 'hello from synack\n') ok++;
    }
    await flood.done;
    await srv.stop();
    const s = stats(srv.err);
    expect(ok).toBe(5);
    expect(s.counters['syns-received']).toBeGreaterThan(1000);
    // The SYN queue holds at most 511 records (default backlog); the rest were cookies.
    expect(s.counters['cookies-sent'] ?? 0).toBeGreaterThan(0);
    expect(
      (s.counters['syns-received'] ?? 0) - (s.counters['cookies-sent'] ?? 0),
    ).toBeLessThanOrEqual(511 + 5);
    // Cookies keep nothing per SYN: the heap after 3000 spoofed SYNs is that of a small idle process.
    expect(s.heapUsed).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);

  it('nmap -sS, -sT and -O: no crash; SYN,ACK for the open port, RST for closed ones', async () => {
    ns = new Netns();
    const srv = ns.synack(['serve', '80', '--http', ...SYNACK_ON_TUN]);
    await srv.waitFor(/serving http/);
    for (const scan of ['-sS', '-sT']) {
      const r = ns.run(
        'nmap',
        ['-n', '-Pn', scan, '-p', '22,80,443', '--max-retries', '1', SYNACK],
        undefined,
        60_000,
      );
      expect(r.stdout).toMatch(/80\/tcp\s+open/);
      expect(r.stdout).toMatch(/22\/tcp\s+closed/);
      expect(r.stdout).toMatch(/443\/tcp\s+closed/);
    }
    const os = ns.run(
      'nmap',
      ['-n', '-Pn', '-O', '-p', '22,80', '--max-retries', '1', SYNACK],
      undefined,
      90_000,
    );
    expect(os.status).toBe(0);
    expect(os.stdout).toMatch(/80\/tcp\s+open/);
    // Still serving after the scans.
    expect(ns.run('curl', ['-sS', '-m', '5', `http://${SYNACK}/`]).stdout).toBe(
      'hello from synack\n',
    );
    expect(srv.child.exitCode).toBeNull();
    await srv.stop();
    const s = stats(srv.err);
    expect(s.counters['resets-sent']).toBeGreaterThan(0);
    void KERNEL;
  }, 150_000);
});
