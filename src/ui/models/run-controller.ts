/**
 * The run as the store records it. `StoreRunController` reads the bridge's `jobs` (records written by the executor's
 * dispatcher and runners) and turns the latest run into an `IRunSnapshot` for the panel and the chart, so that a page
 * reload, or a run started from the CLI, shows the true state. Starting and cancelling go through an `IRunStarter`:
 * the executor's dispatcher (../adapters/executor-starter.ts, wired in src/index.ts; none = Optimize & Run disabled).
 */
import { ISignal, Signal } from '@lumino/signaling';
import type { Instance, Plan } from '../../spase/types';
import { IBridge, IJobStatus, IRunController, IRunSnapshot, ISaturnSettings, RunPhase } from './interfaces';
import { endedAt, isActive, isFinal } from '../../executor/job-state';
import { plannedOnRunClock } from '../../executor/rules';
import { jobRungs } from './early-stopping';
import type { JobState } from './plan-model';

/** Starts and cancels runs (the executor). */
export interface IRunStarter {
  /** Record the plan's jobs and start dispatching; resolves with the run id. */
  start(plan: Plan, instance: Instance, settings: ISaturnSettings): Promise<string>;
  cancel(runId: string, job?: string): Promise<void>;
  /** Drive an unfinished run again after a page reload (optional). */
  resume?(runId: string, instance: Instance | null, settings: ISaturnSettings): Promise<void>;
  /**
   * Switch run `runId` to `plan` through the executor's re-planning (optional; without it, edits during a run only
   * change the chart). `plan` is in the dispatcher's time origin, like an introspection re-plan: times count from
   * `nowS` (s since the epoch; the call's own clock when absent), running jobs start at 0 (`running: true`) on their
   * current GPUs, finished jobs are left out. Jobs whose assignment is unchanged keep running untouched.
   */
  applyPlan?(runId: string, plan: Plan, instance: Instance, nowS?: number): Promise<unknown>;
}

/**
 * A plan shown during a run (times from the run's start) in the dispatcher's time origin (times from now, as an
 * introspection re-plan has them): `elapsedS` is subtracted, running jobs start at 0 and keep their planned end,
 * jobs that have not started keep their duration and start no earlier than now, finished jobs are left out. Pure.
 */
export function toDispatcherPlan(plan: Plan, states: ReadonlyMap<string, JobState>, elapsedS: number): Plan {
  const shift = Math.max(0, elapsedS);
  const jobs: Plan['jobs'] = [];
  for (const j of plan.jobs) {
    const state = states.get(j.id) ?? 'pending';
    if (isFinal(state)) {
      continue;
    }
    const { pinned: _p, running: _r, ...rest } = j;
    if (isActive(state)) {
      jobs.push({ ...rest, start_s: 0, end_s: Math.max(0, j.end_s - shift), running: true });
    } else {
      const start = Math.max(0, j.start_s - shift);
      jobs.push({ ...rest, start_s: start, end_s: start + (j.end_s - j.start_s) });
    }
  }
  return { ...plan, jobs, makespan_s: jobs.reduce((m, j) => Math.max(m, j.end_s), 0) };
}

export interface IRunContext {
  instance: Instance | null;
  settings: ISaturnSettings;
}

/** A job record as the bridge's `jobs` request lists it. */
export interface IStoreJob {
  id: string;
  task: string;
  state: string;
  info?: Record<string, any>;
  created_at?: number;
  updated_at?: number;
}

const STATES: Record<string, JobState> = {
  pending: 'pending',
  waiting: 'waiting',
  running: 'running',
  checkpointing: 'checkpointing',
  preempted: 'preempted',
  resumed: 'running',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
  stopped_early: 'stopped_early'
};

function runIdOf(j: IStoreJob): string {
  return String(j.info?.run_id ?? j.id.slice(0, Math.max(0, j.id.length - j.task.length - 1)) ?? '');
}

