// Time downward, to scale: y grows linearly with time at `pxPerMs`, except
// that a quiet stretch longer than `gap` ms (a 90 s hold, a 60 s TIME-WAIT)
// is folded to a fixed height and marked, so that the busy parts stay legible.

export interface Fold {
  t0: number;
  t1: number;
  y0: number;
}

export interface TimeScale {
  y(t: number): number;
  height: number;
  folds: Fold[];
}

const FOLD_PX = 36;

export function makeScale(times: readonly number[], pxPerMs: number, gap = 400): TimeScale {
  const ts = [...new Set(times)].sort((a, b) => a - b);
  const folds: Fold[] = [];
  // Breakpoints: [time, y] pairs; between them time is linear.
  const points: [number, number][] = [[0, 0]];
  let y = 0;
  let prev = 0;
  for (const t of ts) {
    if (t <= prev) continue;
    const dt = t - prev;
    if (dt > gap) {
      const a = prev + gap / 4;
      const b = t - gap / 4;
      points.push([a, y + (gap / 4) * pxPerMs]);
      y += (gap / 4) * pxPerMs;
      folds.push({ t0: a, t1: b, y0: y });
      y += FOLD_PX;
      points.push([b, y]);
      y += (gap / 4) * pxPerMs;
    } else {
      y += dt * pxPerMs;
    }
    points.push([t, y]);
    prev = t;
  }
  const yOf = (t: number): number => {
    if (t <= 0) return 0;
    let lo = 0;
    let hi = points.length - 1;
    if (t >= points[hi][0]) return points[hi][1] + (t - points[hi][0]) * pxPerMs;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (points[mid][0] <= t) lo = mid;
      else hi = mid;
    }
    const [t0, y0] = points[lo];
    const [t1, y1] = points[hi];
    return t1 === t0 ? y0 : y0 + ((t - t0) / (t1 - t0)) * (y1 - y0);
  };
  return { y: yOf, height: y, folds };
}
