// `synack connect` and `synack serve`: the stack on a real TUN device, as a
// client or a server, printing its trace live and writing a pcap if asked.

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { openTun, type TunLink } from '../link/tun.ts';
import { realClock } from '../stack/clock.ts';
import type { TcpSocket } from '../stack/socket.ts';
import { Stack } from '../stack/stack.ts';
import { type TraceEvent, TraceLog } from '../tcp/types.ts';
import { renderPcap } from '../trace/pcap.ts';
import { tcpdumpPrinter } from '../trace/tcpdump.ts';
import { formatAddr, parseAddr } from '../wire/addr.ts';
import { UsageError } from './script.ts';

export interface WireOptions {
  tun: string;
  addr: string;
  trace: 'tcpdump' | 'states' | 'none';
  pcap?: string;
  configure: boolean;
  /** Absolute sequence numbers in the live trace (tcpdump -S). */
  absolute?: boolean;
  /** Hold every arriving packet this long before the stack sees it (added latency, ms). */
  delayIn?: number;
}

function parsePrefix(text: string): { addr: string; prefix: number } {
  const m = /^(.+)\/(\d{1,3})$/.exec(text);
  if (!m || !parseAddr(m[1]))
    throw new UsageError(
      `--addr must be ADDRESS/PREFIX (e.g. 198.18.0.2/24 or 2001:db8::2/64), got "${text}"`,
    );
  const prefix = Number(m[2]);
  const max = m[1].includes(':') ? 128 : 32;
  if (prefix > max)
    throw new UsageError(`--addr prefix /${prefix} is too long for ${m[1]} (at most /${max})`);
  return { addr: m[1], prefix };
}

/** The network of `addr/prefix` in CIDR form, for the route towards the device. */
function network(addr: string, prefix: number): string {
  const b = parseAddr(addr)!.slice();
  for (let i = 0; i < b.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - 8 * i));
    b[i] &= (0xff << (8 - keep)) & 0xff;
  }
  return `${formatAddr(b)}/${prefix}`;
}

function start(
  o: WireOptions,
  err: (s: string) => void,
): { stack: Stack; tun: TunLink; finish: () => void } {
  const { addr, prefix } = parsePrefix(o.addr);
  let tun: TunLink;
  try {
    tun = openTun(o.tun);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (o.configure) {
    // Only the named device: bring it up and route its prefix to it.
    for (const args of [
      ['link', 'set', 'dev', tun.name, 'up'],
      ['route', 'replace', network(addr, prefix), 'dev', tun.name],
    ]) {
      const r = spawnSync('ip', args, { encoding: 'utf8' });
      if (r.error || r.status !== 0)
        err(
          `synack: warning: ip ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`,
        );
    }
  }
  const log = new TraceLog();
  const print = tcpdumpPrinter({ absolute: o.absolute });
  const clock = realClock();
  const origin = performance.timeOrigin;
  const tracer = {
    emit(e: TraceEvent) {
      log.emit(e);
      if (o.trace === 'tcpdump' && e.type === 'segment') err(print(origin + e.t, e.packet));
      if (o.trace === 'states' && e.type === 'state')
        err(`${e.host} #${e.conn}: ${e.from} → ${e.to}${e.why ? ` (${e.why})` : ''}`);
    },
  };
  const stack = new Stack({ name: 'synack', addresses: [addr], clock, tracer });
  stack.attach(tun);
  if (o.delayIn && o.delayIn > 0) {
    const deliver = tun.onPackets!;
    const ms = o.delayIn;
    tun.onPackets = (ps) => setTimeout(() => deliver(ps), ms);
  }
  err(`synack: attached to ${tun.name} as ${addr}`);
  const finish = () => {
    tun.close();
    if (o.pcap) {
      const events = log.events.map((e) => (e.type === 'segment' ? { ...e, t: origin + e.t } : e));
      writeFileSync(o.pcap, renderPcap(events));
      err(`synack: wrote ${o.pcap}`);
    }
  };
  return { stack, tun, finish };
}

/** A client: sends `data` (or stdin), half-closes, prints what comes back; resolves with the exit code. */
export function connectCommand(
  host: string,
  port: number,
  data: Uint8Array | null,
  o: WireOptions,
  out: (b: Uint8Array) => void,
  err: (s: string) => void,
  synData = false,
  localPort?: number,
  after = 0,
): Promise<number> {
  const { stack, finish } = start(o, err);
  return new Promise((resolve, reject) => {
    const go = () => {
      let sock: TcpSocket;
      try {
        const early = synData && data ? data.subarray(0, 536) : undefined;
        sock = stack.connect({ host, port, localPort, synData: early });
      } catch (e) {
        finish();
        reject(new UsageError((e as Error).message));
        return;
      }
      sock.on('data', (d) => out(d));
      sock.on('end', () => sock.end());
      sock.on('error', (e) => err(`synack: ${e.code}: ${e.message}`));
      sock.on('close', (hadError) => {
        finish();
        resolve(hadError ? 1 : 0);
      });
      if (data) sock.end(synData ? data.subarray(Math.min(536, data.length)) : data);
      else {
        process.stdin.on('data', (d: Buffer) => sock.write(new Uint8Array(d)));
        process.stdin.on('end', () => sock.end());
      }
    };
    if (after > 0) setTimeout(go, after);
    else go();
  });
}

export type ServeMode = 'echo' | 'http' | 'discard';

/** A server until SIGINT/SIGTERM: echo, a tiny HTTP responder, or discard. */
export function serveCommand(
  port: number,
  mode: ServeMode,
  o: WireOptions,
  err: (s: string) => void,
): Promise<number> {
  const { stack, finish } = start(o, err);
  const server = stack.listen({ port });
  server.on('connection', (sock) => {
    sock.on('error', () => {});
    if (mode === 'echo') {
      sock.on('data', (d) => sock.write(d));
      sock.on('end', () => sock.end());
    } else if (mode === 'discard') {
      sock.on('data', () => {});
      sock.on('end', () => sock.end());
    } else {
      let seen = '';
      const dec = new TextDecoder();
      sock.on('data', (d) => {
        seen += dec.decode(d);
        if (seen.includes('\r\n\r\n') || seen.includes('\n\n')) {
          const body = 'hello from synack\n';
          sock.end(
            `HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
          );
        }
      });
      sock.on('end', () => sock.end());
    }
  });
  err(`synack: serving ${mode} on ${o.addr.split('/')[0]} port ${server.port} via ${o.tun}`);
  return new Promise((resolve) => {
    const stop = () => {
      finish();
      const s = { ...stack.stats, heapUsed: process.memoryUsage().heapUsed };
      err(`synack: stats ${JSON.stringify(s)}`);
      resolve(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
