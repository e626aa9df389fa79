/**
 * The leaderboard's rules as pure functions: its columns, the value of a cell, sorting by any column, the metrics to
 * pick from and the best row for the picked one, the hyper-parameters that vary (a grid), numbers as text.
 */
import type { ResultRow } from '../../bridge/wire';
import { better, metricMode, MetricMode } from './results-state';

/** The training loss as a pickable metric (every other choice is a validation metric). */
export const TRAIN_LOSS = 'loss';

export type ColumnKind = 'text' | 'number' | 'duration';

export interface IColumn {
  /** `task`, `hp:<name>`, `state`, `parallelism`, `gpus`, `runtime_s`, `loss`, `last:<metric>`, `best:<metric>`. */
  key: string;
  label: string;
  kind: ColumnKind;
  /** The metric the column shows, if any. */
  metric?: string;
  /** For a validation metric's two columns: the header under the metric's name (`last`, `best`). */
  short?: string;
}

export type SortDir = 'asc' | 'desc';

export interface ISort {
  key: string;
  dir: SortDir;
}

export function columns(hparams: string[], metrics: string[]): IColumn[] {
  return [
    { key: 'task', label: 'Task', kind: 'text' },
    ...hparams.map(h => ({ key: `hp:${h}`, label: h, kind: 'number' as ColumnKind })),
    { key: 'state', label: 'State', kind: 'text' },
    { key: 'parallelism', label: 'Parallelism', kind: 'text' },
    { key: 'gpus', label: 'GPUs', kind: 'number' },
    { key: 'runtime_s', label: 'Runtime', kind: 'duration' },
    { key: 'loss', label: 'Loss', kind: 'number', metric: TRAIN_LOSS },
    ...metrics.flatMap(m => [
      { key: `last:${m}`, label: `last ${m}`, kind: 'number' as ColumnKind, metric: m, short: 'last' },
      { key: `best:${m}`, label: `best ${m}`, kind: 'number' as ColumnKind, metric: m, short: 'best' }
    ])
  ];
}

/** A cell's value (null: none yet). */
export function cellValue(row: ResultRow, key: string): string | number | null {
  const [head, ...rest] = key.split(':');
  const name = rest.join(':');
  let v: unknown;
  switch (head) {
    case 'hp':
      v = (row.hparams as Record<string, unknown>)[name];
      break;
    case 'last':
      v = row.metrics[name];
      break;
    case 'best':
      v = row.best[name];
      break;
    default:
      v = (row as unknown as Record<string, unknown>)[key];
  }
  if (typeof v === 'number') {
    return Number.isFinite(v) ? v : null;
  }
  return v === null || v === undefined ? null : String(v);
}

const TOKEN = /\d+(?:\.\d+)?(?:e[-+]?\d+)?|\D+/gi;

/** Text with the numbers in it compared as numbers, decimals included (`lr0.01` before `lr0.1`, `bs8` before `bs16`). */
export function naturalCompare(a: string, b: string): number {
  const x = a.match(TOKEN) ?? [];
  const y = b.match(TOKEN) ?? [];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const nx = Number(x[i]);
    const ny = Number(y[i]);
    const d = /^\d/.test(x[i]) && /^\d/.test(y[i]) ? nx - ny : x[i].localeCompare(y[i]);
    if (d) {
      return d;
    }
  }
  return x.length - y.length || a.localeCompare(b);
}

function compare(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') {
    return a - b;
  }
  return naturalCompare(String(a), String(b));
}

/** Rows sorted by a column; empty cells last whichever the direction, ties by task name. */
export function sortRows(rows: ResultRow[], sort: ISort): ResultRow[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  return [...rows].sort((x, y) => {
    const a = cellValue(x, sort.key);
    const b = cellValue(y, sort.key);
    if (a === null || b === null) {
      return a === b ? naturalCompare(x.task, y.task) : a === null ? 1 : -1;
    }
    return sign * compare(a, b) || naturalCompare(x.task, y.task);
  });
}

/** Clicking a column's header: the first click sorts it (best first for a metric, else ascending), the next flips. */
export function nextSort(current: ISort, col: IColumn, modeOf: (metric: string) => MetricMode): ISort {
  if (current.key === col.key) {
    return { key: col.key, dir: current.dir === 'asc' ? 'desc' : 'asc' };
  }
  return { key: col.key, dir: col.metric && modeOf(col.metric) === 'max' ? 'desc' : 'asc' };
}

/** The metrics to pick from: the validation metrics, then the training loss. */
export function metricChoices(metrics: string[]): string[] {
  return [...metrics.filter(m => m !== TRAIN_LOSS), TRAIN_LOSS];
}

/** The mode of `metric` in these rows (the bridge's `modes`), else by its name. */
export function modeOf(rows: ResultRow[], metric: string): MetricMode {
  if (metric === TRAIN_LOSS) {
    return 'min';
  }
  for (const r of rows) {
    const m = r.modes[metric];
    if (m === 'min' || m === 'max') {
      return m;
    }
  }
  return metricMode(metric);
}

/** The column that ranks rows by `metric`: its best value, or the last training loss. */
export function rankKey(metric: string): string {
  return metric === TRAIN_LOSS ? 'loss' : `best:${metric}`;
}

/** The sort a leaderboard starts with: best first by the picked metric. */
export function defaultSort(rows: ResultRow[], metric: string): ISort {
  return { key: rankKey(metric), dir: modeOf(rows, metric) === 'max' ? 'desc' : 'asc' };
}

/** The task of the best row for `metric` (its best value by its mode; the last loss for the training loss), or null. */
export function bestTask(rows: ResultRow[], metric: string): string | null {
  const mode = modeOf(rows, metric);
  let pick: { task: string; value: number } | null = null;
  for (const r of rows) {
    const v = cellValue(r, rankKey(metric));
    if (typeof v === 'number' && (pick === null || better(v, pick.value, mode))) {
      pick = { task: r.task, value: v };
    }
  }
  return pick?.task ?? null;
}

/** The hyper-parameters whose values differ between rows (the axes of a grid), in the bridge's order. */
export function varyingHparams(rows: ResultRow[], hparams: string[]): string[] {
  return hparams.filter(h => new Set(rows.map(r => JSON.stringify((r.hparams as Record<string, unknown>)[h] ?? null))).size > 1);
}

/** A metric or hyper-parameter as text: 4 significant digits, exponent notation for very small or large values. */
export function formatValue(v: string | number | null | undefined): string {
  if (v === null || v === undefined) {
    return '–';
  }
  if (typeof v !== 'number') {
    return v;
  }
  if (v === 0) {
    return '0';
  }
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) {
    return v.toExponential(2).replace(/\.?0+e/, 'e');
  }
  return String(Number(v.toPrecision(4)));
}
