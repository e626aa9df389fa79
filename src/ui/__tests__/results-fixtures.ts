/** A 2 × 2 grid run as the bridge's `results` and `history` replies give it, and its history points. */
import type { MetricPoint, ReplyHistory, ReplyResults, ResultRow } from '../../bridge/wire';

export const GRID = ['g-lr0.01-bs8', 'g-lr0.01-bs16', 'g-lr0.1-bs8', 'g-lr0.1-bs16'];

export function row(task: string, over: Partial<ResultRow> = {}): ResultRow {
  const [, lr, bs] = /lr([\d.]+)-bs(\d+)/.exec(task) ?? [null, '0.01', '8'];
  return {
    task,
    job: `r1-${task}`,
    hparams: { lr: Number(lr), batch_size: Number(bs) } as any,
    state: 'running',
    parallelism: 'ddp',
    gpus: 1,
    node: 'node0',
    runtime_s: null,
    loss: null,
    metrics: {},
    best: {},
    modes: {},
    best_weights: false,
    ...over
  };
}

export function point(id: number, task: string, step: number, kind: 'train' | 'val', metrics: Record<string, number>, run = 'r1'): MetricPoint {
  return { point: id, job: `${run}-${task}`, run_id: run, task, step, epoch: 0, kind, metrics };
}

/** The event a store writes for a point (`job.metrics`: the job's id in `id`). */
export function metricsEvent(p: MetricPoint): Record<string, unknown> {
  return { id: p.job, task: p.task, run_id: p.run_id, step: p.step, epoch: p.epoch, kind: p.kind, metrics: p.metrics, point: p.point };
}

export function resultsReply(rows: ResultRow[], run = 'r1', metrics = ['val_loss', 'val_acc']): ReplyResults {
  return { v: 1, ok: true, type: 'results', run_id: run, metrics, hparams: ['lr', 'batch_size'], rows };
}

export function historyReply(points: MetricPoint[], run = 'r1'): ReplyHistory {
  return { v: 1, ok: true, type: 'history', run_id: run, points };
}

/** Four tasks: validations at steps 10 and 20 (val_loss falls, val_acc rises), training losses at 5, 10, 15, 20. */
export function gridHistory(): MetricPoint[] {
  const out: MetricPoint[] = [];
  let id = 0;
  GRID.forEach((task, i) => {
    for (const step of [5, 10, 15, 20]) {
      out.push(point(++id, task, step, 'train', { loss: 2 - step * 0.05 - i * 0.1 }));
      if (step % 10 === 0) {
        out.push(point(++id, task, step, 'val', { val_loss: 1.5 - step * 0.02 - i * 0.05, val_acc: 0.4 + step * 0.01 + i * 0.02 }));
      }
    }
  });
  return out;
}
