// Node's `net` API over a synack stack: `Socket` is a real `stream.Duplex`
// (so `http`, `tls` and undici can use it, with backpressure both ways: when
// the reader stops, the receive window closes), and `Server` has the
// `net.Server` surface. Errors carry Node's `code`, `errno` and `syscall`.

import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { constants } from 'node:os';
import { Duplex } from 'node:stream';
import { MAX_TIMEOUT } from '../stack/clock.ts';
import type { TcpServer, TcpSocket } from '../stack/socket.ts';
import type { Stack } from '../stack/stack.ts';
import type { TcpError } from '../tcp/errors.ts';
import { State, type TcpConfig } from '../tcp/types.ts';

type LookupFunction = (
  hostname: string,
  options: { family?: number },
  callback: (err: Error | null, address: string, family: number) => void,
) => void;

export interface SocketOptions {
  /** The synack stack this socket lives on. */
  stack: Stack;
  /** Keep the writable side open after the peer's FIN (Node's default is false: end it too). */
  allowHalfOpen?: boolean;
}

export interface TcpSocketConnectOptions extends SocketOptions {
  port: number;
  /** An IP address; a host name needs `lookup` (synack resolves no names itself). */
  host?: string;
  localAddress?: string;
  localPort?: number;
  family?: number;
  /** Resolves host names, as `dns.lookup` does. */
  lookup?: LookupFunction;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  timeout?: number;
  signal?: AbortSignal;
  /** Engine settings for this connection. */
  config?: Partial<TcpConfig>;
}

export interface AddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

/** An error shaped as Node's system errors: `code`, `errno` (negative), `syscall`, address and port. */
export interface SystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  address?: string;
  port?: number;
}

function systemError(
  code: string,
  syscall: string,
  detail: string,
  address?: string,
  port?: number,
): SystemError {
  const where = address !== undefined ? ` ${address}${port !== undefined ? `:${port}` : ''}` : '';
  const e = new Error(`${syscall} ${code}${where}${detail ? ` (${detail})` : ''}`) as SystemError;
  e.code = code;
  e.errno = -((constants.errno as Record<string, number>)[code] ?? 0);
  e.syscall = syscall;
  if (address !== undefined) e.address = address;
  if (port !== undefined) e.port = port;
  return e;
}

function family(address: string): 'IPv4' | 'IPv6' {
  return address.includes(':') ? 'IPv6' : 'IPv4';
}

/**
 * Keeps the process alive while something ref'd is open (a socket, a
 * listening server), as Node's handles do: synack's own timers never do.
 */
const keeper = {
  refs: 0,
  handle: undefined as ReturnType<typeof setInterval> | undefined,
  add(n: number): void {
    this.refs += n;
    if (this.refs > 0 && !this.handle) this.handle = setInterval(() => {}, 1 << 30);
    else if (this.refs <= 0 && this.handle) {
      clearInterval(this.handle);
      this.handle = undefined;
    }
  },
};

export class Socket extends Duplex {
  /** True from connect() until the handshake completes. */
  connecting = false;
  readonly stack: Stack;
  #tcp: TcpSocket | null = null;
  #reading = false;
  #eof = false;
  #ended = false;
  #reffed = false;
  #timeout = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #allowHalfOpen: boolean;

