// synack against the Linux kernel's TCP, over a TUN device inside a network
// namespace that each test creates and removes. Runs as root with
// /dev/net/tun (CI does); elsewhere the suite is reported as skipped, with why.

import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ACK, SYN } from '../../src/wire/tcp.ts';
import {
  KERNEL,
  KERNEL6,
  Netns,
  pcapPackets,
  pcapSegments,
  SYNACK,
  SYNACK_ON_TUN,
  SYNACK6,
  skipReason,
  tsharkErrors,
} from './netns.ts';

const tmp = mkdtempSync(join(tmpdir(), 'synack-interop-'));
const _hasTshark = spawnSync('sh', ['-c', 'command -v tshark']).status === 0;

function tsharkClean(file: string): void {
  expect(tsharkErrors(file), file).toBe('');
}

const echoServer = (host: string, port: number) => `
import net from 'node:net';
const s = net.createServer((c) => { c.on('data', (d) => c.write(d)); c.on('end', () => c.end()); c.on('error', () => {}); });
s.listen(${port}, '${host}', () => console.log('listening'));
`;

/**
 * `synack connect` to a kernel echo server in `ns`, sending `chunk` `repeat`
 * times (plus `extra` flags) and capturing to `pcap`: what came back, and the run.
 */
async function echoThroughKernel(
  ns: Netns,
  pcap: string,
  chunk: string,
  repeat: number,
  extra: string[] = [],
) {
  const srv = ns.node(echoServer(KERNEL, 9000));
  await srv.waitFor(/listening/);
  return ns.synackSync(
    [
      'connect',
      KERNEL,
      '9000',
      '--data',
      chunk,
      '--repeat',
      String(repeat),
      ...SYNACK_ON_TUN,
      ...extra,
      '--pcap',
      pcap,
    ],
    60_000,
  );
}

