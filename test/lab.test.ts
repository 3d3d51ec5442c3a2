// The lab: every scenario's outcome holds, its ladder is a reviewed snapshot,
// the same seed gives identical output, pcaps are valid for tshark, and the
// tcpdump renderer prints what tcpdump itself prints for the same pcap.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findScenario, scenarios } from '../src/sim/scenarios/index.ts';
import { runRandom } from '../src/sim/scenarios/random.ts';
import {
  checkText,
  scenarioDescription,
  scenarioTitle,
  untranslated,
  variantName,
} from '../src/sim/scenarios/zh.ts';
import { explainSegments, renderExplain } from '../src/trace/explain.ts';
import { renderJson } from '../src/trace/json.ts';
import { renderLadder } from '../src/trace/ladder.ts';
import { renderPcap } from '../src/trace/pcap.ts';
import { renderTcpdump } from '../src/trace/tcpdump.ts';
import { renderTimeline } from '../src/trace/timeline.ts';

const tmp = mkdtempSync(join(tmpdir(), 'synack-lab-'));
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

describe('scenario outcomes (seed 1)', () => {
  for (const sc of scenarios) {
    it(`${sc.name}: every check holds`, () => {
      for (const r of sc.run({ seed: 1, params: {} })) {
        const failed = r.checks
          .filter((c) => !c.ok)
          .map((c) => `${r.variant ?? ''}: ${c.what} ${c.detail ?? ''}`);
        expect(failed).toEqual([]);
        expect(r.checks.length).toBeGreaterThan(0);
      }
    });
  }

  it('the scenarios also hold for other seeds and 10 ms–200 ms delays', () => {
    for (const seed of [2, 3, 42]) {
      for (const delay of [10, 200]) {
        for (const name of [
          'handshake',
          'data-on-third',
          'syn-with-data',
          'simultaneous-open',
          'old-duplicate-syn',
          'lost-syn',
          'lost-synack',
          'close',
          'delayed-ack',
        ]) {
          for (const r of findScenario(name)!.run({ seed, delay, params: {} })) {
            expect(
              r.checks
                .filter((c) => !c.ok)
                .map((c) => `${name} seed ${seed} delay ${delay}: ${c.what}`),
            ).toEqual([]);
          }
        }
      }
    }
  });

  it('syn-flood without defences refuses legitimate clients and keeps half-open state at the limit', () => {
    const [r] = findScenario('syn-flood')!.run({
      seed: 1,
      params: { rate: '1000', duration: '5000', backlog: '16' },
    });
    expect(r.facts.synQueueLimit).toBe(16);
    expect(r.facts.successRateDuringFlood as number).toBeLessThan(0.5);
    expect(r.checks.every((c) => c.ok)).toBe(true);
  });
});

describe('ladder diagrams (reviewed snapshots)', () => {
  for (const sc of scenarios) {
    it(sc.name, async () => {
      // The flood is shown small; the server side of a flood is counted, not traced.
      const params: Record<string, string> =
        sc.name === 'syn-flood' ? { rate: '200', duration: '2000', backlog: '8' } : {};
      const text = sc
        .run({ seed: 1, params })
        .map((r) =>
          [
            `== ${r.variant ?? sc.title}`,
            ...renderLadder(r.events, { hosts: r.hosts, maxLines: 80 }),
          ].join('\n'),
        )
        .join('\n\n');
      await expect(`${text}\n`).toMatchFileSnapshot(`./__snapshots__/ladder/${sc.name}.txt`);
    });
  }
});

