// `synack connect` and `synack serve`: the stack on a real TUN device, as a
// client or a server. Nothing is retained: the live trace is printed and
// forgotten, a pcap is streamed to its file. SIGINT, SIGTERM and SIGHUP stop
// cleanly within a second (a second signal stops at once).

import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { openTun, type TunLink } from '../link/tun.ts';
import { createServer, type Socket } from '../node/net.ts';
import { PcapFile } from '../node/pcapfile.ts';
import { realClock } from '../stack/clock.ts';
import type { TcpSocket } from '../stack/socket.ts';
import { Stack } from '../stack/stack.ts';
import { defaultConfig, profiles, type TraceEvent, type Tracer } from '../tcp/types.ts';
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
  /** Print a counters line every this many seconds. */
  stats?: number;
  /** Behave as this stack where a peer can see it (`synack`, `linux`, `freebsd`). */
  profile?: string;
  /** TCP segmentation and checksum offloads on the device (TunOptions.offload). */
  offload?: boolean;
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

/** The stack on its device, the trace streamed where asked, and how to stop it all. */
function start(
  o: WireOptions,
  err: (s: string) => void,
): { stack: Stack; tun: TunLink; finish: () => void } {
  const { addr, prefix } = parsePrefix(o.addr);
  // Files first: a path that cannot be written fails before anything is opened.
  let pcap: PcapFile | null = null;
  if (o.pcap) {
    try {
      pcap = new PcapFile(o.pcap);
    } catch (e) {
      throw new UsageError(`cannot write --pcap ${o.pcap}: ${(e as Error).message}`);
    }
  }
  let tun: TunLink;
  try {
    tun = openTun(o.tun, { offload: o.offload === true });
  } catch (e) {
    pcap?.close();
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
  const print = tcpdumpPrinter({ absolute: o.absolute });
  const clock = realClock();
  const origin = performance.timeOrigin;
  // With neither a live trace nor a capture, no tracer at all: nothing is built per packet.
  const tracer: Tracer | null =
    o.trace === 'none' && !pcap
      ? null
      : {
          emit(e: TraceEvent) {
            if (e.type === 'segment') {
              pcap?.add(origin + e.t, e.packet);
              if (o.trace === 'tcpdump') err(print(origin + e.t, e.packet));
            } else if (o.trace === 'states' && e.type === 'state') {
              err(`${e.host} #${e.conn}: ${e.from} → ${e.to}${e.why ? ` (${e.why})` : ''}`);
            }
          },
        };
  const stack = new Stack({
    name: 'synack',
    addresses: [addr],
    clock,
    tracer,
    config: o.profile ? defaultConfig(profiles[o.profile as keyof typeof profiles]) : undefined,
    // What the application writes in one turn of the event loop leaves as one burst.
    deferOutput: setImmediate,
  });
  stack.attach(tun);
  if (o.delayIn && o.delayIn > 0) {
    const deliver = tun.onPackets!;
    const ms = o.delayIn;
    tun.onPackets = (ps) => setTimeout(() => deliver(ps), ms).unref();
  }
  err(`synack: attached to ${tun.name} as ${addr}`);
  let statsTimer: ReturnType<typeof setInterval> | undefined;
  if (o.stats && o.stats > 0) {
    statsTimer = setInterval(() => err(`synack: stats ${statsLine(stack)}`), o.stats * 1000);
    statsTimer.unref();
  }
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    if (statsTimer) clearInterval(statsTimer);
    tun.close();
    if (pcap) {
      pcap.close();
      err(`synack: wrote ${pcap.packets} packets to ${o.pcap}`);
    }
  };
  return { stack, tun, finish };
}

/** One line of counters: connections, packets, drops, memory. */
function statsLine(stack: Stack): string {
  return JSON.stringify({
    connections: stack.connections.size,
    ...stack.stats,
    ...(({ rss, heapUsed }) => ({ rss, heapUsed }))(process.memoryUsage()),
  });
}

/**
 * Calls `stop(signal)` on the first SIGINT, SIGTERM or SIGHUP; a second one
 * exits at once (status 128 + signal number, as a shell reports it).
 */
function onSignals(stop: (signal: NodeJS.Signals) => void): () => void {
  let stopping = false;
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(128 + numbers[signal]);
    stopping = true;
    stop(signal);
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, handler);
  return () => {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, handler);
  };
}

export interface ConnectOptions {
  /** Data to send, then half-close; null: stdin. */
  data: Uint8Array | null;
  /** Send this many generated bytes instead (a throughput run), then half-close. */
  send?: number;
  synData?: boolean;
  localPort?: number;
  after?: number;
}

