// synack's Node-only API: `net`-compatible sockets over a synack stack, the
// TUN link, and what needs files or processes.

export { scriptCommand } from '../cli/script.ts';
export { openTun, TunError, type TunLink } from '../link/tun.ts';
export {
  type AddressInfo,
  connect,
  createConnection,
  createServer,
  type ListenOptions,
  Server,
  type ServerOptions,
  Socket,
  type SocketOptions,
  type SystemError,
  type TcpSocketConnectOptions,
} from './net.ts';
