/**
 * What the dispatcher needs from the outside world, as small interfaces: the job store (the bridge's SQLite store,
 * reached through a kernel) and a launcher that starts one runner per job (a kernel session per job). Tests and the
 * simulator implement them in memory.
 */
import type { EventKind } from '../bridge/wire';
import { JobState } from './job-state';

export interface IAssignment {
  parallelism: string;
  gpus: number;
  node: string;
  gpu_ids: number[];
  knobs?: Record<string, unknown>;
  planned_start_s?: number;
  planned_end_s?: number;
  /** When set: the moment (s since the epoch) that planned_start_s/planned_end_s count from (a re-plan's "now"). */
  planned_origin_s?: number;
}

export interface IProgress {
  step: number;
  total_steps: number;
  epoch?: number;
  loss?: number | null;
  step_time_s?: number | null;
  throughput_steps_s?: number | null;
  eta_s?: number | null;
  at?: number;
}

export interface IJobInfo {
  run_id?: string;
  order?: number;
  assignment: IAssignment;
  /** Early stopping: the step the job pauses at next to be judged (its next rung); absent or null: it runs to its end. */
  rung_at?: number | null;
  /** Early stopping: every rung of the job as a step, below its total (recorded when its run starts). */
  rung_steps?: number[];
  /** Early stopping: the metrics the job reported at each rung it reached (rung step → metrics). */
  rung_reports?: Record<string, Record<string, number>>;
  /** Early stopping: the rungs it was promoted at (step) and when (store clock). */
  promotions?: Array<{ rung: number; at: number }>;
  /**
   * Early stopping: how long the runner waits on its GPUs at a rung for the verdict (0 or absent: it pauses at once);
   * `holding`: it waits now, at that rung.
   */
  rung_hold_s?: number;
  holding?: { step: number; at: number } | null;
  /** Set by a re-plan while the job still runs: applied once it has stopped (preempted). */
  next_assignment?: IAssignment | null;
  total_steps?: number | null;
  step?: number;
  attempts?: number;
  retries?: number;
  given_up?: boolean;
  pid?: number;
  claimed_at?: number;
  first_step_at?: number;
  /** When the dispatcher last launched the job (store clock). */
  launched_at?: number;
  finished_at?: number;
  error?: string;
  traceback?: string;
  log?: string;
  weights?: string;
  progress?: IProgress;
  stop?: { reason: StopReason; at: number } | null;
  /** Why its runner stopped last (a stop request's reason, or `rung`: it reached its rung). */
  stopped?: { reason: StopReason | 'rung'; at: number; step: number } | null;
  checkpoint?: { step: number; path: string; at: number };
  [extra: string]: unknown;
}

export interface IJobRecord {
  id: string;
  task: string;
  state: JobState;
  info: IJobInfo;
  /** The runner process the store names is alive (checked on the store's host). */
  alive?: boolean;
  checkpoint_step?: number | null;
  updated_at?: number;
}

export interface ILease {
  /** The node of the device (absent in stores from before multi-node: node0). */
  node?: string;
  device: number;
  holder: string;
  pid: number | null;
  acquired_at: number;
}

/** A node as the cluster backend reports it (SLURM); absent for the local backend. */
export interface INodeState {
  id: string;
  gpus: number;
  state: string;
  /** Takes new work (not down, drained or unresponsive). */
  usable: boolean;
}

export interface ISnapshot {
  jobs: IJobRecord[];
  leases: ILease[];
  /** The cluster's nodes (SLURM backend): jobs are not started on unusable ones, and their jobs are re-planned. */
  nodes?: INodeState[];
  /** The store host's clock (seconds since the epoch). */
  now: number;
}

export type StopReason = 'cancel' | 'pause' | 'replan' | 'rung';

export interface INewJob {
  id: string;
  task: string;
  assignment: IAssignment;
  order: number;
  total_steps?: number | null;
  settings?: Record<string, unknown>;
}

export interface IJobStore {
  snapshot(runId?: string): Promise<ISnapshot>;
  createJobs(runId: string, jobs: INewJob[], plan?: unknown): Promise<void>;
  /** A checked state change (the store applies the same transition table). */
  transition(jobId: string, to: JobState, info?: Partial<IJobInfo>, expect?: JobState[]): Promise<IJobRecord>;
  /** Merge `info` into the job's info; `event` names the store event (default `job.updated`). */
  update(jobId: string, info: Partial<IJobInfo>, event?: EventKind): Promise<IJobRecord>;
  requestStop(jobId: string, reason: StopReason): Promise<void>;
  /** After a restart: interrupted jobs become preempted (resumable), stale leases are broken. */
  reconcile(runId?: string): Promise<unknown>;
  /**
   * Optional: this dispatcher is alive (written every tick). While it is fresh the Python autopilot stands down;
   * once it is older than its grace period (a few poll intervals) the autopilot dispatches the run itself.
   */
  heartbeat?(runId: string, pollS: number, paused: boolean): Promise<void>;
  /** Optional: start the Python autopilot of `runId` in Saturn's control kernel (idempotent). */
  startAutopilot?(runId: string, options: IAutopilotOptions): Promise<unknown>;
  /**
   * Optional: a number that changes whenever the store's connection had to be made anew (the Jupyter server was
   * restarted, the control kernel died). The dispatcher reconciles when it sees it change: runners may have gone.
   */
  readonly epoch?: number;
}

export interface IAutopilotOptions {
  max_retries?: number;
  /** The autopilot takes over once the heartbeat is older than grace_factor × the poll interval. */
  grace_factor?: number;
  min_grace_s?: number;
}

/** Where a launched runner stands, as the launcher sees it (its kernel execution). */
export type LaunchStatus = 'unknown' | 'running' | 'ended';

export interface IJobLauncher {
  /** Start the runner of `jobId` (its own kernel session); resolves once it has been started. */
  launch(jobId: string): Promise<void>;
  status(jobId: string): LaunchStatus;
  /** Shut the job's kernel down (when it has finished, or to cancel a job that has not claimed yet). */
  release(jobId: string): Promise<void>;
  dispose(): Promise<void>;
  /**
   * Optional: get the job's runner ready before its GPUs are free (e.g. start its kernel and import torch), so that
   * `launch` only has to start the run. Must not take leases or change the job's state.
   */
  prewarm?(jobId: string): Promise<void>;
  /** Optional: forget what was launched (the kernels went with a server that was restarted). */
  forget?(): void;
}

export interface IClock {
  /** Seconds (same origin as the store's `now`). */
  now(): number;
}

export const systemClock: IClock = { now: () => Date.now() / 1000 };
