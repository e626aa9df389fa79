/**
 * The run as the panel and the chart show it: the IRunController's snapshot mirrored onto the plan store's PlanModel
 * (the run's own plan, its job states), plus starting and cancelling a run and handing a user's edit during the run
 * to the executor. A finished run that a newer plan replaced (PlanStore.afterRun) is not shown again.
 */
import type { Instance, Plan } from '../../spase/types';
import { EarlyStoppingError } from './early-stopping';
import { IDevice, IRunController, IRunSnapshot, ISaturnSettings } from './interfaces';
import { JobState, PlanModel } from './plan-model';
import { PlanStore, solvable } from './plan-store';

/** Whether the run is going on (not idle, not over). */
export function runIsActive(run: IRunSnapshot | null): boolean {
  return !!run && (run.phase === 'running' || run.phase === 'starting');
}

/** Same jobs with the same technique, node, GPUs, start and end (ms precision): nothing to redraw. Pure. */
export function samePlacement(a: Plan, b: Plan): boolean {
  const key = (p: Plan): string =>
    p.jobs
      .map(j => `${j.id}|${j.parallelism}|${j.node}|${[...j.gpu_ids].sort((x, y) => x - y).join(',')}|${j.start_s.toFixed(3)}|${j.end_s.toFixed(3)}`)
      .sort()
      .join('\n');
  return key(a) === key(b);
}

/** The profiled instance (its solvable jobs) when it has every job of `plan` with its option, else null. Pure. */
export function profiledFor(plan: Plan, profiled: Instance | null): Instance | null {
  const inst = profiled ? solvable(profiled) : null;
  return inst && plan.jobs.every(j => inst.jobs.some(x => x.id === j.id && x.options.some(o => o.parallelism === j.parallelism && o.gpus === j.gpus)))
    ? inst
    : null;
}

/**
 * The instance to edit a run's `plan` on: the profiled one when it has every job of the plan with its option, else
 * a minimal one made from the plan itself (e.g. a run started from the CLI) and the known devices. Pure.
 */
export function instanceForPlan(plan: Plan, profiled: Instance | null, devices: IDevice[] | null): Instance {
  const inst = profiledFor(plan, profiled);
  if (inst) {
    return inst;
  }
  const nodes = new Map<string, number>();
  for (const j of plan.jobs) {
    nodes.set(j.node, Math.max(nodes.get(j.node) ?? 0, ...j.gpu_ids.map(g => g + 1)));
  }
  for (const d of devices ?? []) {
    nodes.set('node0', Math.max(nodes.get('node0') ?? 0, d.id + 1));
  }
  return {
    format: 'spase-instance/1',
    name: plan.instance,
    cluster: { nodes: [...nodes.entries()].map(([id, gpus]) => ({ id, gpus })) },
    jobs: plan.jobs.map(j => ({ id: j.id, options: [{ parallelism: j.parallelism, gpus: j.gpus, runtime_s: j.end_s - j.start_s }] }))
  };
}

/**
 * `instance` fitted to a run's `plan`: a block that plans less (or more) than its whole job (a segment to a rung under
 * early stopping, the remaining work after a re-plan) scales its job's runtimes by the share it plans, start-up costs
 * kept, so that the plan is valid on it and an edit previews that same share on any option. Pure.
 */
export function fitInstance(instance: Instance, plan: Plan): Instance {
  const blocks = new Map(plan.jobs.map(j => [j.id, j]));
  const jobs = instance.jobs.map(job => {
    const b = blocks.get(job.id);
    const opt = b && job.options.find(o => o.parallelism === b.parallelism && o.gpus === b.gpus);
    if (!b || !opt) {
      return job;
    }
    const d = b.end_s - b.start_s;
    const startup = opt.startup_s ?? 0;
    if (Math.abs(d - opt.runtime_s - startup) <= 1e-6 * Math.max(1, d)) {
      return job;
    }
    if (d > startup && opt.runtime_s > 0) {
      const f = (d - startup) / opt.runtime_s;
      return { ...job, options: job.options.map(o => (o === opt ? { ...o, runtime_s: d - startup } : { ...o, runtime_s: o.runtime_s * f })) };
    }
    // shorter than its start-up: every part of the job shrinks alike
    const f = d / Math.max(1e-12, opt.runtime_s + startup);
    return {
      ...job,
      options: job.options.map(o =>
        o === opt ? { ...o, runtime_s: opt.runtime_s * f, startup_s: d - opt.runtime_s * f } : { ...o, runtime_s: o.runtime_s * f, ...(o.startup_s ? { startup_s: o.startup_s * f } : {}) }
      )
    };
  });
  return { ...instance, jobs };
}

export interface IRunMirrorHooks {
  /** Something the panel or the chart shows changed. */
  changed(): void;
  /** Tell the user (`err`: the details). */
  say(message: string, err?: unknown): void;
  settings(): ISaturnSettings;
  /** The devices the bridge reported (for plans of runs whose instance is unknown here). */
  devices(): IDevice[] | null;
}

