// Sequential handshakes per second: two synack stacks over an in-memory link
// (connect, accept, abort with RST), side by side with Node's `net` doing the
// same over loopback (connect, accept, resetAndDestroy) in the same run.
// Prints the median of several rounds and the ratio. Run: npm run bench
// (bundled with esbuild first, so the loader's module glue is not measured).

import net from 'node:net';
import { Bench } from 'tinybench';
import { memoryPair } from '../src/link/memory.ts';
import { VirtualClock } from '../src/sim/clock.ts';
import { Stack } from '../src/stack/stack.ts';
import { seededRandom } from '../src/tcp/random.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const TIME = Number(process.env.TIME_MS ?? 1000);

function synackPair() {
  const clock = new VirtualClock();
  const client = new Stack({
    name: 'c',
    addresses: ['198.18.0.1'],
    clock,
    random: seededRandom(1),
  });
  const server = new Stack({
    name: 's',
    addresses: ['198.18.0.2'],
    clock,
    random: seededRandom(2),
  });
  // Synchronous delivery: each stack queues what arrives while it is busy.
  const [a, b] = memoryPair((fn) => fn());
  client.attach(a);
  server.attach(b);
  const listener = server.listen({ port: 80, backlog: 4096 });
  return () => {
    const sock = client.connect({ host: '198.18.0.2', port: 80 });
    const peer = listener.accept();
    if (!peer || sock.state !== 'ESTABLISHED') throw new Error('handshake did not complete');
    sock.destroy();
  };
}

async function nodeNet() {
  const server = net.createServer((s) => s.on('error', () => {}));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.resetAndDestroy();
        resolve();
      });
      c.on('error', reject);
    });
  return { once, close: () => server.close() };
}

// biome-ignore lint/suspicious/noExplicitAny: tinybench's result type is a union with aborted runs.
const throughput = (r: any): number => r?.throughput?.mean ?? 0;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const ours: number[] = [];
const theirs: number[] = [];
const n = await nodeNet();
const handshake = synackPair();
for (let r = 0; r < ROUNDS; r++) {
  const bench = new Bench({ time: TIME, warmup: true });
  bench.add('synack', handshake).add('node net', n.once);
  await bench.run();
  const [a, b] = bench.tasks;
  ours.push(throughput(a.result));
  theirs.push(throughput(b.result));
}
n.close();

const o = median(ours);
const t = median(theirs);
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
console.log(
  `sequential handshakes per second, median of ${ROUNDS} rounds of ${TIME} ms each (node ${process.version})`,
);
console.table([
  {
    what: 'synack, two stacks, in-memory link',
    'handshakes/s': fmt(o),
    rounds: ours.map(fmt).join(' '),
  },
  {
    what: 'Node net, loopback (Linux kernel)',
    'handshakes/s': fmt(t),
    rounds: theirs.map(fmt).join(' '),
  },
]);
console.log(`ratio synack / node net: ${(o / t).toFixed(1)}×`);