describe('determinism', () => {
  it('the same seed gives byte-identical JSON, ladder and pcap output', () => {
    for (const name of ['handshake', 'old-duplicate-syn', 'lost-synack', 'random']) {
      const a = findScenario(name)!.run({
        seed: 7,
        loss: name === 'random' ? undefined : 0.05,
        params: {},
      });
      const b = findScenario(name)!.run({
        seed: 7,
        loss: name === 'random' ? undefined : 0.05,
        params: {},
      });
      expect(a.map((r) => renderJson(r.events).join('\n'))).toEqual(
        b.map((r) => renderJson(r.events).join('\n')),
      );
      expect(a.map((r) => renderPcap(r.events))).toEqual(b.map((r) => renderPcap(r.events)));
    }
  });

  it('different seeds give different ISNs', () => {
    const isn = (seed: number) =>
      renderTcpdump(findScenario('handshake')!.run({ seed, params: {} })[0].events)[0];
    expect(isn(1)).not.toBe(isn(2));
  });
});

describe('renderers', () => {
  const [hs] = findScenario('handshake')!.run({ seed: 1, params: {} });

  it('json: one event per line with stable fields, ending in the outcome', () => {
    const lines = renderJson(hs.events, {
      scenario: 'handshake',
      seed: 1,
      ok: true,
      checks: hs.checks,
      facts: {},
    }).map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ type: 'outcome', scenario: 'handshake', ok: true });
    const syn = lines.find((l) => l.type === 'segment' && l.dir === 'out');
    expect(syn).toMatchObject({
      host: 'client',
      src: '198.18.0.1',
      dst: '198.18.0.2',
      seg: { flags: 'S', len: 0 },
      why: 'syn',
    });
    expect(typeof syn.packet).toBe('string');
  });

  it('explain: each segment in English and Chinese, naming the sequence-number rule', () => {
    const en = renderExplain(hs.events, 'en');
    const zh = renderExplain(hs.events, 'zh');
    expect(en.length).toBe(zh.length);
    expect(en[0]).toMatch(/SYN consumes one sequence number/);
    expect(en[1]).toMatch(/acknowledges 1 = the client's ISN\+1/);
    expect(en[2]).toMatch(/pure ACK consumes no sequence number/);
    expect(zh[0]).toMatch(/SYN 占用一个序列号/);
  });

  it('timeline: the states of each endpoint with durations', () => {
    const t = renderTimeline(hs.events);
    expect(t.find((l) => l.startsWith('client'))).toMatch(
      /SYN-SENT \(20 ms\) → 0\.020s ESTABLISHED/,
    );
  });

  it('ladder: a lost packet ends in ✗', () => {
    const [r] = findScenario('lost-syn')!.run({ seed: 1, params: {} });
    expect(renderLadder(r.events, { hosts: r.hosts }).some((l) => l.includes('✗'))).toBe(true);
  });
});

describe.runIf(has('tshark'))('pcap files open in tshark with no expert errors', () => {
  for (const name of [
    'handshake',
    'data-on-third',
    'syn-with-data',
    'simultaneous-open',
    'old-duplicate-syn',
    'lost-syn',
    'lost-synack',
    'lost-ack',
    'close',
  ]) {
    it(name, () => {
      findScenario(name)!
        .run({ seed: 1, params: {} })
        .forEach((r, i) => {
          const file = join(tmp, `${name}.${i}.pcap`);
          writeFileSync(file, renderPcap(r.events));
          const out = execFileSync('tshark', ['-r', file, '-q', '-z', 'expert,error'], {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          expect(out).not.toMatch(/^\s*Error/m);
          const count = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], {
            encoding: 'utf8',
          })
            .trim()
            .split('\n').length;
          expect(count).toBe(renderTcpdump(r.events).length);
        });
    });
  }
});

describe.runIf(has('tcpdump'))('the tcpdump renderer matches tcpdump -n -r, line for line', () => {
  for (const [name, abs] of [
    ['handshake', false],
    ['handshake', true],
    ['close', false],
    ['lost-synack', false],
    ['data-on-third', false],
  ] as const) {
    it(`${name}${abs ? ' -S' : ''}`, () => {
      const [r] = findScenario(name)!.run({ seed: 1, params: {} });
      const file = join(tmp, `td-${name}.pcap`);
      writeFileSync(file, renderPcap(r.events));
      const real = execFileSync('tcpdump', ['-n', ...(abs ? ['-S'] : []), '-r', file], {
        encoding: 'utf8',
        env: { ...process.env, TZ: 'UTC' },
        stdio: ['ignore', 'pipe', 'ignore'],
      })
        .trimEnd()
        .split('\n');
      expect(renderTcpdump(r.events, { absolute: abs })).toEqual(real);
    });
  }
});

