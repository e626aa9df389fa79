/**
 * The dispatcher drives one run of a plan to its end. Its state lives in the store (job records, leases), never only
 * in memory: a dispatcher that restarts (browser reload, CLI restart, Jupyter server restart) calls `reconcile()` and
 * carries on from the store's truth, so nothing finished is redone.
 *
 * Each `tick()` reads a snapshot, asks the dispatch rules what to do (`decide` in `rules.ts`: the one rulebook, which
 * the Python autopilot applies too) and applies the actions: state changes through the store's checked transitions,
 * runners launched in their kernels, given-up jobs and jobs stranded on a lost node handed to the run loop for a
 * re-plan. The runner itself takes the leases atomically and refuses to start without them: the dispatcher's view
 * can be stale, the store cannot.
 */
import { endedAt, IEndTimes, isActive, isFinal, isLaunched, isSettled, JobState } from './job-state';
import { decide, DispatchAction, IDispatchView, nodeOf, plannedOnRunClock, unusableNodes } from './rules';
import { warmQueues } from './rungs';
import {
  IAssignment,
  IClock,
  IJobLauncher,
  IJobRecord,
  IJobStore,
  INewJob,
  ISnapshot,
  StopReason,
  systemClock
} from './types';

/** The subset of a `spase-plan/1` the dispatcher reads. */
export interface IPlanLike {
  makespan_s: number;
  jobs: Array<{
    id: string;
    parallelism: string;
    gpus: number;
    node: string;
    gpu_ids: number[];
    start_s: number;
    end_s: number;
  }>;
  /**
   * The moment (s since the epoch) the plan's times count from, for a plan made during the run (a re-plan's "now");
   * recorded with the new assignments so that a chart can place them. Ordering does not depend on it.
   */
  origin_s?: number;
}

export interface IDispatcherOptions {
  /** Retries of a failed job before it is given up (default 2). */
  maxRetries?: number;
  /** Ticks a running job's process must be seen dead before it counts as crashed (default 2). */
  deadGraceTicks?: number;
  /** Seconds before a runner that ended without starting (e.g. no lease yet) is launched again (default 2). */
  relaunchBackoffS?: number;
  clock?: IClock;
  /** Seconds between ticks, written with the heartbeat: the autopilot's grace period is a few of these (default 1). */
  pollS?: number;
  /** Start the Python autopilot (keeps the plan going when this dispatcher goes away; default true). */
  autopilot?: boolean;
  /** The autopilot takes over after grace_factor × pollS without a heartbeat (default 3). */
  autopilotGraceFactor?: number;
  /** Jobs next in line whose runners are made ready before their GPUs are free (launcher.prewarm; default 2). */
  prewarm?: number;
  /** Called once per job that failed more than `maxRetries` times. */
  onGiveUp?: (job: IJobRecord) => void;
  log?: (message: string) => void;
}

export interface IJobSummary {
  id: string;
  task: string;
  state: JobState;
  gpu_ids: number[];
  parallelism: string;
  attempts: number;
  node: string;
  /** Planned start and end from the run's start (a job re-planned during the run: its re-plan's times, shifted). */
  planned_start_s?: number;
  planned_end_s?: number;
  /** First training step (the runner's `first_step_at`), from the run's start. */
  realised_start_s: number | null;
  realised_end_s: number | null;
  /** When the dispatcher last launched the job (its kernel asked to run it), from the run's start. */
  launched_s: number | null;
  /** Measured start-up: launch to first step (kernel, imports, model build, ranks, checkpoint restore). */
  startup_s: number | null;
  /** Measured training time: first step to the end. */
  run_s: number | null;
  /** Realised start (first step) minus planned start: how late the job began training. */
  start_delay_s: number | null;
  error?: string;
  weights?: string;
}

