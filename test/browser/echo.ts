// Runs in Chromium (a page and a Web Worker), bundled by the test: two synack
// stacks in memory and an echo over the Web Streams API. No Node APIs here.

import { connect, listen, memoryPair, realClock, Stack } from '../../src/index.ts';

export async function echo(message: string): Promise<string> {
  const clock = realClock();
  const a = new Stack({ name: 'client', addresses: ['198.18.0.1'], clock });
  const b = new Stack({ name: 'server', addresses: ['198.18.0.2'], clock });
  const [x, y] = memoryPair();
  a.attach(x);
  b.attach(y);
  const server = listen(b, { port: 7 });
  (async () => {
    for await (const s of server) s.readable.pipeTo(s.writable);
  })();
  const sock = connect(a, '198.18.0.2:7');
  const w = sock.writable.getWriter();
  await w.write(new TextEncoder().encode(message));
  await w.close();
  let text = '';
  const decoder = new TextDecoder();
  const r = sock.readable.getReader();
  for (;;) {
    const { value, done } = await r.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  server.close();
  const info = await sock.opened;
  return `${text} (from ${info.remoteAddress}:${info.remotePort}, state ${sock.tcp.state})`;
}

declare const self: {
  postMessage(m: unknown): void;
  onmessage: ((e: { data: string }) => void) | null;
};

// In a worker: answer each message with its echo. In a page: show the echo in the DOM.
if (typeof document === 'undefined') {
  self.onmessage = async (e) => self.postMessage(await echo(e.data));
} else {
  const out = document.getElementById('page');
  echo('hello from the page').then(
    (t) => {
      if (out) out.textContent = t;
    },
    (err) => {
      if (out) out.textContent = `error: ${err}`;
    },
  );
}