  constructor(options: SocketOptions, tcp?: TcpSocket) {
    super({ allowHalfOpen: true, decodeStrings: true, emitClose: true, autoDestroy: true });
    if (!options || typeof options !== 'object' || !options.stack) {
      throw new TypeError('new Socket({ stack }): a synack Stack is required');
    }
    this.stack = options.stack;
    this.#allowHalfOpen = options.allowHalfOpen ?? false;
    // net.Socket's allowHalfOpen: false: once the peer's FIN has been read, our side ends too.
    this.on('end', () => {
      if (!this.#allowHalfOpen && !this.writableEnded) this.end();
    });
    if (tcp) this.#attach(tcp);
  }

  // ---- connecting -------------------------------------------------------------

  /** connect(options[, listener]), connect(port[, host][, listener]), as net.Socket. */
  connect(
    options: Omit<TcpSocketConnectOptions, 'stack'> | number,
    hostOrListener?: string | (() => void),
    listener?: () => void,
  ): this {
    let opts: Omit<TcpSocketConnectOptions, 'stack'>;
    const cb = typeof hostOrListener === 'function' ? hostOrListener : listener;
    if (typeof options === 'object' && options !== null) opts = options;
    else {
      opts = {
        port: options,
        host: typeof hostOrListener === 'string' ? hostOrListener : undefined,
      };
    }
    if (this.#tcp || this.connecting) {
      throw systemError('EISCONN', 'connect', 'the socket is already connected or connecting');
    }
    const port = Number(opts.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      const e = new RangeError(`options.port must be an integer from 1 to 65535, got ${opts.port}`);
      (e as RangeError & { code: string }).code = 'ERR_SOCKET_BAD_PORT';
      throw e;
    }
    if (cb) this.once('connect', cb);
    this.connecting = true;
    this.#ref();
    if (opts.timeout) this.setTimeout(opts.timeout);
    const signal = opts.signal;
    if (signal) {
      if (signal.aborted) {
        queueMicrotask(() => this.destroy(abortError(signal)));
        return this;
      }
      const onAbort = () => this.destroy(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      this.once('close', () => signal.removeEventListener('abort', onAbort));
    }
    const host = opts.host;
    const start = (address: string) => {
      if (this.destroyed) return;
      try {
        const tcp = this.stack.connect({
          host: address,
          port,
          localAddress: opts.localAddress,
          localPort: opts.localPort,
          config: opts.config,
        });
        this.#attach(tcp);
        if (opts.noDelay) tcp.setNoDelay(true);
        if (opts.keepAlive) tcp.setKeepAlive(true, opts.keepAliveInitialDelay ?? 0);
      } catch (e) {
        const te = e as TcpError;
        this.destroy(systemError(te.code ?? 'EINVAL', 'connect', te.message, address, port));
      }
    };
    if (host === undefined) {
      queueMicrotask(() =>
        this.destroy(
          systemError('EINVAL', 'connect', 'synack needs the host: an IP address (or pass lookup)'),
        ),
      );
    } else if (isIP(host)) {
      start(host);
    } else if (opts.lookup) {
      opts.lookup(host, { family: opts.family }, (err, address, fam) => {
        this.emit('lookup', err, address, fam, host);
        if (err) this.destroy(err);
        else start(address);
      });
    } else {
      queueMicrotask(() =>
        this.destroy(
          systemError(
            'ENOTFOUND',
            'getaddrinfo',
            `synack resolves no host names; connect to an IP address, or pass lookup (e.g. dns.lookup) to resolve "${host}"`,
            host,
          ),
        ),
      );
    }
    return this;
  }

  #attach(tcp: TcpSocket): void {
    this.#tcp = tcp;
    if (!this.#reffed) this.#ref();
    tcp.on('connect', () => {
      this.connecting = false;
      this.#activity();
      this.emit('connect');
      this.emit('ready');
    });
    tcp.on('readable', () => {
      this.#activity();
      this.#pull();
    });
    tcp.on('end', () => {
      this.#eof = true;
      this.#pull();
    });
    tcp.on('drain', () => this.emit('synack-drain'));
    tcp.on('error', (e) => {
      const syscall = this.connecting ? 'connect' : 'read';
      this.destroy(systemError(e.code, syscall, e.message, this.remoteAddress, this.remotePort));
    });
    tcp.on('close', () => {
      // The connection is gone (reset, timed out, or TIME-WAIT reached): so is the stream.
      if (!this.destroyed) {
        this.#eof = true;
        this.#pull();
        if (this.writableFinished || !this.writable) this.destroy();
      }
    });
    const st = tcp.state;
    if (st !== State.SynSent && st !== State.Closed) {
      this.connecting = false;
      if (tcp.conn.finReceived) this.#eof = true;
    }
  }

  // ---- the stream --------------------------------------------------------------

  override _read(): void {
    this.#reading = true;
    this.#pull();
  }

  #pull(): void {
    const tcp = this.#tcp;
    if (!tcp) return;
    while (this.#reading) {
      const d = tcp.read();
      if (!d) break;
      if (!this.push(Buffer.from(d.buffer, d.byteOffset, d.length))) this.#reading = false;
    }
    if (this.#eof && !this.#ended && tcp.conn.recvQueued === 0) {
      this.#ended = true;
      this.push(null);
    }
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    const tcp = this.#tcp;
    if (!tcp) {
      // Written before connect() was called: wait for it, as net.Socket does.
      this.once('connect', () => this._write(chunk, _encoding, callback));
      return;
    }
    let ok: boolean;
    try {
      ok = tcp.write(chunk);
    } catch (e) {
      callback(systemError('EPIPE', 'write', (e as Error).message));
      return;
    }
    this.#activity();
    if (ok) callback();
    else this.once('synack-drain', () => callback());
  }

  /**
   * Corked or queued chunks go to TCP in one write, as net.Socket's writev: Node's
   * http sends a response's headers and body this way, and as two writes the
   * body would wait behind Nagle for the ACK of the headers (a delayed ACK away).
   */
  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    const one = chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk));
    this._write(one, 'binary', callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const tcp = this.#tcp;
    if (!tcp) {
      this.once('connect', () => this._final(callback));
      return;
    }
    if (tcp.state !== State.Closed) tcp.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#clearTimer();
    this.#unrefNow();
    const tcp = this.#tcp;
    this.connecting = false;
    if (tcp && tcp.state !== State.Closed) {
      // As closing a file descriptor: FIN, or RST if received data was never read.
      if (this.#reset) tcp.destroy();
      else tcp.close();
    }
    callback(error);
  }

  #reset = false;

  /** Closes with RST (as net.Socket.resetAndDestroy). */
  resetAndDestroy(): this {
    this.#reset = true;
    return this.destroy();
  }

  // ---- net.Socket surface ------------------------------------------------------

  get remoteAddress(): string | undefined {
    return this.#tcp?.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.#tcp?.remotePort;
  }
  get remoteFamily(): 'IPv4' | 'IPv6' | undefined {
    const a = this.remoteAddress;
    return a === undefined ? undefined : family(a);
  }
  get localAddress(): string | undefined {
    return this.#tcp?.localAddress;
  }
  get localPort(): number | undefined {
    return this.#tcp?.localPort;
  }
  get localFamily(): 'IPv4' | 'IPv6' | undefined {
    const a = this.localAddress;
    return a === undefined ? undefined : family(a);
  }
  address(): AddressInfo | Record<string, never> {
    const a = this.localAddress;
    if (a === undefined) return {};
    return { address: a, family: family(a), port: this.localPort! };
  }
  get bytesRead(): number {
    return this.#tcp?.bytesRead ?? 0;
  }
  get bytesWritten(): number {
    return this.#tcp?.bytesWritten ?? 0;
  }
  get pending(): boolean {
    return !this.#tcp || this.connecting;
  }
  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }
  /** The engine's view of the connection (state, RFC variables), when connected. */
  get tcp(): TcpSocket | null {
    return this.#tcp;
  }

  /**
   * As stream.Writable's end(). A bare call on a socket already finished or
   * destroyed does nothing, as in Node, but builds no error object (with its
   * stack trace) that nobody would receive: Node's http server ends every
   * socket its client closes, most of them finished, and that error cost ~5%
   * of a request.
   */
  // biome-ignore lint/suspicious/noExplicitAny: the overloads of Writable.end.
  override end(...args: any[]): this {
    // Only a bare end(): with data, Node's error events must stay as they are.
    if (args.length === 0 && (this.writableFinished || this.destroyed)) return this;
    return super.end(...args);
  }

  setNoDelay(noDelay = true): this {
    this.#tcp?.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable = false, initialDelay = 0): this {
    this.#tcp?.setKeepAlive(enable, initialDelay);
    return this;
  }

  /** Emits 'timeout' after `ms` without activity (0 turns it off), as net.Socket. */
  setTimeout(ms: number, callback?: () => void): this {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`timeout must be a non-negative number of ms, got ${ms}`);
    }
    // As Node: a timeout past setTimeout's range is cut to its longest (24.8 days), not fired at once.
    this.#timeout = Math.min(ms, MAX_TIMEOUT);
    if (callback) {
      if (ms === 0) this.off('timeout', callback);
      else this.once('timeout', callback);
    }
    this.#activity();
    return this;
  }

  get timeout(): number | undefined {
    return this.#timeout || undefined;
  }

  #activity(): void {
    this.#clearTimer();
    if (this.#timeout > 0 && !this.destroyed) {
      this.#timer = setTimeout(() => this.emit('timeout'), this.#timeout);
      this.#timer.unref();
    }
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  ref(): this {
    if (!this.#reffed && !this.destroyed) this.#ref();
    return this;
  }

  unref(): this {
    this.#unrefNow();
    return this;
  }

  #ref(): void {
    if (this.#reffed) return;
    this.#reffed = true;
    keeper.add(1);
  }

  #unrefNow(): void {
    if (!this.#reffed) return;
    this.#reffed = false;
    keeper.add(-1);
  }
}

