/**
 * Introspective re-planning (Saturn's "introspection"): every `intervalS`, re-estimate what is left from measured
 * progress, re-solve the remaining work with running jobs as constraints, and switch only when the new plan is
 * better than carrying on with the current one by more than `thresholdS`.
 *
 * Estimates: a job's measured step time / its profiled step time scales all its options (the profile was off by
 * that factor for this model); the steps already done (running: progress; stopped: the last checkpoint) shrink them,
 * and under early stopping a job's work ends at its next rung (`info.rung_at`): every rung is a re-plan.
 * A running job enters the solver as `running` (keeps its GPUs for its measured remaining time) and `preemptible`
 * (the solver may move it). Start-up costs count everywhere: a job not yet started needs its option's `startup_s`
 * before its first step, and a job resumed from a checkpoint or moved while running also pays the restore (the
 * job's measured `restore_s`, else `switchCostS`). Both plans are compared by
 * projecting them the way the dispatcher executes them (each GPU's jobs in order, a job starts when all its GPUs
 * are free), so the comparison is fair whatever the solver's own timing model.
 *
 * With early stopping a re-plan aims at the time to best instead (`ranked`: survivors first, src/spase/staged.ts).
 */
import { IRanked, marginalPlan } from '../spase/staged';
import { Instance, Plan, runningOn } from '../spase/types';
import { isActive, isLaunched, isSettled } from './job-state';
import { IPlanLike, jobsOnLostNodes, nodeOf, sameAssignment, unusableNodes } from './dispatcher';
import { atRung, sharesGpus } from './rules';
import { segmentSeconds, stepsDone } from './rungs';
import { IJobRecord, ISnapshot } from './types';

