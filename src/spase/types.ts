/**
 * SPASE core types: the `spase-instance/1` and `spase-plan/1` JSON formats
 * (see docs/spase-format.md), extended compatibly with constraints that
 * the Gantt chart and the executor add (pins, running jobs, unavailable GPUs,
 * precedence).
 *
 * Time origin of every plan: t = 0 is "now" (the moment the plan is made).
 * Pure TypeScript: no JupyterLab, DOM or Node imports.
 */

export const INSTANCE_FORMAT = 'spase-instance/1';
export const PLAN_FORMAT = 'spase-plan/1';

/** One feasible (parallelism, GPU count) pair of a job with its profiled total runtime. */
export interface Option {
  /** Free string; built-ins: `ddp`, `fsdp`, `pipeline`, `spilling`. */
  parallelism: string;
  /** GPUs used (positive integer). */
  gpus: number;
  /** Profiled total runtime in seconds (> 0): the training steps. */
  runtime_s: number;
  /**
   * Seconds from the job's launch to its first training step (process or kernel start, imports, model build, data
   * loader, spawning ranks); >= 0, absent = 0. The job holds its GPUs for `startup_s + runtime_s`
   * (`optionDuration`).
   */
  startup_s?: number;
  /** Extra fields (e.g. technique knobs) are preserved and ignored by the solver. */
  knobs?: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface Job {
  id: string;
  options: Option[];
  [extra: string]: unknown;
}

export interface Node {
  id: string;
  gpus: number;
  [extra: string]: unknown;
}

export interface Cluster {
  nodes: Node[];
  [extra: string]: unknown;
}

/**
 * A job pinned by the user. Every field other than `job` is optional; the
 * solver must honour the ones given:
 * - `parallelism` and/or `gpus`: the option (both together name one option);
 * - `node`: the node; `gpu_ids` (requires `node`): the exact GPU ids;
 * - `start_s`: the exact start time.
 */
export interface Pin {
  job: string;
  parallelism?: string;
  gpus?: number;
  node?: string;
  gpu_ids?: number[];
  start_s?: number;
}

/**
 * A job that is already running (it must also appear in `jobs`). Unless it is
 * preempted, the plan keeps it on `node`/`gpu_ids` with the option
 * (`parallelism`, `gpus`), from start_s = 0 (now) to end_s = `remaining_s`.
 * A job with `preemptible: true` may instead be stopped and re-planned from
 * scratch like a job that has not started (full runtime of a chosen option).
 */
export interface RunningJob {
  job: string;
  parallelism: string;
  gpus: number;
  node: string;
  gpu_ids: number[];
  /** Seconds left from now until it finishes (> 0). */
  remaining_s: number;
  /** When it started, in seconds relative to now (<= 0); informational. */
  started_s?: number;
  preemptible?: boolean;
}

/** The `running` entry of `job` on this placement (its option and GPUs) for `remainingS` more seconds. */
export function runningOn(
  job: string,
  at: { parallelism: string; gpus: number; node: string; gpu_ids: readonly number[] },
  remainingS: number,
  preemptible = false
): RunningJob {
  const { parallelism, gpus, node } = at;
  return { job, parallelism, gpus, node, gpu_ids: [...at.gpu_ids], remaining_s: remainingS, ...(preemptible ? { preemptible: true } : {}) };
}

/** GPUs of a node that cannot be used before `until_s` (relative to now). */
export interface Unavailable {
  node: string;
  gpu_ids: number[];
  until_s: number;
}

/** Job `after` may start only once job `before` has ended. */
export interface Precedence {
  before: string;
  after: string;
}

export interface Instance {
  format: typeof INSTANCE_FORMAT | string;
  name: string;
  cluster: Cluster;
  jobs: Job[];
  pins?: Pin[];
  running?: RunningJob[];
  unavailable?: Unavailable[];
  precedence?: Precedence[];
  [extra: string]: unknown;
}

export interface PlannedJob {
  id: string;
  parallelism: string;
  gpus: number;
  node: string;
  gpu_ids: number[];
  start_s: number;
  end_s: number;
  /** True when the job was pinned by the instance. */
  pinned?: boolean;
  /** True when this entry continues a running job (start 0, end = remaining_s). */
  running?: boolean;
}

export type SolverStatus = 'optimal' | 'feasible' | 'time_limit' | 'heuristic';

export interface SolverInfo {
  name: string;
  status: SolverStatus;
  time_s: number;
  /** A proven lower bound on the optimal makespan, when known. */
  bound_s?: number;
  [extra: string]: unknown;
}

export interface Plan {
  format: typeof PLAN_FORMAT | string;
  instance: string;
  makespan_s: number;
  jobs: PlannedJob[];
  solver: SolverInfo;
}

export type Strategy =
  | 'hybrid'
  | 'current-practice'
  | 'min-heuristic'
  | 'optimus-greedy'
  | 'randomized'
  | 'anneal';

export const STRATEGIES: readonly Strategy[] = [
  'hybrid',
  'current-practice',
  'min-heuristic',
  'optimus-greedy',
  'randomized',
  'anneal'
];

export interface SolveOptions {
  /** Wall-clock budget in seconds (default 10 for hybrid/anneal). */
  timeLimitS?: number;
  strategy?: Strategy;
  /** Seed for all randomised parts (default 1). */
  seed?: number;
  /** Called with each strictly better plan, the first one immediately. */
  onPlan?: (plan: Plan) => void;
  /** Polled between steps; return true to stop early and return the best plan. */
  shouldStop?: () => boolean;
  /** Disable the HiGHS improver (hybrid only). */
  noMilp?: boolean;
  /**
   * Deterministic budget (hybrid/anneal): the number of local-search
   * iterations, shared out over the phases, with the MILP bounded by
   * `milpNodes` instead of seconds. The same instance, seed and iterations
   * give the same plans on any machine. Without `timeLimitS` there is then
   * no wall-clock limit; with it, whichever ends first stops the search.
   */
  iterations?: number;
  /**
   * Node-aware annealing moves (move/swap jobs across nodes, re-pack a node);
   * default off; the portfolio's second worker runs them.
   */
  nodeMoves?: boolean;
  /**
   * The local search: 'nodal' (default) gives every job an explicit node and re-decodes only the nodes a
   * move touches, where no pin, running job, unavailable GPU or precedence couples the nodes; 'list'
   * anneals the job order and options through the whole-plan list decoder (always used where 'nodal'
   * does not apply).
   */
  search?: 'nodal' | 'list';
  /** Branch-and-bound node limit per MILP call (default 1000 with `iterations`, none otherwise). */
  milpNodes?: number;
}

/** Thrown for an instance whose pins/running/unavailable/precedence cannot all be honoured. */
export class InfeasibleError extends Error {
  /** The conflicting constraints, e.g. `pins[0] (job A)`. */
  readonly conflicts: string[];
  constructor(message: string, conflicts: string[] = []) {
    super(message);
    this.name = 'InfeasibleError';
    this.conflicts = conflicts;
  }
}

/** Thrown for input that does not follow the format; the message names the field path. */
export class ValidationError extends Error {
  readonly errors: string[];
  constructor(errors: string[]) {
    super(errors[0] ?? 'invalid input');
    this.name = 'ValidationError';
    this.errors = errors;
  }
}

/** How long a job holds its GPUs with option `o`: its start-up cost, then its training runtime. */
export function optionDuration(o: Pick<Option, 'runtime_s' | 'startup_s'>): number {
  return o.runtime_s + (o.startup_s ?? 0);
}
