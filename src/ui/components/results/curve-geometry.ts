/**
 * The learning curves' geometry, pure: one scale for steps (x) and one for the metric (y) over every job's points, the
 * ticks, and each job's polyline in pixels. The React component (./learning-curves.tsx) only draws what this returns.
 */
import { canLog, extent, IScale, makeScale, niceDomain, toPx } from './scales';

export interface ISeries {
  task: string;
  points: { step: number; value: number }[];
}

export interface IPlotBox {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface ICurvePoint {
  x: number;
  y: number;
  step: number;
  value: number;
}

export interface ICurve {
  task: string;
  /** An SVG path (`M x y L x y …`); empty without points. */
  d: string;
  points: ICurvePoint[];
}

export interface ICurveLayout {
  box: IPlotBox;
  x: IScale;
  y: IScale;
  xTicks: number[];
  yTicks: number[];
  /** Whether the y scale is logarithmic (asked for and every value > 0). */
  log: boolean;
  curves: ICurve[];
  /** Whether any series has a point. */
  empty: boolean;
}

export const CURVE_MARGIN = { left: 56, right: 16, top: 12, bottom: 36 };

export function pathOf(points: { x: number; y: number }[]): string {
  return points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(' ');
}

export function curveLayout(series: ISeries[], width: number, height: number, log = false): ICurveLayout {
  const box: IPlotBox = {
    left: CURVE_MARGIN.left,
    top: CURVE_MARGIN.top,
    right: Math.max(CURVE_MARGIN.left + 10, width - CURVE_MARGIN.right),
    bottom: Math.max(CURVE_MARGIN.top + 10, height - CURVE_MARGIN.bottom)
  };
  const all = series.flatMap(s => s.points);
  const xs = extent(all.map(p => p.step)) ?? [0, 1];
  const ys = extent(all.map(p => p.value)) ?? [0, 1];
  const useLog = log && canLog(ys[0], ys[1]);
  const xn = niceDomain(Math.min(0, xs[0]), Math.max(xs[1], 1), Math.max(2, Math.floor((box.right - box.left) / 90)));
  const yn = niceDomain(ys[0], ys[1], Math.max(2, Math.floor((box.bottom - box.top) / 40)), useLog);
  const x = makeScale(xn.domain, [box.left, box.right]);
  const y = makeScale(yn.domain, [box.bottom, box.top], useLog);
  const curves = series.map(s => {
    const points = s.points.map(p => ({ x: toPx(x, p.step), y: toPx(y, p.value), step: p.step, value: p.value }));
    return { task: s.task, d: pathOf(points), points };
  });
  return { box, x, y, xTicks: xn.ticks, yTicks: yn.ticks, log: useLog, curves, empty: all.length === 0 };
}


/** The vertical lines of rungs (early stopping) inside the plot's step range: their step and x. */
export function rungLines(layout: Pick<ICurveLayout, 'x' | 'empty'>, steps: number[]): { step: number; x: number }[] {
  if (layout.empty) {
    return [];
  }
  const lo = Math.min(layout.x.d0, layout.x.d1);
  const hi = Math.max(layout.x.d0, layout.x.d1);
  return [...new Set(steps)]
    .filter(s => Number.isFinite(s) && s >= lo && s <= hi)
    .sort((a, b) => a - b)
    .map(step => ({ step, x: toPx(layout.x, step) }));
}
