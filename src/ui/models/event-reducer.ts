/**
 * What the bridge has told the UI (devices, nodes, registered tasks, profiling) and how the bridge's replies and the
 * store's events change it, as pure functions: a state and an event in, the next state and what else has to happen
 * (effects) out. No bridge, no signals, no timers: ./bridge-feed.ts talks to the bridge and applies these.
 */
import type { BridgeEvent, MetricPoint } from '../../bridge/wire';
import type { Instance } from '../../spase/types';
import type { IDevice, INodeInfo, IProfileState, ITaskInfo, ITrialInfo } from './interfaces';
import { pointFromEvent } from './results-state';

export interface IFeedState {
  devices: IDevice[] | null;
  /** The cluster's nodes when jobs run on SLURM (null: this machine's devices). */
  nodes: INodeInfo[] | null;
  /** What to know about the devices before trusting a plan (e.g. more CPU devices declared than cores). */
  deviceNotices: string[];
  tasks: ITaskInfo[] | null;
  profile: IProfileState | null;
  /** Id of the last store event applied (older ones are ignored). */
  lastEvent: number;
}

/** Nothing loaded yet. */
export const EMPTY_FEED: IFeedState = { devices: null, nodes: null, deviceNotices: [], tasks: null, profile: null, lastEvent: 0 };

/** What an event asks for besides the new state. */
export type FeedEffect =
  /** The registered tasks changed: list them again. */
  | { kind: 'reload-tasks' }
  /** A job or a lease changed: read the run's state again. */
  | { kind: 'refresh-run' }
  /** A profile finished with this instance: it becomes the one to plan. */
  | { kind: 'instance'; instance: Instance }
  /** Tell the user (`details`: the error as the bridge gave it). */
  | { kind: 'notice'; message: string; details: unknown }
  /** A new point of a job's history (train loss or a validation). */
  | { kind: 'metrics'; point: MetricPoint }
  /** A job changed state: the run's results (state, runtime) have to be read again. */
  | { kind: 'job-state' };

export interface IReduction {
  state: IFeedState;
  /** Whether what the panel shows changed. */
  changed: boolean;
  effects: FeedEffect[];
}

export function emptyProfile(runId: string | null): IProfileState {
  return { run_id: runId, running: false, done: 0, total: 0, cached: 0, eta_s: null, tasks: [], trials: {}, error: null, cancelled: false };
}

/** One store event (pushed or polled). Events whose id was seen already change nothing. */
export function reduceEvent(state: IFeedState, ev: BridgeEvent): IReduction {
  const id = Number((ev as any).id ?? 0);
  if (id && id <= state.lastEvent) {
    return { state, changed: false, effects: [] };
  }
  const seen: IFeedState = id ? { ...state, lastEvent: id } : state;
  const data = ((ev as any).data ?? {}) as any;
  const quiet = (effects: FeedEffect[] = []): IReduction => ({ state: seen, changed: false, effects });
  const withProfile = (profile: IProfileState, effects: FeedEffect[] = []): IReduction => ({ state: { ...seen, profile }, changed: true, effects });
  const profile = seen.profile;
  switch (ev.kind ?? ev.type) {
    case 'task.registered':
    case 'task.updated':
    case 'task.unregistered':
      return quiet([{ kind: 'reload-tasks' }]);
    case 'profile.started':
      return withProfile({ ...emptyProfile(data.run_id), running: true, total: data.total ?? 0, tasks: data.tasks ?? [] });
    case 'profile.progress': {
      const p = profile ?? { ...emptyProfile(data.run_id), running: true };
      const trials = { ...p.trials };
      const t = data.trial as ITrialInfo | undefined;
      if (t) {
        trials[t.task] = [...(trials[t.task] ?? []), t];
      }
      return withProfile({ ...p, done: data.done, total: data.total, cached: data.cached ?? 0, eta_s: data.eta_s ?? null, trials });
    }
    case 'profile.finished':
      return withProfile(
        { ...(profile ?? emptyProfile(data.run_id)), running: false, cancelled: !!data.cancelled, eta_s: 0 },
        data.instance ? [{ kind: 'instance', instance: data.instance as Instance }] : []
      );
    case 'profile.failed':
      return withProfile({ ...(profile ?? emptyProfile(data.run_id)), running: false, error: data.error }, [
        { kind: 'notice', message: 'Profiling failed.', details: data.error }
      ]);
    case 'job.updated':
    case 'lease.acquired':
    case 'lease.released':
      return quiet([{ kind: 'refresh-run' }]);
    case 'job.state':
      return quiet([{ kind: 'job-state' }]);
    case 'job.metrics': {
      const point = pointFromEvent(data);
      return quiet(point ? [{ kind: 'metrics', point }] : []);
    }
    default:
      return quiet();
  }
}

/** The bridge's replies to `devices`, `tasks` and `profile_status` (a profile still running is followed again). */
export function reduceLoad(state: IFeedState, devices: any, tasks: any, status: any): IFeedState {
  const next: IFeedState = {
    ...state,
    devices: devices.devices as IDevice[],
    nodes: (devices.nodes as INodeInfo[] | undefined) ?? null,
    deviceNotices: (devices.notices as string[] | undefined) ?? [],
    tasks: tasks.tasks as ITaskInfo[]
  };
  if (status.running && status.run_id) {
    next.profile = { ...emptyProfile(status.run_id), running: true, ...(status.progress ?? {}) };
  }
  return next;
}

/** Profiling `names` (all registered tasks when absent) started as run `runId`. */
export function reduceProfileStarted(state: IFeedState, runId: string, names?: string[]): IFeedState {
  return { ...state, profile: { ...emptyProfile(runId), running: true, tasks: names ?? (state.tasks ?? []).map(t => t.name) } };
}

/**
 * A page of the store's event history, read from the start after a reload: the instance of the latest finished
 * profile on it (null when none), a finished profile shown when none is running, and the last event id seen.
 */
export function reduceStoredEvents(state: IFeedState, events: BridgeEvent[]): { state: IFeedState; instance: Instance | null } {
  let profile = state.profile;
  let instance: Instance | null = null;
  for (const ev of events) {
    const data = (ev as any).data;
    if (ev.kind === 'profile.finished' && data?.instance) {
      instance = data.instance;
      if (!profile?.running) {
        profile = { ...emptyProfile(data.run_id ?? null) };
      }
    }
  }
  const lastEvent = events.length ? Math.max(state.lastEvent, Number(events[events.length - 1].id)) : state.lastEvent;
  return { state: { ...state, profile, lastEvent }, instance };
}
