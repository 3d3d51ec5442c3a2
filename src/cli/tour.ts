// `synack tour`: one whole connection between two stacks in virtual time,
// printed segment by segment. (The lab grows this into the scenario tour.)

import { memoryPair } from '../link/memory.ts';
import { VirtualClock } from '../sim/clock.ts';
import { Stack } from '../stack/stack.ts';
import { seededRandom } from '../tcp/random.ts';
import { TraceLog } from '../tcp/types.ts';
import { renderText } from '../trace/text.ts';

export function tourCommand(out: (s: string) => void): number {
  const clock = new VirtualClock();
  const log = new TraceLog();
  const client = new Stack({
    name: 'client',
    addresses: ['198.18.0.1'],
    clock,
    random: seededRandom(1),
    tracer: log,
  });
  const server = new Stack({
    name: 'server',
    addresses: ['198.18.0.2'],
    clock,
    random: seededRandom(2),
    tracer: log,
  });
  const [a, b] = memoryPair((fn) => clock.schedule(clock.now() + 10, fn)); // 10 ms each way
  client.attach(a);
  server.attach(b);
  const srv = server.listen({ port: 80 });
  srv.on('connection', (s) => {
    s.on('data', () => s.end('hello from the server\n'));
  });
  const c = client.connect({ host: '198.18.0.2', port: 80 });
  c.on('connect', () => c.write('hello from the client\n'));
  c.on('end', () => c.end());
  clock.run(120_000);
  out('A TCP connection between two synack stacks, 10 ms apart (times in seconds,');
  out("sequence numbers relative to each side's ISN):");
  out('');
  for (const l of renderText(log.events)) out(l);
  out('');
  out('The SYN and the FIN each consume one sequence number: the SYN,ACK acknowledges 1,');
  out('and the ACK of a FIN is one past the last data byte. Pure ACKs consume none.');
  return 0;
}