describe.skipIf(skipReason)(
  `synack and the Linux kernel${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let ns: Netns;
    afterEach(() => {
      ns?.destroy();
      // Every capture synack wrote must read cleanly in tshark (no expert errors).
      for (const f of ns?.pcaps ?? []) expect(tsharkErrors(f), f).toBe('');
    });

    it('kernel curl fetches from synack serve --http; a closed synack port answers RST', async () => {
      ns = new Netns();
      const pcap = join(tmp, 'http.pcap');
      const srv = ns.synack([
        'serve',
        '80',
        '--http',
        '--tun',
        'syn0',
        '--addr',
        `${SYNACK}/24`,
        '--pcap',
        pcap,
      ]);
      await srv.waitFor(/serving http/);
      const ok = ns.run('curl', ['-sS', '-m', '5', `http://${SYNACK}/`]);
      expect(ok.stdout).toBe('hello from synack\n');
      const refused = ns.run('curl', ['-sS', '-m', '5', `http://${SYNACK}:81/`]);
      expect(refused.status).toBe(7); // curl: couldn't connect
      await srv.stop();
      expect(srv.err).toMatch(/"resets-sent":1/);
      const segs = pcapSegments(pcap);
      expect(segs.some((s) => s.seg.flags === (SYN | ACK))).toBe(true);
      tsharkClean(pcap);
    }, 30_000);

    it('a kernel Node net client talks to synack serve --echo', async () => {
      ns = new Netns();
      const srv = ns.synack(['serve', '7', '--echo', '--tun', 'syn0', '--addr', `${SYNACK}/24`]);
      await srv.waitFor(/serving echo/);
      const client = ns.node(`
import net from 'node:net';
const c = net.connect(7, '${SYNACK}', () => c.end('ping from the kernel'));
let got = ''; c.on('data', (d) => (got += d)); c.on('end', () => { console.log(got); });
`);
      expect(await client.done).toBe(0);
      expect(client.out.trim()).toBe('ping from the kernel');
      await srv.stop();
    }, 30_000);

    it('synack connects to a kernel listener: data on the third segment, echoed back, clean close', async () => {
      ns = new Netns();
      const srv = ns.node(echoServer(KERNEL, 9000));
      await srv.waitFor(/listening/);
      const pcap = join(tmp, 'client.pcap');
      const r = ns.synackSync([
        'connect',
        KERNEL,
        '9000',
        '--data',
        'hello, kernel',
        '--tun',
        'syn0',
        '--addr',
        `${SYNACK}/24`,
        '--pcap',
        pcap,
      ]);
      expect(r.stderr).not.toMatch(/ECONN/);
      expect(r.stdout).toBe('hello, kernel');
      expect(r.status).toBe(0);
      const ours = pcapSegments(pcap).filter((s) => s.src === SYNACK);
      // SYN, then the third segment: an ACK that carries the 13 bytes.
      expect(ours[0].seg.flags).toBe(SYN);
      expect(ours[1].seg.flags & ACK).toBeTruthy();
      expect(ours[1].seg.payload.length).toBe(13);
      tsharkClean(pcap);
    }, 30_000);

    it('connecting to a closed kernel port fails with ECONNREFUSED', () => {
      ns = new Netns();
      const r = ns.synackSync(['connect', KERNEL, '9', '--data', 'x', ...SYNACK_ON_TUN]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/ECONNREFUSED/);
    }, 30_000);

    it('negotiates MSS, window scale, SACK and timestamps with Linux and moves 1 MiB both ways', async () => {
      ns = new Netns();
      const pcap = join(tmp, 'bulk.pcap');
      const chunk = 'synack-bulk-0123456789abcdef-'.repeat(40).slice(0, 1024);
      const r = await echoThroughKernel(ns, pcap, chunk, 1024);
      expect(
        r.status,
        `status ${r.status} signal ${r.signal} error ${r.error?.message} stdout ${r.stdout.length}\n${r.stderr.slice(-3000)}`,
      ).toBe(0);
      expect(r.stdout.length).toBe(1024 * 1024);
      expect(r.stdout).toBe(chunk.repeat(1024));
      const segs = pcapSegments(pcap);
      const synAck = segs.find((s) => s.seg.flags === (SYN | ACK))!;
      const kinds = synAck.seg.options.map((o) => o.kind);
      expect(kinds).toEqual(expect.arrayContaining(['mss', 'sackOk', 'ts', 'wscale']));
      const shift = (synAck.seg.options.find((o) => o.kind === 'wscale') as { shift: number })
        .shift;
      // Window scaling in use: Linux advertised more than 64 KiB at some point.
      expect(
        segs.some((s) => s.src === KERNEL && !(s.seg.flags & SYN) && s.seg.window << shift > 65535),
      ).toBe(true);
      // Every segment after the SYNs carries timestamps.
      expect(
        segs
          .filter((s) => !(s.seg.flags & SYN))
          .every((s) => s.seg.options.some((o) => o.kind === 'ts')),
      ).toBe(true);
    }, 90_000);

    it('with --offload the kernel cuts and joins segments of up to 64 KiB: 4 MiB both ways, byte-exact, the capture whole', async () => {
      ns = new Netns();
      const pcap = join(tmp, 'offload.pcap');
      const chunk = 'synack-offload-0123456789abcdef'.repeat(40).slice(0, 1024);
      const r = await echoThroughKernel(ns, pcap, chunk, 4096, ['--offload']);
      expect(r.status, r.stderr.slice(-3000)).toBe(0);
      expect(r.stdout.length).toBe(4096 * 1024);
      expect(r.stdout === chunk.repeat(4096)).toBe(true);
      // Every packet in the capture decodes with a valid TCP checksum (the trace
      // gets whole checksums though the device fills them in)...
      const segs = pcapSegments(pcap);
      expect(segs.length).toBe(pcapPackets(pcap).length);
      // ...and large segments went both ways: synack's TSO, the kernel's GSO/GRO.
      const mss = 1448;
      expect(segs.some((s) => s.src === SYNACK && s.seg.payload.length > mss)).toBe(true);
      expect(segs.some((s) => s.src === KERNEL && s.seg.payload.length > mss)).toBe(true);
    }, 90_000);

    for (const [v, addr, prefix] of [
      [4, SYNACK, 24],
      [6, SYNACK6, 64],
    ] as const) {
      it(`the kernel's ping gets echo replies from synack (IPv${v})`, async () => {
        ns = new Netns();
        const srv = ns.synack([
          'serve',
          '7',
          '--echo',
          '--tun',
          'syn0',
          '--addr',
          `${addr}/${prefix}`,
        ]);
        await srv.waitFor(/serving echo/);
        const r = ns.run('ping', [`-${v}`, '-c', '3', '-i', '0.2', '-W', '2', addr]);
        expect(r.stdout, r.stderr).toMatch(/3 packets transmitted, 3 received/);
        await srv.stop();
      }, 30_000);
    }

    it("the kernel's curl reaches Node's http server running on synack sockets (keep-alive too)", async () => {
      ns = new Netns();
      const srv = ns.tsx(join(import.meta.dirname, 'node-http.ts'), ['syn0', SYNACK]);
      await srv.waitFor(/listening/);
      const r = ns.run('curl', [
        '-sS',
        '-m',
        '5',
        '-w',
        'connects=%{num_connects}\\n',
        `http://${SYNACK}/a`,
        `http://${SYNACK}/b`,
      ]);
      expect(r.stdout).toBe(
        'node http on synack: GET /a\nconnects=1\nnode http on synack: GET /b\nconnects=0\n',
      );
      await srv.stop();
    }, 30_000);

    it('IPv6: handshake and echo with the kernel', async () => {
      ns = new Netns();
      const srv = ns.node(echoServer(KERNEL6, 9000));
      await srv.waitFor(/listening/);
      const r = ns.synackSync([
        'connect',
        KERNEL6,
        '9000',
        '--data',
        'hello over IPv6',
        '--tun',
        'syn0',
        '--addr',
        `${SYNACK6}/64`,
      ]);
      expect(r.stdout).toBe('hello over IPv6');
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/IP6 2001:2::2\.\d+ > 2001:2::1\.9000: Flags \[S\]/);
    }, 30_000);

    it("completes the handshake with the kernel's SYN cookies (tcp_syncookies=2)", async () => {
      ns = new Netns();
      ns.sysctl('net.ipv4.tcp_syncookies', '2');
      const srv = ns.node(echoServer(KERNEL, 9000));
      await srv.waitFor(/listening/);
      const r = ns.synackSync([
        'connect',
        KERNEL,
        '9000',
        '--data',
        'cookie monster',
        '--tun',
        'syn0',
        '--addr',
        `${SYNACK}/24`,
      ]);
      expect(r.stdout).toBe('cookie monster');
      expect(r.status).toBe(0);
      const stat = ns.run('nstat', ['-az', 'TcpExtSyncookiesSent', 'TcpExtSyncookiesRecv']);
      if (stat.status === 0) expect(stat.stdout).toMatch(/TcpExtSyncookiesRecv\s+[1-9]/);
    }, 30_000);

    it('a SYN carrying data: Linux acknowledges only the SYN, synack sends the data again, it arrives once', async () => {
      ns = new Netns();
      const srv = ns.node(echoServer(KERNEL, 9000));
      await srv.waitFor(/listening/);
      const pcap = join(tmp, 'syndata.pcap');
      const r = ns.synackSync([
        'connect',
        KERNEL,
        '9000',
        '--data',
        'early bird',
        '--syn-data',
        '--tun',
        'syn0',
        '--addr',
        `${SYNACK}/24`,
        '--pcap',
        pcap,
      ]);
      expect(r.stdout).toBe('early bird');
      expect(r.status).toBe(0);
      const segs = pcapSegments(pcap);
      const syn = segs.find((s) => s.seg.flags === SYN)!;
      const synAck = segs.find((s) => s.seg.flags === (SYN | ACK))!;
      expect(syn.seg.payload.length).toBe(10);
      expect(synAck.seg.ack).toBe((syn.seg.seq + 1) >>> 0);
      expect(
        segs.filter((s) => s.src === SYNACK && !(s.seg.flags & SYN) && s.seg.payload.length === 10),
      ).toHaveLength(1);
    }, 30_000);
  },
);