export interface IRunSummary {
  run_id: string;
  planned_makespan_s: number;
  realised_makespan_s: number | null;
  finished: boolean;
  counts: Record<string, number>;
  jobs: IJobSummary[];
  /** Per GPU ("node/id"): seconds it stood idle between one job's end and the next job's launch on it. */
  gpu_idle_s: Record<string, number>;
}

/** Idle time of each GPU between consecutive jobs on it (end of one to the launch of the next). */
export function idleBetweenJobs(jobs: ReadonlyArray<Pick<IJobSummary, 'gpu_ids' | 'launched_s' | 'realised_end_s'> & { node?: string }>): Record<string, number> {
  const spans = new Map<string, Array<[number, number]>>();
  for (const j of jobs) {
    if (j.launched_s === null || j.realised_end_s === null) {
      continue;
    }
    for (const g of j.gpu_ids) {
      const key = `${j.node ?? 'node0'}/${g}`;
      spans.set(key, [...(spans.get(key) ?? []), [j.launched_s, j.realised_end_s]]);
    }
  }
  const out: Record<string, number> = {};
  for (const [key, list] of [...spans.entries()].sort()) {
    list.sort((a, b) => a[0] - b[0]);
    let idle = 0;
    for (let i = 1; i < list.length; i++) {
      idle += Math.max(0, list[i][0] - list[i - 1][1]);
    }
    out[key] = Math.round(idle * 1000) / 1000;
  }
  return out;
}

/** Options of a job's record in plan order: each plan entry with the task and step count it runs. */
export function jobsFromPlan(
  plan: IPlanLike,
  instance: { jobs: Array<{ id: string; total_steps?: number; options: Array<Record<string, unknown>> }> },
  runId: string,
  settings: Record<string, unknown> = {}
): INewJob[] {
  const byId = new Map(instance.jobs.map(j => [j.id, j]));
  return [...plan.jobs]
    .sort((a, b) => a.start_s - b.start_s || a.end_s - b.end_s || a.id.localeCompare(b.id))
    .map((e, order) => {
      const job = byId.get(e.id);
      const option = job?.options.find(o => o.parallelism === e.parallelism && o.gpus === e.gpus);
      return {
        id: jobId(runId, e.id),
        task: e.id,
        order,
        total_steps: job?.total_steps ?? null,
        assignment: toAssignment(e, (option?.knobs as Record<string, unknown>) ?? {}),
        settings
      };
    });
}

/** Whether `job` (its pending re-assignment, else its assignment) is on one of the `lost` nodes. */
export function onLostNode(job: IJobRecord, lost: ReadonlySet<string>): boolean {
  return lost.has(nodeOf(job.info.next_assignment ?? job.info.assignment));
}

/** Unfinished jobs assigned to an unusable node: the run must be re-planned for them to go on. */
export function jobsOnLostNodes(snap: ISnapshot): string[] {
  const lost = unusableNodes(snap);
  if (!lost.size) {
    return [];
  }
  return snap.jobs.filter(j => !isSettled(j.state, j.info) && onLostNode(j, lost)).map(j => j.id);
}

export function jobId(runId: string, task: string): string {
  return `${runId}-${task}`;
}

export function toAssignment(e: IPlanLike['jobs'][number], knobs: Record<string, unknown> = {}): IAssignment {
  return {
    parallelism: e.parallelism,
    gpus: e.gpus,
    node: e.node,
    gpu_ids: [...e.gpu_ids],
    knobs,
    planned_start_s: e.start_s,
    planned_end_s: e.end_s
  };
}

export function sameAssignment(a: IAssignment | undefined, b: IAssignment | undefined): boolean {
  if (!a || !b) {
    return false;
  }
  const ids = (x: IAssignment) => [...x.gpu_ids].sort((p, q) => p - q).join(',');
  return a.parallelism === b.parallelism && a.node === b.node && ids(a) === ids(b);
}

/**
 * A job's assignment with the times of a newer plan that leaves it where it is (null: it keeps its own). Every job
 * not under way takes them (one not started, one waiting for its kernel, a survivor that resumes from its rung), so
 * the work still to start fits together as that plan placed it; a job under way keeps the block it started by,
 * unless its segment began after that block was planned (promoted at a rung, it trains on where it is).
 */
