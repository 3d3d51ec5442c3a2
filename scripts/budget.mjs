// The browser core's size budget: `import { ... } from 'synack'`, bundled and
// minified, must gzip to at most this many bytes. The build prints the size;
// test/package.test.ts holds it. The core is the engine alone (no
// dependencies) and grows with what the engine does: about 30 KiB when this
// budget was set at 40, 40 KiB by the end of 2026 (RFC 9293's MUSTs, loss
// recovery, the Linux profile, TIME-WAIT's RFC 1122 rules). The budget is
// there to catch what does not belong in a page — a Node built-in, koffi, the
// packet-script runner — each of which would add more than its headroom at once.
export const CORE_GZIP_BUDGET = 44 * 1024;
