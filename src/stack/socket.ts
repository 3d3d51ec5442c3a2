// The socket API over the engine, shaped like Node's `net`: a socket with
// write/end/destroy and 'connect', 'data', 'end', 'close', 'error', 'drain'
// events (or pull-style `read()`), and a server with 'connection' or `accept()`.

import { CONGESTION_NAMES, type CongestionName } from '../tcp/cc.ts';
import type { ConnEvent, Connection } from '../tcp/connection.ts';
import { TcpError } from '../tcp/errors.ts';
import type { Listener } from '../tcp/listener.ts';
import { State } from '../tcp/types.ts';
import { formatAddr } from '../wire/addr.ts';
import { Emitter } from './emitter.ts';
import type { Stack } from './stack.ts';

export interface SocketEvents {
  connect: () => void;
  data: (chunk: Uint8Array) => void;
  readable: () => void;
  end: () => void;
  drain: () => void;
  error: (err: TcpError) => void;
  /** Urgent data arrived (RFC 9293 §3.8.5); `urgentPending` bytes of the stream are urgent. */
  urgent: (pending: number) => void;
  /** A soft error (ICMP, or no answer after R1 retransmissions): the connection carries on. */
  softError: (err: TcpError) => void;
  close: (hadError: boolean) => void;
}

const encoder = new TextEncoder();

const NONE: Uint8Array[] = [];

export class TcpSocket extends Emitter<SocketEvents> {
  bytesRead = 0;
  bytesWritten = 0;
  /** Written bytes waiting for send-buffer space; a shared empty list until there are some. */
  private pending: Uint8Array[] = NONE;
  private ending = false;
  private ended = false;
  private closed = false;

  constructor(
    private readonly stack: Stack,
    readonly conn: Connection,
  ) {
    super();
  }

  get state(): State {
    return this.conn.state;
  }
  get localAddress(): string {
    return formatAddr(this.conn.localAddr);
  }
  get localPort(): number {
    return this.conn.localPort;
  }
  get remoteAddress(): string {
    return formatAddr(this.conn.remoteAddr);
  }
  get remotePort(): number {
    return this.conn.remotePort;
  }
  get error(): TcpError | null {
    return this.conn.error;
  }

  private queue(b: Uint8Array): void {
    if (this.pending === NONE) this.pending = [];
    this.pending.push(b);
  }

  /** Data waits for buffer space: write() returned false and 'drain' has not come yet (Node's name). */
  get writableNeedDrain(): boolean {
    return this.pending.length > 0;
  }

  /** Queues data; false when it waits for buffer space ('drain' follows). */
  write(data: Uint8Array | string): boolean {
    const bytes = this.writable(data);
    if (bytes.length === 0) return true;
    this.stack.step((now) => {
      this.app('write', now, bytes.length);
      if (this.pending.length > 0) {
        this.queue(bytes.slice());
        return;
      }
      const n = this.conn.send(bytes, now);
      if (n < bytes.length) this.queue(bytes.slice(Math.max(0, n)));
    });
    this.bytesWritten += bytes.length;
    return this.pending.length === 0;
  }

  /** Queues urgent data (RFC 9293 §3.8.5, RFC 6093): sent inline, with the urgent pointer at its end. */
  writeUrgent(data: Uint8Array | string): boolean {
    const bytes = this.writable(data);
    if (bytes.length === 0) return true;
    if (this.pending.length > 0 || this.conn.sendSpace < bytes.length) {
      throw new TcpError('EAGAIN', 'urgent data does not fit the send buffer now; wait for drain');
    }
    this.stack.step((now) => this.conn.sendUrgent(bytes, now));
    this.bytesWritten += bytes.length;
    return true;
  }

  /** Bytes of urgent data received and not yet read (MUST-33). */
  get urgentPending(): number {
    return this.conn.urgentPending;
  }

  /** The last soft error reported on this connection, if any. */
  get softError(): TcpError | null {
    return this.conn.softError;
  }

