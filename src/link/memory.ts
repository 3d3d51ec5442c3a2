// Two links joined back to back in memory: what one sends, the other receives.
// Delivery goes through `defer` (a microtask by default, the virtual clock in
// a simulation) so that, as on a real wire, a packet never arrives inside the
// call that sent it and an application can attach handlers after `connect()`.

import type { Link } from '../stack/link.ts';

export type Defer = (fn: () => void) => void;

/**
 * `inProcess`: the two stacks skip TCP checksums on this pair (see
 * Link.inProcess), as on Linux's loopback; off by default, so that packets
 * taken off the pair (a capture) are valid anywhere.
 */
export function memoryPair(
  defer: Defer = queueMicrotask,
  opts: { inProcess?: boolean } = {},
): [Link, Link] {
  const inProcess = opts.inProcess === true;
  // Every packet a stack sends is a new buffer (encodePacket), so both ends get fresh ones.
  const a: Link = {
    onPacket: null,
    fresh: true,
    inProcess,
    send: (p) => defer(() => b.onPacket?.(p)),
  };
  const b: Link = {
    onPacket: null,
    fresh: true,
    inProcess,
    send: (p) => defer(() => a.onPacket?.(p)),
  };
  return [a, b];
}
