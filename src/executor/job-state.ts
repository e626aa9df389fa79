/**
 * The one job state machine. The state strings and the transition table are those of the wire schema
 * (`schema/wire/bridge.schema.json`: `definitions.job_state`, `job_transitions`), which the Python store reads; a
 * jest spec checks this file against the schema.
 *
 *   pending ─▶ waiting ─▶ running ⇄ checkpointing ─▶ done
 *                ▲           │  ╲        │
 *        (retry) │           │   ─▶ preempted ─▶ resumed ─▶ running …
 *              failed ◀──────┘
 *   preempted (at a rung) ─▶ stopped_early
 *   any state that is not final ─▶ cancelled
 *
 * - waiting: dispatched, its kernel is starting / waiting for its leases.
 * - checkpointing: writing a checkpoint at a step boundary (then running again, or preempted).
 * - preempted: stopped with a checkpoint (pause, a re-plan that changes it, its process died, or it reached its rung).
 * - stopped_early: early stopping judged it at a rung and stopped it for good (checkpoint and history kept).
 * - resumed: re-dispatched after preemption; running again once its runner holds the leases.
 * - failed: crashed (traceback kept); the dispatcher may retry it (failed → waiting) up to N times.
 */
export enum JobState {
  Pending = 'pending',
  Waiting = 'waiting',
  Running = 'running',
  Checkpointing = 'checkpointing',
  Preempted = 'preempted',
  Resumed = 'resumed',
  Done = 'done',
  Failed = 'failed',
  Cancelled = 'cancelled',
  StoppedEarly = 'stopped_early'
}

export const JOB_STATES: readonly JobState[] = [
  JobState.Pending,
  JobState.Waiting,
  JobState.Running,
  JobState.Checkpointing,
  JobState.Preempted,
  JobState.Resumed,
  JobState.Done,
  JobState.Failed,
  JobState.Cancelled,
  JobState.StoppedEarly
];

export const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  [JobState.Pending]: [JobState.Waiting, JobState.Cancelled],
  [JobState.Waiting]: [JobState.Running, JobState.Pending, JobState.Failed, JobState.Cancelled],
  [JobState.Running]: [JobState.Checkpointing, JobState.Done, JobState.Failed, JobState.Preempted, JobState.Cancelled],
  [JobState.Checkpointing]: [JobState.Running, JobState.Done, JobState.Failed, JobState.Preempted, JobState.Cancelled],
  [JobState.Preempted]: [JobState.Resumed, JobState.Failed, JobState.Cancelled, JobState.StoppedEarly],
  [JobState.Resumed]: [JobState.Running, JobState.Preempted, JobState.Failed, JobState.Cancelled],
  [JobState.Failed]: [JobState.Waiting, JobState.Cancelled],
  [JobState.Done]: [],
  [JobState.Cancelled]: [],
  [JobState.StoppedEarly]: []
};

/** States a job never leaves. */
export const FINAL_STATES: readonly JobState[] = [JobState.Done, JobState.Cancelled, JobState.StoppedEarly];
/** States in which a runner process holds the job's devices. */
export const ACTIVE_STATES: readonly JobState[] = [JobState.Running, JobState.Checkpointing];
/** States of a job launched and not training yet: its runner (kernel) is starting, or resuming from a checkpoint. */
export const LAUNCHED_STATES: readonly JobState[] = [JobState.Waiting, JobState.Resumed];

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: string,
    readonly to: string
  ) {
    const allowed = isJobState(from) ? TRANSITIONS[from].join(', ') || 'nothing (final state)' : 'unknown state';
    super(`a job cannot go from ${from} to ${to} (from ${from}: ${allowed})`);
    this.name = 'IllegalTransitionError';
  }
}

export function isJobState(s: unknown): s is JobState {
  return typeof s === 'string' && (JOB_STATES as readonly string[]).includes(s);
}

/** The one transition function: returns `to` when allowed, throws `IllegalTransitionError` otherwise. */
export function transition(from: JobState | string, to: JobState | string): JobState {
  if (!isJobState(from) || !isJobState(to) || !TRANSITIONS[from].includes(to)) {
    throw new IllegalTransitionError(from, to);
  }
  return to;
}

export function canTransition(from: JobState | string, to: JobState | string): boolean {
  return isJobState(from) && isJobState(to) && TRANSITIONS[from].includes(to);
}

export function isFinal(s: JobState | string): boolean {
  return (FINAL_STATES as readonly string[]).includes(s);
}

export function isActive(s: JobState | string): boolean {
  return (ACTIVE_STATES as readonly string[]).includes(s);
}

export function isLaunched(s: JobState | string): boolean {
  return (LAUNCHED_STATES as readonly string[]).includes(s);
}

/** Over for good: done, cancelled, or failed and given up (no retry will come). */
export function isSettled(s: JobState | string, info?: { given_up?: boolean } | null): boolean {
  return isFinal(s) || (s === JobState.Failed && !!info?.given_up);
}

/** What `endedAt` reads of a job record's info. */
export interface IEndTimes {
  finished_at?: number;
  failed_at?: number;
  cancelled_at?: number;
  stopped?: { at?: number } | null;
  stopped_early?: { at?: number } | null;
}

/**
 * When a job in `state` stopped holding its GPUs for good (store clock), or undefined while it may run again. A job
 * stopped early paused at its rung and released its GPUs then, before early stopping judged it (the verdict's time
 * only when the pause is not recorded); a done, failed or cancelled job when it ended (`fallback`, e.g. the record's
 * last update, when that is not recorded).
 */
export function endedAt(state: string, info: IEndTimes | undefined, fallback?: number): number | undefined {
  const first = (...ts: unknown[]): number | undefined => ts.find((t): t is number => typeof t === 'number');
  switch (state) {
    case JobState.StoppedEarly:
      return first(info?.stopped?.at, info?.stopped_early?.at, fallback);
    case JobState.Done:
      return first(info?.finished_at, fallback);
    case JobState.Failed:
      return first(info?.failed_at, fallback);
    case JobState.Cancelled:
      return first(info?.cancelled_at, info?.finished_at, fallback);
    default:
      return undefined;
  }
}
