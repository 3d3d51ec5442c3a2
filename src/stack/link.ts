// The interface a stack reads and writes IP packets through. Implementations
// (memory pairs, the simulator's network, TUN) live in `link/`; a link
// carries whole IP packets and knows nothing of TCP.

export interface Link {
  /** Sends one IP packet. The link may keep a reference: the caller does not reuse the bytes. */
  send(packet: Uint8Array): void;
  /** Set by the stack: called with each IP packet that arrives. */
  onPacket: ((packet: Uint8Array) => void) | null;
  /**
   * Set by the stack: called with packets that arrived together (one read of a
   * device), processed before any ACK goes (RFC 9293 MUST-59). A link that
   * delivers one at a time may ignore it.
   */
  onPackets?: ((packets: Uint8Array[]) => void) | null;
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
}
