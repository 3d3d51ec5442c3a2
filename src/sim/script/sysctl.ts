// Shell lines in packet scripts: the sysctl settings of Linux (net.ipv4.tcp_*,
// net.core.*) and FreeBSD (net.inet.tcp.*) that have a synack equivalent are
// applied to the stack's configuration; anything else is reported (skipped
// and counted with --lenient, an error without it).

import type { TcpConfig } from '../../tcp/types.ts';

/** What a script's shell lines set that is not stack configuration but how its calls behave. */
export interface ScriptKnobs {
  /** Linux's net.ipv4.tcp_fastopen bits: 0x1 client enabled (the default), 0x4 client sends data without a cookie. */
  tcpFastOpen: number;
}

type Apply = (cfg: TcpConfig, value: string, knobs: ScriptKnobs) => boolean;

const int = (v: string) => (/^-?\d+$/.test(v.trim()) ? Number(v) : Number.NaN);
const onOff =
  (field: 'timestamps' | 'sack' | 'windowScaling' | 'delayedAck'): Apply =>
  (cfg, v) => {
    const n = int(v);
    if (n !== 0 && n !== 1) return false;
    cfg[field] = n === 1;
    return true;
  };
const count =
  (field: keyof TcpConfig, min: number, max: number, scale = 1): Apply =>
  (cfg, v) => {
    const n = int(v);
    if (!Number.isFinite(n) || n < min || n > max) return false;
    (cfg as unknown as Record<string, number>)[field] = n * scale;
    return true;
  };
/** "min default max" (tcp_rmem, tcp_wmem): the default is the buffer a socket starts with. */
const triple =
  (field: 'rcvBuf' | 'sndBuf'): Apply =>
  (cfg, v) => {
    const p = v.trim().split(/\s+/).map(int);
    if (p.length !== 3 || p.some((x) => !Number.isFinite(x) || x < 1)) return false;
    cfg[field] = p[1];
    return true;
  };

const SETTINGS: Record<string, Apply> = {
  // Linux (Documentation/networking/ip-sysctl.rst)
  'net.ipv4.tcp_timestamps': onOff('timestamps'),
  'net.ipv4.tcp_sack': onOff('sack'),
  'net.ipv4.tcp_window_scaling': onOff('windowScaling'),
  // Module names: "reno" is NewReno.
  'net.ipv4.tcp_congestion_control': (cfg, v) => {
    const name = v.trim();
    if (name !== 'cubic' && name !== 'reno') return false;
    cfg.congestion = name === 'reno' ? 'newreno' : 'cubic';
    return true;
  },
  // RACK loss detection: any of bits 0x1 (RACK) on; 0 turns RACK-TLP off.
  'net.ipv4.tcp_recovery': (cfg, v) => {
    const n = int(v);
    if (!Number.isFinite(n) || n < 0) return false;
    cfg.rack = (n & 1) !== 0;
    return true;
  },
  'net.ipv4.tcp_syncookies': (cfg, v) => {
    const n = int(v);
    if (n < 0 || n > 2 || !Number.isFinite(n)) return false;
    cfg.synCookies = (['off', 'auto', 'always'] as const)[n];
    return true;
  },
  'net.ipv4.tcp_fastopen': (cfg, v, knobs) => {
    const n = int(v.startsWith('0x') ? String(Number.parseInt(v, 16)) : v);
    if (!Number.isFinite(n)) return false;
    cfg.fastOpen = !(n & 0x2) ? 'off' : n & 0x200 ? 'no-cookie' : 'on';
    knobs.tcpFastOpen = n;
    return true;
  },
  'net.ipv4.tcp_syn_retries': count('synRetries', 1, 127),
  'net.ipv4.tcp_syn_linear_timeouts': count('synLinearTimeouts', 0, 127),
  'net.ipv4.tcp_synack_retries': count('synAckRetries', 0, 255),
  'net.ipv4.tcp_retries1': count('r1Retries', 1, 255),
  'net.ipv4.tcp_retries2': count('dataRetries', 1, 255),
  'net.ipv4.tcp_keepalive_time': count('keepAliveIdle', 1, 2 ** 31 / 1000, 1000),
  'net.ipv4.tcp_keepalive_intvl': count('keepAliveInterval', 1, 2 ** 31 / 1000, 1000),
  'net.ipv4.tcp_keepalive_probes': count('keepAliveProbes', 1, 255),
  'net.ipv4.tcp_invalid_ratelimit': count('invalidAckInterval', 0, 60_000),
  // Seconds; FIN-WAIT-2 after close (TCP_LINGER2 sets it per socket).
  'net.ipv4.tcp_fin_timeout': count('finTimeout', 0, 3600, 1000),
  'net.ipv4.tcp_rmem': triple('rcvBuf'),
  'net.ipv4.tcp_wmem': triple('sndBuf'),
  'net.core.rmem_default': count('rcvBuf', 1, 2 ** 30),
  'net.core.wmem_default': count('sndBuf', 1, 2 ** 30),
  // FreeBSD (tcp(4))
  'net.inet.tcp.rfc1323': (cfg, v) => {
    const n = int(v);
    if (n < 0 || n > 3 || !Number.isFinite(n)) return false;
    cfg.windowScaling = (n & 1) !== 0;
    cfg.timestamps = (n & 2) !== 0 || n === 1;
    return true;
  },
  'net.inet.tcp.sack.enable': onOff('sack'),
  'net.inet.tcp.syncookies': (cfg, v) => {
    const n = int(v);
    if (n !== 0 && n !== 1) return false;
    cfg.synCookies = n === 1 ? 'auto' : 'off';
    return true;
  },
  'net.inet.tcp.syncookies_only': (cfg, v) => {
    const n = int(v);
    if (n !== 0 && n !== 1) return false;
    if (n === 1) cfg.synCookies = 'always';
    return true;
  },
  'net.inet.tcp.keepidle': count('keepAliveIdle', 1, 2 ** 31 - 1),
  'net.inet.tcp.keepintvl': count('keepAliveInterval', 1, 2 ** 31 - 1),
  'net.inet.tcp.keepcnt': count('keepAliveProbes', 1, 255),
  'net.inet.tcp.recvspace': count('rcvBuf', 1, 2 ** 30),
  'net.inet.tcp.sendspace': count('sndBuf', 1, 2 ** 30),
  'net.inet.tcp.rexmit_min': count('minRto', 1, 600_000),
  'net.inet.tcp.msl': count('timeWait', 0, 1_800_000, 2),
  'net.inet.tcp.delayed_ack': onOff('delayedAck'),
  'net.inet.tcp.delacktime': (cfg, v) => {
    const n = int(v);
    if (!Number.isFinite(n) || n < 1 || n > 500) return false;
    cfg.ackDelayMin = n;
    cfg.ackDelayMax = n;
    return true;
  },
  'net.inet.tcp.fastopen.server_enable': (cfg, v) => {
    const n = int(v);
    if (n !== 0 && n !== 1) return false;
    cfg.fastOpen = n === 1 ? 'on' : 'off';
    return true;
  },
};

