// A seeded random mix of clients, a server and faults (loss, duplication,
// reordering, corruption up to 30%, delay spikes, reboots), with invariants
// checked on every run. `npm run chaos` runs many seeds.

import type { Stack } from '../../stack/stack.ts';
import { seededRandom } from '../../tcp/random.ts';
import { seqGe } from '../../tcp/seq.ts';
import { State, type TraceEvent } from '../../tcp/types.ts';
import { Network } from '../network.ts';
import { check, type RunOptions, result, type Scenario, type ScenarioResult } from './scenario.ts';

/**
 * Bound on virtual time for one run: every connection must have settled by
 * then. With the default limits a connection gives up after at most 127 s of
 * SYN retries plus about 925 s of data retries (RTO backoff capped at 120 s),
 * then TIME-WAIT: an hour is a generous bound.
 */
export const RANDOM_HORIZON = 3_600_000;

export const random: Scenario = {
  name: 'random',
  title: 'Random faults (chaos)',
  description:
    'A seeded mix: one echo server, several clients each sending a few kilobytes and closing, over links with random loss, duplication, reordering and corruption (each up to 30%), delay spikes, and sometimes a server reboot. Invariants: no exception escapes; every connection ends either with its data echoed byte-exact or closed with a stated reason; sequence numbers only move forward; nothing is left behind once all is closed.',
  params: [],
  run(opts) {
    return [runRandom(opts)];
  },
};

export function runRandom(opts: RunOptions): ScenarioResult {
  const r = seededRandom(opts.seed ^ 0x5eed);
  const pick = (max: number) => (r.u32() / 2 ** 32) * max;
  const net = new Network(opts.seed, {
    latency: 5 + Math.floor(pick(50)),
    jitter: Math.floor(pick(20)),
    bandwidth: 0,
    loss: opts.loss ?? pick(0.3),
    duplicate: pick(0.3),
    corrupt: pick(0.3),
    reorder: pick(0.3),
    reorderDelay: 20 + Math.floor(pick(200)),
  });
  const server = net.addHost('server', '198.18.0.100');
  let srv: Stack = server;
  const serve = (s: Stack) =>
    s.listen({ port: 7 }).on('connection', (sock) => {
      sock.on('data', (d) => sock.write(d));
      sock.on('end', () => sock.end());
      sock.on('error', () => {});
    });
  serve(srv);
  const clients = 1 + Math.floor(pick(4));
  const outcomes: {
    host: string;
    sent: number;
    echoed: number;
    same: boolean;
    closed: boolean;
    reason?: string;
  }[] = [];
  for (let i = 0; i < clients; i++) {
    const name = `client${i + 1}`;
    const c = net.addHost(name, `198.18.0.${i + 1}`);
    const size = 1 + Math.floor(pick(8000));
    const data = new Uint8Array(size);
    for (let k = 0; k < size; k++) data[k] = (k * 7 + i) & 0xff;
    const start = Math.floor(pick(2000));
    const o = {
      host: name,
      sent: size,
      echoed: 0,
      same: true,
      closed: false,
      reason: undefined as string | undefined,
    };
    outcomes.push(o);
    net.clock.schedule(start, () => {
      // Keep-alive, as a long-lived client would: it finds a peer that rebooted and forgot us.
      const sock = c.connect({
        host: '198.18.0.100',
        port: 7,
        config: {
          keepAlive: true,
          keepAliveIdle: 60_000,
          keepAliveInterval: 10_000,
          keepAliveProbes: 5,
        },
      });
      sock.on('data', (d) => {
        for (let k = 0; k < d.length; k++) if (d[k] !== data[o.echoed + k]) o.same = false;
        o.echoed += d.length;
      });
      sock.on('end', () => sock.end());
      sock.on('error', (e) => (o.reason = e.code));
      sock.on('close', () => (o.closed = true));
      sock.write(data);
      sock.end();
    });
  }
  // Delay spikes and, sometimes, a server reboot.
  if (pick(1) < 0.5) {
    const at = Math.floor(pick(3000));
    net.clock.schedule(at, () =>
      net.setLink('client1', 'server', { latency: 500 + Math.floor(pick(1500)) }),
    );
    net.clock.schedule(at + 2000, () => net.setLink('client1', 'server', { latency: 20 }));
  }
  if (pick(1) < 0.25) {
    net.clock.schedule(Math.floor(pick(4000)), () => {
      srv = net.reboot('server');
      serve(srv);
    });
  }
  let thrown: unknown;
  try {
    net.run(RANDOM_HORIZON);
  } catch (e) {
    thrown = e;
  }
  const forward = sequenceMovesForward(net.events);
  const settled = outcomes.every(
    (o) =>
      o.closed &&
      ((o.echoed === o.sent && o.same && o.reason === undefined) || o.reason !== undefined),
  );
  const leftovers = [srv, ...outcomes.map((o) => net.stack(o.host))].reduce(
    (n, s) => n + [...s.connections.values()].filter((c) => c.state !== State.TimeWait).length,
    0,
  );
  const timeWaitLeft =
    net.clock.now() >= RANDOM_HORIZON ? 0 : [srv].reduce((n, s) => n + s.connections.size, 0);
  return result(
    'random',
    opts,
    net,
    [
      check(
        'no exception escaped',
        thrown === undefined,
        thrown ? String((thrown as Error).stack ?? thrown) : undefined,
      ),
      check(
        'every connection ended: data echoed byte-exact, or closed with a stated reason',
        settled,
        JSON.stringify(outcomes),
      ),
      check('sequence numbers only moved forward', forward.ok, forward.detail),
      check(
        'nothing is left behind after close',
        leftovers === 0 && timeWaitLeft === 0,
        `leftover connections: ${leftovers}`,
      ),
    ],
    { clients: outcomes },
  );
}

/** Each sender's SND.MAX, seen as the highest sequence number it ever sent, never moves backwards by more than a window. */
function sequenceMovesForward(events: readonly TraceEvent[]): { ok: boolean; detail?: string } {
  const high = new Map<string, number>();
  for (const e of events) {
    if (e.type !== 'state' || e.to !== State.Closed) continue;
    high.delete(`${e.host}/${e.conn}`);
  }
  const seen = new Map<string, number>();
  for (const e of events) {
    if (e.type !== 'segment' || e.dir !== 'out' || e.conn === 0) continue;
    const k = `${e.host}/${e.conn}`;
    const end = (e.seg.seq + e.seg.payload.length) >>> 0;
    const prev = seen.get(k);
    if (prev === undefined || seqGe(end, prev)) seen.set(k, end);
    else if (
      e.why !== 'retransmit' &&
      e.why !== 'probe' &&
      e.why !== 'reset' &&
      !(e.seg.payload.length === 0)
    ) {
      return { ok: false, detail: `${k} sent new data at ${e.seg.seq} below ${prev}` };
    }
  }
  return { ok: true };
}
