/**
 * Scales and ticks for the Results view's plots, as pure functions: a value ↔ pixel map (linear or logarithmic),
 * "nice" domains and tick values (1, 2, 5 × 10ⁿ; whole decades on a log scale), tick labels.
 */

export interface IScale {
  /** The domain, smallest value first (for a log scale, both > 0). */
  d0: number;
  d1: number;
  /** The pixels the domain maps to (r0 for d0; r1 < r0 for a y axis that grows upwards). */
  r0: number;
  r1: number;
  log: boolean;
}

export function makeScale(domain: [number, number], range: [number, number], log = false): IScale {
  return { d0: domain[0], d1: domain[1], r0: range[0], r1: range[1], log };
}

function t(s: IScale, v: number): number {
  return s.log ? Math.log10(v) : v;
}

/** A value's pixel. A zero-width domain maps everything to the middle of the range. */
export function toPx(s: IScale, v: number): number {
  const a = t(s, s.d0);
  const b = t(s, s.d1);
  if (b === a) {
    return (s.r0 + s.r1) / 2;
  }
  return s.r0 + ((t(s, v) - a) / (b - a)) * (s.r1 - s.r0);
}

/** A pixel's value (the inverse of toPx). */
export function fromPx(s: IScale, px: number): number {
  const a = t(s, s.d0);
  const b = t(s, s.d1);
  if (s.r1 === s.r0) {
    return s.d0;
  }
  const u = a + ((px - s.r0) / (s.r1 - s.r0)) * (b - a);
  return s.log ? 10 ** u : u;
}

/** Smallest and largest of the finite values (null: none). */
export function extent(values: Iterable<number>): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

/** The step between about `count` ticks over `span`: 1, 2 or 5 × 10ⁿ. */
export function tickStep(span: number, count: number): number {
  if (!(span > 0) || count < 1) {
    return 1;
  }
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  // the step whose tick count is nearest to `count` (on a log scale: thresholds √50, √10, √2)
  return (f >= Math.SQRT2 * 5 ? 10 : f >= Math.sqrt(10) ? 5 : f >= Math.SQRT2 ? 2 : 1) * mag;
}

/** Round a float produced by multiplying a step (0.1 * 3 → 0.3, not 0.30000000000000004). */
function clean(v: number): number {
  return Number(v.toPrecision(12));
}

/**
 * A domain that covers [lo, hi] and ends on ticks, with its ticks. A single value gets some room around it; on a log
 * scale the domain ends on whole decades (values ≤ 0 make it linear: see `canLog`).
 */
export function niceDomain(lo: number, hi: number, count = 5, log = false): { domain: [number, number]; ticks: number[] } {
  if (log && canLog(lo, hi)) {
    const a = Math.floor(Math.log10(lo));
    const b = Math.max(a + 1, Math.ceil(Math.log10(hi)));
    const every = Math.max(1, Math.ceil((b - a) / count));
    const ticks: number[] = [];
    for (let e = a; e <= b; e += every) {
      ticks.push(clean(10 ** e));
    }
    return { domain: [clean(10 ** a), clean(10 ** b)], ticks };
  }
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = tickStep(hi - lo, count);
  const d0 = clean(Math.floor(lo / step + 1e-9) * step);
  const d1 = clean(Math.ceil(hi / step - 1e-9) * step);
  const ticks: number[] = [];
  for (let i = 0; d0 + i * step <= d1 + step * 1e-9; i++) {
    ticks.push(clean(d0 + i * step));
  }
  return { domain: [d0, d1], ticks };
}

/** Whether values in [lo, hi] can go on a log scale. */
export function canLog(lo: number, hi: number): boolean {
  return lo > 0 && hi > 0;
}

/** A tick's label: short (1k, 2.5M, 1e-4), without float noise. */
export function tickLabel(v: number): string {
  if (v === 0) {
    return '0';
  }
  const a = Math.abs(v);
  if (a >= 1e6) {
    return `${clean(v / 1e6)}M`;
  }
  if (a >= 1e4) {
    return `${clean(v / 1e3)}k`;
  }
  if (a < 1e-3) {
    return v.toExponential(0);
  }
  return String(clean(v));
}
