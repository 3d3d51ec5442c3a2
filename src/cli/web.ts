// `synack web`: the built lab page served on 127.0.0.1 until interrupted.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveDir } from '../node/static.ts';
import { UsageError } from './script.ts';

/** The built page: dist/web, next to dist/cli when installed, or in the checkout's dist/. */
function pageDir(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const d of [join(here, '../web'), join(here, '../../dist/web')]) {
    if (existsSync(join(d, 'index.html'))) return d;
  }
  return undefined;
}

export async function webCommand(
  port: number,
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<number> {
  const dir = pageDir();
  if (!dir)
    throw new UsageError(
      'the lab page is not built: run "npm run build:web" (or npm run build) first',
    );
  let url: string;
  let server: import('node:http').Server;
  try {
    ({ url, server } = await serveDir(dir, port));
  } catch (e) {
    throw new UsageError(`cannot serve on 127.0.0.1:${port}: ${(e as Error).message}`);
  }
  out(`synack lab: ${url}`);
  err('(Ctrl-C stops it)');
  return new Promise((resolve) => {
    const stop = () => {
      server.close();
      server.closeAllConnections?.();
      resolve(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
