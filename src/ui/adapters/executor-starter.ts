/**
 * IRunStarter over the executor of src/executor: while the page is open it drives the run loop that the CLI
 * (`saturn run`) drives too (`src/executor/run-loop.ts`: the dispatch rules, lost nodes, give-ups, introspection,
 * early stopping). After a reload, `resume()` re-attaches to the latest unfinished run: reconcile with the store,
 * then keep stepping.
 *
 * With early stopping (Settings → Saturn → Early stopping, by default what `saturn.set_early_stopping` kept) a run
 * starts as `saturn run --early-stopping …` does (src/executor/cli-run.ts): the first plan is solved anew over each
 * job's first segment (`firstSegments`: its work to its first rung), every job records its first rung (`rung_at`),
 * and the run loop judges the rungs. Each job also records its rung steps and the configuration (`rung_steps`,
 * `early_stopping`), so that the chart can draw them and a reloaded page judges the run the same way.
 */
import type { Session } from '@jupyterlab/services';
import { Dispatcher, IDispatcherOptions, IPlanLike, jobsFromPlan } from '../../executor/dispatcher';
import { IInstanceLike, Introspector, knobsOf, SolveFn } from '../../executor/introspection';
import { firstSegments, nextStepInS, rungSettings, RunLoop } from '../../executor/run-loop';
import { IEarlyStopping } from '../../executor/rungs';
import { KernelJobLauncher, KernelJobStore } from '../../executor/kernel-backend';
import type { IJobLauncher, IJobStore } from '../../executor/types';
import type { Instance, Plan } from '../../spase/types';
import { checkEarlyStopping, describeEarlyStopping, EarlyStoppingError, resolveEarlyStopping } from '../models/early-stopping';
import { backendRequest, ISaturnSettings, ISolver } from '../models/interfaces';
import type { IRunStarter } from '../models/run-controller';

/** What the starter runs on; absent parts are the kernel-backed ones (tests give a simulated world). */
export interface IExecutorStarterDeps {
  store?: IJobStore;
  launcher?: IJobLauncher;
  /** The early stopping Python kept (the bridge's `run_config` request). */
  runConfig?: () => Promise<IEarlyStopping | null>;
  /** More dispatcher options (tests: a simulated clock, no autopilot). */
  dispatcher?: Partial<IDispatcherOptions>;
}

/** The first plan of a run under early stopping and each job's first rung. */
export interface IFirstSegments {
  plan: IPlanLike;
  rungAt: Record<string, number | null>;
}

export class ExecutorStarter implements IRunStarter {
  constructor(
    private readonly sessions: Session.IManager,
    private readonly solver: ISolver | null,
    private readonly log: (m: string) => void = () => undefined,
    deps: IExecutorStarterDeps = {}
  ) {
    this._store = deps.store ?? new KernelJobStore(this.sessions);
    this._launcher = deps.launcher ?? new KernelJobLauncher(this.sessions);
    this._runConfig = deps.runConfig ?? (async () => ((await (this._store as KernelJobStore).call({ type: 'run_config' })).early_stopping ?? null) as IEarlyStopping | null);
    this._dispatcherOptions = deps.dispatcher ?? {};
  }

