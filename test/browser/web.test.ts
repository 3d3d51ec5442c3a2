// The lab page, built by Vite, in Debian's Chromium (playwright-core): real
// runs of the engine in the page, checked through what a person sees.

import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tsharkErrors } from '../interop/netns.ts';

const CHROMIUM = '/usr/bin/chromium';
const root = join(import.meta.dirname, '../..');
const artifacts = join(root, 'test-artifacts');

describe.skipIf(!existsSync(CHROMIUM))(
  `the lab page in Chromium${existsSync(CHROMIUM) ? '' : ' (skipped: no /usr/bin/chromium)'}`,
  () => {
    let browser: Browser;
    // No server and no socket: Chromium's requests for this origin are answered from dist/web.
    const url = 'http://lab.synack.test/';
    const dist = join(root, 'dist/web');

    beforeAll(async () => {
      await build({ configFile: join(root, 'web/vite.config.ts'), logLevel: 'warn' });
      browser = await chromium.launch({
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
      mkdirSync(artifacts, { recursive: true });
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
    });

    async function open(hash: string, width = 1400): Promise<Page> {
      const page = await browser.newPage({
        viewport: { width, height: 1000 },
        acceptDownloads: true,
      });
      await page.route(
        () => true,
        (route) => {
          const u = new URL(route.request().url());
          if (u.origin !== new URL(url).origin) return route.abort();
          let file = join(dist, normalize(u.pathname));
          if (!file.startsWith(dist)) return route.abort();
          if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
          return existsSync(file)
            ? route.fulfill({ path: file })
            : route.fulfill({ status: 404, body: '' });
        },
      );
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${url}#${hash}`);
      await page.waitForSelector('[data-testid=ladder]');
      // The page's effects (keyboard, URL) are attached once it has written the step into the URL.
      await page.waitForFunction(
        () => location.hash.includes('step=') || document.querySelector('[data-testid=free]'),
      );
      (page as Page & { errors: string[] }).errors = errors;
      return page;
    }
    const states = (page: Page, host: string) =>
      page
        .locator(`text.st[data-host="${host}"]`)
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
    const labels = (page: Page) =>
      page
        .locator('g.arrow')
        .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
    const checks = (page: Page) =>
      page.locator('li.check').evaluateAll((els) => els.map((e) => e.getAttribute('data-ok')));

    it('the built page has no Node APIs in it and loads with relative paths', async () => {
      const { readdirSync, readFileSync } = await import('node:fs');
      const assets = join(dist, 'assets');
      const js = readdirSync(assets).filter((f) => f.endsWith('.js'));
      expect(js.length).toBeGreaterThan(0);
      for (const f of js) {
        const code = readFileSync(join(assets, f), 'utf8');
        expect(code, f).not.toMatch(/from\s*["']node:|require\(["']node:|\bprocess\.env\b/);
      }
      expect(readFileSync(join(dist, 'index.html'), 'utf8')).toMatch(/src="\.\/assets\//);
    });

    it('handshake: states on each lane, labels in both notations, every check ✓', async () => {
      const page = await open('s=handshake');
      expect(await states(page, 'client')).toEqual(['SYN-SENT', 'ESTABLISHED']);
      expect(await states(page, 'server')).toEqual(['SYN-RECEIVED', 'ESTABLISHED']);
      const l = await labels(page);
      expect(l[0]).toMatch(/client → server: \[S\] SYN seq 0 <mss 1460/);
      expect(l[1]).toMatch(/server → client: \[S\.\] SYN,ACK seq 0 ack 1/);
      expect(await checks(page)).toEqual(Array(6).fill('true'));
      await page.screenshot({ path: join(artifacts, 'lab-desktop.png'), fullPage: true });
      expect((page as Page & { errors: string[] }).errors).toEqual([]);
    });

    it('simultaneous open: the two SYNs cross on the ladder', async () => {
      const page = await open('s=simultaneous-open');
      const syns = await page
        .locator('g.arrow[data-label="SYN"]')
        .evaluateAll((els) =>
          els.map((e) => ['x1', 'y1', 'x2', 'y2'].map((k) => Number(e.getAttribute(`data-${k}`)))),
        );
      expect(syns.length).toBe(2);
      const [[ax1, ay1, ax2, ay2], [bx1, by1, bx2, by2]] = syns;
      // Opposite directions, and the segments intersect (an X, not two parallel lines).
      expect(Math.sign(ax2 - ax1)).toBe(-Math.sign(bx2 - bx1));
      const cross = (ox: number, oy: number, px: number, py: number, qx: number, qy: number) =>
        (px - ox) * (qy - oy) - (py - oy) * (qx - ox);
      const d1 = cross(ax1, ay1, ax2, ay2, bx1, by1);
      const d2 = cross(ax1, ay1, ax2, ay2, bx2, by2);
      const d3 = cross(bx1, by1, bx2, by2, ax1, ay1);
      const d4 = cross(bx1, by1, bx2, by2, ax2, ay2);
      expect(d1 * d2).toBeLessThan(0);
      expect(d3 * d4).toBeLessThan(0);
      expect(await states(page, 'alice')).toEqual(['SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED']);
    });

    it('old duplicate SYN: both variants side by side, the two-way one marked NOT TCP, the held SYN a long diagonal', async () => {
      const page = await open('s=old-duplicate-syn');
      const variants = page.locator('.variant');
      expect(await variants.count()).toBe(2);
      expect(await page.locator('.variant h2.not-tcp').textContent()).toMatch(/NOT TCP/);
      expect(await checks(page)).not.toContain('false');
      const held = await page
        .locator('.variant')
        .first()
        .locator('g.arrow[data-fate="held"]')
        .evaluate((e) => Number(e.getAttribute('data-y2')) - Number(e.getAttribute('data-y1')));
      expect(held).toBeGreaterThan(100);
      // The three-way server went back to LISTEN; the two-way one had ESTABLISHED a connection for the stale SYN.
      const serverStates = await page
        .locator('.variant')
        .nth(1)
        .locator('text.st[data-host="server"]')
        .allTextContents();
      expect(serverStates.filter((s) => s === 'ESTABLISHED').length).toBeGreaterThanOrEqual(2);
    });

    it('syn flood (20,000 spoofed SYNs with cookies): drawn with bands and said so; the listener panel shows the SYN queue', async () => {
      const page = await open('s=syn-flood');
      await expect.poll(() => page.locator('[data-testid=aggregated]').count()).toBeGreaterThan(0);
      expect(await page.locator('[data-testid=aggregated]').first().textContent()).toMatch(
        /drawn as bands/,
      );
      expect(await page.locator('g.band').count()).toBeGreaterThan(10);
      expect(await page.locator('[data-testid=listener]').count()).toBeGreaterThan(0);
      expect(await checks(page)).not.toContain('false');
    }, 60_000);

    it('loss recovery: the time-sequence graph and the cwnd plot sit under each ladder, retransmissions and recovery marked', async () => {
      const page = await open('s=loss-recovery');
      await page.locator('[data-testid=end]').click();
      const graphs = page.locator('[data-testid=graphs]');
      expect(await graphs.count()).toBe(2);
      // With SACK: three retransmissions in red and one recovery on the cwnd plot.
      const first = graphs.first();
      expect(await first.locator('[data-testid=tsg] g.retransmission').count()).toBe(3);
      expect(await first.locator('[data-testid=cwnd] line.enter-recovery').count()).toBe(1);
      expect(await first.locator('[data-testid=cwnd] path.cwnd').getAttribute('d')).toMatch(/^M/);
      expect(await checks(page)).not.toContain('false');
      // A handshake moves no data through recovery: no graphs there.
      const hs = await open('s=handshake');
      expect(await hs.locator('[data-testid=graphs]').count()).toBe(0);
      expect((page as Page & { errors: string[] }).errors).toEqual([]);
    }, 60_000);

    it('clicking a segment shows its decoded fields and its bytes, the field under the pointer highlighted', async () => {
      const page = await open('s=handshake');
      await page.locator('g.arrow[data-label="SYN,ACK"]').first().click();
      const detail = page.locator('[data-testid=detail]');
      expect(await detail.locator('tr[data-field="tcp.flags"] td').nth(2).textContent()).toMatch(
        /\[S\.\]/,
      );
      expect(await detail.locator('tr[data-field="tcp.ack"] td').nth(2).textContent()).toMatch(
        /^\d+$/,
      );
      expect(await detail.locator('tr[data-field="ip.ttl"] td').nth(2).textContent()).toBe('64');
      const hex = await page.locator('[data-testid=hex] span').count();
      expect(hex).toBeGreaterThanOrEqual(40);
      await detail.locator('tr[data-field="tcp.seq"]').hover();
      expect(await page.locator('[data-testid=hex] span.hot').count()).toBe(4);
      expect(await page.locator('[data-testid=why]').textContent()).toMatch(
        /ISN\+1.*RFC 9293 §3\.5/s,
      );
    });

    it('the zh toggle changes the page, explanations and checks to Chinese', async () => {
      const page = await open('s=handshake');
      await page.click('[data-testid=lang]');
      await page.locator('g.arrow[data-label="SYN"]').first().click();
      expect(await page.locator('[data-testid=why]').textContent()).toMatch(/[\u4e00-\u9fff]/);
      expect(await page.locator('li.check').first().textContent()).toMatch(/客户端/);
      expect(await page.locator('h1').textContent()).toMatch(/实验室/);
    });

    it('controls and keyboard: Home, arrows, End move through the run; the shared URL reproduces the same step', async () => {
      const page = await open('s=lost-synack&seed=3');
      await page.keyboard.press('Home');
      const first = await page.locator('[data-testid=now]').textContent();
      expect(await page.locator('g.arrow').count()).toBe(1);
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowRight');
      await expect.poll(() => page.url()).toMatch(/step=3/);
      const mid = await labels(page);
      expect(mid.length).toBeGreaterThan(1);
      const shared = page.url();
      const again = await open(shared.split('#')[1]);
      expect(await labels(again)).toEqual(mid);
      await page.keyboard.press('End');
      expect(await page.locator('[data-testid=now]').textContent()).not.toBe(first);
    });

    it('the pcap download opens in tshark with no expert errors', async () => {
      const page = await open('s=close');
      const [dl] = await Promise.all([
        page.waitForEvent('download'),
        page.click('[data-testid=export-pcap]'),
      ]);
      const file = join(artifacts, 'close.pcap');
      await dl.saveAs(file);
      expect(tsharkErrors(file)).toBe('');
      expect((await import('node:fs')).readFileSync(file).readUInt32LE(0)).toBe(0xa1b2c3d4);
    });

    it('faults: a lost segment ends in ✗ half-way; free play drives three hosts from buttons', async () => {
      const page = await open('s=handshake&drop=2');
      expect(await page.locator('g.arrow[data-fate="lost"] text.lost').count()).toBe(1);
      await page.click('[data-testid=free-tab]');
      await page.click('fieldset[data-host="B"] button[data-action="listen"]');
      await page.click('fieldset[data-host="A"] button[data-action="connect-B"]');
      await page.click('fieldset[data-host="A"] button[data-action="send"]');
      expect(await states(page, 'A')).toContain('ESTABLISHED');
      expect(await states(page, 'B')).toContain('ESTABLISHED');
      expect((await labels(page)).some((l) => /len 5/.test(l))).toBe(true);
    });

    it('is readable at phone width (screenshot saved)', async () => {
      const page = await open('s=handshake', 390);
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth,
      );
      expect(overflow).toBeLessThanOrEqual(1);
      await page.screenshot({ path: join(artifacts, 'lab-phone.png'), fullPage: true });
    });
  },
);
