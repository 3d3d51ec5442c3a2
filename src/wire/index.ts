export * from './addr.ts';
export * from './checksum.ts';
export * from './icmp.ts';
export * from './ip.ts';
export * from './packet.ts';
export * from './tcp.ts';