  /**
   * R1 and R2 of RFC 9293 §3.8.3 for this connection (MUST-21): after `r1`
   * retransmissions of a segment a 'softError' is emitted; after `r2` the
   * connection fails with ETIMEDOUT.
   */
  setRetries(r1: number, r2: number): this {
    if (!Number.isInteger(r2) || r2 < 1 || r2 > 255) {
      throw new RangeError(`r2 must be an integer from 1 to 255 retransmissions, got ${r2}`);
    }
    if (!Number.isInteger(r1) || r1 < 1 || r1 > r2) {
      throw new RangeError(`r1 must be an integer from 1 to r2 (${r2}), got ${r1}`);
    }
    this.conn.r1 = r1;
    this.conn.r2 = r2;
    return this;
  }

  /** The IP time to live / hop limit of segments sent (MUST-49). */
  setTTL(ttl: number): this {
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) {
      throw new RangeError(`ttl must be an integer from 1 to 255, got ${ttl}`);
    }
    this.conn.ttl = ttl;
    return this;
  }

  /** The TOS byte / traffic class (DiffServ code point << 2 | ECN) of segments sent (MUST-48). */
  setTOS(tos: number): this {
    if (!Number.isInteger(tos) || tos < 0 || tos > 255) {
      throw new RangeError(`tos must be an integer from 0 to 255, got ${tos}`);
    }
    this.conn.tos = tos;
    return this;
  }

  /**
   * Closes both directions (RFC 9293 CLOSE with nothing more to read): a FIN
   * follows the written data, but if received data was never read, or more
   * arrives, the peer gets RST instead (RFC 2525 §2.17), as a kernel does when
   * a socket with unread data is closed.
   */
  close(): this {
    if (this.closed) return this;
    this.ending = true;
    this.stack.step((now) => {
      this.app('close', now);
      if (this.pending.length > 0 && this.conn.recvQueued === 0) {
        // Unsent bytes still wait for buffer space: they go first, then the FIN.
        this.conn.readClosed = true;
        return;
      }
      this.conn.close(now, false);
    });
    return this;
  }

  /** Reports an application call to the trace. */
  private app(
    call: 'write' | 'read' | 'shutdown' | 'close' | 'abort',
    now: number,
    bytes?: number,
  ): void {
    this.stack.tracer?.emit({
      type: 'app',
      t: now,
      host: this.stack.name,
      conn: this.conn.id,
      call,
      bytes,
    });
  }

  /** The bytes of `data`, if this socket may still write (else EPIPE). */
  private writable(data: Uint8Array | string): Uint8Array {
    if (this.ending || this.closed) {
      throw new TcpError('EPIPE', 'write after end: the socket was ended or closed');
    }
    return typeof data === 'string' ? encoder.encode(data) : data;
  }

  /** Half-closes: a FIN follows the written data. */
  end(data?: Uint8Array | string): this {
    if (data !== undefined) this.write(data);
    if (this.ending || this.closed) return this;
    this.ending = true;
    // As Node does: end() before the handshake completes sends the FIN once
    // connected (CLOSE in SYN-SENT would delete the connection, RFC 9293 §3.10.4).
    if (this.pending.length === 0 && this.conn.state !== State.SynSent) this.closeConn();
    return this;
  }

  /** Aborts: RST to the peer, everything unsent or unread is discarded. */
  destroy(): this {
    if (this.closed) return this;
    this.stack.step((now) => {
      this.app('abort', now);
      this.conn.abort(now);
    });
    return this;
  }

  /** Pull-style read: up to `max` bytes, or null when none are waiting. */
  read(max = Infinity): Uint8Array | null {
    return this.stack.step((now) => {
      const d = this.conn.read(max, now);
      if (d) {
        this.bytesRead += d.length;
        this.app('read', now, d.length);
      }
      return d;
    });
  }

  setNoDelay(on = true): this {
    this.conn.noDelay = on;
    return this;
  }

  /**
   * This connection's congestion control, as TCP_CONGESTION: 'cubic' or
   * 'newreno' (a RangeError names what is accepted otherwise).
   */
  setCongestion(algo: CongestionName): this {
    if (!CONGESTION_NAMES.includes(algo)) {
      throw new RangeError(
        `setCongestion: must be one of ${CONGESTION_NAMES.map((n) => JSON.stringify(n)).join(', ')}, got ${JSON.stringify(algo)}`,
      );
    }
    this.stack.step((now) => this.conn.setCongestion(algo, now));
    return this;
  }

  /** Keep-alive probes after `initialDelay` ms idle (0: the configured default), as Node's setKeepAlive. */
  setKeepAlive(enable = false, initialDelay = 0): this {
    this.stack.step((now) =>
      this.conn.setKeepAlive(enable, now, initialDelay > 0 ? initialDelay : undefined),
    );
    return this;
  }

  /** @internal */
  handle(ev: ConnEvent): void {
    switch (ev.type) {
      case 'established':
        if (this.ending && this.pending.length === 0 && !this.conn.finQueued) this.closeConn();
        this.emit('connect');
        break;
      case 'readable':
        if (this.listenerCount('data') > 0) {
          for (let d = this.read(); d; d = this.read()) this.emit('data', d);
        } else {
          this.emit('readable');
        }
        break;
      case 'end':
        if (!this.ended) {
          this.ended = true;
          this.emit('end');
        }
        break;
      case 'writable':
        this.flush();
        break;
      case 'urgent':
        this.emit('urgent', this.conn.urgentPending);
        break;
      case 'soft-error':
        this.emit('softError', ev.error);
        break;
      case 'closed':
        if (this.closed) return;
        this.closed = true;
        if (ev.error) this.emit('error', ev.error);
        this.emit('close', ev.error !== undefined);
        break;
    }
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.stack.step((now) => {
      while (this.pending.length > 0) {
        const b = this.pending[0];
        const n = this.conn.send(b, now);
        if (n < b.length) {
          this.pending[0] = b.subarray(Math.max(0, n));
          return;
        }
        this.pending.shift();
      }
    });
    if (this.pending.length === 0) {
      if (this.ending) this.closeConn();
      this.emit('drain');
    }
  }

  private closeConn(): void {
    this.stack.step((now) => {
      this.app('shutdown', now);
      // After close() (readClosed), the full close its pending writes held back.
      this.conn.close(now, !this.conn.readClosed);
    });
  }

  protected override listenerAdded(event: keyof SocketEvents): void {
    if (event === 'data' && this.conn.recvQueued > 0) {
      this.stack.step(() => this.handle({ type: 'readable' }));
    }
    if (event === 'end' && this.conn.finReceived && this.conn.recvQueued === 0) {
      this.stack.step(() => this.handle({ type: 'end' }));
    }
  }
}