export function withPlannedTimes(job: IJobRecord, e: IPlanLike['jobs'][number], origin?: number): IAssignment | null {
  const promoted = Math.max(-Infinity, ...(job.info.promotions ?? []).map(p => p.at));
  if (isActive(job.state) && !(promoted > (job.info.assignment.planned_origin_s ?? -Infinity))) {
    return null;
  }
  const a: IAssignment = { ...job.info.assignment, planned_start_s: e.start_s, planned_end_s: e.end_s };
  if (typeof origin === 'number') {
    a.planned_origin_s = origin;
  }
  return a;
}

export { nodeOf, unusableNodes };

export class Dispatcher {
  constructor(
    readonly store: IJobStore,
    readonly launcher: IJobLauncher,
    readonly runId: string,
    options: IDispatcherOptions = {}
  ) {
    this.opts = {
      maxRetries: 2,
      deadGraceTicks: 2,
      relaunchBackoffS: 2,
      pollS: 1,
      autopilot: true,
      autopilotGraceFactor: 3,
      prewarm: 2,
      ...options
    };
    this.clock = options.clock ?? systemClock;
  }

  /** Record the plan's jobs in the store (pending). Idempotent: existing jobs are kept as they are. */
  async submit(jobs: INewJob[], plan?: unknown): Promise<void> {
    await this.store.createJobs(this.runId, jobs, plan);
    await this.heartbeat();
    await this.startAutopilot();
  }

  /** After any restart: make the store true again (dead runners → preempted, stale leases broken). */
  async reconcile(): Promise<unknown> {
    const report = await this.store.reconcile(this.runId);
    this._epoch = this.store.epoch;
    await this.startAutopilot(); // the control kernel (and its autopilot) may have gone with the server
    return report;
  }

  /**
   * Start the Python autopilot of this run in Saturn's control kernel (idempotent): it dispatches the plan while
   * this dispatcher's heartbeat is stale (tab closed, CLI gone) and stands down when it is fresh again.
   */
  async startAutopilot(): Promise<unknown> {
    if (!this.opts.autopilot || !this.store.startAutopilot) {
      return null;
    }
    try {
      return await this.store.startAutopilot(this.runId, {
        max_retries: this.opts.maxRetries,
        grace_factor: this.opts.autopilotGraceFactor
      });
    } catch (err) {
      this.log(`could not start the autopilot: ${(err as Error).message}`);
      return null;
    }
  }

  /** Tell the store (and so the autopilot) that this dispatcher is alive; every tick does it. */
  async heartbeat(): Promise<void> {
    if (this.store.heartbeat) {
      await this.store.heartbeat(this.runId, this.opts.pollS, this._paused);
      this._lastBeat = this.clock.now();
    }
  }

  /** Clock time of the last heartbeat written (null before the first). */
  get lastHeartbeat(): number | null {
    return this._lastBeat;
  }

  get paused(): boolean {
    return this._paused;
  }

  get snapshot(): ISnapshot | null {
    return this._last;
  }

  /** True when every job is done, cancelled, or failed for good. */
  get finished(): boolean {
    return !!this._last && this._last.jobs.every(j => this.settled(j));
  }

  settled(j: IJobRecord): boolean {
    return isSettled(j.state, j.info);
  }

