/**
 * The state behind the panel and the Gantt chart, as one object for the components and src/index.ts. It composes
 * four parts and keeps only what needs several of them (the settings, the activity, cancel, the signals):
 * - ./bridge-feed.ts: devices, tasks and profiling, from the bridge and the store's events (./event-reducer.ts);
 * - ./plan-store.ts: the profiled instance, its yardsticks, the plan being edited, optimize, saving the plan;
 * - ./run-mirror.ts: the run controller's snapshot on the chart; starting, cancelling and editing a run;
 * - ./loader.ts: connecting, loading and restoring after a reload, polling the store's events;
 * - ./results-model.ts: the latest run's results and learning curves (the Results view), fed by the same events;
 * - ./selection.ts: the job selected in the Gantt chart, the plan table and the Results view alike.
 * It talks to the bridge, the solver and the run controller through the small interfaces of ./interfaces.ts only.
 */
import { ISignal, Signal } from '@lumino/signaling';
import type { BridgeState } from '../../bridge/client';
import type { Instance, Plan } from '../../spase/types';
import { BridgeFeed } from './bridge-feed';
import {
  DEFAULT_SETTINGS,
  IBridge,
  IDevice,
  INodeInfo,
  IProfileState,
  IRunController,
  IRunSnapshot,
  ISaturnSettings,
  ISolver,
  ITaskInfo
} from './interfaces';
import { Loader } from './loader';
import type { PlanModel } from './plan-model';
import { IYardsticks, PlanStore, yardsticksOf } from './plan-store';
import { ResultsModel } from './results-model';
import { RunMirror } from './run-mirror';
import { JobSelection } from './selection';

export type { IYardsticks } from './plan-store';

export interface INotice {
  message: string;
  details?: string;
}

export type Activity = 'idle' | 'profiling' | 'solving' | 'running';

function errText(err: unknown): string {
  if (err instanceof Error) {
    const hint = (err as any).hint;
    return hint ? `${err.message}\n${hint}` : err.message;
  }
  return String(err);
}

export class SaturnModel {
  constructor(
    readonly bridge: IBridge,
    readonly solver: ISolver | null = null,
    readonly runner: IRunController | null = null
  ) {
    const changed = (): void => this._changed.emit();
    const say = (message: string, err?: unknown): void => this._say(message, err);
    const settings = (): ISaturnSettings => this._settings;
    this.results = new ResultsModel(bridge);
    this._feed = new BridgeFeed(bridge, {
      changed,
      say,
      instance: i => this._plans.setInstance(i),
      jobs: () => this._runs.refresh(),
      metrics: p => this.results.point(p),
      jobState: () => this.results.jobsChanged()
    });
    this._plans = new PlanStore(bridge, solver, {
      changed,
      say,
      settings,
      planReady: () => this._planReady.emit(),
      beforeNewPlan: () => this._runs.leaveFinishedRun(),
      planChanged: pm => {
        if (this.activity === 'running') {
          void this._runs.applyEdit(pm); // a user's edit during the run goes to the executor's re-planning
        }
      }
    });
    this._runs = new RunMirror(runner, this._plans, { changed, say, settings, devices: () => this._feed.state.devices });
    this._loader = new Loader(bridge, this._feed, this._plans, this._runs, { changed, say, settings });
    bridge.stateChanged.connect(this._onBridgeState, this);
    bridge.events.connect((_, ev) => this._feed.apply(ev), this);
    runner?.changed.connect((_, snap) => this._runs.show(snap), this);
  }

  /** The latest run's results and histories (read once a view follows them). */
  readonly results: ResultsModel;
  /** The job selected in any view (Gantt chart, plan table, Results view). */
  readonly selection = new JobSelection();

  // -- observable state -------------------------------------------------------------------------------------------
  get changed(): ISignal<this, void> {
    return this._changed;
  }
  /** Errors for the user (the plugin turns them into notifications). */
  get notice(): ISignal<this, INotice> {
    return this._notice;
  }
  /** Emitted when a plan appears and the chart should be shown. */
  get planReady(): ISignal<this, void> {
    return this._planReady;
  }

