/**
 * The plan side of the UI: the profiled instance and its yardsticks (lower bound, current practice), the plan being
 * edited (a PlanModel), Optimize and Re-optimize through the ISolver, and saving the plan in the store so that a
 * reload shows it again.
 */
import { currentPractice } from '../../spase/baselines';
import { lowerBound } from '../../spase/bounds';
import type { Instance, Plan } from '../../spase/types';
import { IBridge, ISaturnSettings, ISolver } from './interfaces';
import { PlanModel } from './plan-model';

export interface IYardsticks {
  lowerBound: number | null;
  currentPractice: number | null;
}

/** The instance without jobs that have no feasible option and without profiler extras the solver ignores. */
export function solvable(instance: Instance): Instance {
  return { ...instance, jobs: instance.jobs.filter(j => j.options && j.options.length > 0) };
}

/** What a plan for `instance` is measured against: the lower bound and current practice's makespan. Pure. */
export function yardsticksOf(instance: Instance): IYardsticks {
  const s = solvable(instance);
  try {
    return {
      lowerBound: s.jobs.length ? lowerBound(s) : null,
      currentPractice: s.jobs.length ? currentPractice(s).makespan_s : null
    };
  } catch {
    return { lowerBound: null, currentPractice: null };
  }
}

export interface IPlanStoreHooks {
  /** Something the panel or the chart shows changed. */
  changed(): void;
  /** Tell the user (`err`: the details). */
  say(message: string, err?: unknown): void;
  settings(): ISaturnSettings;
  /** A fresh solve's first plan is on the chart (show the chart). */
  planReady(): void;
  /** A fresh solve's first plan is about to replace the chart's plan. */
  beforeNewPlan(): void;
  /** The current plan changed outside a solve (a user's edit, or the run's own plan); saving is scheduled already. */
  planChanged(pm: PlanModel): void;
}

export class PlanStore {
  constructor(
    private readonly bridge: IBridge,
    readonly solver: ISolver | null,
    private readonly hooks: IPlanStoreHooks
  ) {}

  get instance(): Instance | null {
    return this._instance;
  }
  get planModel(): PlanModel | null {
    return this._planModel;
  }
  get yardsticks(): IYardsticks {
    return this._yardsticks;
  }
  get solving(): boolean {
    return this._solving;
  }

  /** The finished run a newer plan replaced on the chart (saved with the plan; that run is not shown again). */
  afterRun: string | null = null;

  /** The profiled instance to plan. */
  setInstance(instance: Instance): void {
    this._instance = instance;
    this._yardsticks = yardsticksOf(instance);
  }

  /** Edit `plan` of `instance` from now on. */
  setPlan(instance: Instance, plan: Plan): void {
    this._planModel = new PlanModel(instance, plan);
    this._watchPlan(this._planModel);
    this.hooks.changed();
  }

  /**
   * After a reload: which run the latest saved plan followed, then the profiled instance (`profiled()`, else the one
   * saved with the plan) and, when the saved plan is for that instance, the plan itself.
   */
  async restore(profiled: () => Promise<Instance | null>): Promise<void> {
    const plans = await this.bridge.request<any>({ type: 'plans', with_docs: true });
    const list = (plans.plans ?? []) as { doc?: any }[];
    const latest = list.length ? list[list.length - 1].doc : null;
    this.afterRun = latest?.saturn_after_run ?? this.afterRun;
    const instance: Instance | null = (await profiled()) ?? latest?.saturn_instance ?? null;
    if (instance && !this._instance) {
      this.setInstance(instance);
      if (latest && latest.instance === instance.name && Array.isArray(latest.jobs)) {
        const { saturn_instance: _i, ...plan } = latest;
        this._planModel = new PlanModel(solvable(instance), plan as Plan);
        this._watchPlan(this._planModel);
      }
    }
  }

  /** Solve the profiled instance (keeping pins when re-optimizing). Resolves with the best plan, or null. */
  async optimize(reoptimize = false): Promise<Plan | null> {
    if (!this._instance) {
      this.hooks.say('Nothing to optimize yet: press Profile first.');
      return null;
    }
    if (!this.solver) {
      this.hooks.say('The solver is not available in this build.');
      return null;
    }
    const keep = reoptimize && this._planModel ? this._planModel : null;
    const instance = keep ? keep.instanceForSolve() : solvable(this._instance);
    if (instance.jobs.length === 0) {
      this.hooks.say('No task has a feasible option: see the profile table for the reasons.');
      return null;
    }
    this._solving = true;
    this.hooks.changed();
    const stream = `solve-${++this._solveCount}`;
    let first = true;
    const onPlan = (plan: Plan): void => {
      if (keep) {
        keep.replacePlan(plan, 'Re-optimize', stream);
      } else if (first) {
        this.hooks.beforeNewPlan();
        this.setPlan(instance, plan);
      } else {
        this._planModel?.replacePlan(plan, 'Optimize', stream);
      }
      if (first) {
        this.hooks.planReady();
      }
      first = false;
    };
    const settings = this.hooks.settings();
    try {
      const best = await this.solver.solve(instance, { timeLimitS: settings.solverTimeLimitS, strategy: settings.solverStrategy }, onPlan);
      onPlan(best);
      await this.save();
      return this._planModel?.plan ?? best;
    } catch (err) {
      this.hooks.say('The solver could not make a plan.', err);
      return null;
    } finally {
      this._solving = false;
      this.hooks.changed();
    }
  }

  /** Stop the running solve (it ends with the best plan so far). */
  cancelSolve(): void {
    this.solver?.cancel();
  }

  /** Save the current plan with its instance and the run it followed (for restoring after a reload). */
  async save(): Promise<void> {
    const m = this._planModel;
    if (!m) {
      return;
    }
    try {
      const plan = { ...m.plan, saturn_instance: this._instance, saturn_after_run: this.afterRun };
      await this.bridge.request({ type: 'plan_save', name: m.plan.instance, plan });
    } catch {
      // Saving is for restoring after a reload; the plan on screen is still valid.
    }
  }

  /** Re-render on changes; save a changed plan (debounced) and tell the hooks, unless a solve is streaming plans. */
  private _watchPlan(pm: PlanModel): void {
    let last = pm.plan;
    pm.changed.connect(() => {
      this.hooks.changed();
      if (pm.plan !== last && !this._solving && pm === this._planModel) {
        last = pm.plan;
        clearTimeout(this._saveTimer);
        this._saveTimer = setTimeout(() => void this.save(), 800);
        this.hooks.planChanged(pm);
      }
    });
  }

  private _instance: Instance | null = null;
  private _planModel: PlanModel | null = null;
  private _yardsticks: IYardsticks = { lowerBound: null, currentPractice: null };
  private _solving = false;
  private _solveCount = 0;
  private _saveTimer: any = undefined;
}
