/**
 * What the Results view shows of a run, and how the bridge's replies and the pushed history points change it, as
 * pure functions: the `results` and `history` replies in, a state out; a point in, the next state out. The rows are
 * the bridge's (python_bridge/saturn/bridge/results.py `summary`); a point updates its row's last and best values
 * the way that function computes them, so the table stays live between two reads of `results`.
 */
import type { MetricPoint, ReplyHistory, ReplyResults, ResultRow } from '../../bridge/wire';

export type MetricMode = 'min' | 'max';

export interface IResultsState {
  /** The run shown (null: no run yet). */
  runId: string | null;
  /** Validation metric names, in the order the bridge first saw them. */
  metrics: string[];
  /** Hyper-parameter names (the grid's axes, else lr and batch_size). */
  hparams: string[];
  rows: ResultRow[];
  /** Each task's history, ordered by step (train and validation points mixed). */
  points: Record<string, MetricPoint[]>;
  /** The highest point id applied. */
  lastPoint: number;
}

export const EMPTY_RESULTS: IResultsState = { runId: null, metrics: [], hparams: [], rows: [], points: {}, lastPoint: 0 };

/** Whether a smaller or a larger value of `name` is better, by its name (saturn/core/task.py `metric_mode`). */
export function metricMode(name: string): MetricMode {
  const lowered = name.toLowerCase();
  return ['loss', 'err', 'perplexity', 'mse', 'mae'].some(w => lowered.includes(w)) ? 'min' : 'max';
}

/** `a` better than `b` for `mode`. */
export function better(a: number, b: number, mode: MetricMode): boolean {
  return mode === 'min' ? a < b : a > b;
}

/** A store event's data (`job.metrics`: the job's id in `id`) as a history point; null when it is not one. */
export function pointFromEvent(data: any): MetricPoint | null {
  if (!data || typeof data.point !== 'number' || typeof data.task !== 'string' || typeof data.step !== 'number') {
    return null;
  }
  if (data.kind !== 'train' && data.kind !== 'val') {
    return null;
  }
  return {
    point: data.point,
    job: String(data.id ?? data.job ?? ''),
    run_id: data.run_id ?? null,
    task: data.task,
    step: data.step,
    epoch: data.epoch ?? null,
    kind: data.kind,
    metrics: { ...(data.metrics ?? {}) }
  };
}

/** The state of a run from its `results` and `history` replies (history points of other runs are left out). */
export function fromReplies(results: ReplyResults, history: ReplyHistory | null): IResultsState {
  const pts = (history?.points ?? []).filter(p => history?.run_id === results.run_id && (!p.run_id || p.run_id === results.run_id));
  return withRows(addPoints({ ...EMPTY_RESULTS, runId: results.run_id }, pts, false), results);
}

/**
 * New rows from a `results` reply of the state's run; the history stays, and a row whose task has points here gets
 * its last and best values from them (they may be newer than the reply: points keep arriving while it is read).
 */
export function withRows(state: IResultsState, results: ReplyResults): IResultsState {
  const rows = results.rows.map(r => {
    const pts = state.points[r.task];
    return pts?.length ? pts.reduce(rowWithPoint, { ...r, metrics: {}, best: {} }) : r;
  });
  const metrics = [...results.metrics, ...state.metrics.filter(m => !results.metrics.includes(m))];
  return { ...state, runId: results.run_id, metrics, hparams: [...results.hparams], rows };
}

/**
 * Points into the state: each task's series stays ordered by step; a point already there (same id) changes nothing;
 * a point at or before the last step of its kind (a job resumed from a checkpoint computes those steps again) replaces
 * that kind's later points. With `updateRows`, each point also updates its row: `loss` for training points, the last
 * and best value of each validation metric (best by the row's mode, else by the metric's name).
 */
export function addPoints(state: IResultsState, points: MetricPoint[], updateRows = true): IResultsState {
  const series: Record<string, MetricPoint[]> = { ...state.points };
  const copied = new Set<string>();
  let rows = state.rows;
  let metrics = state.metrics;
  let lastPoint = state.lastPoint;
  let added = 0;
  for (const p of [...points].sort((a, b) => a.point - b.point)) {
    let list = series[p.task] ?? [];
    if (list.some(q => q.point === p.point)) {
      continue;
    }
    added++;
    if (!copied.has(p.task)) {
      list = [...list];
      copied.add(p.task);
    }
    const lastOfKind = list.filter(q => q.kind === p.kind).reduce((m, q) => Math.max(m, q.step), -Infinity);
    if (p.step <= lastOfKind) {
      list = list.filter(q => q.kind !== p.kind || q.step < p.step);
    }
    let at = list.length;
    while (at > 0 && list[at - 1].step > p.step) {
      at--;
    }
    list.splice(at, 0, p);
    series[p.task] = list;
    lastPoint = Math.max(lastPoint, p.point);
    if (p.kind === 'val') {
      const fresh = Object.keys(p.metrics).filter(m => !metrics.includes(m));
      if (fresh.length) {
        metrics = [...metrics, ...fresh];
      }
    }
    if (updateRows) {
      rows = rows.map(r => (r.task === p.task ? rowWithPoint(r, p) : r));
    }
  }
  return added ? { ...state, points: series, rows, metrics, lastPoint } : state;
}

/** A row after one more point of its job. Pure. */
export function rowWithPoint(row: ResultRow, p: MetricPoint): ResultRow {
  if (p.kind === 'train') {
    return typeof p.metrics.loss === 'number' ? { ...row, loss: p.metrics.loss } : row;
  }
  const metrics = { ...row.metrics };
  const best = { ...row.best };
  const modes = { ...row.modes };
  for (const [name, value] of Object.entries(p.metrics)) {
    if (typeof value !== 'number') {
      continue;
    }
    const mode = (modes[name] = modes[name] ?? metricMode(name));
    metrics[name] = value;
    if (best[name] === undefined || better(value, best[name], mode)) {
      best[name] = value;
    }
  }
  return { ...row, metrics, best, modes };
}

/** Whether the state knows the task of this point (else the rows must be read again). */
export function knowsTask(state: IResultsState, task: string): boolean {
  return state.rows.some(r => r.task === task);
}

/** One task's curve of `metric`: `loss` is the training loss, any other name a validation metric. */
export function seriesOf(state: IResultsState, task: string, metric: string): { step: number; value: number }[] {
  const kind = metric === 'loss' ? 'train' : 'val';
  const out: { step: number; value: number }[] = [];
  for (const p of state.points[task] ?? []) {
    const v = p.metrics[metric];
    if (p.kind === kind && typeof v === 'number' && Number.isFinite(v)) {
      out.push({ step: p.step, value: v });
    }
  }
  return out;
}
