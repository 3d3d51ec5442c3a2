// Two links joined back to back in memory: what one sends, the other receives.
// Delivery goes through `defer` (a microtask by default, the virtual clock in
// a simulation) so that, as on a real wire, a packet never arrives inside the
// call that sent it and an application can attach handlers after `connect()`.

import type { Link } from '../stack/link.ts';

export type Defer = (fn: () => void) => void;

export function memoryPair(defer: Defer = queueMicrotask): [Link, Link] {
  const a: Link = { onPacket: null, send: (p) => defer(() => b.onPacket?.(p)) };
  const b: Link = { onPacket: null, send: (p) => defer(() => a.onPacket?.(p)) };
  return [a, b];
}
