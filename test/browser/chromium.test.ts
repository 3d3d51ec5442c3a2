// synack unchanged in a browser: the core bundled for the web (no Node
// built-ins), run by Debian's Chromium through playwright-core, in a page and
// in a Web Worker; each echoes bytes through two synack stacks over Web Streams.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';

describe.skipIf(!existsSync(CHROMIUM))(
  `synack in Chromium${existsSync(CHROMIUM) ? '' : ' (skipped: no /usr/bin/chromium)'}`,
  () => {
    it('a page and a Web Worker each run two stacks and echo over Web Streams', async () => {
      const bundle = await build({
        entryPoints: [join(import.meta.dirname, 'echo.ts')],
        bundle: true,
        format: 'iife',
        platform: 'browser',
        write: false,
        logLevel: 'warning',
      });
      const code = bundle.outputFiles[0].text;
      expect(code).not.toMatch(/require\(["']node:|from ["']node:/);
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        // No server at all: the page is set inline; the worker comes from a Blob of the same bundle.
        await page.setContent('<p id="page">waiting</p><p id="worker">waiting</p>');
        await page.addScriptTag({ content: code });
        await page.evaluate((src) => {
          const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
          w.onmessage = (e) => {
            document.getElementById('worker')!.textContent = e.data;
          };
          w.postMessage('hello from the worker');
        }, code);
        await page.waitForFunction(
          () =>
            document.getElementById('page')!.textContent !== 'waiting' &&
            document.getElementById('worker')!.textContent !== 'waiting',
          undefined,
          { timeout: 15_000 },
        );
        const pageText = await page.textContent('#page');
        const workerText = await page.textContent('#worker');
        expect(errors).toEqual([]);
        expect(pageText).toMatch(/^hello from the page \(from 198\.18\.0\.2:7, state /);
        expect(workerText).toMatch(/^hello from the worker \(from 198\.18\.0\.2:7, state /);
      } finally {
        await browser.close();
      }
    }, 60_000);
  },
);