  /**
   * One pass of the dispatch rules over the store as it is now. `before` runs on that snapshot first (the run loop's
   * judgement of the rungs); when it changed the store it returns the jobs a re-plan is about to place (its
   * promotions): the rules then run on the store as it is after it, and those jobs are not launched in this pass,
   * though later jobs on their GPUs wait for them. Null: nothing changed.
   */
  async tick(before?: (snap: ISnapshot) => Promise<string[] | null>): Promise<ISnapshot> {
    await this.heartbeat();
    let snap = await this.store.snapshot(this.runId);
    if (this.store.epoch !== this._epoch) {
      // the store's connection was made anew since the last tick (a server restart that no call of ours failed on,
      // or one whose failure a step swallowed): what was launched may be gone, so make the store true first
      if (this._epoch !== undefined) {
        this.launcher.forget?.();
        this.log(`the job store was reconnected: reconcile ${JSON.stringify(await this.reconcile())}`);
        snap = await this.store.snapshot(this.runId);
      }
      this._epoch = this.store.epoch;
    }
    const placing = before ? await before(snap) : null;
    if (placing) {
      snap = await this.store.snapshot(this.runId);
    }
    const now = this.clock.now();
    const decision = decide(snap, { ...this.view(), placing: placing ?? [] }, {
      maxRetries: this.opts.maxRetries,
      deadGraceTicks: this.opts.deadGraceTicks,
      relaunchBackoffS: this.opts.relaunchBackoffS
    });
    this.deadTicks = decision.deadTicks;
    const acted = await this.apply(decision.actions, snap, now);
    this._last = acted ? await this.store.snapshot(this.runId) : snap;
    this.prewarmNext(this._last);
    return this._last;
  }

  /**
   * Make the runners of the next `prewarm` jobs in plan order ready (kernel started, torch imported) while their
   * GPUs are still busy, so that the gap from a GPU's release to the next job's first step is not a kernel boot; under
   * early stopping also those of the `prewarm` jobs paused at their rung likeliest to be promoted (`warmQueues`), so
   * that a survivor resumes warm. Only once the launched jobs have started running (no kernel boots compete with the
   * warm-up).
   */
  private prewarmNext(snap: ISnapshot): void {
    const n = this.opts.prewarm ?? 0;
    if (!n || !this.launcher.prewarm || this._paused) {
      return;
    }
    // not while launched kernels are still booting: warming would slow the jobs that can run now
    const booting = snap.jobs.some(
      j => isLaunched(j.state) && this.launcher.status(j.id) === 'running'
    );
    if (booting) {
      return;
    }
    // not started yet, or stopped to resume, once its last runner has ended
    const waiting = snap.jobs.filter(j => {
      const status = this.launcher.status(j.id);
      return (j.state === JobState.Pending || j.state === JobState.Preempted) && (status === 'unknown' || status === 'ended');
    });
    const { sure, atRung } = warmQueues(waiting);
    for (const j of [...sure.slice(0, n), ...atRung.slice(0, n)]) {
      if (!this.warmed.has(j.id)) {
        this.warmed.add(j.id);
        this.launcher.prewarm(j.id).catch(err => this.log(`job ${j.id}: prewarm failed: ${(err as Error).message}`));
      }
    }
  }

  /** What this dispatcher knows beyond the store, for the rules. */
  private view(): IDispatchView {
    const launches: NonNullable<IDispatchView['launches']> = {};
    for (const [id, at] of this.launchedAt) {
      launches[id] = { status: this.launcher.status(id), at };
    }
    // runners launched before this dispatcher existed (a reload) are known to the launcher only
    for (const j of this._last?.jobs ?? []) {
      if (!(j.id in launches) && this.launcher.status(j.id) !== 'unknown') {
        launches[j.id] = { status: this.launcher.status(j.id) };
      }
    }
    return { paused: this._paused, launches, deadTicks: this.deadTicks, released: [...this.released] };
  }

  /**
   * Carry the rules' actions out, in order; true when the store changed. A job whose action fails (another actor
   * changed it between snapshot and action) is left for the next tick, which sees the truth.
   */
  private async apply(actions: DispatchAction[], snap: ISnapshot, now: number): Promise<boolean> {
    const byId = new Map(snap.jobs.map(j => [j.id, j]));
    const skipped = new Set<string>();
    let acted = false;
    for (const a of actions) {
      if (a.kind === 'replan') {
        this.requestReplan(a.cause, a.jobs);
        continue;
      }
      const job = byId.get(a.job);
      if (!job || skipped.has(a.job)) {
        continue;
      }
      try {
        acted = (await this.act(a, job, now)) || acted;
      } catch (err) {
        skipped.add(a.job);
        acted = true;
        this.log(`job ${a.job}: ${(err as Error).message}`);
      }
    }
    return acted;
  }

