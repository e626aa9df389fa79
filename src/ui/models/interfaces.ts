/**
 * The seams the UI is written against: the bridge, the solver and the run controller (executor). Small interfaces
 * so that the components and models can be tested with fakes and wired to the real implementations in src/index.ts
 * (through ../adapters/).
 */
import { ISignal } from '@lumino/signaling';
import type { BridgeState } from '../../bridge/client';
import type { BridgeEvent, BridgeReply, IHelloReply } from '../../bridge/wire';
import type { Instance, Plan, Strategy } from '../../spase/types';
import type { IJobRungs } from './early-stopping';
import type { JobState } from './plan-model';

/** What the UI needs of `BridgeClient`. */
export interface IBridge {
  readonly state: BridgeState;
  readonly stateChanged: ISignal<any, BridgeState>;
  readonly events: ISignal<any, BridgeEvent>;
  readonly lastError: { message: string; hint: string } | null;
  readonly hello: IHelloReply | null;
  connect(): Promise<void>;
  request<T extends BridgeReply = BridgeReply>(request: { type: string; [k: string]: unknown }, timeoutMs?: number): Promise<T>;
}

export interface ISolveOptions {
  timeLimitS: number;
  strategy?: Strategy;
}

/** Solves an instance, streaming better plans through onPlan; resolves with the best one. */
export interface ISolver {
  solve(instance: Instance, options: ISolveOptions, onPlan: (plan: Plan) => void): Promise<Plan>;
  /** Stop the running solve early (it resolves with the best plan so far). */
  cancel(): void;
}

export type RunPhase = 'idle' | 'starting' | 'running' | 'done' | 'failed' | 'cancelled';

export interface IJobStatus {
  job: string;
  state: JobState;
  /** 0..1 when known. */
  progress?: number;
  /** Seconds since the plan's time origin (the run start) when the job really started / ended. */
  actual_start_s?: number;
  actual_end_s?: number;
  /** When the job was launched (its start-up, until `actual_start_s`, is kernel start, imports, model build). */
  actual_launch_s?: number;
  node?: string;
  gpu_ids?: number[];
  error?: string;
  /** The step it reached (progress, else its record's step); given under early stopping. */
  step?: number;
  /** Under early stopping: its rungs, promotions, where it waits or stopped (./early-stopping.ts `jobRungs`). */
  rungs?: IJobRungs;
}

export interface IRunSnapshot {
  phase: RunPhase;
  /** Wall-clock time (ms since epoch) of the plan's t = 0. */
  started_at_ms: number;
  /** The plan being executed (it changes when the run re-plans). */
  plan: Plan | null;
  jobs: IJobStatus[];
  message?: string;
  /**
   * Some blocks of `plan` were planned during the run (a re-plan, or a job's next segment after a rung): their times
   * count from different moments, so the plan is not one solve's and yardsticks of its instance do not apply.
   */
  replanned?: boolean;
}

/** Runs a plan (the executor of src/executor behind it, see ./run-controller.ts). */
export interface IRunController {
  readonly changed: ISignal<IRunController, IRunSnapshot>;
  readonly snapshot: IRunSnapshot | null;
  start(plan: Plan, instance: Instance, settings: ISaturnSettings): Promise<void>;
  cancel(job?: string): Promise<void>;
  /** Re-attach to a run already in progress (after a page reload). */
  restore(): Promise<IRunSnapshot | null>;
  /** Whether `start` can work (false: runs can be watched but not started from here). */
  readonly canStart?: boolean;
  /** Read the run's state again (called on job events). */
  refresh?(): Promise<void>;
  /** Whether `applyPlan` can reach the executor (false or absent: edits during a run only change the chart). */
  readonly canApplyPlan?: boolean;
  /**
   * Hand a plan the user edited during the active run to the executor's re-planning. `plan`'s times count from the
   * run's start (as in `snapshot.plan`); jobs whose assignment is unchanged keep running untouched.
   */
  applyPlan?(plan: Plan, instance: Instance): Promise<void>;
}

