/**
 * An in-memory store and a simulated world of runners on a simulated clock: jobs run at their *true* step times
 * (which may differ from the profile), claim leases like the Python runner (all or nothing), checkpoint every
 * `ckptEvery` steps, stop at step boundaries on request, and can be killed.
 */
import { isActive, isFinal, JobState, transition } from '../job-state';
import {
  IClock,
  IJobInfo,
  IJobLauncher,
  IJobRecord,
  IJobStore,
  ILease,
  INewJob,
  ISnapshot,
  LaunchStatus,
  StopReason
} from '../types';

export class SimClock implements IClock {
  t = 1000;
  now(): number {
    return this.t;
  }
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

export class MemoryJobStore implements IJobStore {
  jobs = new Map<string, IJobRecord>();
  leases: ILease[] = [];
  alive = new Set<string>();
  transitions: Array<[string, string, string]> = [];

  constructor(readonly clock: IClock) {}

  async snapshot(): Promise<ISnapshot> {
    const jobs = [...this.jobs.values()].map(j => ({ ...clone(j), alive: this.alive.has(j.id) }));
    return { jobs, leases: clone(this.leases), now: this.clock.now() };
  }

  async createJobs(runId: string, jobs: INewJob[]): Promise<void> {
    for (const j of jobs) {
      if (!this.jobs.has(j.id)) {
        this.jobs.set(j.id, {
          id: j.id,
          task: j.task,
          state: JobState.Pending,
          info: { run_id: runId, order: j.order, assignment: j.assignment, total_steps: j.total_steps, step: 0, ...j.settings }
        });
      }
    }
  }

  setState(id: string, to: JobState, info: Partial<IJobInfo> = {}): IJobRecord {
    const job = this.jobs.get(id)!;
    transition(job.state, to);
    this.transitions.push([id, job.state, to]);
    job.state = to;
    Object.assign(job.info, info);
    return job;
  }

  async transition(id: string, to: JobState, info: Partial<IJobInfo> = {}, expect?: JobState[]): Promise<IJobRecord> {
    const job = this.jobs.get(id)!;
    if (expect && !expect.includes(job.state)) {
      throw new Error(`job ${id} is ${job.state}`);
    }
    return clone(this.setState(id, to, info));
  }

  async update(id: string, info: Partial<IJobInfo>): Promise<IJobRecord> {
    Object.assign(this.jobs.get(id)!.info, clone(info));
    return clone(this.jobs.get(id)!);
  }

  async requestStop(id: string, reason: StopReason): Promise<void> {
    this.jobs.get(id)!.info.stop = { reason, at: this.clock.now() };
  }

  async reconcile(): Promise<unknown> {
    for (const j of this.jobs.values()) {
      if (isActive(j.state) && !this.alive.has(j.id)) {
        this.setState(j.id, JobState.Preempted);
      }
    }
    this.leases = this.leases.filter(l => this.alive.has(l.holder));
    return {};
  }

  acquire(id: string, ids: number[]): boolean {
    if (this.leases.some(l => ids.includes(l.device) && l.holder !== id)) {
      return false;
    }
    this.leases = this.leases.filter(l => l.holder !== id);
    ids.forEach(d => this.leases.push({ device: d, holder: id, pid: 1, acquired_at: this.clock.now() }));
    return true;
  }

  release(id: string): void {
    this.leases = this.leases.filter(l => l.holder !== id);
  }
}

interface IRun {
  id: string;
  claimAt: number;
  startAt?: number;
  startStep?: number;
  stepS?: number;
  ended: boolean;
  /** Waiting on its GPUs at this rung for the verdict (`info.rung_hold_s`), since `holdSince`. */
  holdAt?: number;
  holdSince?: number;
}

export class SimWorld implements IJobLauncher {
  /** True seconds per step for `task` on `parallelism`/`gpus`. */
  constructor(
    readonly store: MemoryJobStore,
    readonly clock: SimClock,
    readonly stepTime: (task: string, parallelism: string, gpus: number) => number,
    readonly opts: {
      launchDelayS?: number;
      ckptEvery?: number;
      failOnce?: Set<string>;
      /** The validation metric a job reports at a rung (early stopping): `val_loss` of `task` at `step`. */
      metric?: (task: string, step: number) => number;
    } = {}
  ) {}

