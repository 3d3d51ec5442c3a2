// The synack lab in a page: pick a scenario (or play freely), run the real
// engine here, and watch the ladder drawn to scale, step by step.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { findScenario, scenarios } from '../../src/sim/scenarios/index.ts';
import type { ScenarioResult } from '../../src/sim/scenarios/scenario.ts';
import { paramRange } from '../../src/sim/scenarios/scenario.ts';
import {
  checkText,
  factName,
  scenarioDescription,
  scenarioTitle,
  variantName,
} from '../../src/sim/scenarios/zh.ts';
import { renderCwnd } from '../../src/trace/cwnd.ts';
import { explainSegments, RFC_SECTION } from '../../src/trace/explain.ts';
import { renderJson } from '../../src/trace/json.ts';
import { renderPcap } from '../../src/trace/pcap.ts';
import { renderTcpdump } from '../../src/trace/tcpdump.ts';
import { renderTsg } from '../../src/trace/tsg.ts';
import { FreePlay } from './FreePlay.tsx';
import { packetFields } from './fields.ts';
import { type Lang, ui } from './i18n.ts';
import { Ladder } from './Ladder.tsx';
import { type Arrow, buildModel, listenerAt, type Model, tcbAt } from './model.ts';

export interface Faults {
  loss: number;
  delay: number;
  jitter: number;
  duplicate: number;
  reorder: number;
  hold: number;
  drop: number;
}

interface Setup {
  name: string;
  seed: number;
  params: Record<string, string>;
  faults: Faults;
}

/** Reads the shareable state from the URL's hash: scenario, parameters, seed, step, language. */
function fromHash(): {
  setup: Setup;
  step: number;
  lang: Lang;
  abs: boolean;
  mode: 'scenario' | 'free';
} {
  const h = new URLSearchParams(location.hash.slice(1));
  const name = findScenario(h.get('s') ?? '') ? h.get('s')! : 'handshake';
  const params: Record<string, string> = {};
  for (const [k, v] of h) if (k.startsWith('p.')) params[k.slice(2)] = v;
  const num = (k: string, d: number) => {
    const v = Number(h.get(k));
    return h.has(k) && Number.isFinite(v) ? v : d;
  };
  const faults: Faults = {
    loss: num('loss', 0),
    delay: num('delay', 10),
    jitter: num('jitter', 0),
    duplicate: num('dup', 0),
    reorder: num('reorder', 0),
    hold: num('hold', 0),
    drop: num('drop', 0),
  };
  return {
    setup: { name, seed: num('seed', 1), params, faults },
    step: num('step', -1),
    lang: h.get('lang') === 'zh' ? 'zh' : 'en',
    abs: h.get('abs') === '1',
    mode: h.get('mode') === 'free' ? 'free' : 'scenario',
  };
}

function toHash(s: Setup, step: number, lang: Lang, abs: boolean): string {
  const h = new URLSearchParams();
  h.set('s', s.name);
  h.set('seed', String(s.seed));
  for (const [k, v] of Object.entries(s.params)) h.set(`p.${k}`, v);
  const f = s.faults;
  if (f.loss) h.set('loss', String(f.loss));
  if (f.delay !== 10) h.set('delay', String(f.delay));
  if (f.jitter) h.set('jitter', String(f.jitter));
  if (f.duplicate) h.set('dup', String(f.duplicate));
  if (f.reorder) h.set('reorder', String(f.reorder));
  if (f.hold) h.set('hold', String(f.hold));
  if (f.drop) h.set('drop', String(f.drop));
  h.set('step', String(step));
  if (lang === 'zh') h.set('lang', 'zh');
  if (abs) h.set('abs', '1');
  return `#${h.toString()}`;
}

function runSetup(s: Setup): { results: ScenarioResult[]; error?: string } {
  const sc = findScenario(s.name)!;
  try {
    const f = s.faults;
    const results = sc.run({
      seed: s.seed,
      loss: f.loss,
      delay: f.delay,
      link: { jitter: f.jitter, duplicate: f.duplicate, reorder: f.reorder },
      holdFirstSyn: f.hold * 1000,
      dropNth: f.drop,
      params: s.params,
    });
    return { results };
  } catch (e) {
    return { results: [], error: (e as Error).message };
  }
}

