/* eslint-disable */
/**
 * Generated from schema/wire/bridge.schema.json by scripts/wire-types.js: do not edit by hand.
 */

/**
 * Every message between Saturn's TypeScript side (the panel, the page's and the CLI's dispatcher) and the Python bridge, version 1. Transport: the comm target 'saturn.bridge' of a saturn-bridge kernel: request -> reply with the same id, plus push. A request whose v is not 1 gets a reply_error with code 'version'. Also the one source of the job states (definitions.job_state), their transitions (job_transitions) and the store's event kinds (definitions.event_kind), read by both languages.
 */
export type SaturnBridgeWireProtocol = Request | Reply | Push;
export type Request =
  | RequestHello
  | RequestDevices
  | RequestTasks
  | RequestUnregister
  | RequestTechniques
  | RequestProfile
  | RequestCancelProfile
  | RequestProfileStatus
  | RequestEventsSince
  | RequestPlanSave
  | RequestPlans
  | RequestJobs
  | RequestJobsSnapshot
  | RequestJobsCreate
  | RequestJobTransition
  | RequestJobUpdate
  | RequestJobRequestStop
  | RequestJobsReconcile
  | RequestDispatcherHeartbeat
  | RequestAutopilotStart
  | RequestAutopilotStatus
  | RequestInstance
  | RequestResults
  | RequestHistory
  | RequestRunConfig;
/**
 * A job's state; the transitions are the top-level job_transitions table. Final: done, cancelled, stopped_early (early stopping judged it at a rung: its checkpoint and history are kept).
 */
export type JobState =
  | 'pending'
  | 'waiting'
  | 'running'
  | 'checkpointing'
  | 'preempted'
  | 'resumed'
  | 'done'
  | 'failed'
  | 'cancelled'
  | 'stopped_early';
/**
 * Kinds of the store's events (Store.emit refuses any other).
 */
export type EventKind =
  | 'task.registered'
  | 'task.updated'
  | 'task.unregistered'
  | 'technique.registered'
  | 'technique.unregistered'
  | 'profile.started'
  | 'profile.progress'
  | 'profile.finished'
  | 'profile.failed'
  | 'plan.saved'
  | 'job.state'
  | 'job.updated'
  | 'job.progress'
  | 'job.knobs'
  | 'job.first_step'
  | 'job.metrics'
  | 'job.promoted'
  | 'job.rung'
  | 'job.stop_requested'
  | 'job.autopilot_launch'
  | 'job.worker'
  | 'job.slurm'
  | 'job.given_up'
  | 'lease.acquired'
  | 'lease.released'
  | 'lease.broken'
  | 'jobs.reconciled';
export type Reply =
  | ReplyHello
  | ReplyDevices
  | ReplyTasks
  | ReplyUnregister
  | ReplyTechniques
  | ReplyProfile
  | ReplyCancelProfile
  | ReplyProfileStatus
  | ReplyEventsSince
  | ReplyPlanSave
  | ReplyPlans
  | ReplyJobs
  | ReplyJobsSnapshot
  | ReplyJobsCreate
  | ReplyJobTransition
  | ReplyJobUpdate
  | ReplyJobRequestStop
  | ReplyJobsReconcile
  | ReplyDispatcherHeartbeat
  | ReplyAutopilotStart
  | ReplyAutopilotStatus
  | ReplyInstance
  | ReplyResults
  | ReplyHistory
  | ReplyRunConfig
  | ReplyError;

/**
 * Handshake: versions of the bridge.
 */
export interface RequestHello {
  v: 1;
  /**
   * echoed in the reply
   */
  id?: string | number;
  type: 'hello';
}
/**
 * Devices Saturn may use.
 */
export interface RequestDevices {
  v: 1;
  /**
   * echoed in the reply
   */
  id?: string | number;
  type: 'devices';
  refresh?: boolean;
  /**
   * CPU "GPUs" declared in the settings (0 = none: real GPUs, or SATURN_FAKE_GPUS); persisted so every Saturn process sees it
   */
  declared?: number;
  /**
   * where jobs run: this machine's GPUs (local) or SLURM nodes (slurm); null = SATURN_BACKEND or local
   */
  backend?: 'local' | 'slurm' | null;
  /**
   * SLURM submission settings (Settings > Saturn); empty values fall back to SATURN_SLURM_* in the server's environment
   */
  slurm?: {
    partition?: string | null;
    account?: string | null;
    time?: string | null;
  };
}
/**
 * Registered tasks.
 */
