/**
 * What the bridge says, kept current: devices, nodes, registered tasks and profiling. Loaded on request and updated
 * by the store's events (pushed by the bridge or polled by ./saturn-model.ts). The rules are the pure functions of
 * ./event-reducer.ts; this class asks the bridge, applies them and carries out their effects through its hooks.
 */
import type { BridgeEvent, MetricPoint } from '../../bridge/wire';
import type { Instance } from '../../spase/types';
import {
  EMPTY_FEED,
  emptyProfile,
  IFeedState,
  reduceEvent,
  reduceLoad,
  reduceProfileStarted,
  reduceStoredEvents
} from './event-reducer';
import { backendRequest, IBridge, ISaturnSettings, ITaskInfo } from './interfaces';

export interface IFeedHooks {
  /** Something the panel shows changed. */
  changed(): void;
  /** Tell the user (`err`: the details). */
  say(message: string, err?: unknown): void;
  /** A profile finished with this instance. */
  instance(instance: Instance): void;
  /** A job or a lease changed: the run has to be read again. */
  jobs(): void;
  /** A new point of a job's history. */
  metrics?(point: MetricPoint): void;
  /** A job changed state. */
  jobState?(): void;
}

/** Events asked for at once (`events_since`). */
const PAGE = 500;

export class BridgeFeed {
  constructor(
    private readonly bridge: IBridge,
    private readonly hooks: IFeedHooks
  ) {}

  get state(): IFeedState {
    return this._state;
  }

  /** Connect to the bridge; false when it did not answer (the bridge's state and lastError say why). */
  async connect(): Promise<boolean> {
    try {
      await this.bridge.connect();
      return true;
    } catch {
      return false;
    }
  }

  /** Devices (as `settings` declare them), tasks and profiling; resolves with the `profile_status` reply. */
  async load(settings: ISaturnSettings): Promise<{ instance?: Instance; [k: string]: unknown }> {
    const [devices, tasks, status] = await Promise.all([
      this.bridge.request<any>({ type: 'devices', declared: settings.declaredGpus, ...backendRequest(settings) }),
      this.bridge.request<any>({ type: 'tasks' }),
      this.bridge.request<any>({ type: 'profile_status' })
    ]);
    this._state = reduceLoad(this._state, devices, tasks, status);
    return status;
  }

  /**
   * The instance of the latest finished profile (null when there is none), as the store keeps it (`instance`). With
   * `advance` (after a page load) the store's events so far count as seen; without (a later look), events that were
   * not applied yet stay to be applied, else a task registered meanwhile would never be listed. A store profiled
   * before it kept instances (schema version 2) is read the old way, from its event history.
   */
  async latestProfiled(advance = true): Promise<Instance | null> {
    const kept = await this.bridge.request<any>({ type: 'instance' });
    if (kept.instance) {
      const instance = kept.instance as Instance;
      let state = this._state;
      if (!state.profile?.running) {
        state = { ...state, profile: { ...emptyProfile(((instance as any).saturn?.run_id as string) ?? null) } };
      }
      if (advance && typeof kept.last_event_id === 'number') {
        state = { ...state, lastEvent: Math.max(state.lastEvent, kept.last_event_id) };
      }
      this._state = state;
      return instance;
    }
    return this.replayForProfile(advance);
  }

  private async replayForProfile(advance: boolean): Promise<Instance | null> {
    let instance: Instance | null = null;
    let since = 0;
    for (let page = 0; page < 200; page++) {
      const r = await this.bridge.request<any>({ type: 'events_since', since, limit: PAGE });
      const events = (r.events ?? []) as BridgeEvent[];
      const next = reduceStoredEvents(this._state, events);
      this._state = advance ? next.state : { ...next.state, lastEvent: this._state.lastEvent };
      instance = next.instance ?? instance;
      if (events.length) {
        since = Number(events[events.length - 1].id);
      }
      if (events.length < PAGE) {
        break;
      }
    }
    return instance;
  }

  /** Apply the store's events since the last one seen. */
  async readEvents(): Promise<void> {
    const r = await this.bridge.request<any>({ type: 'events_since', since: this._state.lastEvent, limit: PAGE });
    for (const ev of (r.events ?? []) as BridgeEvent[]) {
      this.apply(ev);
    }
  }

  /** One store event (pushed or polled); events already seen are ignored. */
  apply(ev: BridgeEvent): void {
    const r = reduceEvent(this._state, ev);
    this._state = r.state;
    for (const effect of r.effects) {
      switch (effect.kind) {
        case 'reload-tasks':
          void this.reloadTasks();
          break;
        case 'refresh-run':
          this.hooks.jobs();
          break;
        case 'instance':
          this.hooks.instance(effect.instance);
          break;
        case 'notice':
          this.hooks.say(effect.message, effect.details);
          break;
        case 'metrics':
          this.hooks.metrics?.(effect.point);
          break;
        case 'job-state':
          this.hooks.jobState?.();
          break;
      }
    }
    if (r.changed) {
      this.hooks.changed();
    }
  }

  async reloadTasks(): Promise<void> {
    try {
      const r = await this.bridge.request<any>({ type: 'tasks' });
      this._state = { ...this._state, tasks: r.tasks as ITaskInfo[] };
      this.hooks.changed();
    } catch (err) {
      this.hooks.say('Could not list the registered tasks.', err);
    }
  }

  /** Profile `names` (all registered tasks when absent) with the settings' steps, cache and backend. */
  async startProfile(settings: ISaturnSettings, names?: string[]): Promise<void> {
    try {
      const r = await this.bridge.request<any>({
        type: 'profile',
        names: names ?? null,
        warmup: settings.profileWarmupSteps,
        measure: settings.profileMeasureSteps,
        measure_s: settings.profileMeasureSeconds,
        use_cache: settings.profileUseCache,
        ...backendRequest(settings)
      });
      this._state = reduceProfileStarted(this._state, r.run_id, names);
      this.hooks.changed();
    } catch (err) {
      this.hooks.say('Profiling could not start.', err);
    }
  }

  /** Ask the bridge to stop the running profile (errors are the caller's to report). */
  async cancelProfile(): Promise<void> {
    await this.bridge.request({ type: 'cancel_profile', run_id: this._state.profile?.run_id ?? undefined }, 60_000);
  }

  private _state: IFeedState = EMPTY_FEED;
}
