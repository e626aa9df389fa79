/**
 * The parallel-coordinates geometry, pure: one vertical axis per hyper-parameter that varies and a last one for the
 * picked metric (better values on top), each task a polyline through its values. Numbers spanning a factor of 10 or
 * more go on a log axis (learning rates); a few distinct numbers are ticked at those values; anything else is a
 * category (evenly spaced, in order).
 */
import type { MetricMode } from '../../models/results-state';
import { formatValue } from '../../models/leaderboard';
import { IScale, makeScale, niceDomain, tickLabel, toPx } from './scales';

export type AxisKind = 'linear' | 'log' | 'category';

export interface IAxisTick {
  y: number;
  label: string;
}

export interface IParallelAxis {
  name: string;
  label: string;
  x: number;
  kind: AxisKind;
  ticks: IAxisTick[];
  /** The pixel of a value on this axis (null: not on it). */
  y(v: unknown): number | null;
}

export interface IParallelLine {
  task: string;
  /** The path through the hyper-parameter axes and, when the task has a value, the metric axis. */
  d: string;
  /** Pixel points, one per axis the task has a value on. */
  points: { x: number; y: number }[];
  value: number | null;
}

export interface IParallelLayout {
  axes: IParallelAxis[];
  lines: IParallelLine[];
  top: number;
  bottom: number;
}

export interface IParallelInput {
  /** Each task with its hyper-parameters and its value of the metric (null: none yet). */
  rows: { task: string; hparams: Record<string, unknown>; value: number | null }[];
  /** The hyper-parameters to draw, in order. */
  hparams: string[];
  metric: string;
  mode: MetricMode;
}

export const PC_MARGIN = { left: 48, right: 72, top: 30, bottom: 16 };

/** How a hyper-parameter's values go on an axis. */
export function axisKind(values: unknown[]): AxisKind {
  const nums = values.filter(v => v !== null && v !== undefined);
  if (!nums.length || !nums.every(v => typeof v === 'number' && Number.isFinite(v))) {
    return 'category';
  }
  const n = nums as number[];
  const lo = Math.min(...n);
  const hi = Math.max(...n);
  return lo > 0 && hi / lo >= 10 ? 'log' : 'linear';
}

interface INumericAxis {
  name: string;
  label: string;
  x: number;
  top: number;
  bottom: number;
  log: boolean;
  /** Smaller values on top (a metric where smaller is better). */
  flip: boolean;
  /** Tick a few distinct values themselves (a grid's settings) rather than round numbers. */
  exact: boolean;
}

function numericAxis(o: INumericAxis, values: number[]): IParallelAxis {
  const { name, label, x, top, bottom, log, flip } = o;
  const distinct = [...new Set(values)].sort((a, b) => a - b);
  const lo = distinct[0] ?? 0;
  const hi = distinct[distinct.length - 1] ?? 1;
  let scale: IScale;
  let ticks: number[];
  const exact = o.exact && distinct.length <= 6 && distinct.length > 1;
  if (exact) {
    scale = makeScale([lo, hi], flip ? [top, bottom] : [bottom, top], log);
    ticks = distinct;
  } else {
    const nice = niceDomain(lo, hi, 4, log);
    scale = makeScale(nice.domain, flip ? [top, bottom] : [bottom, top], log && nice.domain[0] > 0);
    ticks = nice.ticks;
  }
  const fmt = exact ? formatValue : tickLabel;
  return {
    name,
    label,
    x,
    kind: scale.log ? 'log' : 'linear',
    ticks: ticks.map(v => ({ y: toPx(scale, v), label: fmt(v) })),
    y: v => (typeof v === 'number' && Number.isFinite(v) && (!scale.log || v > 0) ? toPx(scale, v) : null)
  };
}

function categoryAxis(name: string, x: number, values: unknown[], top: number, bottom: number): IParallelAxis {
  const labels = [...new Set(values.map(v => formatValue(v as any)))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const at = (i: number): number => (labels.length < 2 ? (top + bottom) / 2 : bottom - (i * (bottom - top)) / (labels.length - 1));
  return {
    name,
    label: name,
    x,
    kind: 'category',
    ticks: labels.map((l, i) => ({ y: at(i), label: l })),
    y: v => {
      const i = labels.indexOf(formatValue(v as any));
      return i < 0 ? null : at(i);
    }
  };
}

export function parallelLayout(input: IParallelInput, width: number, height: number): IParallelLayout {
  const top = PC_MARGIN.top;
  const bottom = Math.max(top + 20, height - PC_MARGIN.bottom);
  const n = input.hparams.length + 1;
  const left = PC_MARGIN.left;
  const right = Math.max(left + 20 * n, width - PC_MARGIN.right);
  const xAt = (i: number): number => (n < 2 ? (left + right) / 2 : left + (i * (right - left)) / (n - 1));
  const axes: IParallelAxis[] = input.hparams.map((h, i) => {
    const values = input.rows.map(r => r.hparams[h]);
    const kind = axisKind(values);
    return kind === 'category'
      ? categoryAxis(h, xAt(i), values, top, bottom)
      : numericAxis({ name: h, label: h, x: xAt(i), top, bottom, log: kind === 'log', flip: false, exact: true }, values as number[]);
  });
  const metricValues = input.rows.map(r => r.value).filter((v): v is number => v !== null && Number.isFinite(v));
  const label = `${input.metric === 'loss' ? 'loss' : `best ${input.metric}`} (better ↑)`;
  const metricAxis = { name: input.metric, label, x: xAt(n - 1), top, bottom, log: false, flip: input.mode === 'min', exact: false };
  axes.push(numericAxis(metricAxis, metricValues.length ? metricValues : [0, 1]));
  const lines = input.rows.map(r => {
    const points: { x: number; y: number }[] = [];
    axes.forEach((a, i) => {
      const y = a.y(i < input.hparams.length ? r.hparams[a.name] : r.value);
      if (y !== null) {
        points.push({ x: a.x, y });
      }
    });
    const d = points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(' ');
    return { task: r.task, d, points, value: r.value };
  });
  return { axes, lines, top, bottom };
}