/** User settings (schema/settings/plugin.json). */
export interface ISaturnSettings {
  solverTimeLimitS: number;
  solverStrategy: Strategy;
  introspectionIntervalS: number;
  introspectionThresholdS: number;
  retries: number;
  declaredGpus: number;
  confirmBeforeRun: boolean;
  profileWarmupSteps: number;
  profileMeasureSteps: number;
  profileMeasureSeconds: number;
  profileUseCache: boolean;
  eventPollIntervalS: number;
  /** Where jobs run: this machine (local), SLURM nodes (slurm), or what the server's SATURN_BACKEND says. */
  backend: 'default' | 'local' | 'slurm';
  slurmPartition: string;
  slurmAccount: string;
  /** sbatch --time for each job, e.g. "04:00:00" (empty: the partition's default). */
  slurmTimeLimit: string;
  /** Early stopping of the runs started here: as set from Python (saturn.set_early_stopping), off, ASHA or SHA. */
  earlyStopping: 'python' | 'off' | 'asha' | 'sha';
  /** The validation metric jobs are ranked by at a rung (ASHA/SHA set here). */
  earlyStoppingMetric: string;
  earlyStoppingMode: 'min' | 'max';
  /** Rung positions: text "100,300,600" or a list of numbers, in `earlyStoppingUnit`s. */
  earlyStoppingRungs: string | number[];
  /** The reduction factor (> 1): the top 1/eta of a rung go on. */
  earlyStoppingEta: number;
  earlyStoppingUnit: 'steps' | 'epochs';
  /** The re-plan may also move a survivor under way on its next segment (`IEarlyStopping.move_survivors`). */
  earlyStoppingMoveSurvivors: boolean;
}

export const DEFAULT_SETTINGS: ISaturnSettings = {
  solverTimeLimitS: 5,
  solverStrategy: 'hybrid',
  introspectionIntervalS: 1000,
  introspectionThresholdS: 500,
  retries: 2,
  declaredGpus: 0,
  confirmBeforeRun: true,
  profileWarmupSteps: 2,
  profileMeasureSteps: 3,
  profileMeasureSeconds: 1,
  profileUseCache: true,
  eventPollIntervalS: 2,
  backend: 'default',
  slurmPartition: '',
  slurmAccount: '',
  slurmTimeLimit: '',
  earlyStopping: 'python',
  earlyStoppingMetric: 'val_loss',
  earlyStoppingMode: 'min',
  earlyStoppingRungs: '',
  earlyStoppingEta: 2,
  earlyStoppingUnit: 'steps',
  earlyStoppingMoveSurvivors: false
};

/** The backend part of a bridge request or job settings (null: the server's default). */
export function backendRequest(s: ISaturnSettings): { backend: 'local' | 'slurm' | null; slurm: { partition: string | null; account: string | null; time: string | null } } {
  return {
    backend: s.backend === 'default' ? null : s.backend,
    slurm: { partition: s.slurmPartition || null, account: s.slurmAccount || null, time: s.slurmTimeLimit || null }
  };
}

/** A cluster node as the bridge reports it (SLURM backend). */
export interface INodeInfo {
  id: string;
  gpus: number;
  state: string;
  usable: boolean;
  kind?: string;
  gpu_type?: string;
}

export interface IDevice {
  id: number;
  name: string;
  kind: string;
  memory_total_bytes?: number | null;
  memory_used_bytes?: number | null;
}

/** A registered task as the bridge lists it. */
export interface ITaskInfo {
  name: string;
  batch_size: number;
  epochs?: number | null;
  steps?: number | null;
  total_steps?: number | null;
  param_count?: number | null;
  gpu_range?: (number | null)[];
  updated_at?: number;
  [k: string]: unknown;
}

export interface ITrialInfo {
  task: string;
  parallelism: string;
  gpus: number;
  feasible: boolean;
  step_time_s?: number | null;
  reason?: string | null;
}

export interface IProfileState {
  run_id: string | null;
  running: boolean;
  done: number;
  total: number;
  cached: number;
  eta_s: number | null;
  tasks: string[];
  /** Trials finished per task. */
  trials: Record<string, ITrialInfo[]>;
  error: string | null;
  cancelled: boolean;
}

/** An infeasible option as the profiler reports it. */
export interface IInfeasible {
  parallelism: string;
  gpus: number;
  reason: string;
}