describe('random: invariants hold for a few hundred seeds', () => {
  it('seeds 1..300', () => {
    const failed: string[] = [];
    for (let seed = 1; seed <= 300; seed++) {
      const r = runRandom({ seed, params: {} });
      for (const c of r.checks)
        if (!c.ok) failed.push(`seed ${seed}: ${c.what} ${c.detail?.slice(0, 200) ?? ''}`);
    }
    expect(failed).toEqual([]);
  }, 120_000);
});

describe('explanations, in English and Chinese, for every scenario (reviewed snapshots)', () => {
  const CJK = /[\u4e00-\u9fff]/;
  for (const sc of scenarios) {
    it(`${sc.name}: every segment explained in both languages, checks and title translated`, async () => {
      const results = sc.run({ seed: 1, params: {} });
      const texts: Record<string, string> = {};
      for (const lang of ['en', 'zh'] as const) {
        const parts: string[] = [];
        for (const r of results) {
          const lines = explainSegments(r.events, lang);
          const sent = r.events.filter((e) => e.type === 'segment' && e.dir === 'out').length;
          expect(lines.filter((l) => l.head !== '').length).toBe(sent);
          for (const l of lines) {
            expect(l.text.trim(), `${sc.name} ${lang}: ${l.head}`).not.toBe('');
            expect(l.text).not.toMatch(/undefined|NaN|\$\{/);
            if (lang === 'zh') expect(l.text, l.text).toMatch(CJK);
            else expect(l.text, l.text).not.toMatch(CJK);
          }
          parts.push(
            [
              `== ${variantName(r.variant ?? '', lang)}`,
              ...renderExplain(r.events, lang),
              ...r.checks.map((c) => `${c.ok ? '✓' : '✗'} ${checkText(c, lang)}`),
            ].join('\n'),
          );
          if (lang === 'zh') expect(untranslated(r.checks)).toEqual([]);
        }
        texts[lang] = parts.join('\n\n');
      }
      expect(scenarioTitle(sc, 'zh')).toMatch(CJK);
      expect(scenarioDescription(sc, 'zh')).toMatch(CJK);
      if (sc.name === 'random') return; // its text depends on every fault drawn: checked above, not snapshotted
      if (sc.name === 'cubic-vs-newreno') return; // two 4 MB transfers, 12,000 lines each: checked above, not snapshotted
      await expect(`${texts.en}\n`).toMatchFileSnapshot(
        `./__snapshots__/explain/${sc.name}.en.txt`,
      );
      await expect(`${texts.zh}\n`).toMatchFileSnapshot(
        `./__snapshots__/explain/${sc.name}.zh.txt`,
      );
    });
  }

  it('old-duplicate-syn: the right reasons, not guesses from flags', () => {
    const [three, two] = findScenario('old-duplicate-syn')!.run({ seed: 1, params: {} });
    const keys = (r: typeof three) => explainSegments(r.events, 'en').flatMap((x) => x.keys);
    // The SYN's data goes again because the SYN,ACK acknowledged only the SYN, not on a timer.
    expect(keys(three)).toContain('synDataResend');
    expect(keys(three)).not.toContain('retransmit');
    // The stale SYN,ACK is refused; the RST frees a half-open record (three-way) ...
    expect(keys(three)).toContain('rstOldSynAck');
    // ... but tears down an established connection (two-way), whose SYN,ACK acked the SYN's data.
    expect(keys(two)).toContain('rstTearsDown');
    expect(keys(two)).toContain('synAckWithData');
    expect(
      explainSegments(two.events, 'en')
        .map((x) => x.text)
        .join(' '),
    ).toMatch(/acknowledges 25 = the client's ISN\+1\+24/);
  });
});
