// Free play: three hosts on one simulated network and buttons for what an
// application does (listen, connect, send, close, abort); after each action the
// network runs until things settle, and the same ladder shows what happened.

import { useMemo, useState } from 'preact/hooks';
import { Network } from '../../src/sim/network.ts';
import type { TcpServer, TcpSocket } from '../../src/stack/socket.ts';
import { type Lang, ui } from './i18n.ts';
import { Ladder } from './Ladder.tsx';
import { buildModel } from './model.ts';

const HOSTS = [
  ['A', '198.18.0.1'],
  ['B', '198.18.0.2'],
  ['C', '198.18.0.3'],
] as const;

interface World {
  net: Network;
  servers: Map<string, TcpServer>;
  sockets: Map<string, TcpSocket[]>;
}

function newWorld(): World {
  // The simulator's default link: 10 ms each way, nothing lost or reordered.
  const net = new Network(1);
  for (const [n, a] of HOSTS) net.addHost(n, a);
  return { net, servers: new Map(), sockets: new Map() };
}

export function FreePlay({ lang, absolute }: { lang: Lang; absolute: boolean }) {
  const t = ui[lang];
  const [world, setWorld] = useState(newWorld);
  const [version, setVersion] = useState(0);
  const [selected, setSelected] = useState(-1);
  const model = useMemo(
    () =>
      buildModel({
        scenario: 'free',
        seed: 1,
        hosts: HOSTS.map(([n]) => n),
        events: world.net.events,
        checks: [],
        facts: {},
      }),
    [world, version],
  );
  const act = (fn: () => void) => {
    try {
      fn();
    } catch {
      // A refused action (no listener yet, port in use) shows as what it does on the wire, or nothing.
    }
    world.net.run(world.net.clock.now() + 2000);
    setVersion(version + 1);
  };
  const stack = (n: string) => world.net.stack(n);
  return (
    <main class="free" data-testid="free">
      <aside class="setup">
        <p>{t.freeHint}</p>
        {HOSTS.map(([n, addr]) => {
          const socks = world.sockets.get(n) ?? [];
          const live = socks.filter((s) => s.state !== 'CLOSED');
          return (
            <fieldset data-host={n}>
              <legend>
                {n} ({addr})
              </legend>
              <button
                type="button"
                data-action="listen"
                disabled={world.servers.has(n)}
                onClick={() =>
                  act(() => {
                    const srv = stack(n).listen({ port: 80 });
                    srv.on('connection', (s) => {
                      s.on('error', () => {});
                      s.on('data', () => {});
                      world.sockets.set(n, [...(world.sockets.get(n) ?? []), s]);
                    });
                    world.servers.set(n, srv);
                  })
                }
              >
                {t.listen}
              </button>
              {HOSTS.filter(([m]) => m !== n).map(([m, maddr]) => (
                <button
                  type="button"
                  data-action={`connect-${m}`}
                  onClick={() =>
                    act(() => {
                      const s = stack(n).connect({ host: maddr, port: 80 });
                      s.on('error', () => {});
                      s.on('data', () => {});
                      world.sockets.set(n, [...(world.sockets.get(n) ?? []), s]);
                    })
                  }
                >
                  {t.connect} {m}
                </button>
              ))}
              <button
                type="button"
                data-action="send"
                disabled={live.length === 0}
                onClick={() => act(() => live[live.length - 1].write('hello'))}
              >
                {t.send}
              </button>
              <button
                type="button"
                data-action="close"
                disabled={live.length === 0}
                onClick={() => act(() => live[live.length - 1].end())}
              >
                {t.close}
              </button>
              <button
                type="button"
                data-action="abort"
                disabled={live.length === 0}
                onClick={() => act(() => live[live.length - 1].destroy())}
              >
                {t.abort}
              </button>
            </fieldset>
          );
        })}
        <button
          type="button"
          onClick={() => {
            setWorld(newWorld());
            setVersion(0);
          }}
        >
          {t.reset}
        </button>
      </aside>
      <section class="stage">
        <Ladder
          model={model}
          now={Number.POSITIVE_INFINITY}
          absolute={absolute}
          lang={lang}
          selected={selected}
          onSelect={setSelected}
        />
      </section>
    </main>
  );
}