  runs = new Map<string, IRun>();
  launches: string[] = [];
  firstStepGap: number[] = [];

  async launch(id: string): Promise<void> {
    this.launches.push(id);
    this.runs.set(id, { id, claimAt: this.clock.now() + (this.opts.launchDelayS ?? 2), ended: false });
  }

  status(id: string): LaunchStatus {
    const r = this.runs.get(id);
    return !r ? 'unknown' : r.ended ? 'ended' : 'running';
  }

  /** Shut the job's kernel down: a runner that has not claimed yet never will. */
  async release(id: string): Promise<void> {
    const r = this.runs.get(id);
    if (r && r.startAt === undefined) {
      r.ended = true;
    }
  }
  async dispose(): Promise<void> {}

  /** Kill the runner of `id` (its kernel dies): no checkpoint, leases stay (stale). */
  kill(id: string): void {
    const r = this.runs.get(id);
    if (r) {
      r.ended = true;
    }
    this.store.alive.delete(id);
  }

  private steps(r: IRun, t: number): number {
    const job = this.store.jobs.get(r.id)!;
    const total = job.info.total_steps ?? 0;
    return Math.min(total, (r.startStep ?? 0) + Math.floor((t - r.startAt!) / r.stepS! + 1e-9));
  }

  /** Move the world to time `t`, event by event. */
  advanceTo(t: number): void {
    for (;;) {
      let next: { at: number; run: IRun; kind: 'claim' | 'finish' | 'rung' } | null = null;
      for (const r of this.runs.values()) {
        if (r.ended) {
          continue;
        }
        const job = this.store.jobs.get(r.id)!;
        if (r.startAt === undefined) {
          if (r.claimAt <= t && (!next || r.claimAt < next.at)) {
            next = { at: r.claimAt, run: r, kind: 'claim' };
          }
        } else if (r.holdAt === undefined) {
          const total = job.info.total_steps ?? 0;
          const rung = typeof job.info.rung_at === 'number' && job.info.rung_at < total ? job.info.rung_at : null;
          const fin = r.startAt + ((rung ?? total) - (r.startStep ?? 0)) * r.stepS!;
          if (fin <= t && (!next || fin < next.at)) {
            next = { at: fin, run: r, kind: rung !== null ? 'rung' : 'finish' };
          }
        }
      }
      if (!next) {
        break;
      }
      this.clock.t = Math.max(this.clock.t, next.at);
      next.kind === 'claim' ? this.claim(next.run) : next.kind === 'rung' ? this.atRung(next.run) : this.finish(next.run);
    }
    this.clock.t = t;
    // progress, checkpoints and stop requests of running jobs at time t
    for (const r of this.runs.values()) {
      if (r.ended || r.startAt === undefined) {
        continue;
      }
      if (r.holdAt !== undefined) {
        this.holding(r, t);
        continue;
      }
      const job = this.store.jobs.get(r.id)!;
      const step = this.steps(r, t);
      const every = this.opts.ckptEvery ?? 10;
      const ck = Math.floor(step / every) * every;
      job.info.step = step;
      job.info.progress = { step, total_steps: job.info.total_steps ?? 0, step_time_s: r.stepS };
      if (ck > (job.info.checkpoint?.step ?? 0)) {
        job.info.checkpoint = { step: ck, path: 'mem', at: t };
      }
      const stop = job.info.stop?.reason;
      if (stop) {
        r.ended = true;
        this.store.alive.delete(r.id);
        this.store.release(r.id);
        if (stop === 'cancel') {
          this.store.setState(r.id, JobState.Cancelled);
        } else {
          job.info.checkpoint = { step, path: 'mem', at: t };
          this.store.setState(r.id, JobState.Checkpointing);
          this.store.setState(r.id, JobState.Preempted, { stop: null });
        }
      }
    }
  }

