// Checking a TcpConfig before a stack uses it: a value out of range is a
// RangeError that names the field and what it accepts, never a silent wrap
// (an MSS of -1 once went on the wire as 65535).

import { CONGESTION_NAMES } from './cc.ts';
import type { TcpConfig } from './types.ts';

type Rule = readonly [field: keyof TcpConfig, min: number, max: number, integer: boolean];

const RULES: readonly Rule[] = [
  ['mss', 64, 65495, true],
  ['rcvBuf', 1, 2 ** 30, true],
  ['sndBuf', 1, 2 ** 30, true],
  ['rcvBufMax', 1, 2 ** 30, true],
  ['sndBufMax', 1, 2 ** 30, true],
  ['initialRto', 1, 600_000, false],
  ['minRto', 1, 600_000, false],
  ['maxRto', 1, 3_600_000, false],
  ['synRetries', 0, 255, true],
  ['synAckRetries', 0, 255, true],
  ['dataRetries', 1, 255, true],
  ['r1Retries', 1, 255, true],
  ['timeWait', 0, 3_600_000, false],
  ['finTimeout', 0, 3_600_000, false],
  ['keepAliveIdle', 1, 2 ** 31 - 1, false],
  ['keepAliveInterval', 1, 2 ** 31 - 1, false],
  ['keepAliveProbes', 1, 255, true],
  ['ackDelayMin', 1, 500, false],
  // RFC 9293 MUST-40: an ACK is never delayed by more than 0.5 s.
  ['ackDelayMax', 1, 500, false],
  ['quickAcks', 0, 1_000_000, true],
  ['invalidAckInterval', 0, 60_000, false],
  ['oooMaxSegments', 1, 65_536, true],
  ['ttl', 1, 255, true],
  ['tos', 0, 255, true],
];

const CHOICES: Partial<Record<keyof TcpConfig, readonly unknown[]>> = {
  windowScaling: [true, false],
  sack: [true, false],
  timestamps: [true, false],
  noDelay: [true, false],
  keepAlive: [true, false],
  delayedAck: [true, false],
  synCookies: ['auto', 'always', 'off'],
  fastOpen: ['off', 'on', 'no-cookie'],
  congestion: CONGESTION_NAMES,
  rack: [true, false],
  hystart: [true, false],
};

/** Throws a RangeError naming the first field out of range, and the range it accepts. */
export function validateConfig(cfg: TcpConfig): TcpConfig {
  for (const [field, min, max, integer] of RULES) {
    const v = cfg[field] as unknown;
    if (
      typeof v !== 'number' ||
      Number.isNaN(v) ||
      v < min ||
      v > max ||
      (integer && !Number.isInteger(v))
    ) {
      throw new RangeError(
        `TcpConfig.${field} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${String(v)}`,
      );
    }
  }
  for (const [field, accepted] of Object.entries(CHOICES)) {
    const v = cfg[field as keyof TcpConfig];
    if (!accepted.includes(v)) {
      throw new RangeError(
        `TcpConfig.${field} must be one of ${accepted.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(v)}`,
      );
    }
  }
  if (cfg.minRto > cfg.maxRto)
    throw new RangeError(`TcpConfig.minRto (${cfg.minRto}) must not exceed maxRto (${cfg.maxRto})`);
  if (cfg.ackDelayMin > cfg.ackDelayMax) {
    throw new RangeError(
      `TcpConfig.ackDelayMin (${cfg.ackDelayMin}) must not exceed ackDelayMax (${cfg.ackDelayMax})`,
    );
  }
  if (cfg.r1Retries > cfg.dataRetries) {
    throw new RangeError(
      `TcpConfig.r1Retries (${cfg.r1Retries}) must not exceed dataRetries (${cfg.dataRetries}, R2)`,
    );
  }
  const ws = cfg.profile?.windowScale;
  if (!Number.isInteger(ws) || ws < 0 || ws > 14) {
    throw new RangeError(
      `TcpConfig.profile.windowScale must be an integer from 0 to 14, got ${ws}`,
    );
  }
  return cfg;
}