/** Over for good: done, cancelled, stopped early (SHA/ASHA), or failed and given up. */
function settled(j: IStoreJob): boolean {
  return isFinal(j.state) || (j.state === 'failed' && !!j.info?.given_up);
}

/** The latest run in the store as a snapshot (null when there is none). Pure. */
export function snapshotFromJobs(all: IStoreJob[]): IRunSnapshot | null {
  if (all.length === 0) {
    return null;
  }
  const latest = all.reduce((a, b) => ((b.created_at ?? 0) >= (a.created_at ?? 0) ? b : a));
  const runId = runIdOf(latest);
  const jobs = all.filter(j => runIdOf(j) === runId);
  const origin = Math.min(...jobs.map(j => Number(j.info?.run_started_at ?? j.created_at ?? 0)));
  const rel = (t: unknown): number | undefined => (typeof t === 'number' && t > 0 ? Math.max(0, t - origin) : undefined);
  const planned: Plan['jobs'] = [];
  let replanned = false;
  const statuses: IJobStatus[] = jobs.map(j => {
    const a = (j.info?.assignment ?? {}) as Record<string, any>;
    const p = j.info?.progress as Record<string, any> | undefined;
    const total = Number(p?.total_steps ?? j.info?.total_steps ?? 0);
    const step = Number(p?.step ?? j.info?.step ?? 0);
    const times = plannedOnRunClock(a, origin);
    if (Array.isArray(a.gpu_ids) && times.start !== undefined && times.end !== undefined) {
      replanned = replanned || times.replanned;
      planned.push({
        id: j.task,
        parallelism: String(a.parallelism),
        gpus: Number(a.gpus ?? a.gpu_ids.length),
        node: String(a.node),
        gpu_ids: a.gpu_ids.map(Number),
        start_s: times.start,
        end_s: times.end
      });
    }
    const state = STATES[j.state] ?? 'pending';
    const rungs = jobRungs(j.state, j.info, origin);
    return {
      job: j.task,
      state,
      progress: state === 'done' ? 1 : total > 0 ? Math.min(1, step / total) : undefined,
      actual_start_s: rel(j.info?.first_step_at ?? j.info?.claimed_at),
      actual_launch_s: rel(j.info?.launched_at),
      actual_end_s: rel(endedAt(state, j.info, j.updated_at)),
      node: a.node,
      gpu_ids: Array.isArray(a.gpu_ids) ? a.gpu_ids.map(Number) : undefined,
      error: j.info?.error,
      // under early stopping a block is one segment: the chart draws its progress from the step
      ...(rungs ? { rungs, step } : {})
    };
  });
  // a run whose jobs are all done or stopped early is done
  const finished = jobs.every(settled);
  const phase: RunPhase = !finished
    ? 'running'
    : jobs.some(j => j.state === 'failed')
      ? 'failed'
      : jobs.every(j => j.state === 'cancelled')
        ? 'cancelled'
        : 'done';
  const plan: Plan | null =
    planned.length === jobs.length
      ? {
          format: 'spase-plan/1',
          instance: runId,
          makespan_s: Math.max(0, ...planned.map(j => j.end_s)),
          jobs: planned,
          solver: { name: 'executor', status: 'feasible', time_s: 0 }
        }
      : null;
  return { phase, started_at_ms: origin * 1000, plan, jobs: statuses, message: runId, ...(replanned ? { replanned } : {}) };
}

export class StoreRunController implements IRunController {
  constructor(
    private readonly bridge: IBridge,
    private readonly starter: IRunStarter | null = null,
    private readonly context: (() => IRunContext) | null = null
  ) {
    bridge.events.connect((_, ev) => {
      const kind = (ev as any).kind ?? ev.type;
      if (typeof kind === 'string' && (kind.startsWith('job.') || kind.startsWith('run.'))) {
        this._schedule();
      }
    });
  }

  get canStart(): boolean {
    return this.starter !== null;
  }

  get changed(): ISignal<IRunController, IRunSnapshot> {
    return this._changed;
  }