/** A client: sends its data, half-closes, prints what comes back; resolves with the exit code. */
export function connectCommand(
  host: string,
  port: number,
  c: ConnectOptions,
  o: WireOptions,
  out: (b: Uint8Array) => void,
  err: (s: string) => void,
): Promise<number> {
  const { stack, finish } = start(o, err);
  return new Promise((resolve) => {
    let sock: TcpSocket | undefined;
    let sent = 0;
    let t0 = 0;
    let settled = false;
    /** Set when a signal ended the run: that is the exit status, whatever the socket says. */
    let signalled: number | undefined;
    const done = (code: number) => {
      if (settled) return;
      settled = true;
      unhook();
      finish();
      resolve(signalled ?? code);
    };
    const unhook = onSignals((signal) => {
      err(`synack: ${signal}: aborting the connection`);
      signalled = signal === 'SIGINT' ? 130 : signal === 'SIGHUP' ? 129 : 143;
      sock?.destroy();
      done(signalled);
    });
    const go = () => {
      const data = c.data;
      try {
        const early = c.synData && data ? data.subarray(0, 536) : undefined;
        sock = stack.connect({ host, port, localPort: c.localPort, synData: early });
      } catch (e) {
        err(`synack: ${(e as Error).message}`);
        done(2);
        return;
      }
      const s = sock;
      s.on('connect', () => (t0 = performance.now()));
      s.on('data', (d) => out(d));
      s.on('end', () => s.end());
      s.on('error', (e) => err(`synack: ${e.code}: ${e.message}`));
      s.on('close', (hadError) => {
        if (c.send !== undefined && !hadError) {
          const secs = Math.max(1e-6, (performance.now() - t0) / 1000);
          err(
            `synack: sent ${sent} bytes in ${secs.toFixed(3)} s (${(sent / secs / 1e6).toFixed(1)} MB/s)`,
          );
        }
        done(hadError ? 1 : 0);
      });
      if (c.send !== undefined) {
        // Generated bytes, written as the send buffer drains: memory stays flat however many.
        const chunk = new Uint8Array(64 * 1024).fill(0x61);
        const pump = () => {
          while (sent < c.send!) {
            const n = Math.min(chunk.length, c.send! - sent);
            sent += n;
            if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return;
          }
          s.off('drain', pump);
          s.end();
        };
        s.on('drain', pump);
        pump();
      } else if (data) {
        s.end(c.synData ? data.subarray(Math.min(536, data.length)) : data);
      } else {
        process.stdin.on('data', (d: Buffer) => s.write(new Uint8Array(d)));
        process.stdin.on('end', () => s.end());
      }
    };
    if (c.after && c.after > 0) setTimeout(go, c.after);
    else go();
  });
}

export type ServeMode = 'echo' | 'http' | 'discard';

export interface ServeOptions {
  /** Bytes in each HTTP response body (default: a short greeting). */
  httpBody?: number;
  /** Connections served at once at most; more are reset as they arrive. */
  maxConnections?: number;
}

const GREETING = 'hello from synack\n';

/** A server until SIGINT/SIGTERM/SIGHUP: echo, HTTP/1.1 (Node's http on synack sockets), or discard. */
export function serveCommand(
  port: number,
  mode: ServeMode,
  so: ServeOptions,
  o: WireOptions,
  err: (s: string) => void,
): Promise<number> {
  const { stack, finish } = start(o, err);
  let web: http.Server | undefined;
  if (mode === 'http') {
    const body =
      so.httpBody === undefined ? Buffer.from(GREETING) : Buffer.alloc(so.httpBody, 0x61);
    web = http.createServer({ keepAlive: true }, (req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.setHeader('content-length', body.length);
      // HEAD gets the headers only: Node's http leaves the body out.
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    web.on('clientError', (_e, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
  }
  let closeServer: () => void;
  if (web) {
    // Node's http manages half-closes itself (its own sockets are allowHalfOpen): a
    // client's FIN after pipelined requests must not end our side before the answers.
    const server = createServer({ stack, allowHalfOpen: true }, (s: Socket) => {
      s.on('error', () => {});
      web.emit('connection', s);
    });
    if (so.maxConnections !== undefined) server.maxConnections = so.maxConnections;
    server.listen(port);
    closeServer = () => server.close();
  } else {
    // Echo and discard on the core sockets: no Node stream per connection (a
    // stream.Duplex costs kilobytes), and backpressure by not reading — unread
    // data stays in the receive buffer and the window closes.
    const server = stack.listen({ port, backlog: 4096 });
    let open = 0;
    // One set of handlers for every connection (a listener runs with `this` its
    // socket): closures per connection cost more than the connection's TCB.
    const closed = () => open--;
    const ignore = () => {};
    function endToo(this: TcpSocket): void {
      this.end();
    }
    function pump(this: TcpSocket): void {
      // While a write waits for buffer space, reading waits too ('drain' resumes).
      if (this.writableNeedDrain) return;
      for (let d = this.read(); d; d = this.read()) {
        if (mode === 'echo' && !this.write(d)) return;
      }
    }
    server.on('connection', (s: TcpSocket) => {
      if (so.maxConnections !== undefined && open >= so.maxConnections) {
        s.destroy();
        return;
      }
      open++;
      s.on('close', closed);
      s.on('error', ignore);
      s.on('end', endToo);
      s.on('readable', pump);
      s.on('drain', pump);
    });
    closeServer = () => server.close();
  }
  err(`synack: serving ${mode} on ${o.addr.split('/')[0]} port ${port} via ${o.tun}`);
  return new Promise((resolve) => {
    const unhook = onSignals((signal) => {
      // Stop accepting; what is open gets a second to finish, then everything closes.
      err(`synack: ${signal}: stopping`);
      closeServer();
      web?.closeIdleConnections?.();
      const t = setTimeout(() => {
        unhook();
        finish();
        err(`synack: stats ${statsLine(stack)}`);
        resolve(0);
      }, 200);
      void t;
    });
  });
}