  get bridgeState(): BridgeState {
    return this.bridge.state;
  }
  get loaded(): boolean {
    return this._loader.loaded;
  }
  get devices(): IDevice[] | null {
    return this._feed.state.devices;
  }
  /** What to know about the devices before trusting a plan (e.g. more CPU devices declared than cores). */
  get deviceNotices(): readonly string[] {
    return this._feed.state.deviceNotices;
  }
  /** The cluster's nodes when jobs run on SLURM (null: this machine's devices). */
  get nodes(): INodeInfo[] | null {
    return this._feed.state.nodes;
  }
  get tasks(): ITaskInfo[] | null {
    return this._feed.state.tasks;
  }
  get profile(): IProfileState | null {
    return this._feed.state.profile;
  }
  get instance(): Instance | null {
    return this._plans.instance;
  }
  get planModel(): PlanModel | null {
    return this._plans.planModel;
  }
  /**
   * The lower bound and current practice's makespan of the plan on show: the profiled instance's, or under early
   * stopping, those of the work the run's plan covers (each job's segment to its next rung).
   */
  get yardsticks(): IYardsticks {
    const pm = this._plans.planModel;
    if (pm && this._runs.run?.jobs.some(j => j.rungs)) {
      if (this._runs.run.replanned) {
        // each block is a segment planned at its own moment: no one instance's bound or baseline describes them
        return { lowerBound: null, currentPractice: null };
      }
      if (this._segmentYardsticks?.instance !== pm.instance) {
        this._segmentYardsticks = { instance: pm.instance, yardsticks: yardsticksOf(pm.instance) };
      }
      return this._segmentYardsticks.yardsticks;
    }
    return this._plans.yardsticks;
  }
  get run(): IRunSnapshot | null {
    return this._runs.run;
  }
  get settings(): ISaturnSettings {
    return this._settings;
  }
  get solving(): boolean {
    return this._plans.solving;
  }
  get canRun(): boolean {
    return this._runs.canRun;
  }

  get activity(): Activity {
    if (this.profile?.running) {
      return 'profiling';
    }
    if (this.solving) {
      return 'solving';
    }
    return this._runs.active ? 'running' : 'idle';
  }

  setSettings(settings: Partial<ISaturnSettings>): void {
    const declaredChanged =
      (settings.declaredGpus !== undefined && settings.declaredGpus !== this._settings.declaredGpus) ||
      (['backend', 'slurmPartition'] as const).some(k => settings[k] !== undefined && settings[k] !== this._settings[k]);
    this._settings = { ...this._settings, ...settings };
    if (declaredChanged && this.bridge.state === 'connected') {
      void this.refresh();
    }
    this._loader.reschedule();
    this._changed.emit();
  }

  // -- loading ----------------------------------------------------------------------------------------------------
  /** Connect to the bridge and load everything (again). Errors leave `bridgeState` unavailable. */
  refresh(): Promise<void> {
    return this._loader.refresh();
  }

  private _onBridgeState(_: unknown, state: BridgeState): void {
    if (state === 'connected' && !this._loader.loaded) {
      void this.refresh();
    }
    if (state === 'connected' && this._lastBridgeState !== 'connected') {
      this.results.connected();
    }
    this._lastBridgeState = state;
    this._changed.emit();
  }

  // -- actions ----------------------------------------------------------------------------------------------------
  startProfile(names?: string[]): Promise<void> {
    return this._feed.startProfile(this._settings, names);
  }

  /** Solve the profiled instance (keeping pins when re-optimizing). Resolves with the best plan, or null. */
  optimize(reoptimize = false): Promise<Plan | null> {
    return this._plans.optimize(reoptimize);
  }

  /** Run the current plan (optimizing first when there is none). */
  startRun(): Promise<void> {
    return this._runs.start();
  }

  /** Cancel what is going on: profiling, solving, or the run. */
  async cancel(): Promise<void> {
    try {
      if (this.profile?.running) {
        await this._feed.cancelProfile();
      }
      if (this.solving) {
        this._plans.cancelSolve();
      }
      await this._runs.cancel();
    } catch (err) {
      this._say('Cancel failed.', err);
    }
    this._changed.emit();
  }

  private _say(message: string, err?: unknown): void {
    this._notice.emit({ message, details: err === undefined ? undefined : errText(err) });
  }

  dispose(): void {
    this._loader.dispose();
    this.results.dispose();
    Signal.clearData(this);
  }

  private readonly _feed: BridgeFeed;
  private readonly _plans: PlanStore;
  private readonly _runs: RunMirror;
  private readonly _loader: Loader;
  private _settings: ISaturnSettings = { ...DEFAULT_SETTINGS };
  private _segmentYardsticks: { instance: Instance; yardsticks: IYardsticks } | null = null;
  private _lastBridgeState: BridgeState = 'disconnected';
  private _changed = new Signal<this, void>(this);
  private _notice = new Signal<this, INotice>(this);
  private _planReady = new Signal<this, void>(this);
}