export interface RequestTasks {
  v: 1;
  /**
   * echoed in the reply
   */
  id?: string | number;
  type: 'tasks';
}
/**
 * Remove a registered task.
 */
export interface RequestUnregister {
  v: 1;
  /**
   * echoed in the reply
   */
  id?: string | number;
  type: 'unregister';
  name: string;
}
/**
 * Known techniques (built-in and user).
 */
export interface RequestTechniques {
  v: 1;
  /**
   * echoed in the reply
   */
  id?: string | number;
  type: 'techniques';
}
/**
 * Start profiling (all tasks when names is null/absent). Progress arrives as profile.* events; with wait=true the reply carries the instance.
 */
export interface RequestProfile {
  v: 1;
  /**
   * echoed in the reply
   */
  id?: string | number;
  type: 'profile';
  names?: string[] | null;
  wait?: boolean;
  trial_timeout?: number;
  max_parallel?: number;
  use_cache?: boolean;
  warmup?: number;
  measure?: number;
  measure_s?: number;
  techniques?: string[] | null;
  /**
   * where jobs run: this machine's GPUs (local) or SLURM nodes (slurm); null = SATURN_BACKEND or local
   */
  backend?: 'local' | 'slurm' | null;
  /**
   * SLURM submission settings (Settings > Saturn); empty values fall back to SATURN_SLURM_* in the server's environment
   */
  slurm?: {
    partition?: string | null;
    account?: string | null;
    time?: string | null;
  };
}
/**
 * Stop the running profile (its running trials are killed).
 */
export interface RequestCancelProfile {
  v: 1;
  /**
   * echoed in the reply
   */
  id?: string | number;
  type: 'cancel_profile';
  run_id?: string;
}
/**
 * State of the current or last profile run.
 */
export interface RequestProfileStatus {
  v: 1;
  /**
   * echoed in the reply
   */
  id?: string | number;
  type: 'profile_status';
  run_id?: string;
}
/**
 * Store events with id > since, oldest first.
 */
export interface RequestEventsSince {
  v: 1;
  /**
   * echoed in the reply
   */
  id?: string | number;
  type: 'events_since';
  since: number;
  limit?: number;
}
/**
 * Save a spase-plan/1 (checked against instance when given).
 */
export interface RequestPlanSave {
  v: 1;
  /**
   * echoed in the reply
   */
  id?: string | number;
  type: 'plan_save';
  name?: string;
  plan: {};
  instance?: {};
}
/**
 * Saved plans.
 */
export interface RequestPlans {
  v: 1;
  /**
   * echoed in the reply
   */
  id?: string | number;
  type: 'plans';
  with_docs?: boolean;
}
/**
 * Jobs known to the store.
 */
export interface RequestJobs {
  v: 1;
  /**
   * echoed in the reply
   */
  id?: string | number;
  type: 'jobs';
}
/**
 * The dispatcher's view of a run in one read (every tick): jobs with alive and checkpoint_step, leases, the cluster's nodes (SLURM), the store's clock. A heartbeat may ride along.
 */
export interface RequestJobsSnapshot {
  v: 1;
  type: 'jobs_snapshot';
  /**
   * echoed in the reply
   */
  id?: string | number;
  run_id?: string | null;
  /**
   * leave each job's state history out
   */
  brief?: boolean;
  heartbeat?: {
    run_id: string;
    poll_s?: number;
    paused?: boolean;
    owner?: string;
  };
}
/**
 * Record a plan's jobs (pending), idempotent: existing jobs are kept; the plan is saved with the run.
 */
export interface RequestJobsCreate {
  v: 1;
  type: 'jobs_create';
  /**
   * echoed in the reply
   */
  id?: string | number;
  run_id: string;
  jobs: {
    id: string;
    task: string;
    assignment: {};
    order?: number;
    total_steps?: number | null;
    settings?: {};
  }[];
  plan?: {} | null;
}
/**
 * A checked state change (the one transition table), with info merged into the job's info, atomically.
 */
export interface RequestJobTransition {
  v: 1;
  type: 'job_transition';
  /**
   * echoed in the reply
   */
  id?: string | number;
  job: string;
  to: JobState;
  info?: {};
  expect?: JobState[] | null;
}
/**
 * Merge info into a job's info (no state change).
 */