describe.skipIf(skipReason)(
  `simultaneous open with the Linux kernel${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let ns: Netns;
    afterEach(() => ns?.destroy());

    it('both connect with fixed ports, the SYNs cross, both pass through SYN-RECEIVED to ESTABLISHED', async () => {
      ns = new Netns();
      // synack holds what arrives for 3 s, so the kernel's SYN is still on its way
      // when synack's own SYN reaches the kernel, already in SYN-SENT.
      const syn = ns.synack([
        'connect',
        KERNEL,
        '5000',
        '--local-port',
        '6000',
        '--after',
        '1000',
        '--delay-in',
        '3000',
        '--data',
        'from synack',
        '--tun',
        'syn0',
        '--addr',
        `${SYNACK}/24`,
        '--trace',
        'states',
      ]);
      await syn.waitFor(/attached to syn0/);
      const kernel = ns.node(`
import net from 'node:net';
const c = net.connect({ host: '${SYNACK}', port: 6000, localAddress: '${KERNEL}', localPort: 5000 }, () => c.end('from the kernel'));
let got = ''; c.on('data', (d) => (got += d)); c.on('end', () => console.log('got:' + got)); c.on('error', (e) => console.log('error:' + e.code));
`);
      expect(await kernel.done).toBe(0);
      expect(await syn.done).toBe(0);
      expect(kernel.out.trim()).toBe('got:from synack');
      expect(syn.out).toBe('from the kernel');
      expect(syn.err).toMatch(
        /SYN-SENT → SYN-RECEIVED \(simultaneous open\)[\s\S]*SYN-RECEIVED → ESTABLISHED/,
      );
    }, 30_000);
  },
);