function abortError(signal: AbortSignal): Error {
  const e = new Error('The operation was aborted', { cause: signal.reason });
  e.name = 'AbortError';
  (e as Error & { code: string }).code = 'ABORT_ERR';
  return e;
}

export interface ServerOptions {
  stack: Stack;
  allowHalfOpen?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  /** Engine settings for the listener and its connections. */
  config?: Partial<TcpConfig>;
}

export interface ListenOptions {
  port?: number;
  host?: string;
  backlog?: number;
  signal?: AbortSignal;
}

export class Server extends EventEmitter {
  readonly stack: Stack;
  /** Connections beyond this are closed as they arrive (as net.Server). */
  maxConnections = Infinity;
  #tcp: TcpServer | null = null;
  #host: string | undefined;
  /**
   * Connections open, counted (net.Server keeps a count too). A Set of the
   * sockets made the young collector copy every connection's objects: each
   * time a Set grows or sheds deleted entries V8 moves it to a new table, and
   * the old one, once promoted and dead, still names the sockets it held —
   * old garbage the scavenger must treat as live. 880 bytes a request
   * promoted under HTTP load, against none with the count.
   */
  #open = 0;
  #options: ServerOptions;
  #reffed = false;
  #closing = false;

  constructor(options: ServerOptions, connectionListener?: (socket: Socket) => void) {
    super();
    if (!options || typeof options !== 'object' || !options.stack) {
      throw new TypeError('createServer({ stack }): a synack Stack is required');
    }
    this.stack = options.stack;
    this.#options = options;
    if (connectionListener) this.on('connection', connectionListener);
  }