export interface RequestJobUpdate {
  v: 1;
  type: 'job_update';
  /**
   * echoed in the reply
   */
  id?: string | number;
  job: string;
  info: {};
  event?: EventKind | null;
}
/**
 * Ask a running job's runner to stop at its next step boundary.
 */
export interface RequestJobRequestStop {
  v: 1;
  type: 'job_request_stop';
  /**
   * echoed in the reply
   */
  id?: string | number;
  job: string;
  reason: 'cancel' | 'pause' | 'replan' | 'rung';
}
/**
 * After a restart: jobs whose runner is gone become preempted (resumable), stale leases are broken.
 */
export interface RequestJobsReconcile {
  v: 1;
  type: 'jobs_reconcile';
  /**
   * echoed in the reply
   */
  id?: string | number;
  run_id?: string | null;
}
/**
 * The dispatcher of run_id is alive (while it beats, the autopilot stands down); paused stops the autopilot from starting anything.
 */
export interface RequestDispatcherHeartbeat {
  v: 1;
  type: 'dispatcher_heartbeat';
  /**
   * echoed in the reply
   */
  id?: string | number;
  run_id: string;
  poll_s?: number;
  paused?: boolean;
  owner?: string;
}
/**
 * Start the autopilot of run_id in this kernel (idempotent): it dispatches the run once the heartbeat is stale.
 */
export interface RequestAutopilotStart {
  v: 1;
  type: 'autopilot_start';
  /**
   * echoed in the reply
   */
  id?: string | number;
  run_id: string;
  max_retries?: number | null;
  grace_factor?: number | null;
  min_grace_s?: number | null;
  heartbeat?: {
    run_id: string;
    poll_s?: number;
    paused?: boolean;
    owner?: string;
  };
}
/**
 * The autopilots running in this kernel.
 */
export interface RequestAutopilotStatus {
  v: 1;
  type: 'autopilot_status';
  /**
   * echoed in the reply
   */
  id?: string | number;
  run_id?: string | null;
}
/**
 * The latest profiled instance (null when nothing was profiled yet).
 */
export interface RequestInstance {
  v: 1;
  type: 'instance';
  /**
   * echoed in the reply
   */
  id?: string | number;
}
/**
 * The results of a run (the latest when run_id is absent): one row per task, the metric and hyper-parameter names.
 */
export interface RequestResults {
  v: 1;
  type: 'results';
  /**
   * echoed in the reply
   */
  id?: string | number;
  run_id?: string | null;
}
/**
 * History points of a run's jobs (or one job), after point `since`; new ones arrive live as job.metrics events.
 */
export interface RequestHistory {
  v: 1;
  type: 'history';
  /**
   * echoed in the reply
   */
  id?: string | number;
  run_id?: string | null;
  job?: string | null;
  since?: number;
}
/**
 * Settings made from Python for the runs started next (saturn.set_early_stopping).
 */
export interface RequestRunConfig {
  v: 1;
  type: 'run_config';
  /**
   * echoed in the reply
   */
  id?: string | number;
}
export interface ReplyHello {
  v: 1;
  ok: true;
  id?: string | number;
  type: 'hello';
  wire_version: 1;
  saturn_version: string;
  pid?: number;
  store?: string;
  device_kind?: string;
  schema_version?: number;
}
export interface ReplyDevices {
  v: 1;
  ok: true;
  id?: string | number;
  type: 'devices';
  devices: Device[];
  backend?: 'local' | 'slurm';
  /**
   * what the user should know about these devices (e.g. more CPU devices declared than cores)
   */
  notices?: string[];
  /**
   * the cluster's nodes (slurm backend)
   */
  nodes?: {
    id: string;
    gpus: number;
    state: string;
    usable: boolean;
    kind?: string;
    cpus?: number;
    gpu_type?: string;
    partitions?: string[];
  }[];
}
export interface Device {
  id: number;
  kind: 'cuda' | 'cpu';
  name: string;
  memory_total_bytes: number;
  memory_used_bytes: number;
  memory_free_bytes?: number;
  uuid?: string;
}
export interface ReplyTasks {
  v: 1;
  ok: true;
  id?: string | number;
  type: 'tasks';
  tasks: Task[];
}
export interface Task {
  name: string;
  batch_size: number;
  epochs?: number | null;
  steps?: number | null;
  lr: number;
  hints?: {};
  /**
   * @minItems 2
   * @maxItems 2
   */
  gpu_range: [number | null, number | null];
  steps_per_epoch?: number | null;
  total_steps: number | null;
  signature?: string | null;
  param_count?: number | null;
  callables?: {
    [k: string]: string | null;
  };
  created_at?: number;
  updated_at?: number;
  [k: string]: unknown;
}
export interface ReplyUnregister {
  v: 1;
  ok: true;
  id?: string | number;
  type: 'unregister';
  removed: boolean;
}
export interface ReplyTechniques {
  v: 1;
  ok: true;
  id?: string | number;
  type: 'techniques';
  techniques: {
    name: string;
    description?: string;
    builtin: boolean;
    min_gpus?: number;
    max_gpus?: number | null;
  }[];
}
export interface ReplyProfile {
  v: 1;
  ok: true;
  id?: string | number;
  type: 'profile';
  run_id: string;
  started?: boolean;
  instance?: Instance;
}
/**
 * spase-instance/1 (docs/spase-format.md) plus per-option knobs, step_time_s, peak_mem_bytes and per-job infeasible[]
 */