  private async act(a: Exclude<DispatchAction, { kind: 'replan' }>, job: IJobRecord, now: number): Promise<boolean> {
    const id = job.id;
    switch (a.kind) {
      case 'fail':
        await this.store.transition(id, JobState.Failed, { error: a.error, failed_at: now }, [JobState.Running, JobState.Checkpointing]);
        this.log(`job ${id}: ${a.error}`);
        return true;
      case 'release':
        this.released.add(id);
        // not awaited: a kernel shutdown takes a while, and the jobs after it in this tick are waiting for GPUs
        this.launcher.release(id).catch(err => this.log(`job ${id}: release failed: ${(err as Error).message}`));
        return false;
      case 'give_up':
        await this.store.update(id, { given_up: true });
        job.info.given_up = true;
        this.log(`job ${id}: failed ${(job.info.retries ?? 0) + 1} times, given up: ${a.error}`);
        await this.launcher.release(id);
        this.opts.onGiveUp?.(job);
        return true;
      case 'retry':
        await this.store.transition(id, JobState.Waiting, { retries: a.retries }, [JobState.Failed]);
        await this.launch(job, now);
        return true;
      case 'start':
        await this.store.transition(id, JobState.Waiting, {}, [JobState.Pending]);
        await this.launch(job, now);
        return true;
      case 'reassign':
        job.info.assignment = a.assignment;
        await this.store.update(id, { assignment: a.assignment, next_assignment: null });
        return true;
      case 'resume':
        await this.store.transition(id, JobState.Resumed, {}, [JobState.Preempted]);
        await this.launch(job, now);
        return true;
      case 'relaunch':
        await this.launch(job, now);
        return false;
    }
  }

  /** A re-plan the rules asked for (jobs given up win over jobs on a lost node), for the run loop. */
  private requestReplan(cause: 'given_up' | 'lost_node', jobs: string[]): void {
    if (cause === 'given_up' || !this._replan) {
      this._replan = { cause, jobs };
    }
  }

  /** The pending re-plan request, once (the run loop re-solves the remaining work). */
  takeReplan(): { cause: 'given_up' | 'lost_node'; jobs: string[] } | null {
    const r = this._replan;
    this._replan = null;
    return r;
  }

  private async launch(job: IJobRecord, now: number): Promise<void> {
    this.launchedAt.set(job.id, now);
    this.released.delete(job.id);
    this.warmed.delete(job.id); // its warm kernel (if any) runs this launch; its next resume may be warmed again
    await this.store.update(job.id, { launched_at: now }); // start-up is measured from here to the first step
    this.log(`job ${job.id}: launching on GPUs [${job.info.assignment.gpu_ids.join(', ')}]`);
    await this.launcher.launch(job.id);
  }

  // -- control ----------------------------------------------------------------------------------------------------
  async cancel(jobIdToCancel: string): Promise<void> {
    const job = (await this.store.snapshot(this.runId)).jobs.find(j => j.id === jobIdToCancel);
    if (!job || isFinal(job.state)) {
      return;
    }
    if (isActive(job.state)) {
      await this.store.requestStop(job.id, 'cancel');
      return;
    }
    if (isLaunched(job.state)) {
      await this.launcher.release(job.id);
    }
    await this.store.transition(job.id, JobState.Cancelled, { cancelled_at: this.clock.now() });
  }

  async cancelAll(): Promise<void> {
    for (const j of (await this.store.snapshot(this.runId)).jobs) {
      await this.cancel(j.id);
    }
  }