export interface IOptionLike {
  parallelism: string;
  gpus: number;
  runtime_s: number;
  /** Seconds from launch to the first step (see the SPASE format); absent = 0. */
  startup_s?: number;
  step_time_s?: number;
  knobs?: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface IInstanceLike {
  format: string;
  name: string;
  cluster: { nodes: Array<{ id: string; gpus: number }> };
  jobs: Array<{ id: string; options: IOptionLike[]; total_steps?: number; [extra: string]: unknown }>;
  running?: Array<Record<string, unknown>>;
  [extra: string]: unknown;
}

export type SolveFn = (instance: IInstanceLike, opts: { timeLimitS?: number; seed?: number; noMilp?: boolean }) => Promise<IPlanLike>;

export interface IIntrospectionOptions {
  /** Seconds between re-plans (Saturn's default 1000). */
  intervalS?: number;
  /** Switch only when the new plan finishes this many seconds sooner (Saturn's default 500). */
  thresholdS?: number;
  /** Seconds a moved running job loses (checkpoint, kernel start, reload). Default 10. */
  switchCostS?: number;
  solveTimeLimitS?: number;
  solve: SolveFn;
}

export interface IEstimate {
  /** measured / profiled step time of the job's current option (1 when nothing is measured yet). */
  factor: number;
  stepsDone: number;
  totalSteps: number;
  /** The step its current segment ends at: its next rung under early stopping (`info.rung_at`), else its end. */
  targetStep: number;
  /** Share of the job's whole training left in its current segment. */
  remainingFrac: number;
  /** Seconds left on its current assignment. */
  remainingS: number;
}

export interface IReplanDecision {
  at: number;
  switched: boolean;
  currentS: number;
  candidateS: number | null;
  changed: string[];
  reason: string;
  /** Set when the re-solve itself failed (nothing was planned). */
  error?: string;
  plan?: IPlanLike;
  /**
   * Carrying on: every unsettled job on its current assignment, at the times the dispatcher will run it (from now).
   * When the re-solve is not switched to, these are the times the chart should show (after a rung, a survivor's
   * next segment).
   */
  current?: IPlanLike;
}

const EPS = 1e-3;
/** Seconds between re-plans forced by jobs stranded on a failed node. */
const LOST_REPLAN_EVERY_S = 5;

/** Knobs of a task's option in `instance` (what a new assignment of that option carries). */
export function knobsOf(instance: IInstanceLike): (task: string, parallelism: string, gpus: number) => Record<string, unknown> {
  return (task, parallelism, gpus) => {
    const job = instance.jobs.find(j => j.id === task);
    return (job && optionOf(job, parallelism, gpus)?.knobs) ?? {};
  };
}

function optionOf(job: IInstanceLike['jobs'][number], parallelism: string, gpus: number): IOptionLike | undefined {
  return job.options.find(o => o.parallelism === parallelism && o.gpus === gpus);
}

/** How far each unfinished job is and how long it still needs, from measured progress. */
export function estimate(instance: IInstanceLike, rec: IJobRecord): IEstimate {
  const job = instance.jobs.find(j => j.id === rec.task);
  const a = rec.info.assignment;
  const opt = job ? optionOf(job, a.parallelism, a.gpus) : undefined;
  const total = Number(rec.info.total_steps ?? job?.total_steps ?? 0) || 0;
  const profiledStep = opt ? (opt.step_time_s ?? (total ? opt.runtime_s / total : undefined)) : undefined;
  const measured = rec.info.progress?.step_time_s ?? undefined;
  const factor = measured && profiledStep ? measured / profiledStep : 1;
  const done = stepsDone(rec);
  const rung = typeof rec.info.rung_at === 'number' ? rec.info.rung_at : null;
  const target = total ? Math.min(total, rung ?? total) : 0;
  const frac = segmentSeconds(1, done, target, total);
  const remainingS = Math.max(EPS, (opt?.runtime_s ?? 0) * factor * frac);
  return { factor, stepsDone: done, totalSteps: total, targetStep: target, remainingFrac: frac, remainingS };
}

/** What resuming a job from its checkpoint costs: its measured restore time, else `switchCostS`. */
export function restoreCost(rec: IJobRecord, switchCostS: number): number {
  const measured = Number(rec.info.restore_s);
  return Number.isFinite(measured) && measured >= 0 ? measured : switchCostS;
}

/** A `running` entry of the solver's instance: the job on its current assignment for `remainingS` more seconds. */
function runningWhereAssigned(rec: IJobRecord, remainingS: number, preemptible: boolean): Record<string, unknown> {
  return { ...runningOn(rec.task, rec.info.assignment, remainingS, preemptible) };
}

/** The instance of the remaining work: unfinished jobs with re-estimated options, running jobs as constraints. */
export function remainingInstance(instance: IInstanceLike, snap: ISnapshot, switchCostS = 10): IInstanceLike {
  const jobs: IInstanceLike['jobs'] = [];
  const running: Array<Record<string, unknown>> = [];
  // A node the cluster reports down is left out; its jobs are planned again elsewhere (from their checkpoints).
  const lost = unusableNodes(snap);
  for (const rec of snap.jobs) {
    // a job waiting at its rung has no work to plan until it is judged (promoted: its next segment)
    if (isSettled(rec.state, rec.info) || atRung(rec)) {
      continue;
    }
    const job = instance.jobs.find(j => j.id === rec.task);
    if (!job) {
      continue;
    }
    const e = estimate(instance, rec);
    const active = isActive(rec.state) && !lost.has(nodeOf(rec.info.assignment));
    // a move or a resume restores the checkpoint after the option's start-up (startup_s stays on the option)
    const restore = active || e.stepsDone > 0 ? restoreCost(rec, switchCostS) : 0;
    jobs.push({
      ...job,
      options: job.options.map(o => ({
        ...o,
        runtime_s: Math.max(EPS, segmentSeconds(o.runtime_s * e.factor, e.stepsDone, e.targetStep, e.totalSteps) + restore)
      }))
    });
    if (active) {
      running.push(runningWhereAssigned(rec, e.remainingS, true));
    }
  }
  const cluster = { ...instance.cluster, nodes: instance.cluster.nodes.filter(n => !lost.has(n.id)) };
  return { ...instance, name: `${instance.name}-replan`, cluster, jobs, running, pins: [] };
}

/**
 * `remaining` with every job already launched but not yet training (its kernel starting, or resuming) as a
 * preemptible running job where it was launched, for the rest of its start-up and training: a re-plan may still move
 * it, paying its option's start-up again, but the boot already done counts for staying. (Under early stopping the
 * re-plan keeps every job in its first segment where it is whatever this says; see `marginalPlan`.) One whose GPUs a
 * running job still holds stays free.
 */
function withLaunched(remaining: IInstanceLike, instance: IInstanceLike, snap: ISnapshot, switchCostS: number): IInstanceLike {
  const running = [...(remaining.running ?? [])];
  const lost = unusableNodes(snap);
  const planned = new Set(remaining.jobs.map(j => j.id));
  for (const rec of snap.jobs) {
    const a = rec.info.assignment;
    if (!isLaunched(rec.state) || !planned.has(rec.task) || lost.has(nodeOf(a))) {
      continue;
    }
    if (running.some(r => sharesGpus({ node: r.node as string, gpu_ids: r.gpu_ids as number[] }, a))) {
      continue;
    }
    running.push(runningWhereAssigned(rec, currentDuration(instance, rec, switchCostS, snap.now), true));
  }
  return { ...remaining, running };
}

/** The jobs of `plan` whose assignment differs from the one they have now. */
function changedJobs(snap: ISnapshot, plan: IPlanLike): string[] {
  return plan.jobs
    .filter(e => {
      const rec = snap.jobs.find(r => r.task === e.id);
      return rec && !sameAssignment(rec.info.assignment, { ...e, gpu_ids: e.gpu_ids });
    })
    .map(e => e.id);
}

/** The decision when the re-solve itself failed: nothing planned, the run carries on. */
function failed(at: number, currentS: number, err: Error): IReplanDecision {
  return { at, switched: false, currentS, candidateS: null, changed: [], reason: `re-solve failed: ${err.message}`, error: err.message };
}

export interface IProjectedEntry {
  task: string;
  parallelism: string;
  gpus: number;
  node: string;
  gpu_ids: number[];
  durationS: number;
  /** Running now: starts at 0 whatever the order. */
  running: boolean;
}

/** When each entry runs (from now) the dispatcher's way: in order, each as soon as all its GPUs are free. */
export function schedule(entries: IProjectedEntry[]): Array<IProjectedEntry & { start: number; end: number }> {
  const free = new Map<string, number>();
  const ordered = [...entries.filter(e => e.running), ...entries.filter(e => !e.running)];
  return ordered.map(e => {
    const start = e.running ? 0 : Math.max(0, ...e.gpu_ids.map(g => free.get(`${e.node}/${g}`) ?? 0));
    const end = start + e.durationS;
    e.gpu_ids.forEach(g => free.set(`${e.node}/${g}`, end));
    return { ...e, start, end };
  });
}

/** Makespan (from now) of entries run the dispatcher's way (`schedule`). */
export function project(entries: IProjectedEntry[]): number {
  return Math.max(0, ...schedule(entries).map(e => e.end));
}

/**
 * How long a job still holds its GPUs on its current assignment: the rest of its training, after its start-up (and
 * the restore of its checkpoint) when it is not running now. A job launched and not training yet has already spent
 * `now` - `launched_at` of that start-up.
 */
function currentDuration(instance: IInstanceLike, rec: IJobRecord, switchCostS: number, now: number): number {
  const e = estimate(instance, rec);
  if (isActive(rec.state)) {
    return e.remainingS;
  }
  const a = rec.info.assignment;
  const opt = instance.jobs.find(j => j.id === rec.task)?.options.find(o => o.parallelism === a.parallelism && o.gpus === a.gpus);
  const launchedAt = rec.info.launched_at;
  const spent = isLaunched(rec.state) && typeof launchedAt === 'number' ? Math.max(0, now - launchedAt) : 0;
  const startup = Math.max(0, (opt?.startup_s ?? 0) + (e.stepsDone > 0 ? restoreCost(rec, switchCostS) : 0) - spent);
  return Math.max(EPS, e.remainingS + startup);
}

/** The current assignments as projection entries, in the dispatcher's order (null: a job is on a failed node). */
function currentEntries(instance: IInstanceLike, snap: ISnapshot, switchCostS: number): IProjectedEntry[] | null {
  const recs = snap.jobs
    .filter(r => !isSettled(r.state, r.info) && !atRung(r))
    .sort((a, b) => (a.info.order ?? 0) - (b.info.order ?? 0));
  const lost = unusableNodes(snap);
  if (recs.some(r => lost.has(nodeOf(r.info.assignment)))) {
    return null; // jobs on a failed node never finish there
  }
  return recs.map(r => ({
    task: r.task,
    parallelism: r.info.assignment.parallelism,
    gpus: r.info.assignment.gpus,
    node: r.info.assignment.node,
    gpu_ids: r.info.assignment.gpu_ids,
    durationS: currentDuration(instance, r, switchCostS, snap.now),
    running: isActive(r.state)
  }));
}

/** Projection of carrying on with the current assignments. */
export function projectCurrent(instance: IInstanceLike, snap: ISnapshot, switchCostS = 10): number {
  const entries = currentEntries(instance, snap, switchCostS);
  return entries ? project(entries) : Infinity;
}

/** Carrying on as a plan (times from now): every unsettled job on its assignment, when the dispatcher will run it. */
export function currentSchedule(instance: IInstanceLike, snap: ISnapshot, switchCostS = 10): IPlanLike | null {
  const entries = currentEntries(instance, snap, switchCostS);
  if (!entries) {
    return null;
  }
  const jobs = schedule(entries).map(e => ({
    id: e.task,
    parallelism: e.parallelism,
    gpus: e.gpus,
    node: e.node,
    gpu_ids: [...e.gpu_ids],
    start_s: e.start,
    end_s: e.end
  }));
  return { makespan_s: Math.max(0, ...jobs.map(j => j.end_s)), jobs };
}

/** Projection of switching to `plan` (from `remainingInstance`): running (or launched) jobs kept where they are keep their remaining time. */
export function projectPlan(remaining: IInstanceLike, plan: IPlanLike, snap: ISnapshot): number {
  const entries = [...plan.jobs].sort((a, b) => a.start_s - b.start_s || a.end_s - b.end_s);
  return project(
    entries.map(e => {
      const rec = snap.jobs.find(r => r.task === e.id);
      // running now, or launched and kept where it boots (a running entry of `remaining`), on the same assignment
      const run = remaining.running?.find(r => r.job === e.id);
      const keep = !!rec && !!run && sameAssignment(rec.info.assignment, { ...e, gpu_ids: e.gpu_ids });
      const opt = remaining.jobs.find(j => j.id === e.id)?.options.find(o => o.parallelism === e.parallelism && o.gpus === e.gpus);
      return {
        task: e.id,
        parallelism: e.parallelism,
        gpus: e.gpus,
        node: e.node,
        gpu_ids: e.gpu_ids,
        durationS: keep ? Number(run!.remaining_s) : opt ? opt.runtime_s + (opt.startup_s ?? 0) : e.end_s - e.start_s,
        running: keep
      };
    })
  );
}

export class Introspector {
  constructor(
    readonly instance: IInstanceLike,
    options: IIntrospectionOptions
  ) {
    this.opts = { intervalS: 1000, thresholdS: 500, switchCostS: 10, solveTimeLimitS: 2, ...options };
  }