export interface ServerEvents {
  connection: (socket: TcpSocket) => void;
  close: () => void;
}

export class TcpServer extends Emitter<ServerEvents> {
  constructor(
    private readonly stack: Stack,
    readonly listener: Listener,
  ) {
    super();
    listener.owner = this;
  }

  get port(): number {
    return this.listener.localPort;
  }

  /** Takes the next established connection, or undefined when none waits. */
  accept(): TcpSocket | undefined {
    const conn = this.listener.accept();
    if (!conn) return undefined;
    const sock = new TcpSocket(this.stack, conn);
    conn.owner = sock;
    this.stack.tracer?.emit({
      type: 'app',
      t: this.stack.now(),
      host: this.stack.name,
      conn: conn.id,
      call: 'accept',
    });
    if (conn.state === State.Closed && conn.error) {
      this.stack.step(() => sock.handle({ type: 'closed', error: conn.error! }));
    }
    // Data or a FIN that arrived before accept() is replayed when a listener attaches.
    return sock;
  }

  close(): void {
    this.stack.closeListener(this.listener);
    this.emit('close');
  }

  /** @internal */
  onEstablished(): void {
    if (this.listenerCount('connection') === 0) return;
    for (let s = this.accept(); s; s = this.accept()) this.emit('connection', s);
  }

  protected override listenerAdded(event: keyof ServerEvents): void {
    if (event === 'connection' && this.listener.acceptQueue.length > 0) this.onEstablished();
  }
}
