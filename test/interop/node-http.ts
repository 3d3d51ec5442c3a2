// Node's own http server on synack sockets, on a TUN device: run inside a test
// namespace by linux.test.ts, reached by the kernel's curl.

import http from 'node:http';
import { realClock, Stack } from '../../src/index.ts';
import { createServer, openTun } from '../../src/node/index.ts';

const tun = openTun(process.argv[2] ?? 'syn0');
const stack = new Stack({
  name: 'synack',
  addresses: [process.argv[3] ?? '198.18.0.2'],
  clock: realClock(),
});
stack.attach(tun);
const web = http.createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(`node http on synack: ${req.method} ${req.url}\n`);
});
createServer({ stack }, (s) => web.emit('connection', s)).listen(80, () =>
  console.log('listening'),
);
process.on('SIGTERM', () => {
  tun.close();
  process.exit(0);
});
