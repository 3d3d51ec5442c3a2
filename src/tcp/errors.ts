// Errors an application sees, named as Node users know them by `code`.

export type TcpErrorCode =
  | 'ECONNREFUSED'
  | 'ECONNRESET'
  | 'ETIMEDOUT'
  | 'ECONNABORTED'
  | 'EPIPE'
  | 'EADDRINUSE'
  | 'EADDRNOTAVAIL'
  | 'EINVAL'
  | 'ENOTCONN'
  | 'EISCONN'
  | 'EALREADY'
  | 'ENETUNREACH'
  | 'EHOSTUNREACH'
  | 'EMSGSIZE'
  | 'ENOPROTOOPT'
  | 'EAGAIN';

export class TcpError extends Error {
  readonly code: TcpErrorCode;
  constructor(code: TcpErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * Errors caused by what arrived from the network (or by time passing) have no
 * useful JavaScript stack: it would only show the engine's internals. Not
 * capturing one makes them cheap enough for a per-connection path.
 */
function quiet<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * One frozen instance per kind: these errors carry nothing particular to a
 * connection (no stack, a fixed message), so every connection reset by its
 * peer can report the same object, and none is built per connection.
 */
function shared<T extends object>(make: () => T): () => T {
  let one: T | undefined;
  return () => (one ??= Object.freeze(quiet(make)));
}

export class ConnectionRefused extends TcpError {
  constructor(message = 'connection refused: the peer answered the SYN with RST') {
    super('ECONNREFUSED', message);
  }
  static readonly quiet: () => ConnectionRefused = shared(() => new ConnectionRefused());
}

export class ConnectionReset extends TcpError {
  constructor(message = 'connection reset by peer') {
    super('ECONNRESET', message);
  }
  static readonly quiet: () => ConnectionReset = shared(() => new ConnectionReset());
}

export class ConnectionTimedOut extends TcpError {
  constructor(message = 'connection timed out: retransmissions exhausted') {
    super('ETIMEDOUT', message);
  }
  static readonly quiet: () => ConnectionTimedOut = shared(() => new ConnectionTimedOut());
}

export class ConnectionAborted extends TcpError {
  constructor(message = 'connection aborted locally') {
    super('ECONNABORTED', message);
  }
}

/** An error reported while the connection lives on (RFC 9293 §3.9.1.8 soft errors: ICMP, or R1 reached). */
export function softError(code: TcpErrorCode, message: string): TcpError {
  return quiet(() => new TcpError(code, message));
}
