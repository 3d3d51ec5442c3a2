// The ladder in SVG: one lane per host, time downward to scale (long quiet
// stretches folded and marked), each arrow from its send time to its arrival
// time, so crossing segments cross and a held one is a long diagonal. A lost
// segment ends in ✗ half-way; states are written on their lane when they change.

import { useMemo } from 'preact/hooks';
import type { Lang } from './i18n.ts';
import { ui } from './i18n.ts';
import { type Arrow, arrowLabel, basesFor, flagLabel, type Model } from './model.ts';
import { makeScale } from './scale.ts';

const TOP = 40;
const MARGIN = 90;
/** Quiet stretches longer than this (ms) are folded. */
const FOLD_GAP = 400;

export function Ladder({
  model,
  now,
  absolute,
  lang,
  selected,
  onSelect,
  width = 640,
}: {
  width?: number;
  model: Model;
  now: number;
  absolute: boolean;
  lang: Lang;
  selected: number;
  onSelect: (i: number) => void;
}) {
  const t = ui[lang];
  const W = width;
  const lanes = model.lanes;
  const x = (h: string) => {
    const k = lanes.indexOf(h);
    if (lanes.length <= 1) return W / 2;
    return MARGIN + (k < 0 ? lanes.length - 1 : k) * ((W - 2 * MARGIN) / (lanes.length - 1));
  };
  const scale = useMemo(() => {
    const times = model.steps;
    // The time that is drawn (quiet stretches are folded): 4 px a millisecond (a 10 ms
    // hop is 40 px), less when the run is long and busy.
    let busy = 0;
    for (let k = 1; k < times.length; k++) busy += Math.min(times[k] - times[k - 1], FOLD_GAP);
    const px = Math.min(4, Math.max(0.05, 2400 / Math.max(1, busy)));
    return makeScale(times, px, FOLD_GAP);
  }, [model]);
  // Labels in time order, so that each connection's numbers are relative to its own ISNs
  // (a 4-tuple used twice, as by a stale SYN, gets its second base only from then on).
  const labels = useMemo(() => {
    const bases = basesFor([], absolute);
    const out = new Map<number, string>();
    for (const a of model.arrows) {
      if (a.seg) bases.note(`${a.src}:${a.seg.srcPort}`, a.seg);
      out.set(a.i, arrowLabel(a, bases));
    }
    return out;
  }, [model, absolute]);
  const y = (tm: number) => TOP + scale.y(tm);
  const H = TOP + scale.height + 60;
  const visible = model.arrows.filter((a) => a.t <= now);
  const lastY = new Map<string, number>();
  // Arrows that leave the same host at the same instant: their labels are stacked, not overlaid.
  const rank = new Map<number, number>();
  const seen = new Map<string, number>();
  for (const a of visible) {
    const k = `${a.from}@${a.t}`;
    const n = seen.get(k) ?? 0;
    rank.set(a.i, n);
    seen.set(k, n + 1);
  }

  const end = (a: Arrow): [number, number, boolean] => {
    const x0 = x(a.from);
    const x1 = x(a.to);
    if (a.arrive === undefined) {
      // Never arrives (lost, cut, or still held): stop half-way.
      const xm = (x0 + x1) / 2;
      return [xm, y(a.t) + 12, a.fate !== 'held'];
    }
    if (a.arrive <= now) return [x1, y(a.arrive), false];
    // In flight at `now`: drawn as far as it has come.
    const f = (now - a.t) / Math.max(1e-9, a.arrive - a.t);
    return [x0 + (x1 - x0) * f, y(a.t) + (y(a.arrive) - y(a.t)) * f, false];
  };

  return (
    <svg
      viewBox={`0 0 ${W} ${H}`}
      width="100%"
      class="ladder"
      role="img"
      aria-label="ladder diagram"
      data-testid="ladder"
      xmlns="http://www.w3.org/2000/svg"
    >
      <style>{`text{font:11px ui-monospace,monospace}.lane{stroke:#999}.st{fill:#075985;font-weight:bold}.lbl{fill:#222}.lost{fill:#b91c1c;font-size:16px}.fold{fill:#888}.sel line{stroke:#d97706;stroke-width:3}`}</style>
      {lanes.map((h) => (
        <g class="lane-head" data-lane={h}>
          <text x={x(h)} y={16} text-anchor="middle" font-weight="bold">
            {h}
          </text>
          <line class="lane" x1={x(h)} y1={TOP - 10} x2={x(h)} y2={H - 20} />
        </g>
      ))}
      {scale.folds.map((f) => (
        <g class="fold-mark">
          <rect x={0} y={TOP + f.y0 + 4} width={W} height={28} fill="#f3f4f6" />
          <text class="fold" x={8} y={TOP + f.y0 + 22}>
            ≈ {t.folded(((f.t1 - f.t0) / 1000).toFixed(1))}
          </text>
        </g>
      ))}
      {model.bands
        .filter((b) => b.t0 <= now)
        .map((b) => (
          <g class="band" data-count={b.count}>
            <polygon
              points={`${x(b.from)},${y(b.t0)} ${x(b.to)},${y(b.t0) + 4} ${x(b.to)},${y(b.t1) + 4} ${x(b.from)},${y(b.t1)}`}
              fill="#fca5a5"
              opacity={0.35}
            />
          </g>
        ))}
      {visible.map((a) => {
        const x0 = x(a.from);
        const y0 = y(a.t);
        const [x1, y1, lost] = end(a);
        const label = labels.get(a.i) ?? '';
        const f = a.seg ? flagLabel(a.seg.flags) : { short: '', long: 'packet' };
        const mx = (x0 + x1) / 2;
        const my = (y0 + y1) / 2 - 4 + 13 * (rank.get(a.i) ?? 0);
        return (
          // biome-ignore lint/a11y/useSemanticElements: an SVG group cannot be a <button>; it takes focus and Enter/Space.
          <g
            class={`arrow${selected === a.i ? ' sel' : ''}`}
            data-arrow={a.i}
            data-label={f.long}
            data-short={f.short}
            data-fate={a.fate}
            data-from={a.from}
            data-to={a.to}
            data-x1={x0}
            data-y1={y0}
            data-x2={x1}
            data-y2={y1}
            tabIndex={0}
            role="button"
            aria-label={`${a.from} → ${a.to}: ${label}`}
            onClick={() => onSelect(a.i)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' || e.key === ' ') {
                e.preventDefault();
                onSelect(a.i);
              }
            }}
            style={{ cursor: 'pointer' }}
          >
            <line
              x1={x0}
              y1={y0}
              x2={x1}
              y2={y1}
              stroke={a.fate === 'injected' ? '#b91c1c' : '#1f2937'}
              stroke-width={1.5}
              marker-end={lost ? undefined : 'url(#head)'}
            />
            <line x1={x0} y1={y0} x2={x1} y2={y1} stroke="transparent" stroke-width={10} />
            {lost && (
              <text class="lost" x={x1 - 5} y={y1 + 5}>
                ✗
              </text>
            )}
            <text class="lbl" x={mx} y={my} text-anchor="middle">
              {label}
            </text>
          </g>
        );
      })}
      {model.states
        .filter((s) => s.t <= now && lanes.includes(s.host))
        .map((s) => {
          const left = lanes.indexOf(s.host) === 0;
          // States that change within a few pixels of each other are written one under the other.
          let sy = y(s.t) - 2;
          const prev = lastY.get(s.host);
          if (prev !== undefined && sy < prev + 12) sy = prev + 12;
          lastY.set(s.host, sy);
          return (
            <text
              class="st"
              data-host={s.host}
              data-state={s.to}
              x={x(s.host) + (left ? -6 : 6)}
              y={sy}
              text-anchor={left ? 'end' : 'start'}
            >
              {s.to}
            </text>
          );
        })}
      <line
        x1={0}
        x2={W}
        y1={y(now)}
        y2={y(now)}
        stroke="#d97706"
        stroke-dasharray="4 4"
        data-testid="now-line"
      />
      <defs>
        <marker
          id="head"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto-start-reverse"
        >
          <path d="M 0 0 L 10 5 L 0 10 z" fill="#1f2937" />
        </marker>
      </defs>
    </svg>
  );
}
