/**
 * A run under ASHA (rungs at steps 10 and 30 of 60, eta 2) as the bridge's `jobs` request lists its records, run
 * "r1" started at t = 1000 (store clock): g-lr0.1-bs16 promoted at 10 and 30 and done, g-lr0.1-bs8 promoted at 10 and
 * stopped early at 30, the two lr0.01 tasks stopped early at 10.
 */
import type { IEarlyStopping } from '../../executor/rungs';
import type { IStoreJob } from '../models/run-controller';

export const ES: IEarlyStopping = { kind: 'asha', metric: 'val_loss', mode: 'min', rungs: [10, 30], eta: 2, unit: 'steps' };

function job(task: string, state: string, info: Record<string, unknown>): IStoreJob {
  return {
    id: `r1-${task}`,
    task,
    state,
    created_at: 1000,
    info: { run_id: 'r1', total_steps: 60, rung_steps: [10, 30], early_stopping: ES, ...info }
  };
}

const at = (gpu: number, start: number, end: number, origin?: number) => ({
  parallelism: 'ddp',
  gpus: 1,
  node: 'node0',
  gpu_ids: [gpu],
  planned_start_s: start,
  planned_end_s: end,
  ...(origin !== undefined ? { planned_origin_s: origin } : {})
});

export function ashaJobs(): IStoreJob[] {
  return [
    job('g-lr0.1-bs16', 'done', {
      assignment: at(0, 0, 20, 1040),
      promotions: [{ rung: 10, at: 1012 }, { rung: 30, at: 1040 }],
      rung_reports: { 10: { val_loss: 0.5 }, 30: { val_loss: 0.3 } },
      rung_at: null,
      step: 60,
      first_step_at: 1042,
      finished_at: 1060,
      history: [
        ['pending', 'waiting', 1000.1],
        ['waiting', 'running', 1001],
        ['running', 'checkpointing', 1011.4],
        ['checkpointing', 'running', 1011.45],
        ['running', 'preempted', 1011.5],
        ['preempted', 'resumed', 1012.2],
        ['resumed', 'running', 1013],
        ['running', 'preempted', 1039.5],
        ['preempted', 'resumed', 1040.5],
        ['resumed', 'running', 1041],
        ['running', 'done', 1060]
      ]
    }),
    job('g-lr0.1-bs8', 'stopped_early', {
      assignment: at(1, 1, 21, 1012),
      promotions: [{ rung: 10, at: 1012 }],
      rung_reports: { 10: { val_loss: 0.55 }, 30: { val_loss: 0.41 } },
      rung_at: 30,
      step: 30,
      stopped: { reason: 'rung', at: 1036, step: 30 },
      stopped_early: { rung: 30, at: 1040, metric: 'val_loss' },
      first_step_at: 1014,
      history: [
        ['waiting', 'running', 1001],
        ['running', 'preempted', 1010.5],
        ['preempted', 'resumed', 1012.5],
        ['resumed', 'running', 1014],
        ['running', 'preempted', 1036],
        ['preempted', 'stopped_early', 1040]
      ]
    }),
    job('g-lr0.01-bs16', 'stopped_early', {
      assignment: at(2, 0, 10),
      rung_reports: { 10: { val_loss: 0.9 } },
      rung_at: 10,
      step: 10,
      stopped: { reason: 'rung', at: 1011, step: 10 },
      stopped_early: { rung: 10, at: 1012, metric: 'val_loss' },
      first_step_at: 1001,
      history: [
        ['waiting', 'running', 1001],
        ['running', 'preempted', 1011],
        ['preempted', 'stopped_early', 1012]
      ]
    }),
    job('g-lr0.01-bs8', 'stopped_early', {
      assignment: at(3, 0, 10),
      rung_reports: { 10: { val_loss: 0.8 } },
      rung_at: 10,
      step: 10,
      stopped: { reason: 'rung', at: 1010, step: 10 },
      stopped_early: { rung: 10, at: 1012, metric: 'val_loss' },
      first_step_at: 1001
    })
  ];
}

/** The same jobs with every block as the run's first plan placed it (no time planned after a rung). */
export function asFirstPlan(jobs: IStoreJob[]): IStoreJob[] {
  return jobs.map(j => ({ ...j, info: { ...j.info, assignment: { ...j.info?.assignment, planned_origin_s: undefined } } }));
}