  get listening(): boolean {
    return this.#tcp !== null;
  }

  /** listen(port[, host][, backlog][, callback]) or listen(options[, callback]). */
  listen(...args: unknown[]): this {
    let opts: ListenOptions = {};
    let cb: (() => void) | undefined;
    if (typeof args[args.length - 1] === 'function') cb = args.pop() as () => void;
    if (typeof args[0] === 'object' && args[0] !== null) opts = args[0] as ListenOptions;
    else {
      opts.port = args[0] === undefined ? 0 : Number(args[0]);
      if (typeof args[1] === 'string') opts.host = args[1];
      const b = typeof args[1] === 'number' ? args[1] : args[2];
      if (typeof b === 'number') opts.backlog = b;
    }
    const port = opts.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      const e = new RangeError(`options.port must be an integer from 0 to 65535, got ${opts.port}`);
      (e as RangeError & { code: string }).code = 'ERR_SOCKET_BAD_PORT';
      throw e;
    }
    if (this.#tcp) {
      const e = new Error('Listen method has been called more than once without closing.');
      (e as Error & { code: string }).code = 'ERR_SERVER_ALREADY_LISTEN';
      throw e;
    }
    if (cb) this.once('listening', cb);
    try {
      this.#tcp = this.stack.listen({
        port,
        host: opts.host,
        backlog: opts.backlog,
        config: this.#options.config,
      });
    } catch (e) {
      const te = e as TcpError;
      process.nextTick(() =>
        this.emit('error', systemError(te.code ?? 'EINVAL', 'listen', te.message, opts.host, port)),
      );
      return this;
    }
    this.#host = opts.host;
    this.#closing = false;
    if (!this.#reffed) {
      this.#reffed = true;
      keeper.add(1);
    }
    this.#tcp.on('connection', (tcp) => this.#accept(tcp));
    opts.signal?.addEventListener('abort', () => this.close(), { once: true });
    process.nextTick(() => this.emit('listening'));
    return this;
  }

  #accept(tcp: TcpSocket): void {
    if (this.#open >= this.maxConnections) {
      tcp.destroy();
      this.emit('drop', {
        localAddress: tcp.localAddress,
        localPort: tcp.localPort,
        remoteAddress: tcp.remoteAddress,
        remotePort: tcp.remotePort,
      });
      return;
    }
    const o = this.#options;
    const s = new Socket({ stack: this.stack, allowHalfOpen: o.allowHalfOpen }, tcp);
    if (o.noDelay) s.setNoDelay(true);
    if (o.keepAlive) s.setKeepAlive(true, o.keepAliveInitialDelay ?? 0);
    this.#open++;
    s.once('close', () => {
      this.#open--;
      this.#maybeClosed();
    });
    this.emit('connection', s);
  }

  /** Stops accepting; 'close' follows once every connection has ended (as net.Server). */
  close(callback?: (err?: Error) => void): this {
    if (!this.#tcp) {
      const e = new Error('Server is not running.');
      (e as Error & { code: string }).code = 'ERR_SERVER_NOT_RUNNING';
      if (callback) process.nextTick(callback, e);
      return this;
    }
    if (callback) this.once('close', callback);
    this.#tcp.close();
    this.#tcp = null;
    this.#closing = true;
    if (this.#reffed) {
      this.#reffed = false;
      keeper.add(-1);
    }
    this.#maybeClosed();
    return this;
  }

  #maybeClosed(): void {
    if (this.#closing && this.#open === 0) {
      this.#closing = false;
      process.nextTick(() => this.emit('close'));
    }
  }

  address(): AddressInfo | null {
    const t = this.#tcp;
    if (!t) return null;
    const address = this.#host ?? (this.stack.addresses[0].length === 16 ? '::' : '0.0.0.0');
    return { address, family: family(address), port: t.port };
  }

  getConnections(callback: (err: Error | null, count: number) => void): this {
    process.nextTick(callback, null, this.#open);
    return this;
  }

  ref(): this {
    if (!this.#reffed && this.#tcp) {
      this.#reffed = true;
      keeper.add(1);
    }
    return this;
  }

  unref(): this {
    if (this.#reffed) {
      this.#reffed = false;
      keeper.add(-1);
    }
    return this;
  }
}

/** As net.createServer, on a synack stack: createServer({ stack }, listener). */
export function createServer(
  options: ServerOptions,
  connectionListener?: (socket: Socket) => void,
): Server {
  return new Server(options, connectionListener);
}

/** As net.connect / net.createConnection, on a synack stack: connect({ stack, host, port }). */
export function connect(options: TcpSocketConnectOptions, connectionListener?: () => void): Socket {
  const s = new Socket({ stack: options.stack, allowHalfOpen: options.allowHalfOpen });
  return s.connect(options, connectionListener);
}

export const createConnection = connect;
