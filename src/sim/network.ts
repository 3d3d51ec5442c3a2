// A simulated network: hosts (real stacks) joined by links with latency,
// jitter, bandwidth, loss, duplication, reordering and corruption, driven by
// a virtual clock and a seeded RNG, plus scripted interventions (drop the Nth
// matching packet, hold one and release it later, inject, cut a link, reboot).
// Every packet's fate is reported as a `wire` trace event.

import { Stack, type StackOptions } from '../stack/stack.ts';
import { type Random, seededRandom } from '../tcp/random.ts';
import type { TraceEvent, Tracer, WireFate } from '../tcp/types.ts';
import { addrEquals, formatAddr, type IpAddr, parseAddr } from '../wire/addr.ts';
import { decodePacket } from '../wire/packet.ts';
import type { Segment } from '../wire/tcp.ts';
import { VirtualClock } from './clock.ts';

export interface LinkParams {
  /** One-way delay, ms. */
  latency: number;
  /** Extra uniform random delay in [0, jitter) ms (reorders packets). */
  jitter: number;
  /** Bits per second; 0 means unlimited. */
  bandwidth: number;
  /** Probabilities in [0, 1]. */
  loss: number;
  duplicate: number;
  corrupt: number;
  /** Probability that a packet is delayed by an extra `reorderDelay` ms. */
  reorder: number;
  reorderDelay: number;
}

export const defaultLink: LinkParams = {
  latency: 10,
  jitter: 0,
  bandwidth: 0,
  loss: 0,
  duplicate: 0,
  corrupt: 0,
  reorder: 0,
  reorderDelay: 30,
};

export type Fate = WireFate;

/** What a filter sees of a packet: the decoded segment and the hosts. */
export interface PacketView {
  from: string;
  to: string;
  seg: Segment | undefined;
  packet: Uint8Array;
}

export type PacketFilter = (p: PacketView) => boolean;

interface Rule {
  filter: PacketFilter;
  nth: number;
  seen: number;
  action: 'drop' | 'hold';
  holdFor: number;
  note?: string;
  done: boolean;
  /** Applies to every match, not only the nth. */
  every?: boolean;
}

interface HostEntry {
  name: string;
  stack: Stack;
  options: StackOptions;
  up: boolean;
}

/** A simulation ran into its bound on events or virtual time. */
export class SimulationLimit extends Error {
  override name = 'SimulationLimit';
}

export class Network {
  readonly clock = new VirtualClock();
  readonly rng: Random;
  private readonly hosts: HostEntry[] = [];
  private readonly params = new Map<string, LinkParams>();
  private readonly cut = new Set<string>();
  private readonly rules: Rule[] = [];
  private busyUntil = new Map<string, number>();
  readonly events: TraceEvent[] = [];
  readonly tracer: Tracer;

  constructor(
    readonly seed: number,
    private readonly link: LinkParams = defaultLink,
  ) {
    this.rng = seededRandom(seed);
    this.tracer = { emit: (e) => this.events.push(e) };
  }

  /** Adds a host with its own stack; its randomness derives from the network's seed. */
  addHost(name: string, address: string, opts: Partial<StackOptions> = {}): Stack {
    const options: StackOptions = {
      name,
      addresses: [address],
      clock: this.clock,
      tracer: this.tracer,
      random: seededRandom(this.rng.u32()),
      ...opts,
    };
    const entry: HostEntry = { name, stack: new Stack(options), options, up: true };
    this.hosts.push(entry);
    this.attach(entry);
    return entry.stack;
  }

