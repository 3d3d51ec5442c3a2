// synack's public API (browser-safe: no Node APIs anywhere below this file).

export { memoryPair } from './link/memory.ts';
export { VirtualClock } from './sim/clock.ts';
export { type Clock, realClock } from './stack/clock.ts';
export type { Link } from './stack/link.ts';
export { TcpServer, TcpSocket } from './stack/socket.ts';
export {
  type ConnectOptions,
  type ListenOptions,
  Stack,
  type StackOptions,
  type StackStats,
} from './stack/stack.ts';
export {
  connect,
  listen,
  type SocketAddress,
  type SocketInfo,
  type StreamListener,
  type StreamSocket,
  type StreamSocketOptions,
} from './stack/streams.ts';
export { type ConnEvent, Connection } from './tcp/connection.ts';
export {
  ConnectionAborted,
  ConnectionRefused,
  ConnectionReset,
  ConnectionTimedOut,
  TcpError,
  type TcpErrorCode,
} from './tcp/errors.ts';
export { fixedIsn, type IsnSource, Rfc6528Isn } from './tcp/isn.ts';
export { cryptoRandom, type Random, seededRandom } from './tcp/random.ts';
export * from './tcp/seq.ts';
export {
  type DropReason,
  defaultConfig,
  type Profile,
  profiles,
  type SendReason,
  State,
  type TcpConfig,
  type TraceEvent,
  TraceLog,
  type Tracer,
} from './tcp/types.ts';
export { renderText } from './trace/text.ts';
export * from './wire/index.ts';