function download(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function App() {
  const initial = useMemo(fromHash, []);
  const [lang, setLang] = useState<Lang>(initial.lang);
  const [abs, setAbs] = useState(initial.abs);
  const [mode, setMode] = useState(initial.mode);
  const [setup, setSetup] = useState<Setup>(initial.setup);
  const [draft, setDraft] = useState<Setup>(initial.setup);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(2);
  const [selected, setSelected] = useState<{ v: number; i: number } | null>(null);
  const [host, setHost] = useState<string>('server');
  const [copied, setCopied] = useState(false);
  const t = ui[lang];

  const run = useMemo(() => runSetup(setup), [setup]);
  const models = useMemo(() => run.results.map(buildModel), [run]);
  const steps = useMemo(() => {
    const all = new Set<number>();
    for (const m of models) for (const s of m.steps) all.add(s);
    return [...all].sort((a, b) => a - b);
  }, [models]);
  const [step, setStep] = useState(initial.step);
  const last = steps.length - 1;
  const at = step < 0 || step > last ? last : step;
  const now = steps[at] ?? 0;

  // Keep the URL in step with what is shown.
  useEffect(() => {
    if (mode === 'scenario') history.replaceState(null, '', toHash(setup, at, lang, abs));
  }, [setup, at, lang, abs, mode]);

  // Playing: one step at a time, `speed` steps a second.
  useEffect(() => {
    if (!playing) return;
    if (at >= last) {
      setPlaying(false);
      return;
    }
    const id = setTimeout(() => setStep(at + 1), 1000 / speed);
    return () => clearTimeout(id);
  }, [playing, at, last, speed]);

  // Keyboard: space plays/pauses, arrows step, Home/End jump. Updates are
  // functional, so keys pressed faster than the page re-renders all count.
  const lastRef = useRef(last);
  lastRef.current = last;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const tag = (e.target as HTMLElement).tagName;
      if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA' || mode !== 'scenario') return;
      const L = lastRef.current;
      const cur = (s: number) => (s < 0 || s > L ? L : s);
      if (e.key === ' ' && !(e.target as HTMLElement).closest('[data-arrow]')) {
        e.preventDefault();
        setPlaying((p) => !p);
      } else if (e.key === 'ArrowRight') setStep((s) => Math.min(L, cur(s) + 1));
      else if (e.key === 'ArrowLeft') setStep((s) => Math.max(0, cur(s) - 1));
      else if (e.key === 'Home') setStep(0);
      else if (e.key === 'End') setStep(L);
      else return;
      e.preventDefault();
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [mode]);

  const sc = findScenario(setup.name)!;
  const apply = () => {
    setSetup(draft);
    setStep(-1);
    setSelected(null);
  };
  const exportName = `synack-${setup.name}-seed${setup.seed}`;
  const svgOf = () => document.querySelector('.ladders') as HTMLElement | null;

  return (
    <div class="page" lang={lang === 'zh' ? 'zh-CN' : 'en'}>
      <header>
        <h1>{t.title}</h1>
        <p class="subtitle">{t.subtitle}</p>
        <div class="toggles">
          <button
            type="button"
            data-testid="lang"
            onClick={() => setLang(lang === 'en' ? 'zh' : 'en')}
          >
            {lang === 'en' ? '简体中文' : 'English'}
          </button>
          <label>
            <input
              type="checkbox"
              data-testid="absolute"
              checked={abs}
              onChange={(e) => setAbs((e.target as HTMLInputElement).checked)}
            />{' '}
            {t.absolute}
          </label>
          <div class="tabs" role="tablist">
            <button
              type="button"
              role="tab"
              aria-selected={mode === 'scenario'}
              onClick={() => setMode('scenario')}
            >
              {t.scenario}
            </button>
            <button
              type="button"
              role="tab"
              data-testid="free-tab"
              aria-selected={mode === 'free'}
              onClick={() => setMode('free')}
            >
              {t.free}
            </button>
          </div>
        </div>
      </header>
      {mode === 'free' ? (
        <FreePlay lang={lang} absolute={abs} />
      ) : (
        <main>
          <aside class="setup">
            <label>
              {t.scenario}
              <select
                data-testid="scenario"
                value={draft.name}
                onChange={(e) => {
                  const name = (e.target as HTMLSelectElement).value;
                  const next = { ...draft, name, params: {} };
                  setDraft(next);
                  setSetup(next);
                  setStep(-1);
                  setSelected(null);
                }}
              >
                {scenarios.map((s) => (
                  <option value={s.name}>{scenarioTitle(s, lang)}</option>
                ))}
              </select>
            </label>
            <p class="description">{scenarioDescription(sc, lang)}</p>
            {sc.params.length > 0 && (
              <fieldset>
                <legend>{t.params}</legend>
                {sc.params.map((p) => (
                  <label title={paramRange(p)} for={`param-${p.name}`}>
                    --{p.name}
                    {p.choices ? (
                      <select
                        id={`param-${p.name}`}
                        data-param={p.name}
                        value={draft.params[p.name] ?? String(p.default)}
                        onChange={(e) =>
                          setDraft({
                            ...draft,
                            params: {
                              ...draft.params,
                              [p.name]: (e.target as HTMLSelectElement).value,
                            },
                          })
                        }
                      >
                        {p.choices.map((c) => (
                          <option value={c}>{c}</option>
                        ))}
                      </select>
                    ) : (
                      <input
                        type="number"
                        id={`param-${p.name}`}
                        data-param={p.name}
                        min={p.min}
                        max={p.max}
                        step={p.integer ? 1 : 'any'}
                        value={draft.params[p.name] ?? String(p.default)}
                        onChange={(e) =>
                          setDraft({
                            ...draft,
                            params: {
                              ...draft.params,
                              [p.name]: (e.target as HTMLInputElement).value,
                            },
                          })
                        }
                      />
                    )}
                    <small>{p.description}</small>
                  </label>
                ))}
              </fieldset>
            )}
            <fieldset>
              <legend>{t.faults}</legend>
              {(
                [
                  ['loss', t.loss, 0, 0.5, 0.01],
                  ['delay', t.delay, 0, 500, 1],
                  ['jitter', t.jitter, 0, 200, 1],
                  ['duplicate', t.duplicate, 0, 0.5, 0.01],
                  ['reorder', t.reorder, 0, 0.5, 0.01],
                  ['hold', t.holdSyn, 0, 120, 1],
                  ['drop', t.dropNth, 0, 50, 1],
                ] as const
              ).map(([k, label, min, max, stepv]) => (
                <label>
                  {label} <output>{draft.faults[k]}</output>
                  <input
                    type="range"
                    data-fault={k}
                    min={min}
                    max={max}
                    step={stepv}
                    value={draft.faults[k]}
                    onInput={(e) =>
                      setDraft({
                        ...draft,
                        faults: {
                          ...draft.faults,
                          [k]: Number((e.target as HTMLInputElement).value),
                        },
                      })
                    }
                  />
                </label>
              ))}
              <label>
                {t.seed}
                <input
                  type="number"
                  min={0}
                  value={draft.seed}
                  onChange={(e) =>
                    setDraft({ ...draft, seed: Number((e.target as HTMLInputElement).value) || 0 })
                  }
                />
              </label>
            </fieldset>
            <button type="button" class="primary" data-testid="run" onClick={apply}>
              {t.run}
            </button>
            {run.error && <p class="error">{run.error}</p>}
          </aside>
          <section class="stage">
            <div class="controls" role="toolbar">
              <button type="button" data-testid="home" onClick={() => setStep(0)} aria-label="Home">
                «
              </button>
              <button
                type="button"
                data-testid="back"
                onClick={() => setStep(Math.max(0, at - 1))}
                aria-label={t.back}
              >
                ◀
              </button>
              <button
                type="button"
                data-testid="play"
                onClick={() => setPlaying(!playing)}
                aria-label={playing ? t.pause : t.play}
              >
                {playing ? '❚❚' : '▶'}
              </button>
              <button
                type="button"
                data-testid="forward"
                onClick={() => setStep(Math.min(last, at + 1))}
                aria-label={t.forward}
              >
                ▶|
              </button>
              <button
                type="button"
                data-testid="end"
                onClick={() => setStep(last)}
                aria-label="End"
              >
                »
              </button>
              <label>
                {t.speed}
                <select
                  value={speed}
                  onChange={(e) => setSpeed(Number((e.target as HTMLSelectElement).value))}
                >
                  {[0.5, 1, 2, 4, 8, 16].map((x) => (
                    <option value={x}>{x}×</option>
                  ))}
                </select>
              </label>
              <label class="scrub">
                {t.time} <output data-testid="now">{(now / 1000).toFixed(3)} s</output>
                <input
                  type="range"
                  data-testid="scrubber"
                  min={0}
                  max={Math.max(0, last)}
                  value={at}
                  onInput={(e) => setStep(Number((e.target as HTMLInputElement).value))}
                />
              </label>
            </div>
            <div class="ladders">
              {models.map((m, v) => (
                <div class="variant" data-variant={m.result.variant ?? ''}>
                  {m.result.variant && (
                    <h2 class={m.result.variant.includes('NOT TCP') ? 'not-tcp' : ''}>
                      {variantName(m.result.variant, lang)}
                      {m.result.variant.includes('NOT TCP') && (
                        <span class="badge">{t.notTcp}</span>
                      )}
                    </h2>
                  )}
                  {m.aggregated > 0 && (
                    <p class="note" data-testid="aggregated">
                      {t.aggregated(m.aggregated)}
                    </p>
                  )}
                  <Ladder
                    width={models.length > 1 ? 460 : 640}
                    model={m}
                    now={now}
                    absolute={abs}
                    lang={lang}
                    selected={selected?.v === v ? selected.i : -1}
                    onSelect={(i) => setSelected({ v, i })}
                  />
                  <Checks result={m.result} lang={lang} done={at >= last} />
                  <Graphs result={m.result} lang={lang} />
                </div>
              ))}
            </div>
          </section>
          <aside class="side">
            <Detail models={models} selected={selected} lang={lang} absolute={abs} />
            <StatePanel models={models} now={now} host={host} setHost={setHost} lang={lang} />
            <fieldset class="export">
              <legend>{t.export}</legend>
              <button
                type="button"
                data-testid="export-pcap"
                onClick={() => {
                  for (const [v, m] of models.entries())
                    download(
                      `${exportName}${v ? `.${v + 1}` : ''}.pcap`,
                      renderPcap(m.result.events) as Uint8Array<ArrayBuffer>,
                      'application/vnd.tcpdump.pcap',
                    );
                }}
              >
                pcap
              </button>
              <button
                type="button"
                onClick={() =>
                  download(
                    `${exportName}.txt`,
                    models.flatMap((m) => renderTcpdump(m.result.events)).join('\n'),
                    'text/plain',
                  )
                }
              >
                tcpdump
              </button>
              <button
                type="button"
                onClick={() =>
                  download(
                    `${exportName}.jsonl`,
                    models.flatMap((m) => renderJson(m.result.events)).join('\n'),
                    'application/json',
                  )
                }
              >
                JSON
              </button>
              <button type="button" onClick={() => exportSvg(svgOf(), exportName, false)}>
                SVG
              </button>
              <button type="button" onClick={() => exportSvg(svgOf(), exportName, true)}>
                PNG
              </button>
              <button
                type="button"
                data-testid="share"
                onClick={() => {
                  navigator.clipboard?.writeText(location.href).catch(() => {});
                  setCopied(true);
                  setTimeout(() => setCopied(false), 1500);
                }}
              >
                {copied ? t.copied : t.share}
              </button>
            </fieldset>
          </aside>
        </main>
      )}
    </div>
  );
}

