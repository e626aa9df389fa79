/**
 * IRunStarter over the executor of src/executor: while the page is open it drives the run loop that the CLI
 * (`saturn run`) drives too (`src/executor/run-loop.ts`: the dispatch rules, lost nodes, give-ups, introspection).
 * After a reload, `resume()` re-attaches to the latest unfinished run: reconcile with the store, then keep stepping.
 */
import type { Session } from '@jupyterlab/services';
import { Dispatcher, IPlanLike, jobsFromPlan } from '../../executor/dispatcher';
import { Introspector, knobsOf, SolveFn } from '../../executor/introspection';
import { RunLoop } from '../../executor/run-loop';
import { KernelJobLauncher, KernelJobStore } from '../../executor/kernel-backend';
import type { Instance, Plan } from '../../spase/types';
import { backendRequest, ISaturnSettings, ISolver } from '../models/interfaces';
import type { IRunStarter } from '../models/run-controller';

export class ExecutorStarter implements IRunStarter {
  constructor(
    private readonly sessions: Session.IManager,
    private readonly solver: ISolver | null,
    private readonly log: (m: string) => void = () => undefined
  ) {}

  async start(plan: Plan, instance: Instance, settings: ISaturnSettings): Promise<string> {
    this.stop();
    const runId = `run${Date.now().toString(36)}`;
    const d = this._dispatcher(runId, settings);
    const b = backendRequest(settings);
    // backend "default" follows the server's SATURN_BACKEND, which may be slurm: the SLURM options travel either way
    const jobSettings = { ...(b.backend ? { backend: b.backend } : {}), slurm_options: b.slurm };
    await d.submit(jobsFromPlan(plan as IPlanLike, instance as any, runId, jobSettings), { ...plan, instance });
    this._loop(d, instance, settings);
    return runId;
  }

  /** Re-attach to run `runId` (after a reload): reconcile, then drive it to its end. */
  async resume(runId: string, instance: Instance | null, settings: ISaturnSettings): Promise<void> {
    if (this._runId === runId) {
      return;
    }
    this.stop();
    const d = this._dispatcher(runId, settings);
    await d.reconcile();
    this._loop(d, instance, settings);
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

  private _dispatcher(runId: string, settings: ISaturnSettings | null): Dispatcher {
    return new Dispatcher(this._store, this._launcher, runId, { maxRetries: settings?.retries ?? 2, log: this.log });
  }

  private _loop(d: Dispatcher, instance: Instance | null, settings: ISaturnSettings): void {
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
      log: this.log
    });
    const step = async (): Promise<void> => {
      if (this._d !== d) {
        return;
      }
      try {
        await loop.step();
        if (loop.finished) {
          this.stop();
          return;
        }
      } catch (err) {
        this.log(`dispatcher: ${(err as Error).message}`); // a lost server: the next step reconnects and reconciles
      }
      if (this._d === d) {
        this._timer = setTimeout(() => void step(), 1000);
      }
    };
    void step();
  }

  private _store = new KernelJobStore(this.sessions);
  private _launcher = new KernelJobLauncher(this.sessions);
  private _d: Dispatcher | null = null;
  private _runId: string | null = null;
  private _timer: any = null;
}
