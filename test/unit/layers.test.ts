// DESIGN.md: the core layers use only standard JavaScript, and each layer
// imports only the layers below it.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = join(import.meta.dirname, '../../src');
const order = ['wire', 'tcp', 'stack', 'link', 'sim', 'trace'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : n.endsWith('.ts') ? [p] : [];
  });
}

describe('layers', () => {
  for (const layer of order) {
    it(`${layer}/ is browser-safe and imports only layers below it`, () => {
      // link/tun.ts is the one Node-only link (exported from synack/node only).
      for (const f of files(join(src, layer)).filter((x) => !x.endsWith('link/tun.ts'))) {
        const text = readFileSync(f, 'utf8');
        expect(text, relative(src, f)).not.toMatch(/from 'node:|require\(|\bBuffer\b|process\./);
        for (const m of text.matchAll(/from '\.\.\/(?:\.\.\/)?(\w+)\//g)) {
          const target = m[1];
          if (!order.includes(target)) continue;
          const allowed =
            order.indexOf(target) <= order.indexOf(layer) ||
            (layer === 'trace' && target === 'sim');
          expect(allowed, `${relative(src, f)} imports ${target}/`).toBe(true);
        }
      }
    });
  }
});

it('the browser-safe entry point never reaches the Node-only TUN link', () => {
  const index = readFileSync(join(src, 'index.ts'), 'utf8');
  expect(index).not.toMatch(/tun\.ts|\.\/node\//);
});