/** The names synack honours, for messages and the README. */
export const SYSCTLS = Object.keys(SETTINGS);

/**
 * Applies what a shell line sets that synack knows: `sysctl [-q] [-w] name=value ...`
 * and packetdrill's `set_sysctls.py /proc/sys/net/ipv4/name=value ...`, one or more
 * commands, `;`, `&&` or newlines between. Returns the commands not understood (they
 * are skipped); an empty list means the whole line was applied. A recognised setting
 * with a value out of range is returned too, and nothing of it is applied.
 */
export function applyShell(command: string, cfg: TcpConfig, knobs: ScriptKnobs): string[] {
  const parts = command
    .replace(/\\\n/g, ' ')
    .split(/[;\n]|&&/)
    .map((p) => p.trim())
    // Blank lines and the shell's own comments carry nothing.
    .filter((p) => p !== '' && !p.startsWith('#'));
  const unknown: string[] = [];
  for (const p of parts) {
    const settings = parseSettings(p);
    if (!settings) {
      unknown.push(p);
      continue;
    }
    // One command is applied whole or not at all.
    const copy = { ...cfg };
    const knobsCopy = { ...knobs };
    if (settings.every(([apply, v]) => apply(copy, v, knobsCopy))) {
      Object.assign(cfg, copy);
      Object.assign(knobs, knobsCopy);
    } else unknown.push(`${p} (value out of range)`);
  }
  return unknown;
}

function parseSettings(p: string): [Apply, string][] | null {
  const out: [Apply, string][] = [];
  const sysctl = /^sysctl\s+(?:-[a-zA-Z]+\s+)*(.+)$/.exec(p);
  const script = /^\S*set_sysctls\.py\s+(.+)$/.exec(p);
  if (!sysctl && !script) return null;
  const args = (sysctl ?? script)![1];
  for (const kv of args.match(/[\w./]+\s*=\s*(?:"[^"]*"|'[^']*'|\S+)/g) ?? [args]) {
    const a = /^([\w./]+)\s*=\s*(.*)$/.exec(kv);
    // set_sysctls.py names the /proc/sys file: /proc/sys/net/ipv4/tcp_sack is net.ipv4.tcp_sack.
    const name = a?.[1].replace(/^\/proc\/sys\//, '').replaceAll('/', '.');
    const apply = name ? SETTINGS[name] : undefined;
    if (!a || !apply) return null;
    out.push([apply, a[2].replace(/^["']|["']$/g, '')]);
  }
  return out;
}
