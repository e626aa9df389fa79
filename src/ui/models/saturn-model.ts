/**
 * The state behind the panel and the Gantt chart: devices, tasks, profiling, the profiled instance, the plan being
 * edited and the run. It talks to the bridge, the solver and the run controller through small interfaces only.
 */
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';
import type { BridgeState } from '../../bridge/client';
import type { BridgeEvent } from '../../bridge/wire';
import { currentPractice } from '../../spase/baselines';
import { lowerBound } from '../../spase/bounds';
import { Instance, Plan } from '../../spase/types';
import {
  backendRequest,
  DEFAULT_SETTINGS,
  IBridge,
  IDevice,
  INodeInfo,
  IProfileState,
  IRunController,
  IRunSnapshot,
  ISaturnSettings,
  ISolver,
  ITaskInfo,
  ITrialInfo
} from './interfaces';
import { JobState, PlanModel } from './plan-model';

export interface INotice {
  message: string;
  details?: string;
}

export interface IYardsticks {
  lowerBound: number | null;
  currentPractice: number | null;
}

export type Activity = 'idle' | 'profiling' | 'solving' | 'running';

function errText(err: unknown): string {
  if (err instanceof Error) {
    const hint = (err as any).hint;
    return hint ? `${err.message}\n${hint}` : err.message;
  }
  return String(err);
}

function samePlacement(a: Plan, b: Plan): boolean {
  const key = (p: Plan): string =>
    p.jobs
      .map(j => `${j.id}|${j.parallelism}|${j.node}|${[...j.gpu_ids].sort((x, y) => x - y).join(',')}|${j.start_s.toFixed(3)}`)
      .sort()
      .join('\n');
  return key(a) === key(b);
}