  stack(name: string): Stack {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host named ${name}`);
    return h.stack;
  }

  /** Link parameters from `from` to `to` (one direction). */
  setLink(from: string, to: string, p: Partial<LinkParams>): void {
    this.params.set(`${from}>${to}`, { ...this.linkParams(from, to), ...p });
  }

  linkParams(from: string, to: string): LinkParams {
    return this.params.get(`${from}>${to}`) ?? this.link;
  }

  /** Drops the `nth` (1-based) packet matching `filter`. */
  dropNth(filter: PacketFilter, nth = 1, note?: string): void {
    this.rules.push({ filter, nth, seen: 0, action: 'drop', holdFor: 0, note, done: false });
  }

  /** Drops every packet `filter` says to (it may keep state: a loss model of its own). */
  dropIf(filter: PacketFilter, note?: string): void {
    this.rules.push({
      filter,
      nth: 0,
      seen: 0,
      action: 'drop',
      holdFor: 0,
      note,
      done: false,
      every: true,
    });
  }

  /** Holds the `nth` matching packet in the network for `ms`, then delivers it. */
  holdNth(filter: PacketFilter, ms: number, nth = 1, note?: string): void {
    this.rules.push({ filter, nth, seen: 0, action: 'hold', holdFor: ms, note, done: false });
  }

  /** Cuts (or restores) the link between two hosts, both directions. */
  setCut(a: string, b: string, isCut: boolean): void {
    for (const k of [`${a}>${b}`, `${b}>${a}`]) {
      if (isCut) this.cut.add(k);
      else this.cut.delete(k);
    }
  }

  /** Delivers a crafted packet to the host owning its destination address, now. */
  inject(packet: Uint8Array, from = 'attacker'): void {
    const to = this.route(packet);
    this.wire(from, to?.name ?? '?', packet, to ? 'injected' : 'no-route');
    if (to?.up) to.stack.receive(packet);
  }

  /** A host loses all its state (a reboot): a fresh stack at the same address. */
  reboot(name: string): Stack {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host named ${name}`);
    h.stack.halt();
    h.stack = new Stack({
      ...h.options,
      random: seededRandom(this.rng.u32()),
      firstId: h.stack.nextId() + 1000,
    });
    this.attach(h);
    return h.stack;
  }

  setUp(name: string, up: boolean): void {
    const h = this.hosts.find((x) => x.name === name);
    if (h) h.up = up;
  }

  /**
   * Runs until nothing is scheduled or virtual time reaches `until` ms. A
   * run is bounded: past `maxEvents` events, or `maxTime` ms of virtual time,
   * it stops with a SimulationLimit error that says which bound was hit.
   */
  run(until = Infinity): void {
    const limit = Math.min(until, this.maxTime);
    while (this.clock.runOne(limit)) {
      if (++this.ran > this.maxEvents) {
        throw new SimulationLimit(
          `the simulation stopped after ${this.maxEvents.toLocaleString('en')} events (at ${(this.clock.now() / 1000).toFixed(3)} s of virtual time): the scenario's options ask for more than a run may do`,
        );
      }
    }
    if (until > this.maxTime && this.clock.next() !== Infinity) {
      throw new SimulationLimit(
        `the simulation stopped at its bound of ${this.maxTime / 3_600_000} h of virtual time with events still pending`,
      );
    }
  }

  /** Runs everything due up to `to`, then sets virtual time to `to` even if nothing was due. */
  advance(to: number): void {
    this.run(to);
    if (to <= this.maxTime) this.clock.advance(to);
  }

  /** Bounds on one run (see `run`). */
  maxEvents = 20_000_000;
  maxTime = 6 * 3_600_000;
  private ran = 0;

  private attach(h: HostEntry): void {
    const stack = h.stack;
    stack.attach({
      onPacket: null,
      send: (p) => {
        if (h.stack === stack && h.up) this.transmit(h, p);
      },
    });
  }

  private route(packet: Uint8Array): HostEntry | undefined {
    const dst = dstOf(packet);
    if (!dst) return undefined;
    return this.hosts.find((h) => h.stack.addresses.some((a) => addrEquals(a, dst)));
  }

  private transmit(from: HostEntry, packet: Uint8Array): void {
    const to = this.route(packet);
    if (!to) {
      this.wire(from.name, '?', packet, 'no-route');
      return;
    }
    const key = `${from.name}>${to.name}`;
    if (this.cut.has(key)) {
      this.wire(from.name, to.name, packet, 'cut');
      return;
    }
    const p = this.linkParams(from.name, to.name);
    const view: PacketView = { from: from.name, to: to.name, seg: segOf(packet), packet };
    let extra = 0;
    let held: Rule | undefined;
    for (const r of this.rules) {
      if (r.done || !r.filter(view)) continue;
      r.seen++;
      if (!r.every && r.seen !== r.nth) continue;
      if (!r.every) r.done = true;
      if (r.action === 'drop') {
        this.wire(
          from.name,
          to.name,
          packet,
          'lost',
          undefined,
          r.note ?? 'dropped by the scenario',
        );
        return;
      }
      held = r;
      extra = r.holdFor;
    }
    // Random faults, drawn in a fixed order so a seed replays exactly.
    const rLoss = this.rng.u32() / 2 ** 32;
    const rDup = this.rng.u32() / 2 ** 32;
    const rCorrupt = this.rng.u32() / 2 ** 32;
    const rReorder = this.rng.u32() / 2 ** 32;
    const rJitter = this.rng.u32() / 2 ** 32;
    if (!held && rLoss < p.loss) {
      this.wire(from.name, to.name, packet, 'lost', undefined, 'random loss');
      return;
    }
    let bytes = packet;
    let fate: Fate = held ? 'held' : 'delivered';
    if (!held && rCorrupt < p.corrupt) {
      bytes = packet.slice();
      const i = this.rng.u32() % bytes.length;
      bytes[i] ^= 1 << (this.rng.u32() % 8);
      fate = 'corrupted';
    }
    const now = this.clock.now();
    // Serialisation delay: packets queue behind each other at the link's rate.
    let start = now;
    if (p.bandwidth > 0) {
      start = Math.max(now, this.busyUntil.get(key) ?? 0);
      const tx = (bytes.length * 8 * 1000) / p.bandwidth;
      this.busyUntil.set(key, start + tx);
      start += tx;
    }
    let at = start + p.latency + rJitter * p.jitter + extra;
    if (!held && rReorder < p.reorder) at += p.reorderDelay;
    this.wire(from.name, to.name, bytes, fate, at, held?.note);
    this.deliver(to, bytes, at, held !== undefined);
    if (!held && rDup < p.duplicate) {
      const again = at + 1 + rJitter * p.jitter;
      this.wire(from.name, to.name, bytes, 'duplicated', again);
      this.deliver(to, bytes, again, false);
    }
  }

  private deliver(to: HostEntry, bytes: Uint8Array, at: number, released: boolean): void {
    const stack = to.stack;
    this.clock.schedule(at, () => {
      if (released) this.wire('network', to.name, bytes, 'released', at);
      // A host that rebooted meanwhile is a new stack: it gets the packet.
      if (to.up) to.stack.receive(bytes);
      void stack;
    });
  }

  private wire(
    from: string,
    to: string,
    packet: Uint8Array,
    fate: Fate,
    arrive?: number,
    note?: string,
  ): void {
    this.events.push({ type: 'wire', t: this.clock.now(), from, to, packet, fate, arrive, note });
  }

  hostNames(): string[] {
    return this.hosts.map((h) => h.name);
  }

  addressOf(name: string): string {
    return formatAddr(this.stack(name).addresses[0]);
  }
}

function dstOf(packet: Uint8Array): IpAddr | undefined {
  const v = packet[0] >> 4;
  if (v === 4 && packet.length >= 20) return packet.subarray(16, 20);
  if (v === 6 && packet.length >= 40) return packet.subarray(24, 40);
  return undefined;
}

function segOf(packet: Uint8Array): Segment | undefined {
  const p = decodePacket(packet, false);
  return typeof p === 'string' ? undefined : p.seg;
}

export function addr(text: string): IpAddr {
  const a = parseAddr(text);
  if (!a) throw new TypeError(`invalid address ${text}`);
  return a;
}
