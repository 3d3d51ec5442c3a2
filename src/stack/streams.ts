// The shape of the WinterTC sockets API (`connect()` returning a socket with
// `readable`, `writable`, `opened`, `closed`, `close()`) over a synack stack,
// for browsers, workers and any runtime with Web Streams. Backpressure goes
// through the streams' queues: a reader that stops leaves the readable's queue
// full, synack stops reading, and the receive window closes.

import type { TcpError } from '../tcp/errors.ts';
import { State, type TcpConfig } from '../tcp/types.ts';
import type { TcpServer, TcpSocket } from './socket.ts';
import type { Stack } from './stack.ts';

export interface SocketAddress {
  hostname: string;
  port: number;
}

export interface SocketInfo {
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
}

export interface StreamSocketOptions {
  /**
   * Keep the writable side open after the peer's FIN (default true). WinterTC
   * defaults to false, but closing our side as soon as the FIN arrives would
   * race with writes still queued (a reply to what was just read, or the last
   * chunks of a pipe): here the writable closes when the application closes it
   * (`pipeTo` does). With false, our FIN follows once the reader has taken
   * everything up to the peer's FIN.
   */
  allowHalfOpen?: boolean;
  /** Bytes the readable side queues before synack stops taking data (default 64 KiB). */
  highWaterMark?: number;
  config?: Partial<TcpConfig>;
}

/** A connection as WinterTC describes it: two streams and two promises. */
export interface StreamSocket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves once the handshake completes; rejects if it fails. */
  readonly opened: Promise<SocketInfo>;
  /** Resolves when the connection has closed; rejects with its error. */
  readonly closed: Promise<void>;
  /** Closes both directions. */
  close(): Promise<void>;
  /** The engine's socket, for the state and RFC variables. */
  readonly tcp: TcpSocket;
}

/** Opens a connection: `connect(stack, '198.18.0.2:80')` or `connect(stack, { hostname, port })`. */
export function connect(
  stack: Stack,
  address: SocketAddress | string,
  options: StreamSocketOptions = {},
): StreamSocket {
  const { hostname, port } = parseAddress(address);
  const tcp = stack.connect({ host: hostname, port, config: options.config });
  return wrap(tcp, options, false);
}

/** A listener: an async iterable of accepted sockets, closed with `close()`. */
export interface StreamListener extends AsyncIterable<StreamSocket> {
  readonly port: number;
  close(): void;
}

/** Listens on `port` (0 for any): `for await (const socket of listen(stack, { port: 80 })) ...`. */
export function listen(
  stack: Stack,
  opts: { port: number; hostname?: string; backlog?: number } & StreamSocketOptions,
): StreamListener {
  const server: TcpServer = stack.listen({
    port: opts.port,
    host: opts.hostname,
    backlog: opts.backlog,
    config: opts.config,
  });
  const ready: StreamSocket[] = [];
  const waiting: ((r: IteratorResult<StreamSocket>) => void)[] = [];
  let closed = false;
  server.on('connection', (tcp) => {
    const s = wrap(tcp, opts, true);
    const w = waiting.shift();
    if (w) w({ value: s, done: false });
    else ready.push(s);
  });
  return {
    port: server.port,
    close() {
      if (closed) return;
      closed = true;
      server.close();
      for (const w of waiting.splice(0)) w({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return {
        next: () => {
          const s = ready.shift();
          if (s) return Promise.resolve({ value: s, done: false });
          if (closed) return Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve) => waiting.push(resolve));
        },
        return: () => {
          this.close();
          return Promise.resolve({ value: undefined, done: true });
        },
      };
    },
  };
}

function parseAddress(address: SocketAddress | string): SocketAddress {
  if (typeof address !== 'string') return address;
  // "198.18.0.2:80" or "[2001:db8::2]:80"
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  if (!m) {
    throw new TypeError(
      `address must be "HOST:PORT" or "[IPV6]:PORT" (or { hostname, port }), got "${address}"`,
    );
  }
  return { hostname: m[1], port: Number(m[2]) };
}

function info(tcp: TcpSocket): SocketInfo {
  return {
    remoteAddress: tcp.remoteAddress,
    remotePort: tcp.remotePort,
    localAddress: tcp.localAddress,
    localPort: tcp.localPort,
  };
}

function wrap(tcp: TcpSocket, options: StreamSocketOptions, accepted: boolean): StreamSocket {
  let failure: TcpError | null = null;
  let readController: ReadableStreamDefaultController<Uint8Array> | null = null;
  let readDone = false;
  let writeClosed = false;
  const drainWaiters: (() => void)[] = [];
  const hwm = options.highWaterMark ?? 65536;

  let openResolve!: (i: SocketInfo) => void;
  let openReject!: (e: unknown) => void;
  const opened = new Promise<SocketInfo>((res, rej) => {
    openResolve = res;
    openReject = rej;
  });
  let closeResolve!: () => void;
  let closeReject!: (e: unknown) => void;
  const closed = new Promise<void>((res, rej) => {
    closeResolve = res;
    closeReject = rej;
  });
  // Nobody has to observe these: no unhandled-rejection noise for a socket used only through its streams.
  opened.catch(() => {});
  closed.catch(() => {});

  /** Moves data from the connection into the readable's queue while it has room. */
  const pump = () => {
    const c = readController;
    if (!c || readDone) return;
    while ((c.desiredSize ?? 0) > 0) {
      const d = tcp.read();
      if (!d) break;
      c.enqueue(d);
    }
    // The end of the stream once the reader has taken everything queued before the FIN.
    if (tcp.conn.finReceived && tcp.conn.recvQueued === 0 && c.desiredSize === hwm) {
      readDone = true;
      c.close();
      if (options.allowHalfOpen === false && !writeClosed) {
        writeClosed = true;
        try {
          tcp.end();
        } catch {}
      }
    }
  };

  const readable = new ReadableStream<Uint8Array>(
    {
      start(c) {
        readController = c;
      },
      pull() {
        pump();
      },
      cancel() {
        readDone = true;
        if (tcp.state !== State.Closed) tcp.close();
      },
    },
    { highWaterMark: hwm, size: (chunk) => chunk.byteLength },
  );

  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      if (failure) throw failure;
      if (tcp.write(chunk)) return;
      return new Promise<void>((resolve) => drainWaiters.push(resolve));
    },
    close() {
      // Closing the writable is a half-close: FIN after what was written.
      if (!writeClosed) {
        writeClosed = true;
        tcp.end();
      }
    },
    abort() {
      tcp.destroy();
    },
  });

  tcp.on('connect', () => openResolve(info(tcp)));
  tcp.on('readable', pump);
  tcp.on('end', pump);
  tcp.on('drain', () => {
    for (const w of drainWaiters.splice(0)) w();
  });
  tcp.on('error', (e) => {
    failure = e;
    openReject(e);
    if (readController && !readDone) {
      readDone = true;
      readController.error(e);
    }
    for (const w of drainWaiters.splice(0)) w();
    closeReject(e);
  });
  tcp.on('close', () => {
    pump();
    if (!failure) closeResolve();
  });
  if (accepted) openResolve(info(tcp));

  return {
    readable,
    writable,
    opened,
    closed,
    tcp,
    close() {
      if (tcp.state !== State.Closed && tcp.state !== State.TimeWait) tcp.close();
      return closed.catch(() => {});
    },
  };
}