export class RunMirror {
  constructor(
    readonly runner: IRunController | null,
    private readonly plans: PlanStore,
    private readonly hooks: IRunMirrorHooks
  ) {}

  get run(): IRunSnapshot | null {
    return this._run;
  }
  get active(): boolean {
    return runIsActive(this._run);
  }
  get canRun(): boolean {
    return this.runner !== null && this.runner.canStart !== false;
  }

  /** A snapshot from the run controller: the run's plan and job states go on the chart (not as a user's edit). */
  show(snap: IRunSnapshot): void {
    const after = this.plans.afterRun;
    if (after && snap.message === after && !runIsActive(snap)) {
      return; // the finished run the user has planned past
    }
    this._run = snap;
    this._fromRun = true;
    try {
      this._showRunPlan(snap, snap.plan);
    } finally {
      this._fromRun = false;
    }
    this.hooks.changed();
  }

  /** Re-attach to the store's latest run (after a page reload) unless one is shown already. */
  async restore(): Promise<void> {
    if (this.runner && !this._run) {
      const snap = await this.runner.restore();
      if (snap) {
        this.show(snap);
      }
    }
  }

  /** A job or a lease changed: read the run again (errors show at the next read). */
  refresh(): void {
    void this.runner?.refresh?.().catch(() => undefined);
  }

  /**
   * A new plan after a finished run: the chart stops showing that run (its states and "when it really ran" bars
   * belong to the old plan), also after a reload (the saved plan says which run it followed).
   */
  leaveFinishedRun(): void {
    const run = this._run;
    if (run && !runIsActive(run)) {
      this.plans.afterRun = run.message ?? null;
      this._run = null;
    }
  }

  /** Run the current plan (optimizing first when there is none). */
  async start(): Promise<void> {
    if (!this.runner) {
      this.hooks.say('Running plans needs the Saturn executor, which is not available in this build.');
      return;
    }
    if (!this.plans.planModel) {
      await this.plans.optimize();
    }
    const m = this.plans.planModel;
    if (!m || !this.plans.instance) {
      return;
    }
    await this.plans.save();
    // the whole jobs (the profiled instance): the chart's model may hold a finished run's segments (fitInstance)
    const instance = profiledFor(m.plan, this.plans.instance) ?? m.instance;
    try {
      await this.runner.start(m.plan, instance, this.hooks.settings());
    } catch (err) {
      if (err instanceof EarlyStoppingError) {
        // says what is wrong and what to do (e.g. the tasks without validation); nothing was started
        this.hooks.say(err.message, err.details ?? err.message);
      } else {
        this.hooks.say('The plan could not be started.', err);
      }
    }
  }

  /** Cancel the active run (errors are the caller's to report). */
  async cancel(): Promise<void> {
    if (this.active) {
      await this.runner?.cancel();
    }
  }

  /**
   * Hand a plan the user edited during the run to the executor (edits of started jobs were refused already). The
   * run's own plan replacing the chart's (while a snapshot is shown) is not an edit and goes nowhere.
   */
  async applyEdit(pm: PlanModel): Promise<void> {
    if (this._fromRun) {
      return;
    }
    const runner = this.runner;
    if (!runner?.applyPlan || runner.canApplyPlan === false) {
      this.hooks.say('This edit only changes the chart: the executor in this build cannot re-plan a run.');
      return;
    }
    try {
      await runner.applyPlan(pm.plan, pm.instance);
    } catch (err) {
      this.hooks.say('The edit could not be applied to the run.', err);
    }
  }

  /** The run's plan and job states on the chart. */
  private _showRunPlan(snap: IRunSnapshot, plan: Plan | null): void {
    const states = new Map<string, JobState>(snap.jobs.map(j => [j.job, j.state]));
    // the states first: which blocks are history decides what the run's new plan must fit around
    const before = this.plans.planModel;
    before?.setStates(states);
    if (plan) {
      const current = this.plans.planModel;
      const ids = plan.jobs.map(j => j.id).sort().join('\n');
      const known = current && current.plan.jobs.map(j => j.id).sort().join('\n') === ids;
      // The run's own plan is the truth (also for a run started elsewhere, e.g. from the CLI), on the instance of the
      // work it plans (a segment to a rung under early stopping, the remaining work after a re-plan).
      const instance = fitInstance(instanceForPlan(plan, this.plans.instance, this.hooks.devices()), plan);
      if (!current || !known) {
        this.plans.setPlan(instance, plan);
      } else if (!samePlacement(plan, current.plan)) {
        current.replacePlan(plan, 'Re-planned during the run', 'run', instance);
      }
    }
    const pm = this.plans.planModel;
    if (pm && pm !== before) {
      pm.setStates(states); // a new model for this run's plan
    }
  }

  private _run: IRunSnapshot | null = null;
  /** True while the run's own snapshot updates the plan (such changes are not user edits). */
  private _fromRun = false;
}