export interface Instance {
  format: 'spase-instance/1';
  name: string;
  cluster: {};
  jobs: unknown[];
  [k: string]: unknown;
}
export interface ReplyCancelProfile {
  v: 1;
  ok: true;
  id?: string | number;
  type: 'cancel_profile';
  cancelled: boolean;
  run_id?: string | null;
}
export interface ReplyProfileStatus {
  v: 1;
  ok: true;
  id?: string | number;
  type: 'profile_status';
  run_id?: string | null;
  running: boolean;
  progress?: Progress | null;
  instance?: Instance | null;
  error?: string | null;
}
export interface Progress {
  run_id: string;
  done: number;
  total: number;
  cached?: number;
  running?: number;
  eta_s?: number | null;
  trial?: {};
  [k: string]: unknown;
}
export interface ReplyEventsSince {
  v: 1;
  ok: true;
  id?: string | number;
  type: 'events_since';
  events: Event[];
  last_id: number;
}
export interface Event {
  id: number;
  ts: number;
  kind: EventKind;
  data: {};
}
export interface ReplyPlanSave {
  v: 1;
  ok: true;
  id?: string | number;
  type: 'plan_save';
  plan_id: number;
}
export interface ReplyPlans {
  v: 1;
  ok: true;
  id?: string | number;
  type: 'plans';
  plans: {
    id: number;
    name: string;
    created_at: number;
    doc?: {};
  }[];
}
export interface ReplyJobs {
  v: 1;
  ok: true;
  id?: string | number;
  type: 'jobs';
  jobs: Job[];
}
export interface Job {
  id: string;
  task: string;
  state: JobState;
  /**
   * run_id, order, assignment, next_assignment, progress, checkpoint, retries, given_up, error, ... (free-form, written by the dispatcher and the runner)
   */
  info: {};
  created_at?: number;
  updated_at?: number;
  /**
   * the runner process (or its training elsewhere) lives
   */
  alive?: boolean;
  checkpoint_step?: number | null;
}
export interface ReplyJobsSnapshot {
  v: 1;
  ok: true;
  type: 'jobs_snapshot';
  id?: string | number;
  jobs: Job[];
  leases: {
    node: string;
    device: number;
    holder: string;
    pid?: number | null;
    acquired_at?: number;
  }[];
  nodes?: {
    id: string;
    gpus: number;
    state?: string;
    usable: boolean;
  }[];
  now: number;
  last_event_id?: number;
}
export interface ReplyJobsCreate {
  v: 1;
  ok: true;
  type: 'jobs_create';
  id?: string | number;
  jobs: Job[];
}
export interface ReplyJobTransition {
  v: 1;
  ok: true;
  type: 'job_transition';
  id?: string | number;
  job: Job;
}
export interface ReplyJobUpdate {
  v: 1;
  ok: true;
  type: 'job_update';
  id?: string | number;
  job: Job;
}
export interface ReplyJobRequestStop {
  v: 1;
  ok: true;
  type: 'job_request_stop';
  id?: string | number;
  job: Job;
}
export interface ReplyJobsReconcile {
  v: 1;
  ok: true;
  type: 'jobs_reconcile';
  id?: string | number;
  report: {};
}
export interface ReplyDispatcherHeartbeat {
  v: 1;
  ok: true;
  type: 'dispatcher_heartbeat';
  id?: string | number;
  at: number;
}
export interface ReplyAutopilotStart {
  v: 1;
  ok: true;
  type: 'autopilot_start';
  id?: string | number;
  autopilot: {};
}
export interface ReplyAutopilotStatus {
  v: 1;
  ok: true;
  type: 'autopilot_status';
  id?: string | number;
  autopilots: {}[];
}
export interface ReplyInstance {
  v: 1;
  ok: true;
  type: 'instance';
  id?: string | number;
  instance: Instance | null;
  /**
   * the store's newest event id now: a page that reads the instance need not replay the events before it
   */
  last_event_id?: number;
}
export interface ReplyResults {
  v: 1;
  ok: true;
  type: 'results';
  id?: string | number;
  run_id: string | null;
  metrics: string[];
  hparams: string[];
  rows: ResultRow[];
}
/**
 * One task of a run: where and how it ran, its last training loss, its validation metrics (last and best).
 */
