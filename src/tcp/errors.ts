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
  | 'EALREADY';

export class TcpError extends Error {
  readonly code: TcpErrorCode;
  constructor(code: TcpErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

export class ConnectionRefused extends TcpError {
  constructor(message = 'connection refused: the peer answered the SYN with RST') {
    super('ECONNREFUSED', message);
  }
}

export class ConnectionReset extends TcpError {
  constructor(message = 'connection reset by peer') {
    super('ECONNRESET', message);
  }
}

export class ConnectionTimedOut extends TcpError {
  constructor(message = 'connection timed out: retransmissions exhausted') {
    super('ETIMEDOUT', message);
  }
}

export class ConnectionAborted extends TcpError {
  constructor(message = 'connection aborted locally') {
    super('ECONNABORTED', message);
  }
}