  /**
   * Start a run of `plan`. Under early stopping the plan is solved again over the jobs' first segments; a
   * configuration that cannot work (a task without validation, rungs no task reaches) rejects with an
   * `EarlyStoppingError` that says what to do, and nothing starts.
   */
  async start(plan: Plan, instance: Instance, settings: ISaturnSettings): Promise<string> {
    const es = await this.earlyStopping(settings);
    // the plan's jobs are the run's (its first plan is solved again over their first segments)
    const first = es ? await this.firstSegments({ ...instance, jobs: instance.jobs.filter(j => plan.jobs.some(p => p.id === j.id)) }, es, settings) : null;
    this.stop();
    const runId = `run${Date.now().toString(36)}`;
    const d = this._dispatcher(runId, settings);
    const b = backendRequest(settings);
    // backend "default" follows the server's SATURN_BACKEND, which may be slurm: the SLURM options travel either way
    const jobSettings = { ...(b.backend ? { backend: b.backend } : {}), slurm_options: b.slurm };
    const firstPlan = first?.plan ?? (plan as IPlanLike);
    const jobs = jobsFromPlan(firstPlan, instance as any, runId, jobSettings).map(j => {
      if (!es || !first) {
        return j;
      }
      const spec = instance.jobs.find(x => x.id === j.task);
      return { ...j, settings: { ...j.settings, ...rungSettings(es, j.total_steps, (spec?.steps_per_epoch as number | undefined) ?? null, first.rungAt[j.task] ?? null) } };
    });
    if (es) {
      this.log(`early stopping: ${describeEarlyStopping(es)}; first plan over the first segments, makespan ${firstPlan.makespan_s.toFixed(1)} s`);
    }
    // As `saturn run` does: the kernels of the jobs planned at time 0 are started and warmed before the plan's clock
    // starts, so that every job starts as warm as the later ones (whose kernels are warmed while GPUs are busy) and
    // the start-up the plan counts is the one they take.
    const t0 = Date.now();
    const warmed = await d.warmFirstWave(jobs);
    if (warmed) {
      this.log(`run ${runId}: kernels of the first ${warmed} jobs warmed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    await d.submit(jobs, { ...firstPlan, instance });
    this._loop(d, instance, settings, es);
    return runId;
  }

  /** The early stopping of a run started now (null: off): the settings', or by default what Python kept. */
  earlyStopping(settings: ISaturnSettings): Promise<IEarlyStopping | null> {
    return resolveEarlyStopping(settings, this._runConfig);
  }

  /**
   * The first plan under early stopping, as `saturn run` makes it: each job's work to its first rung, solved by the
   * page's solver. Rejects with an `EarlyStoppingError` when the run cannot be judged.
   */
  async firstSegments(instance: Instance, es: IEarlyStopping, settings: ISaturnSettings): Promise<IFirstSegments> {
    checkEarlyStopping(instance, es);
    let seg: ReturnType<typeof firstSegments>;
    try {
      seg = firstSegments(instance as IInstanceLike, es);
    } catch (err) {
      throw new EarlyStoppingError(`Early stopping cannot judge this run: ${(err as Error).message}. Nothing was started.`, describeEarlyStopping(es));
    }
    if (!this.solver) {
      throw new EarlyStoppingError('Early stopping plans each job to its first rung with the solver, which is not available here. Nothing was started.');
    }
    const plan = await this.solver.solve(seg.instance as Instance, { timeLimitS: settings.solverTimeLimitS, strategy: settings.solverStrategy }, () => undefined);
    return { plan: plan as IPlanLike, rungAt: seg.rungAt };
  }

  /** Re-attach to run `runId` (after a reload): reconcile, then drive it to its end (judging its rungs again). */
  async resume(runId: string, instance: Instance | null, settings: ISaturnSettings): Promise<void> {
    if (this._runId === runId) {
      return;
    }
    this.stop();
    const d = this._dispatcher(runId, settings);
    await d.reconcile();
    this._loop(d, instance, settings, await this._runEarlyStopping(runId, settings));
  }

  async cancel(runId: string, job?: string): Promise<void> {
    const d = this._d && this._runId === runId ? this._d : this._dispatcher(runId, null);
    if (job) {
      await d.cancel(`${runId}-${job}`);
    } else {
      await d.cancelAll();
    }
  }

  /**
   * A plan edited during run `runId`, in the dispatcher's time origin (times from `nowS`; see IRunStarter): the
   * dispatcher switches to it the way it switches to an introspection re-plan. Resolves with the changed job ids.
   */
  async applyPlan(runId: string, plan: Plan, instance: Instance, nowS: number = Date.now() / 1000): Promise<string[]> {
    const d = this._d && this._runId === runId ? this._d : this._dispatcher(runId, null);
    return d.applyPlan({ ...plan, origin_s: nowS } as IPlanLike, knobsOf(instance as any));
  }

  stop(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    this._d = null;
    this._runId = null;
  }

  /**
   * The early stopping run `runId` started with: what its jobs recorded, else (a run started elsewhere whose jobs
   * have rungs, e.g. by `saturn run`) what the settings or Python say now; null when the run has no rungs.
   */
  private async _runEarlyStopping(runId: string, settings: ISaturnSettings): Promise<IEarlyStopping | null> {
    const snap = await this._store.snapshot(runId);
    const kept = snap.jobs.map(j => j.info.early_stopping as IEarlyStopping | undefined).find(e => e && typeof e === 'object');
    if (kept) {
      return kept;
    }
    if (!snap.jobs.some(j => 'rung_at' in j.info)) {
      return null;
    }
    try {
      return await this.earlyStopping(settings);
    } catch (err) {
      this.log(`early stopping: ${(err as Error).message}`);
      return null;
    }
  }

  private _dispatcher(runId: string, settings: ISaturnSettings | null): Dispatcher {
    return new Dispatcher(this._store, this._launcher, runId, { maxRetries: settings?.retries ?? 2, log: this.log, ...this._dispatcherOptions });
  }

  private _loop(d: Dispatcher, instance: Instance | null, settings: ISaturnSettings, earlyStopping: IEarlyStopping | null = null): void {
    this._d = d;
    this._runId = d.runId;
    const solve: SolveFn | null = this.solver
      ? (inst, o) => this.solver!.solve(inst as Instance, { timeLimitS: o.timeLimitS ?? settings.solverTimeLimitS }, () => undefined) as Promise<IPlanLike>
      : null;
    // always an introspector when there is a solver: lost nodes and given-up jobs are re-planned whatever the setting
    const intro = instance && solve ? new Introspector(instance as any, { intervalS: settings.introspectionIntervalS || 1, thresholdS: settings.introspectionThresholdS, solve }) : null;
    const loop = new RunLoop(d, intro, {
      introspectionIntervalS: settings.introspectionIntervalS,
      thresholdS: settings.introspectionThresholdS,
      earlyStopping,
      log: this.log
    });
    const step = async (): Promise<void> => {
      if (this._d !== d) {
        return;
      }
      let delayS = 1;
      try {
        delayS = nextStepInS(await loop.step(), 1);
        if (loop.finished) {
          this.stop();
          return;
        }
      } catch (err) {
        this.log(`dispatcher: ${(err as Error).message}`); // a lost server: the next step reconnects and reconciles
      }
      if (this._d === d) {
        this._timer = setTimeout(() => void step(), delayS * 1000);
      }
    };
    void step();
  }

  private readonly _store: IJobStore;
  private readonly _launcher: IJobLauncher;
  private readonly _runConfig: () => Promise<IEarlyStopping | null>;
  private readonly _dispatcherOptions: Partial<IDispatcherOptions>;
  private _d: Dispatcher | null = null;
  private _runId: string | null = null;
  private _timer: any = null;
}