  get options(): Readonly<Required<IIntrospectionOptions>> {
    return this.opts;
  }

  /** Decisions taken so far (for the summary and the note). */
  readonly decisions: IReplanDecision[] = [];

  due(now: number): boolean {
    if (this.last === null) {
      this.last = now;
      return false;
    }
    return now - this.last >= this.opts.intervalS;
  }

  /**
   * Re-plan now. `thresholdS` overrides the setting (0 after a job was given up: the rest must be re-planned);
   * `minGainFrac` asks for a gain of at least that share of carrying on as well (a rung's re-plan: no churn of jobs
   * for a plan that is not really shorter).
   */
  async check(snap: ISnapshot, now: number, thresholdS = this.opts.thresholdS, minGainFrac = 0): Promise<IReplanDecision> {
    this.last = now;
    const currentS = projectCurrent(this.instance, snap, this.opts.switchCostS);
    thresholdS = Number.isFinite(currentS) ? Math.max(thresholdS, minGainFrac * currentS) : thresholdS;
    // a job whose kernel is starting may still move, but the boot it has done counts for staying
    const remaining = withLaunched(remainingInstance(this.instance, snap, this.opts.switchCostS), this.instance, snap, this.opts.switchCostS);
    let decision: IReplanDecision;
    if (!remaining.jobs.length) {
      decision = { at: now, switched: false, currentS, candidateS: null, changed: [], reason: 'nothing left to plan' };
    } else {
      let plan: IPlanLike | undefined;
      try {
        plan = await this.opts.solve(remaining, { timeLimitS: this.opts.solveTimeLimitS, seed: 1 });
      } catch (err) {
        decision = failed(now, currentS, err as Error);
      }
      if (plan) {
        const candidateS = projectPlan(remaining, plan, snap);
        const changed = changedJobs(snap, plan);
        const better = currentS - candidateS;
        const switched = better > thresholdS && changed.length > 0;
        decision = {
          at: now,
          switched,
          currentS,
          candidateS,
          changed: switched ? changed : [],
          reason: switched
            ? `new plan ${better.toFixed(1)} s sooner (threshold ${thresholdS.toFixed(1)} s)`
            : `kept: new plan ${better.toFixed(1)} s sooner, threshold ${thresholdS.toFixed(1)} s`,
          plan: switched ? plan : undefined,
          current: switched ? undefined : (currentSchedule(this.instance, snap, this.opts.switchCostS) ?? undefined)
        };
      }
    }
    this.decisions.push(decision!);
    return decision!;
  }