  /** Stop launching; running jobs checkpoint and stop (preempted). `resume()` carries on. */
  async pause(): Promise<void> {
    this._paused = true;
    await this.heartbeat().catch(() => undefined); // the autopilot must not start anything either
    for (const j of (await this.store.snapshot(this.runId)).jobs) {
      if (isActive(j.state)) {
        await this.store.requestStop(j.id, 'pause');
      }
    }
  }

  resume(): void {
    this._paused = false;
  }

  /**
   * Switch to `plan` (from a re-plan over the remaining work). Jobs whose assignment is unchanged are not touched;
   * a changed job that has not started gets its new assignment at once; a changed running job is asked to stop at
   * its next step boundary (it checkpoints) and resumes on its new assignment. Plan order follows the new starts.
   */
  async applyPlan(plan: IPlanLike, knobsOf: (task: string, parallelism: string, gpus: number) => Record<string, unknown> = () => ({})): Promise<string[]> {
    const snap = await this.store.snapshot(this.runId);
    const byTask = new Map(snap.jobs.map(j => [j.task, j]));
    const entries = [...plan.jobs].sort((a, b) => a.start_s - b.start_s || a.end_s - b.end_s);
    const changed: string[] = [];
    let order = 0;
    for (const e of entries) {
      const job = byTask.get(e.id) ?? snap.jobs.find(j => j.id === e.id);
      if (!job || this.settled(job)) {
        continue;
      }
      const next = toAssignment(e, knobsOf(job.task, e.parallelism, e.gpus));
      if (typeof plan.origin_s === 'number') {
        next.planned_origin_s = plan.origin_s;
      }
      order++;
      if (sameAssignment(job.info.assignment, next)) {
        const timed = withPlannedTimes(job, e, plan.origin_s);
        await this.store.update(job.id, { order, next_assignment: null, ...(timed ? { assignment: timed } : {}) });
        continue;
      }
      changed.push(job.id);
      if (isLaunched(job.state) && (await this.relaunchOnNewGpus(job, order, next))) {
        continue;
      }
      if (isActive(job.state) || isLaunched(job.state)) {
        await this.store.update(job.id, { order, next_assignment: next });
        if (isActive(job.state)) {
          await this.store.requestStop(job.id, 'replan');
        }
      } else {
        await this.store.update(job.id, { order, assignment: next, next_assignment: null });
      }
    }
    return changed;
  }

  /**
   * The planned times of `plan` (the schedule of carrying on, when a re-solve was not switched to) for the jobs it
   * leaves where they are: the chart then shows when they are now expected to run (after a rung, their next segment).
   * The same rule as for an unchanged job in `applyPlan`.
   */
  async applyTimes(plan: IPlanLike): Promise<void> {
    const snap = await this.store.snapshot(this.runId);
    const byTask = new Map(snap.jobs.map(j => [j.task, j]));
    for (const e of plan.jobs) {
      const job = byTask.get(e.id);
      const timed = job && !this.settled(job) && sameAssignment(job.info.assignment, toAssignment(e)) ? withPlannedTimes(job, e, plan.origin_s) : null;
      if (timed) {
        await this.store.update(job!.id, { assignment: timed });
      }
    }
  }

  /**
   * Start and warm, before the run (before `submit`: warming touches no job record), the kernels of the jobs planned
   * at time 0 and of the next `prewarm` jobs in plan order, so that the first wave starts as warm as every later job
   * and the first kernels the dispatcher would warm while GPUs are busy do not boot beside the first wave's training
   * (on a machine whose cores are all declared as GPUs a kernel boot slows the running jobs). Returns how many.
   */
  async warmFirstWave(jobs: INewJob[]): Promise<number> {
    if (!this.launcher.prewarm || !jobs.length) {
      return 0;
    }
    const start = (j: INewJob): number => j.assignment.planned_start_s ?? 0;
    const ordered = [...jobs].sort((a, b) => start(a) - start(b) || (a.order ?? 0) - (b.order ?? 0));
    const first = ordered.filter(j => start(j) <= 1e-6);
    const next = ordered.filter(j => start(j) > 1e-6).slice(0, this.opts.prewarm ?? 0);
    const ids = [...first, ...next].map(j => j.id);
    ids.forEach(id => this.warmed.add(id));
    await Promise.all(ids.map(id => this.launcher.prewarm!(id)));
    return ids.length;
  }