  get snapshot(): IRunSnapshot | null {
    return this._snapshot;
  }

  async start(plan: Plan, instance: Instance, settings: ISaturnSettings): Promise<void> {
    if (!this.starter) {
      throw new Error('Running plans needs the Saturn executor, which is not available in this build.');
    }
    // 'starting' while the starter prepares the run (the first jobs' kernels boot before the plan's clock starts)
    const before = this._snapshot;
    const starting: IRunSnapshot = { phase: 'starting', started_at_ms: Date.now(), plan, jobs: plan.jobs.map(j => ({ job: j.id, state: 'pending' })) };
    this._snapshot = starting;
    this._changed.emit(starting);
    this._starting = true;
    try {
      this._runId = await this.starter.start(plan, instance, settings);
    } catch (err) {
      this._snapshot = before;
      if (before) {
        this._changed.emit(before);
      }
      throw err;
    } finally {
      this._starting = false;
    }
    // the plan's clock starts now, once the kernels are warm
    this._snapshot = { ...starting, started_at_ms: Date.now() };
    this._changed.emit(this._snapshot);
    await this.refresh();
  }

  get canApplyPlan(): boolean {
    return !!this.starter?.applyPlan;
  }

  /**
   * Hand an edited plan (times from the run's start) to the executor: shifted to the dispatcher's time origin (now),
   * with the states of the latest snapshot deciding which jobs are running (start 0) or over (left out).
   */
  async applyPlan(plan: Plan, instance: Instance): Promise<void> {
    const snap = this._snapshot;
    const runId = this._runId ?? snap?.message;
    if (!this.starter?.applyPlan) {
      throw new Error('This executor cannot re-plan a run: the edit only changes the chart.');
    }
    if (!snap || !runId || (snap.phase !== 'running' && snap.phase !== 'starting')) {
      throw new Error('There is no active run to apply the edit to.');
    }
    const nowS = this._now();
    const states = new Map<string, JobState>(snap.jobs.map(j => [j.job, j.state]));
    const elapsed = nowS - snap.started_at_ms / 1000;
    await this.starter.applyPlan(runId, toDispatcherPlan(plan, states, elapsed), instance, nowS);
    await this.refresh();
  }

  /** The clock (s since the epoch); tests replace it. */
  _now: () => number = () => Date.now() / 1000;

  async cancel(job?: string): Promise<void> {
    if (this.starter && this._snapshot?.message) {
      await this.starter.cancel(this._runId ?? this._snapshot.message, job);
    }
    await this.refresh();
  }

  async restore(): Promise<IRunSnapshot | null> {
    await this.refresh();
    const snap = this._snapshot;
    if (snap && snap.phase === 'running' && snap.message && this.starter?.resume && this.context) {
      const ctx = this.context();
      try {
        await this.starter.resume(snap.message, ctx.instance, ctx.settings);
      } catch {
        // Watching still works; the executor reports its own errors in the job records.
      }
    }
    return snap;
  }

  /** Read the store's jobs again and emit the snapshot when it changed. */
  async refresh(): Promise<void> {
    const r = await this.bridge.request<any>({ type: 'jobs' });
    const snap = snapshotFromJobs((r.jobs ?? []) as IStoreJob[]);
    // while a run is being started the store's latest run is still the one before: keep showing 'starting'
    if (snap && !this._starting && JSON.stringify(snap) !== JSON.stringify(this._snapshot)) {
      this._snapshot = snap;
      this._runId = snap.message ?? this._runId;
      this._changed.emit(snap);
    }
  }

  private _schedule(): void {
    if (this._timer === null) {
      this._timer = setTimeout(() => {
        this._timer = null;
        void this.refresh().catch(() => undefined);
      }, 300);
    }
  }

  private _snapshot: IRunSnapshot | null = null;
  private _runId: string | null = null;
  private _starting = false;
  private _timer: any = null;
  private _changed = new Signal<IRunController, IRunSnapshot>(this);
}
