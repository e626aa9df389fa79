/**
 * The dispatch rules as one pure step: a snapshot of the run and the dispatcher's own view in, actions out.
 *
 * The page's and the CLI's `Dispatcher` apply these actions; the Python autopilot applies the same rules from
 * `python_bridge/saturn/control/rules.py` when no dispatcher is there. Shared cases bind the two
 * (`schema/conformance/dispatch/*.json`: a snapshot, a view and the expected actions; jest and pytest run them all).
 *
 * Jobs are taken in plan order (`order`, then id), each at most one decision:
 * - a running job whose runner is gone (`alive` false) for `deadGraceTicks` snapshots in a row → `fail`;
 * - a finished job (done, cancelled) whose runner this dispatcher launched and has not released → `release`;
 * - a failed job: given up → nothing; `retries >= maxRetries` → `give_up` (and, at the end, `replan`); otherwise, when
 *   it may start and the run is not paused → `retry` (failed → waiting, launched);
 * - paused: nothing else starts;
 * - pending, when it may start → `start` (pending → waiting, launched);
 * - preempted: its `next_assignment` (from a re-plan) first → `reassign`; when it may start → `resume` (→ resumed,
 *   launched); not while it waits at a rung for early stopping's judgement (`stopped.reason` `rung`: the run loop
 *   promotes it or stops it early);
 * - waiting/resumed (launched, not claimed yet) whose runner is not running, `relaunchBackoffS` after its last launch,
 *   when it may start → `relaunch`;
 * - jobs left on an unusable node → `replan`.
 *
 * A job may start when its node is usable, no lease on its GPUs is held by another job that is still running (a lease
 * of a job that is over is stale), and no other job on those GPUs is running, launched (by this dispatcher, or during
 * this step) or earlier in plan order and not settled (a job waiting at its rung does not hold later jobs back).
 */
import { isActive, isFinal, isLaunched, isSettled, JobState } from './job-state';
import { IAssignment, IJobRecord, ISnapshot, LaunchStatus } from './types';

export interface IRuleOptions {
  maxRetries: number;
  deadGraceTicks: number;
  relaunchBackoffS: number;
}

export const DEFAULT_RULE_OPTIONS: IRuleOptions = { maxRetries: 2, deadGraceTicks: 2, relaunchBackoffS: 2 };

/** What the dispatcher itself knows beyond the store. */
export interface IDispatchView {
  paused?: boolean;
  /** The runners this dispatcher launched: where each stands and when it was last launched (store clock). */
  launches?: Record<string, { status: LaunchStatus; at?: number }>;
  /** Consecutive snapshots in which each running job's runner was seen dead. */
  deadTicks?: Record<string, number>;
  /** Jobs whose runner this dispatcher has already released. */
  released?: string[];
  /**
   * Jobs to resume that a re-plan is about to place (promoted at their rung in this step): not resumed in this tick,
   * but they keep their place in plan order, so later jobs on their GPUs wait for the re-plan.
   */
  placing?: string[];
}

export type DispatchAction =
  | { kind: 'fail'; job: string; error: string }
  | { kind: 'release'; job: string }
  | { kind: 'give_up'; job: string; error: string }
  | { kind: 'retry'; job: string; retries: number }
  | { kind: 'start'; job: string }
  | { kind: 'reassign'; job: string; assignment: IAssignment }
  | { kind: 'resume'; job: string }
  | { kind: 'relaunch'; job: string }
  | { kind: 'replan'; cause: 'given_up' | 'lost_node'; jobs: string[] };

export interface IDecision {
  actions: DispatchAction[];
  deadTicks: Record<string, number>;
}

/** The node of a lease or assignment (node0 when it names none: stores and plans from before multi-node). */
export const nodeOf = (a: { node?: string } | null | undefined): string => a?.node ?? 'node0';

/**
 * An assignment's planned start and end on the run's clock (seconds from `runStart`, store clock): a re-planned
 * assignment's times count from its re-plan (`planned_origin_s`), the first plan's from the run's start.
 */
export function plannedOnRunClock(
  a: Pick<IAssignment, 'planned_start_s' | 'planned_end_s' | 'planned_origin_s'>,
  runStart: number
): { start?: number; end?: number; replanned: boolean } {
  const shift = typeof a.planned_origin_s === 'number' ? a.planned_origin_s - runStart : 0;
  return {
    start: typeof a.planned_start_s === 'number' ? a.planned_start_s + shift : undefined,
    end: typeof a.planned_end_s === 'number' ? a.planned_end_s + shift : undefined,
    replanned: shift > 1e-6
  };
}

/** Whether two assignments (or leases' placements) use a GPU in common: same node, a GPU id in both. */
export const sharesGpus = (a: Pick<IAssignment, 'node' | 'gpu_ids'> | null | undefined, b: Pick<IAssignment, 'node' | 'gpu_ids'> | null | undefined): boolean =>
  nodeOf(a) === nodeOf(b) && (a?.gpu_ids ?? []).some(g => (b?.gpu_ids ?? []).includes(g));

/** Nodes the cluster reports as unusable now (down, drained, not responding). */
export function unusableNodes(snap: Pick<ISnapshot, 'nodes'>): Set<string> {
  return new Set((snap.nodes ?? []).filter(n => !n.usable).map(n => n.id));
}


/**
 * Paused at its rung, waiting for early stopping's judgement: it holds no GPU and holds back no later job. A job
 * promoted at that rung is not (it may have paused there just as the promotion came, while it waited on its GPUs).
 */