  /** Planned vs realised, per job and overall; `t0` is when the run started (store clock). */
  summary(plan: IPlanLike, t0: number): IRunSummary {
    const jobs = this._last?.jobs ?? [];
    const counts: Record<string, number> = {};
    let end: number | null = null;
    const out: IJobSummary[] = jobs.map(j => {
      counts[j.state] = (counts[j.state] ?? 0) + 1;
      // a job stopped early ends where its runner paused at its rung: the run lasts until the last of them too
      const ended = endedAt(j.state, j.info as IEndTimes);
      const fin = ended !== undefined ? ended - t0 : null;
      if (fin !== null) {
        end = Math.max(end ?? 0, fin);
      }
      const first = typeof j.info.first_step_at === 'number' ? j.info.first_step_at - t0 : null;
      const launched = typeof j.info.launched_at === 'number' ? j.info.launched_at - t0 : null;
      // planned times from the run's start, as the realised ones
      const planned = plannedOnRunClock(j.info.assignment, t0);
      return {
        id: j.id,
        task: j.task,
        state: j.state,
        gpu_ids: j.info.assignment.gpu_ids,
        parallelism: j.info.assignment.parallelism,
        attempts: j.info.attempts ?? 0,
        planned_start_s: planned.start,
        planned_end_s: planned.end,
        realised_start_s: first,
        realised_end_s: fin,
        launched_s: launched,
        startup_s: first !== null && launched !== null && first >= launched ? first - launched : null,
        run_s: first !== null && fin !== null ? fin - first : null,
        start_delay_s: first !== null && planned.start !== undefined ? first - planned.start : null,
        node: nodeOf(j.info.assignment),
        ...(j.info.error ? { error: j.info.error } : {}),
        ...(j.info.weights ? { weights: j.info.weights } : {})
      };
    });
    return {
      run_id: this.runId,
      planned_makespan_s: plan.makespan_s,
      realised_makespan_s: end,
      finished: this.finished,
      counts,
      jobs: out,
      gpu_idle_s: idleBetweenJobs(out)
    };
  }

  /**
   * A job whose kernel is starting but has not claimed its GPUs yet: take it back (waiting → pending, resumed →
   * preempted) with the new assignment, and shut its kernel down; it is launched again on the new GPUs. False when
   * it claimed meanwhile (then it is stopped and re-planned like a running job).
   */
  private async relaunchOnNewGpus(job: IJobRecord, order: number, next: IAssignment): Promise<boolean> {
    const back = job.state === JobState.Waiting ? JobState.Pending : JobState.Preempted;
    try {
      await this.store.transition(job.id, back, { order, assignment: next, next_assignment: null }, [job.state]);
    } catch {
      return false;
    }
    this.launchedAt.delete(job.id);
    this.released.add(job.id);
    await this.launcher.release(job.id);
    return true;
  }

  private log(message: string): void {
    this.opts.log?.(message);
  }

  private readonly opts: Required<Omit<IDispatcherOptions, 'clock' | 'onGiveUp' | 'log'>> & IDispatcherOptions;
  private warmed = new Set<string>();
  private _lastBeat: number | null = null;
  private readonly clock: IClock;
  private _paused = false;
  private _last: ISnapshot | null = null;
  /** The store's epoch at the last tick or reconcile (undefined before the first, and for stores without one). */
  private _epoch: number | undefined = undefined;
  private deadTicks: Record<string, number> = {};
  private _replan: { cause: 'given_up' | 'lost_node'; jobs: string[] } | null = null;
  private released = new Set<string>();
  private launchedAt = new Map<string, number>();
}

export type { StopReason };