export interface ResultRow {
  task: string;
  job: string;
  hparams: {};
  state: JobState;
  parallelism?: string | null;
  gpus?: number | null;
  node?: string | null;
  runtime_s?: number | null;
  loss?: number | null;
  metrics: {
    [k: string]: number;
  };
  best: {
    [k: string]: number;
  };
  modes: {
    [k: string]: 'min' | 'max';
  };
  best_weights?: boolean;
  /**
   * early stopping judged it out: {rung, at, metric}
   */
  stopped_early?: {} | null;
  /**
   * the rungs it was promoted at: [{rung, at}]
   */
  promotions?: {}[];
}
export interface ReplyHistory {
  v: 1;
  ok: true;
  type: 'history';
  id?: string | number;
  run_id: string | null;
  points: MetricPoint[];
}
/**
 * One point of a job's history: train loss every so often, every validation.
 */
export interface MetricPoint {
  point: number;
  job: string;
  run_id?: string | null;
  task: string;
  step: number;
  epoch?: number | null;
  kind: 'train' | 'val';
  metrics: {
    [k: string]: number;
  };
  at?: number;
}
export interface ReplyRunConfig {
  v: 1;
  ok: true;
  type: 'run_config';
  id?: string | number;
  early_stopping: EarlyStopping | null;
}
/**
 * SHA/ASHA over a validation metric: rungs in steps or epochs, reduction factor eta.
 */
export interface EarlyStopping {
  kind: 'asha' | 'sha';
  metric: string;
  mode: 'min' | 'max';
  /**
   * @minItems 1
   */
  rungs: [number, ...number[]];
  eta: number;
  unit: 'steps' | 'epochs';
  /**
   * The re-plan may also move a survivor already under way on its next segment (checkpoint, resume on other GPUs or another technique) when that scores better; off: a survivor is placed only at its rung.
   */
  move_survivors?: boolean;
}
export interface ReplyError {
  v: 1;
  ok: false;
  id?: string | number;
  type?: string;
  error: {
    message: string;
    hint?: string;
    code?: 'version' | 'invalid' | 'not_found' | 'busy' | 'failed';
    details?: string[];
  };
}
/**
 * Sent by the bridge over the saturn.bridge comm without a request.
 */
export interface Push {
  v: 1;
  type: 'event';
  event: Event;
}

/** The job state machine's transitions (the schema's `job_transitions`). */
export const JOB_TRANSITIONS: Record<JobState, JobState[]> = {
  'pending': [
    'waiting',
    'cancelled'
  ],
  'waiting': [
    'running',
    'pending',
    'failed',
    'cancelled'
  ],
  'running': [
    'checkpointing',
    'done',
    'failed',
    'preempted',
    'cancelled'
  ],
  'checkpointing': [
    'running',
    'done',
    'failed',
    'preempted',
    'cancelled'
  ],
  'preempted': [
    'resumed',
    'failed',
    'cancelled',
    'stopped_early'
  ],
  'resumed': [
    'running',
    'preempted',
    'failed',
    'cancelled'
  ],
  'failed': [
    'waiting',
    'cancelled'
  ],
  'done': [],
  'cancelled': [],
  'stopped_early': []
};