export class SaturnModel {
  constructor(
    readonly bridge: IBridge,
    readonly solver: ISolver | null = null,
    readonly runner: IRunController | null = null
  ) {
    bridge.stateChanged.connect(this._onBridgeState, this);
    bridge.events.connect((_, ev) => this._onEvent(ev), this);
    runner?.changed.connect((_, snap) => this._onRun(snap), this);
  }

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
    return this._loaded;
  }
  get devices(): IDevice[] | null {
    return this._devices;
  }

  /** What to know about the devices before trusting a plan (e.g. more CPU devices declared than cores). */
  get deviceNotices(): readonly string[] {
    return this._deviceNotices;
  }

  /** The cluster's nodes when jobs run on SLURM (null: this machine's devices). */
  get nodes(): INodeInfo[] | null {
    return this._nodes;
  }
  get tasks(): ITaskInfo[] | null {
    return this._tasks;
  }
  get profile(): IProfileState | null {
    return this._profile;
  }
  get instance(): Instance | null {
    return this._instance;
  }
  get planModel(): PlanModel | null {
    return this._planModel;
  }
  get yardsticks(): IYardsticks {
    return this._yardsticks;
  }
  get run(): IRunSnapshot | null {
    return this._run;
  }
  get settings(): ISaturnSettings {
    return this._settings;
  }
  get solving(): boolean {
    return this._solving;
  }
  get canRun(): boolean {
    return this.runner !== null && this.runner.canStart !== false;
  }

  get activity(): Activity {
    if (this._profile?.running) {
      return 'profiling';
    }
    if (this._solving) {
      return 'solving';
    }
    if (this._run && (this._run.phase === 'running' || this._run.phase === 'starting')) {
      return 'running';
    }
    return 'idle';
  }

  setSettings(settings: Partial<ISaturnSettings>): void {
    const declaredChanged =
      (settings.declaredGpus !== undefined && settings.declaredGpus !== this._settings.declaredGpus) ||
      (['backend', 'slurmPartition'] as const).some(k => settings[k] !== undefined && settings[k] !== this._settings[k]);
    this._settings = { ...this._settings, ...settings };
    if (declaredChanged && this.bridge.state === 'connected') {
      void this.refresh();
    }
    if (this._poll) {
      void this._poll.schedule({ interval: this._settings.eventPollIntervalS * 1000 } as any).catch(() => undefined);
    }
    this._changed.emit();
  }

  // -- loading ----------------------------------------------------------------------------------------------------
  /** Connect to the bridge and load everything (again). Errors leave `bridgeState` unavailable. */
  refresh(): Promise<void> {
    if (!this._refreshing) {
      this._refreshing = this._refresh().finally(() => {
        this._refreshing = null;
      });
    }
    return this._refreshing;
  }

  private async _refresh(): Promise<void> {
    try {
      await this.bridge.connect();
    } catch {
      // The poll below tries again (with backoff): a bridge too busy to answer now is not gone for good.
      this._startPolling();
      this._changed.emit();
      return;
    }
    try {
      const [devices, tasks, status] = await Promise.all([
        this.bridge.request<any>({ type: 'devices', declared: this._settings.declaredGpus, ...backendRequest(this._settings) }),
        this.bridge.request<any>({ type: 'tasks' }),
        this.bridge.request<any>({ type: 'profile_status' })
      ]);
      this._devices = devices.devices as IDevice[];
      this._nodes = (devices.nodes as INodeInfo[] | undefined) ?? null;
      this._deviceNotices = (devices.notices as string[] | undefined) ?? [];
      this._tasks = tasks.tasks as ITaskInfo[];
      if (status.running && status.run_id) {
        this._profile = { ...this._emptyProfile(status.run_id), running: true, ...(status.progress ?? {}) };
      }
      if (!this._loaded) {
        await this._restoreInstanceAndPlan();
      }
      if (!this._instance && status.instance) {
        this._setInstance(status.instance as Instance);
      }
      this._loaded = true;
      this._changed.emit();
      if (this.runner && !this._run) {
        const snap = await this.runner.restore();
        if (snap) {
          this._onRun(snap);
        }
      }
    } catch (err) {
      this._say('Saturn could not load its state from the bridge.', err);
    }
    this._startPolling();
  }

  /** After a reload: the latest profiled instance (from the store's events) and the latest saved plan. */
  private async _restoreInstanceAndPlan(): Promise<void> {
    const plans = await this.bridge.request<any>({ type: 'plans', with_docs: true });
    const list = (plans.plans ?? []) as { doc?: any }[];
    const latest = list.length ? list[list.length - 1].doc : null;
    this._afterRun = latest?.saturn_after_run ?? this._afterRun;
    let instance: Instance | null = latest?.saturn_instance ?? null;
    let since = 0;
    for (let page = 0; page < 200; page++) {
      const r = await this.bridge.request<any>({ type: 'events_since', since, limit: 500 });
      const events = (r.events ?? []) as BridgeEvent[];
      for (const ev of events) {
        if (ev.kind === 'profile.finished' && (ev.data as any)?.instance) {
          instance = (ev.data as any).instance;
          if (!this._profile?.running) {
            this._profile = { ...this._emptyProfile((ev.data as any).run_id ?? null) };
          }
        }
      }
      if (events.length) {
        since = Number(events[events.length - 1].id);
        this._lastEvent = Math.max(this._lastEvent, since);
      }
      if (events.length < 500) {
        break;
      }
    }
    if (instance && !this._instance) {
      this._setInstance(instance);
      if (latest && latest.instance === instance.name && Array.isArray(latest.jobs)) {
        const { saturn_instance: _i, ...plan } = latest;
        this._planModel = new PlanModel(this._solvable(instance), plan as Plan);
        this._watchPlan(this._planModel);
      }
    }
  }

  private _startPolling(): void {
    if (this._poll) {
      return;
    }
    this._poll = new Poll({
      factory: () => this._pollEvents(),
      frequency: { interval: this._settings.eventPollIntervalS * 1000, backoff: true, max: 30_000 },
      standby: 'when-hidden',
      name: 'saturn:events'
    });
  }

  private async _pollEvents(): Promise<void> {
    if (this.bridge.state === 'connecting') {
      return;
    }
    if (this.bridge.state !== 'connected' || !this._loaded) {
      // The first load failed (e.g. the bridge was too busy to answer): try again.
      await this.refresh();
      return;
    }
    if (!this._instance && (this._tasks?.length ?? 0) > 0 && Date.now() - this._lastRestore > 10_000) {
      // Tasks but no profile on screen: look for a finished profile in the store again (self-healing).
      this._lastRestore = Date.now();
      await this._restoreInstanceAndPlan();
      this._changed.emit();
    }
    const r = await this.bridge.request<any>({ type: 'events_since', since: this._lastEvent, limit: 500 });
    for (const ev of (r.events ?? []) as BridgeEvent[]) {
      this._onEvent(ev);
    }
  }

  // -- events -----------------------------------------------------------------------------------------------------
  private _onBridgeState(_: unknown, state: BridgeState): void {
    if (state === 'connected' && !this._loaded) {
      void this.refresh();
    }
    this._changed.emit();
  }

  /** One store event (pushed or polled); events already seen are ignored. */
  private _onEvent(ev: BridgeEvent): void {
    const id = Number((ev as any).id ?? 0);
    if (id && id <= this._lastEvent) {
      return;
    }
    if (id) {
      this._lastEvent = id;
    }
    const data = ((ev as any).data ?? {}) as any;
    switch (ev.kind ?? ev.type) {
      case 'task.registered':
      case 'task.updated':
      case 'task.unregistered':
        void this._reloadTasks();
        return;
      case 'profile.started':
        this._profile = { ...this._emptyProfile(data.run_id), running: true, total: data.total ?? 0, tasks: data.tasks ?? [] };
        break;
      case 'profile.progress': {
        const p = this._profile ?? { ...this._emptyProfile(data.run_id), running: true };
        const trials = { ...p.trials };
        const t = data.trial as ITrialInfo | undefined;
        if (t) {
          trials[t.task] = [...(trials[t.task] ?? []), t];
        }
        this._profile = { ...p, done: data.done, total: data.total, cached: data.cached ?? 0, eta_s: data.eta_s ?? null, trials };
        break;
      }
      case 'profile.finished':
        this._profile = {
          ...(this._profile ?? this._emptyProfile(data.run_id)),
          running: false,
          cancelled: !!data.cancelled,
          eta_s: 0
        };
        if (data.instance) {
          this._setInstance(data.instance);
        }
        break;
      case 'job.updated':
      case 'lease.acquired':
      case 'lease.released':
        void this.runner?.refresh?.().catch(() => undefined);
        return;
      case 'profile.failed':
        this._profile = { ...(this._profile ?? this._emptyProfile(data.run_id)), running: false, error: data.error };
        this._say('Profiling failed.', data.error);
        break;
      default:
        return;
    }
    this._changed.emit();
  }

  private async _reloadTasks(): Promise<void> {
    try {
      const r = await this.bridge.request<any>({ type: 'tasks' });
      this._tasks = r.tasks as ITaskInfo[];
      this._changed.emit();
    } catch (err) {
      this._say('Could not list the registered tasks.', err);
    }
  }

  private _emptyProfile(runId: string | null): IProfileState {
    return { run_id: runId, running: false, done: 0, total: 0, cached: 0, eta_s: null, tasks: [], trials: {}, error: null, cancelled: false };
  }

  private _setInstance(instance: Instance): void {
    this._instance = instance;
    const solvable = this._solvable(instance);
    try {
      this._yardsticks = {
        lowerBound: solvable.jobs.length ? lowerBound(solvable) : null,
        currentPractice: solvable.jobs.length ? currentPractice(solvable).makespan_s : null
      };
    } catch {
      this._yardsticks = { lowerBound: null, currentPractice: null };
    }
  }

  /** The instance without jobs that have no feasible option and without profiler extras the solver ignores. */
  private _solvable(instance: Instance): Instance {
    return { ...instance, jobs: instance.jobs.filter(j => j.options && j.options.length > 0) };
  }

  // -- actions ----------------------------------------------------------------------------------------------------
  async startProfile(names?: string[]): Promise<void> {
    try {
      const s = this._settings;
      const r = await this.bridge.request<any>({
        type: 'profile',
        names: names ?? null,
        warmup: s.profileWarmupSteps,
        measure: s.profileMeasureSteps,
        use_cache: s.profileUseCache,
        ...backendRequest(s)
      });
      this._profile = { ...this._emptyProfile(r.run_id), running: true, tasks: names ?? (this._tasks ?? []).map(t => t.name) };
      this._changed.emit();
    } catch (err) {
      this._say('Profiling could not start.', err);
    }
  }

  /** Solve the profiled instance (keeping pins when re-optimizing). Resolves with the best plan, or null. */
  async optimize(reoptimize = false): Promise<Plan | null> {
    if (!this._instance) {
      this._say('Nothing to optimize yet: press Profile first.');
      return null;
    }
    if (!this.solver) {
      this._say('The solver is not available in this build.');
      return null;
    }
    const keep = reoptimize && this._planModel ? this._planModel : null;
    const instance = keep ? keep.instanceForSolve() : this._solvable(this._instance);
    if (instance.jobs.length === 0) {
      this._say('No task has a feasible option: see the profile table for the reasons.');
      return null;
    }
    this._solving = true;
    this._changed.emit();
    const stream = `solve-${++this._solveCount}`;
    let first = true;
    const onPlan = (plan: Plan): void => {
      if (keep) {
        keep.replacePlan(plan, 'Re-optimize', stream);
      } else if (first) {
        this._leaveFinishedRun();
        this._setPlan(instance, plan);
      } else {
        this._planModel?.replacePlan(plan, 'Optimize', stream);
      }
      if (first) {
        this._planReady.emit();
      }
      first = false;
    };
    try {
      const best = await this.solver.solve(instance, { timeLimitS: this._settings.solverTimeLimitS, strategy: this._settings.solverStrategy }, onPlan);
      onPlan(best);
      await this._savePlan();
      return this._planModel?.plan ?? best;
    } catch (err) {
      this._say('The solver could not make a plan.', err);
      return null;
    } finally {
      this._solving = false;
      this._changed.emit();
    }
  }

  private _setPlan(instance: Instance, plan: Plan): void {
    this._planModel = new PlanModel(instance, plan);
    this._watchPlan(this._planModel);
    this._changed.emit();
  }

  /**
   * Re-render on edits, and save the edited plan (debounced) so that a reload shows it. A user's edit during an
   * active run (not the run's own plan replacing the chart's) goes to the executor's re-planning.
   */
  private _watchPlan(pm: PlanModel): void {
    let last = pm.plan;
    pm.changed.connect(() => {
      this._changed.emit();
      if (pm.plan !== last && !this._solving && pm === this._planModel) {
        last = pm.plan;
        clearTimeout(this._saveTimer);
        this._saveTimer = setTimeout(() => void this._savePlan(), 800);
        if (!this._fromRun && this.activity === 'running') {
          void this._applyToRun(pm);
        }
      }
    });
  }

  /** Hand the plan the user edited during the run to the executor (edits of started jobs were refused already). */
  private async _applyToRun(pm: PlanModel): Promise<void> {
    const runner = this.runner;
    if (!runner?.applyPlan || runner.canApplyPlan === false) {
      this._say('This edit only changes the chart: the executor in this build cannot re-plan a run.');
      return;
    }
    try {
      await runner.applyPlan(pm.plan, pm.instance);
    } catch (err) {
      this._say('The edit could not be applied to the run.', err);
    }
  }

  /**
   * A new plan after a finished run: the chart stops showing that run (its states and "when it really ran" bars
   * belong to the old plan), also after a reload (the saved plan says which run it followed).
   */
  private _leaveFinishedRun(): void {
    const run = this._run;
    if (run && run.phase !== 'running' && run.phase !== 'starting') {
      this._afterRun = run.message ?? null;
      this._run = null;
    }
  }

  private async _savePlan(): Promise<void> {
    const m = this._planModel;
    if (!m) {
      return;
    }
    try {
      const plan = { ...m.plan, saturn_instance: this._instance, saturn_after_run: this._afterRun };
      await this.bridge.request({ type: 'plan_save', name: m.plan.instance, plan });
    } catch {
      // Saving is for restoring after a reload; the plan on screen is still valid.
    }
  }

  /** Run the current plan (optimizing first when there is none). */
  async startRun(): Promise<void> {
    if (!this.runner) {
      this._say('Running plans needs the Saturn executor, which is not available in this build.');
      return;
    }
    if (!this._planModel) {
      await this.optimize();
    }
    const m = this._planModel;
    if (!m || !this._instance) {
      return;
    }
    await this._savePlan();
    try {
      await this.runner.start(m.plan, m.instance, this._settings);
    } catch (err) {
      this._say('The plan could not be started.', err);
    }
  }

  /** Cancel what is going on: profiling, solving, or the run. */
  async cancel(): Promise<void> {
    try {
      if (this._profile?.running) {
        await this.bridge.request({ type: 'cancel_profile', run_id: this._profile.run_id ?? undefined }, 60_000);
      }
      if (this._solving) {
        this.solver?.cancel();
      }
      if (this._run && (this._run.phase === 'running' || this._run.phase === 'starting')) {
        await this.runner?.cancel();
      }
    } catch (err) {
      this._say('Cancel failed.', err);
    }
    this._changed.emit();
  }

  private _onRun(snap: IRunSnapshot): void {
    if (this._afterRun && snap.message === this._afterRun && snap.phase !== 'running' && snap.phase !== 'starting') {
      return; // the finished run the user has planned past
    }
    this._run = snap;
    const plan = snap.plan;
    this._fromRun = true;
    try {
      this._showRunPlan(snap, plan);
    } finally {
      this._fromRun = false;
    }
    this._changed.emit();
  }

  /** The run's plan and job states on the chart (not an edit: nothing goes back to the executor). */
  private _showRunPlan(snap: IRunSnapshot, plan: Plan | null): void {
    if (plan) {
      const ids = plan.jobs.map(j => j.id).sort().join('\n');
      const known = this._planModel && this._planModel.plan.jobs.map(j => j.id).sort().join('\n') === ids;
      if (!this._planModel || !known) {
        // The run's own plan is the truth (also for a run started elsewhere, e.g. from the CLI).
        this._setPlan(this._instanceFor(plan), plan);
      } else if (!samePlacement(plan, this._planModel.plan)) {
        this._planModel.replacePlan(plan, 'Re-planned during the run', 'run');
      }
    }
    if (this._planModel) {
      const states = new Map<string, JobState>(snap.jobs.map(j => [j.job, j.state]));
      this._planModel.setStates(states);
    }
  }

  /** The profiled instance when it has every job of `plan`, else a minimal one made from the plan itself. */
  private _instanceFor(plan: Plan): Instance {
    const inst = this._instance ? this._solvable(this._instance) : null;
    if (inst && plan.jobs.every(j => inst.jobs.some(x => x.id === j.id && x.options.some(o => o.parallelism === j.parallelism && o.gpus === j.gpus)))) {
      return inst;
    }
    const nodes = new Map<string, number>();
    for (const j of plan.jobs) {
      nodes.set(j.node, Math.max(nodes.get(j.node) ?? 0, ...j.gpu_ids.map(g => g + 1)));
    }
    for (const d of this._devices ?? []) {
      nodes.set('node0', Math.max(nodes.get('node0') ?? 0, d.id + 1));
    }
    return {
      format: 'spase-instance/1',
      name: plan.instance,
      cluster: { nodes: [...nodes.entries()].map(([id, gpus]) => ({ id, gpus })) },
      jobs: plan.jobs.map(j => ({ id: j.id, options: [{ parallelism: j.parallelism, gpus: j.gpus, runtime_s: j.end_s - j.start_s }] }))
    };
  }

  private _say(message: string, err?: unknown): void {
    this._notice.emit({ message, details: err === undefined ? undefined : errText(err) });
  }

  dispose(): void {
    this._poll?.dispose();
    Signal.clearData(this);
  }

  private _loaded = false;
  private _devices: IDevice[] | null = null;
  private _nodes: INodeInfo[] | null = null;
  private _deviceNotices: string[] = [];
  private _tasks: ITaskInfo[] | null = null;
  private _profile: IProfileState | null = null;
  private _instance: Instance | null = null;
  private _planModel: PlanModel | null = null;
  private _yardsticks: IYardsticks = { lowerBound: null, currentPractice: null };
  private _run: IRunSnapshot | null = null;
  private _settings: ISaturnSettings = { ...DEFAULT_SETTINGS };
  private _solving = false;
  /** The finished run a newer plan replaced on the chart (its snapshot is not shown again). */
  private _afterRun: string | null = null;
  /** True while the run's own snapshot updates the plan (such changes are not user edits). */
  private _fromRun = false;
  private _solveCount = 0;
  private _saveTimer: any = undefined;
  private _refreshing: Promise<void> | null = null;
  private _lastRestore = 0;
  private _lastEvent = 0;
  private _poll: Poll | null = null;
  private _changed = new Signal<this, void>(this);
  private _notice = new Signal<this, INotice>(this);
  private _planReady = new Signal<this, void>(this);
}
