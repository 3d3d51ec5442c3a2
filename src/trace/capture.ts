// The packets that crossed the network, in the order they were put on the
// wire: what a capture at the senders would hold. The pcap and tcpdump
// renderers share this list so they always agree.

import type { TraceEvent } from '../tcp/types.ts';

export interface Captured {
  t: number;
  packet: Uint8Array;
}

export function captured(events: readonly TraceEvent[]): Captured[] {
  const wire = events.filter((e) => e.type === 'wire');
  if (wire.length > 0) {
    const out: Captured[] = [];
    for (const e of events) {
      if (e.type !== 'wire') continue;
      // A held packet is captured when sent; its later release is the same packet.
      if (e.fate === 'released' || e.fate === 'duplicated' || e.fate === 'no-route') continue;
      out.push({ t: e.t, packet: e.packet });
    }
    return out;
  }
  // No simulated network (a packet script): every segment a stack sent or received once.
  const out: Captured[] = [];
  for (const e of events) if (e.type === 'segment') out.push({ t: e.t, packet: e.packet });
  return out;
}