  private claim(r: IRun): void {
    const job = this.store.jobs.get(r.id)!;
    if (isFinal(job.state)) {
      r.ended = true;
      return;
    }
    const a = job.info.assignment;
    if (!this.store.acquire(r.id, a.gpu_ids)) {
      r.ended = true; // refused: no lease
      return;
    }
    if (isActive(job.state)) {
      this.store.setState(r.id, JobState.Preempted);
    }
    if (job.state === JobState.Preempted) {
      this.store.setState(r.id, JobState.Resumed);
    }
    if (job.state === JobState.Pending || job.state === JobState.Failed) {
      this.store.setState(r.id, JobState.Waiting);
    }
    this.store.setState(r.id, JobState.Running, { attempts: (job.info.attempts ?? 0) + 1, stop: null });
    this.store.alive.add(r.id);
    r.startAt = this.clock.now();
    r.startStep = job.info.checkpoint?.step ?? 0;
    r.stepS = this.stepTime(job.task, a.parallelism, a.gpus);
    job.info.first_step_at = job.info.first_step_at ?? r.startAt;
    if (this.opts.failOnce?.has(job.task)) {
      this.opts.failOnce.delete(job.task);
      r.ended = true;
      this.store.alive.delete(r.id);
      this.store.release(r.id);
      this.store.setState(r.id, JobState.Failed, { error: 'ValueError: boom', traceback: 'Traceback ...' });
    }
  }

  /**
   * The job reached its rung: it validates and checkpoints there (as the Python runner does), then waits on its GPUs
   * for the verdict when its settings say so (`rung_hold_s`), else pauses at once.
   */
  private atRung(r: IRun): void {
    const job = this.store.jobs.get(r.id)!;
    const rung = job.info.rung_at as number;
    const metrics = { val_loss: this.opts.metric ? this.opts.metric(job.task, rung) : NaN };
    job.info.step = rung;
    job.info.progress = { step: rung, total_steps: job.info.total_steps ?? 0, step_time_s: r.stepS };
    job.info.checkpoint = { step: rung, path: 'mem', at: this.clock.now() };
    job.info.rung_reports = { ...(job.info.rung_reports ?? {}), [String(rung)]: metrics };
    if ((job.info.rung_hold_s ?? 0) > 0) {
      r.holdAt = rung;
      r.holdSince = this.clock.now();
      job.info.holding = { step: rung, at: this.clock.now() };
      return;
    }
    this.pauseAtRung(r, rung);
  }

  /** A run waiting at its rung, at time `t`: promoted there, it trains on; asked to stop or out of time, it pauses. */
  private holding(r: IRun, t: number): void {
    const job = this.store.jobs.get(r.id)!;
    const rung = r.holdAt!;
    if ((job.info.promotions ?? []).some(p => p.rung === rung)) {
      r.holdAt = undefined;
      r.startAt = t;
      r.startStep = rung;
      job.info.holding = null;
      return;
    }
    if (job.info.stop?.reason || t >= r.holdSince! + (job.info.rung_hold_s ?? 0)) {
      this.pauseAtRung(r, rung);
    }
  }

  private pauseAtRung(r: IRun, rung: number): void {
    const job = this.store.jobs.get(r.id)!;
    r.ended = true;
    r.holdAt = undefined;
    this.store.alive.delete(r.id);
    this.store.release(r.id);
    job.info.holding = null;
    this.store.setState(r.id, JobState.Checkpointing);
    this.store.setState(r.id, JobState.Preempted, { stop: null, stopped: { reason: 'rung', at: this.clock.now(), step: rung } });
  }

  private finish(r: IRun): void {
    const job = this.store.jobs.get(r.id)!;
    r.ended = true;
    this.store.alive.delete(r.id);
    this.store.release(r.id);
    job.info.step = job.info.total_steps ?? 0;
    this.store.setState(r.id, JobState.Done, { finished_at: this.clock.now() });
  }
}
