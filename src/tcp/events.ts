// What a connection tells its application (through its host).

import type { TcpError } from './errors.ts';

/** What a connection tells its application. */
export type ConnEvent =
  | { type: 'established' }
  | { type: 'readable' }
  | { type: 'end' }
  | { type: 'writable' }
  /** Urgent data arrived (RFC 9293 MUST-32); `urgentPending` says how much is unread. */
  | { type: 'urgent' }
  /** Something went wrong that TCP survives: an ICMP error, or R1 retransmissions (MUST-20, SHLD-25). */
  | { type: 'soft-error'; error: TcpError }
  | { type: 'closed'; error?: TcpError };

/**
 * The events that carry nothing but their type, made once: a connection
 * delivers them by the million, and nothing writes to an event.
 */
export const EV_ESTABLISHED: ConnEvent = Object.freeze({ type: 'established' });
export const EV_READABLE: ConnEvent = Object.freeze({ type: 'readable' });
export const EV_END: ConnEvent = Object.freeze({ type: 'end' });
export const EV_WRITABLE: ConnEvent = Object.freeze({ type: 'writable' });
export const EV_URGENT: ConnEvent = Object.freeze({ type: 'urgent' });
export const EV_CLOSED: ConnEvent = Object.freeze({ type: 'closed' });
