// TcpConfig values out of range are refused with a RangeError that names the
// field and what it accepts, never wrapped onto the wire.

import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/sim/clock.ts';
import { Stack } from '../../src/stack/stack.ts';
import type { TcpConfig } from '../../src/tcp/types.ts';

const make = (config: Partial<TcpConfig>) =>
  new Stack({ addresses: ['198.18.0.1'], clock: new VirtualClock(), config });

describe('TcpConfig validation', () => {
  const bad: [Partial<TcpConfig>, RegExp][] = [
    [{ mss: -1 }, /TcpConfig\.mss must be an integer from 64 to 65495, got -1/],
    [{ mss: 70000 }, /TcpConfig\.mss .* got 70000/],
    [{ rcvBuf: 0 }, /TcpConfig\.rcvBuf/],
    [{ ackDelayMax: 600 }, /TcpConfig\.ackDelayMax must be a number from 1 to 500/],
    [{ ttl: 256 }, /TcpConfig\.ttl/],
    [{ dataRetries: 2, r1Retries: 3 }, /r1Retries \(3\) must not exceed dataRetries/],
    [{ minRto: 5000, maxRto: 1000 }, /minRto \(5000\) must not exceed maxRto/],
    [
      { synCookies: 'maybe' as never },
      /TcpConfig\.synCookies must be one of "auto", "always", "off"/,
    ],
    [{ timestamps: 'yes' as never }, /TcpConfig\.timestamps must be one of true, false/],
    [{ initialRto: Number.NaN }, /TcpConfig\.initialRto/],
    [{ finTimeout: -1 }, /TcpConfig\.finTimeout must be a number from 0 to 3600000, got -1/],
  ];
  for (const [cfg, why] of bad) {
    it(`refuses ${JSON.stringify(cfg)}`, () => {
      expect(() => make(cfg)).toThrow(RangeError);
      expect(() => make(cfg)).toThrow(why);
    });
  }

  it('checks per-connection and per-listener overrides too', () => {
    const s = make({});
    expect(() => s.connect({ host: '198.18.0.2', port: 80, config: { mss: 10 } })).toThrow(
      /TcpConfig\.mss/,
    );
    expect(() => s.listen({ port: 80, config: { quickAcks: -1 } })).toThrow(/TcpConfig\.quickAcks/);
  });

  it('accepts the defaults and values at the edges', () => {
    expect(() => make({})).not.toThrow();
    expect(() => make({ mss: 64, ackDelayMin: 500, ackDelayMax: 500, tos: 255 })).not.toThrow();
  });
});
