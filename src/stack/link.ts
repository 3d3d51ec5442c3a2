// The interface a stack reads and writes IP packets through. Implementations
// (memory pairs, the simulator's network, TUN) live in `link/`; a link
// carries whole IP packets and knows nothing of TCP.

export interface Link {
  /**
   * Sends one IP packet. The link may keep a reference: the caller does not
   * reuse the bytes. `gso` (only on a link with `offload`): the packet is a TCP
   * segment larger than the MSS, for the link to cut into segments of `gso`
   * payload bytes each.
   */
  send(packet: Uint8Array, gso?: number): void;
  /**
   * Set by the stack: called with each IP packet that arrives. `verified`: the
   * link vouches for its TCP checksum (the packet never crossed a wire: the
   * local kernel made it, or checked it), so the stack need not check it.
   */
  onPacket: ((packet: Uint8Array, verified?: boolean) => void) | null;
  /**
   * Set by the stack: called with packets that arrived together (one read of a
   * device), processed before any ACK goes (RFC 9293 MUST-59). A link that
   * delivers one at a time may ignore it. `verified[i]` as for onPacket.
   */
  onPackets?: ((packets: Uint8Array[], verified?: readonly boolean[]) => void) | null;
  /**
   * The link offloads TCP work as a NIC does (a TUN device with IFF_VNET_HDR):
   * it fills in TCP checksums (the stack writes only the pseudo-header sum,
   * unless it keeps a trace), and takes TCP segments of up to `gso` bytes of
   * IP packet, which it cuts into MSS-sized ones (TSO). Arriving packets may be
   * as large (GRO). Only a stack with this one link uses it.
   */
  readonly offload?: { readonly gso: number };
  /**
   * Every packet this link hands to the stack is a buffer of its own that
   * nothing writes into afterwards: the stack may keep views of it (received
   * data goes to the application without a copy).
   */
  readonly fresh?: boolean;
  /**
   * The packets never leave this process (a memory pair between two stacks of
   * one program), so nothing can corrupt them: as Linux's loopback does, TCP
   * checksums are neither computed (unless the stack writes a trace) nor
   * verified. Never set on a real wire or on a simulated one that corrupts.
   */
  readonly inProcess?: boolean;
  /**
   * `send` is done with the packet when it returns (a device written with
   * write(2) copies it into the kernel): the stack may encode its next packet
   * into the same bytes. Never set on a link that queues or delays packets.
   */
  readonly copies?: boolean;
}