export const atRung = (j: IJobRecord): boolean =>
  j.state === JobState.Preempted && j.info.stopped?.reason === 'rung' && !promotedAt(j, j.info.stopped.step);

const promotedAt = (j: IJobRecord, step: number): boolean => (j.info.promotions ?? []).some(p => p?.rung === step);

/** The rung a running job waits at on its GPUs for early stopping's verdict (`info.holding`), else null. */
export const holdingAt = (j: IJobRecord): number | null => {
  const step = isActive(j.state) ? j.info.holding?.step : undefined;
  return typeof step === 'number' && !promotedAt(j, step) ? step : null;
};
const orderOf = (j: IJobRecord): number => j.info.order ?? 0;
const idsOf = (j: IJobRecord): number[] => j.info.assignment?.gpu_ids ?? [];

export function decide(snap: ISnapshot, view: IDispatchView = {}, options: Partial<IRuleOptions> = {}): IDecision {
  const opts = { ...DEFAULT_RULE_OPTIONS, ...options };
  const launches = view.launches ?? {};
  const released = new Set(view.released ?? []);
  const deadIn = view.deadTicks ?? {};
  const placing = new Set(view.placing ?? []);
  const lost = unusableNodes(snap);
  // copies: a decision changes what later jobs of the same step see (a reassignment, a give-up, a launch)
  const jobs = snap.jobs
    .map(j => ({ ...j, info: { ...j.info } }))
    .sort((a, b) => orderOf(a) - orderOf(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const over = new Set(jobs.filter(j => !isActive(j.state)).map(j => j.id));
  const claimed = new Set<string>();
  const actions: DispatchAction[] = [];
  const deadTicks: Record<string, number> = {};
  const givenUp: string[] = [];
  const status = (id: string): LaunchStatus => launches[id]?.status ?? 'unknown';

  const canStart = (job: IJobRecord): boolean => {
    const ids = idsOf(job);
    const node = nodeOf(job.info.assignment);
    if (lost.has(node)) {
      return false;
    }
    if ((snap.leases ?? []).some(l => l.holder !== job.id && !over.has(l.holder) && nodeOf(l) === node && ids.includes(l.device))) {
      return false;
    }
    for (const other of jobs) {
      // a job a re-plan moves (its next assignment) holds back later jobs on the GPUs it moves to as well
      const here = sharesGpus(other.info.assignment, job.info.assignment);
      if (other.id === job.id || !(here || sharesGpus(other.info.next_assignment, job.info.assignment))) {
        continue;
      }
      const launched = isActive(other.state) || (isLaunched(other.state) && (claimed.has(other.id) || status(other.id) === 'running'));
      if (here && (launched || claimed.has(other.id))) {
        return false;
      }
      if (orderOf(other) < orderOf(job) && !isSettled(other.state, other.info) && !atRung(other)) {
        return false;
      }
    }
    return true;
  };

  for (const job of jobs) {
    const { id, state, info } = job;
    if (isActive(state)) {
      if (job.alive === false) {
        const n = (deadIn[id] ?? 0) + 1;
        if (n >= opts.deadGraceTicks) {
          actions.push({ kind: 'fail', job: id, error: `its runner died (kernel died or process killed): process ${info.pid || '?'} is gone` });
        } else {
          deadTicks[id] = n;
        }
      }
      continue;
    }
    if (isFinal(state)) {
      if (!released.has(id) && status(id) !== 'unknown') {
        actions.push({ kind: 'release', job: id });
      }
      continue;
    }
    if (state === JobState.Failed) {
      if (info.given_up) {
        continue;
      }
      const retries = info.retries ?? 0;
      if (retries >= opts.maxRetries) {
        info.given_up = true;
        givenUp.push(id);
        actions.push({ kind: 'give_up', job: id, error: info.error ?? '' });
      } else if (!view.paused && canStart(job)) {
        claimed.add(id);
        actions.push({ kind: 'retry', job: id, retries: retries + 1 });
      }
      continue;
    }
    if (view.paused) {
      continue;
    }
    if (state === JobState.Pending) {
      if (canStart(job)) {
        claimed.add(id);
        actions.push({ kind: 'start', job: id });
      }
    } else if (state === JobState.Preempted) {
      if (info.next_assignment) {
        info.assignment = info.next_assignment;
        actions.push({ kind: 'reassign', job: id, assignment: info.next_assignment });
      }
      if (!atRung(job) && !placing.has(id) && canStart(job)) {
        claimed.add(id);
        actions.push({ kind: 'resume', job: id });
      }
    } else if (isLaunched(state)) {
      const since = Math.max(launches[id]?.at ?? -Infinity, info.launched_at ?? -Infinity);
      if (status(id) !== 'running' && snap.now - since >= opts.relaunchBackoffS && canStart(job)) {
        claimed.add(id);
        actions.push({ kind: 'relaunch', job: id });
      }
    }
  }
  if (givenUp.length) {
    actions.push({ kind: 'replan', cause: 'given_up', jobs: givenUp });
  }
  const stranded = jobs.filter(j => !isSettled(j.state, j.info) && lost.has(nodeOf(j.info.next_assignment ?? j.info.assignment))).map(j => j.id);
  if (stranded.length) {
    actions.push({ kind: 'replan', cause: 'lost_node', jobs: stranded });
  }
  return { actions, deadTicks };
}