  /**
   * Re-plan for the time to best under early stopping (src/spase/staged.ts `marginalPlan`): the survivors (`ranked`,
   * in ASHA's priority, with their weights) are placed one by one, each at its least finish plus what its GPU-seconds
   * cost the jobs after it; a ranked one under way (training, or its kernel starting: `survivors` ranks those only
   * with `move_survivors`) enters as a preemptible running job where it is, and moves (checkpoint, resume elsewhere:
   * start-up and restore again) only when that scores better; then the new trials by a makespan solve, in job order.
   * Every job under way that is not ranked stays where it is. Taken whenever it places anything; the comparison with
   * carrying on is recorded.
   */
  async ranked(snap: ISnapshot, now: number, ranked: IRanked[]): Promise<IReplanDecision> {
    this.last = now;
    const currentS = projectCurrent(this.instance, snap, this.opts.switchCostS);
    const remaining = withLaunched(remainingInstance(this.instance, snap, this.opts.switchCostS), this.instance, snap, this.opts.switchCostS);
    const here = new Set(remaining.jobs.map(j => j.id));
    let decision: IReplanDecision;
    if (!remaining.jobs.length) {
      decision = { at: now, switched: false, currentS, candidateS: null, changed: [], reason: 'nothing left to plan' };
    } else {
      try {
        const solve = async (stage: Instance) => (await this.opts.solve(stage as unknown as IInstanceLike, { timeLimitS: this.opts.solveTimeLimitS, seed: 1 })) as unknown as Plan;
        const { plan } = await marginalPlan(remaining as unknown as Instance, ranked.filter(r => here.has(r.job)), solve);
        const candidateS = projectPlan(remaining, plan, snap);
        const changed = changedJobs(snap, plan);
        decision = {
          at: now,
          switched: true,
          currentS,
          candidateS,
          changed,
          reason: `rung re-plan (survivors first${ranked.length ? `: ${ranked.map(r => r.job).join(', ')}` : ''}): ${changed.length} job(s) placed anew, ` +
            `makespan ${candidateS.toFixed(1)} s against ${currentS.toFixed(1)} s carrying on`,
          plan
        };
      } catch (err) {
        decision = failed(now, currentS, err as Error);
      }
    }
    this.decisions.push(decision);
    return decision;
  }

  /** Knobs of a task's option in the profiled instance (for the dispatcher's new assignments). */
  knobsOf = knobsOf(this.instance);

  /**
   * Jobs are stranded on a node the cluster reports unusable: re-plan now, whatever the threshold (at most every
   * LOST_REPLAN_EVERY_S, since a re-plan that cannot place them yet is retried).
   */
  lostNodesDue(snap: ISnapshot, now: number): boolean {
    if (!jobsOnLostNodes(snap).length || now - this.lostAt < LOST_REPLAN_EVERY_S) {
      return false;
    }
    this.lostAt = now;
    return true;
  }

  private lostAt = -Infinity;

  private readonly opts: Required<IIntrospectionOptions>;
  private last: number | null = null;
}
