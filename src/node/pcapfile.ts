// A pcap file written as packets pass, not kept in memory: records collect in
// a 64 KiB buffer that goes to disk when full, every second, and on close.
// A server running for days holds one buffer, whatever it has captured.

import { closeSync, openSync, writeSync } from 'node:fs';
import { PCAP_HEADER, PCAP_RECORD, writePcapHeader, writePcapRecord } from '../trace/pcap.ts';

const BUFFER = 64 * 1024;

export class PcapFile {
  #fd: number;
  #buf = new Uint8Array(BUFFER);
  #used = 0;
  #timer: ReturnType<typeof setInterval>;
  /** Packets written so far. */
  packets = 0;

  /** Opens (creates or truncates) `path` now, so a path that cannot be written fails before any work. */
  constructor(readonly path: string) {
    this.#fd = openSync(path, 'w');
    writePcapHeader(this.#buf);
    this.#used = PCAP_HEADER;
    this.flush();
    this.#timer = setInterval(() => this.flush(), 1000);
    this.#timer.unref();
  }

  /** Adds one packet seen at `t` (ms since the epoch). */
  add(t: number, packet: Uint8Array): void {
    if (this.#fd < 0) return;
    const need = PCAP_RECORD + packet.length;
    if (this.#used + need > this.#buf.length) this.flush();
    if (need > this.#buf.length) {
      const one = new Uint8Array(need);
      writePcapRecord(one, 0, t, packet);
      writeSync(this.#fd, one);
    } else {
      this.#used += writePcapRecord(this.#buf, this.#used, t, packet);
    }
    this.packets++;
  }

  flush(): void {
    if (this.#fd < 0 || this.#used === 0) return;
    writeSync(this.#fd, this.#buf, 0, this.#used);
    this.#used = 0;
  }

  close(): void {
    if (this.#fd < 0) return;
    clearInterval(this.#timer);
    this.flush();
    closeSync(this.#fd);
    this.#fd = -1;
  }
}
