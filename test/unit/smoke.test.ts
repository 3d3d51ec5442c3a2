import { describe, expect, it } from 'vitest';
import { memoryPair } from '../../src/link/memory.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { Stack } from '../../src/stack/stack.ts';
import { seededRandom } from '../../src/tcp/random.ts';
import { TraceLog } from '../../src/tcp/types.ts';

describe('two stacks over a memory link', () => {
  it('complete a handshake, exchange data both ways and close', () => {
    const clock = new VirtualClock();
    const log = new TraceLog();
    const a = new Stack({
      name: 'client',
      addresses: ['198.18.0.1'],
      clock,
      random: seededRandom(1),
      tracer: log,
    });
    const b = new Stack({
      name: 'server',
      addresses: ['198.18.0.2'],
      clock,
      random: seededRandom(2),
      tracer: log,
    });
    const [la, lb] = memoryPair((fn) => clock.schedule(clock.now(), fn));
    a.attach(la);
    b.attach(lb);
    const server = b.listen({ port: 80 });
    const got: string[] = [];
    const dec = new TextDecoder();
    server.on('connection', (s) => {
      s.on('data', (d) => {
        got.push(`server:${dec.decode(d)}`);
        s.write('pong');
        s.end();
      });
    });
    const c = a.connect({ host: '198.18.0.2', port: 80 });
    let closed = false;
    c.on('connect', () => c.write('ping'));
    c.on('data', (d) => got.push(`client:${dec.decode(d)}`));
    c.on('end', () => c.end());
    c.on('close', () => {
      closed = true;
    });
    clock.run(200_000);
    expect(got).toEqual(['server:ping', 'client:pong']);
    expect(closed).toBe(true);
    expect(a.connections.size).toBe(0);
    expect(b.connections.size).toBe(0);
    const states = log.events.filter((e) => e.type === 'state').map((e) => `${e.host}:${e.to}`);
    expect(states.slice(0, 4)).toEqual([
      'client:SYN-SENT',
      'server:SYN-RECEIVED',
      'client:ESTABLISHED',
      'server:ESTABLISHED',
    ]);
  });
});