function exportSvg(root: HTMLElement | null, name: string, png: boolean): void {
  const svg = root?.querySelector('svg');
  if (!svg) return;
  const text = new XMLSerializer().serializeToString(svg);
  if (!png) {
    download(`${name}.svg`, text, 'image/svg+xml');
    return;
  }
  const img = new Image();
  const w = svg.viewBox.baseVal.width || svg.clientWidth;
  const h = svg.viewBox.baseVal.height || svg.clientHeight;
  img.onload = () => {
    const c = document.createElement('canvas');
    c.width = w * 2;
    c.height = h * 2;
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, c.width, c.height);
    ctx.drawImage(img, 0, 0, c.width, c.height);
    c.toBlob((b) => b && download(`${name}.png`, b, 'image/png'));
  };
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`;
}

/**
 * The time-sequence graph and the congestion-window plot, for runs that moved
 * data through loss recovery (the window changed): the whole run, as the CLI's
 * --format tsg and --format cwnd draw it.
 */
function Graphs({ result, lang }: { result: ScenarioResult; lang: Lang }) {
  const t = ui[lang];
  const svgs = useMemo(() => {
    // Only where the congestion window moved (every connection reports its initial one).
    const cwnd = renderCwnd(result.events);
    if (cwnd.summary.samples === 0) return null;
    return [renderTsg(result.events).svg.join(''), cwnd.svg.join('')];
  }, [result]);
  if (!svgs) return null;
  return (
    <details class="graphs" data-testid="graphs" open>
      <summary>{t.graphs}</summary>
      <figure data-testid="tsg">
        <div dangerouslySetInnerHTML={{ __html: svgs[0] }} />
        <figcaption>{t.tsgCaption}</figcaption>
      </figure>
      <figure data-testid="cwnd">
        <div dangerouslySetInnerHTML={{ __html: svgs[1] }} />
        <figcaption>{t.cwndCaption}</figcaption>
      </figure>
    </details>
  );
}

function Checks({ result, lang, done }: { result: ScenarioResult; lang: Lang; done: boolean }) {
  const t = ui[lang];
  if (!done) return null;
  return (
    <div class="checks">
      <h3>{t.checks}</h3>
      <ul>
        {result.checks.map((c) => (
          <li class="check" data-ok={String(c.ok)}>
            {c.ok ? '✓' : '✗'} {checkText(c, lang)}
          </li>
        ))}
        {Object.entries(result.facts)
          .filter(([, v]) => typeof v === 'number' || typeof v === 'string')
          .map(([k, v]) => (
            <li class="fact">
              · {factName(k, lang)}:{' '}
              {typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : String(v)}
            </li>
          ))}
      </ul>
    </div>
  );
}

function Detail({
  models,
  selected,
  lang,
  absolute,
}: {
  models: Model[];
  selected: { v: number; i: number } | null;
  lang: Lang;
  absolute: boolean;
}) {
  const t = ui[lang];
  const [hover, setHover] = useState<string | null>(null);
  const m = selected ? models[selected.v] : undefined;
  const arrow: Arrow | undefined = m?.arrows.find((a) => a.i === selected!.i);
  const why = useMemo(() => {
    if (!m || !arrow) return undefined;
    return explainSegments(m.result.events, lang, absolute).find((x) => x.wire === arrow.i);
  }, [m, arrow, lang, absolute]);
  if (!arrow) {
    return (
      <section class="detail" id="detail">
        <h3>{t.detail}</h3>
        <p class="hint">{t.detailHint}</p>
      </section>
    );
  }
  const fields = packetFields(arrow.packet);
  const owner = (k: number) => fields.find((f) => k >= f.start && k < f.end)?.id;
  return (
    <section class="detail" id="detail" data-testid="detail">
      <h3>
        {t.detail}: {arrow.from} → {arrow.to}
      </h3>
      {why && (
        <p class="why" data-testid="why">
          <strong>{t.explanation}:</strong> {why.text}
          <br />
          <small>
            {t.rfc}: {[...new Set(why.keys.map((k) => RFC_SECTION[k]).filter(Boolean))].join('; ')}
          </small>
        </p>
      )}
      <table class="fields">
        <tbody>
          {fields.map((f) => (
            <tr
              data-field={f.id}
              class={hover === f.id ? 'hot' : ''}
              onMouseEnter={() => setHover(f.id)}
              onMouseLeave={() => setHover(null)}
            >
              <td>{f.layer}</td>
              <td>{f.name}</td>
              <td>{f.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <pre class="hex" data-testid="hex">
        {Array.from(arrow.packet).map((b, k) => (
          <>
            {/* biome-ignore lint/a11y/noStaticElementInteractions: hovering a byte only highlights its field (the table rows do the same with the keyboard-free mouse). */}
            <span
              data-field={owner(k)}
              class={hover !== null && owner(k) === hover ? 'hot' : ''}
              onMouseEnter={() => setHover(owner(k) ?? null)}
              onMouseLeave={() => setHover(null)}
            >
              {b.toString(16).padStart(2, '0')}
            </span>
            {k % 16 === 15 ? '\n' : ' '}
          </>
        ))}
      </pre>
    </section>
  );
}

function StatePanel({
  models,
  now,
  host,
  setHost,
  lang,
}: {
  models: Model[];
  now: number;
  host: string;
  setHost: (h: string) => void;
  lang: Lang;
}) {
  const t = ui[lang];
  const lanes = models[0]?.lanes ?? [];
  const h = lanes.includes(host) ? host : (lanes[lanes.length > 1 ? 1 : 0] ?? '');
  return (
    <section class="state-panel" data-testid="state-panel">
      <h3>{t.state}</h3>
      <label>
        {t.host}{' '}
        <select value={h} onChange={(e) => setHost((e.target as HTMLSelectElement).value)}>
          {lanes.map((l) => (
            <option value={l}>{l}</option>
          ))}
        </select>
      </label>
      {models.map((m) => {
        const tcbs = tcbAt(m.result.events, h, now);
        const lv = listenerAt(m.result.events, h, now);
        const limit = Number(m.result.facts.synQueueLimit ?? 0);
        return (
          <div class="tcbs">
            {m.result.variant && <h4>{variantName(m.result.variant, lang)}</h4>}
            {(lv.synQueue > 0 || lv.cookiesSent > 0 || limit > 0) && (
              <div class="listener" data-testid="listener">
                <strong>{t.listener}</strong>
                <Gauge
                  label={t.synQueue}
                  value={lv.synQueue}
                  max={Math.max(limit, lv.synQueue, 1)}
                />
                <div>
                  {t.cookiesSent}: <b data-testid="cookies-sent">{lv.cookiesSent}</b> ·{' '}
                  {t.cookiesAccepted}: <b>{lv.cookiesAccepted}</b> · {t.established}:{' '}
                  <b>{lv.established}</b>
                </div>
              </div>
            )}
            <table>
              <thead>
                <tr>
                  <th>{t.conn}</th>
                  <th>state</th>
                  <th>ISS</th>
                  <th>IRS</th>
                  <th>SND.UNA</th>
                  <th>SND.NXT</th>
                  <th>RCV.NXT</th>
                  <th>SND.WND</th>
                  <th>RCV.WND</th>
                </tr>
              </thead>
              <tbody>
                {tcbs.slice(-8).map((x) => (
                  <tr data-conn={x.conn}>
                    <td>#{x.conn}</td>
                    <td>{x.state}</td>
                    <td>{x.iss ?? '—'}</td>
                    <td>{x.irs ?? '—'}</td>
                    <td>{x.sndUna ?? '—'}</td>
                    <td>{x.sndNxt ?? '—'}</td>
                    <td>{x.rcvNxt ?? '—'}</td>
                    <td>{x.sndWnd ?? '—'}</td>
                    <td>{x.rcvWnd ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        );
      })}
    </section>
  );
}

function Gauge({ label, value, max }: { label: string; value: number; max: number }) {
  return (
    <div class="gauge">
      {label}: <b>{value}</b> / {max}
      <meter min={0} max={max} value={value} />
    </div>
  );
}

export function useSize(): [preact.RefObject<HTMLDivElement>, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [w, setW] = useState(640);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setW(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, w];
}
