/**
 * Early stopping by successive halving (SHA) and its asynchronous form (ASHA), as pure decisions over the jobs of a
 * run. Each job trains in segments that end at a rung (a step count, e.g. 100, 300, 600) where it validates and
 * pauses with a checkpoint; there it is judged:
 *
 * - the jobs that reported at rung r (a value of the metric there) are ranked (`mode` min or max; NaN is worst; ties
 *   by job id, so the order is deterministic);
 * - ASHA: a waiting job is promoted as soon as it is in the top ⌊n/η⌋ of the n jobs that have reported at r so far;
 *   SHA: only once rung r is complete;
 * - rung r is complete when no unsettled job can still report there (none is pending, running below r, or waiting at
 *   an earlier rung); then the top max(1, ⌊n/η⌋) are promoted and every other job waiting at r stops early.
 *
 * A job that failed for good before a rung never reports there and does not count; one that reported and failed
 * later still counts at the rungs it reported at. The run loop (`run-loop.ts`) applies the decisions: a promoted job
 * gets its next rung and the remaining work is re-planned at once with the GPUs the stopped jobs freed.
 *
 * `judge` reads the jobs from their records, and `verdictActions` says what the verdicts do to them (a promotion's
 * next rung, an early stop, a pause). Without a dispatcher the Python autopilot judges and acts by the same rules
 * (`python_bridge/saturn/control/rungs.py`); shared cases bind the two (`schema/conformance/rungs/*.json`: job
 * records, the configuration and the expected verdicts; `schema/conformance/verdicts/*.json`: the expected actions;
 * jest and pytest run them all).
 */
import { isActive, isSettled } from './job-state';
import { atRung, holdingAt, sharesGpus } from './rules';
import { IJobRecord } from './types';

export type RungMode = 'min' | 'max';

export interface IEarlyStopping {
  kind: 'asha' | 'sha';
  metric: string;
  mode: RungMode;
  /** Rung positions in `unit`s, increasing; the last rung below the job's total steps is the last judgement. */
  rungs: number[];
  eta: number;
  unit: 'steps' | 'epochs';
  /**
   * Every re-plan may also move a survivor already under way on its next segment (training, or its kernel starting):
   * checkpoint, resume elsewhere, when that scores better (`survivors`). Off (absent): a survivor is placed at its
   * rung only (policy (c-m) of docs/asha-bench.md; on: (c-m+)).
   */
  move_survivors?: boolean;
}

export interface IRungJob {
  id: string;
  /** Done, cancelled, stopped early, or failed for good. */
  settled: boolean;
  /** The rung step the job is paused at, waiting for a decision (null: running, pending, or decided). */
  waitingAt: number | null;
  /** Rung step → the metric's value reported there. */
  reports: Record<number, number>;
}

export interface IRungDecisions {
  promote: Array<{ job: string; rung: number }>;
  stop: Array<{ job: string; rung: number }>;
}

/** The rungs as steps of a job with `totalSteps` steps (and `stepsPerEpoch` for epoch rungs), below its total. */
export function rungSteps(cfg: Pick<IEarlyStopping, 'rungs' | 'unit'>, totalSteps: number, stepsPerEpoch?: number | null): number[] {
  const per = cfg.unit === 'epochs' ? stepsPerEpoch ?? 0 : 1;
  if (cfg.unit === 'epochs' && !per) {
    throw new Error('rungs in epochs need the steps per epoch of every task (register them with epochs=, or give rungs in steps)');
  }
  const steps = cfg.rungs.map(r => Math.round(r * per)).filter(s => s > 0 && s < totalSteps);
  return [...new Set(steps)].sort((a, b) => a - b);
}

/** The rung after `step` (null: none left, the job runs to its end). */
export function nextRung(rungs: number[], step: number): number | null {
  return rungs.find(r => r > step) ?? null;
}

/** A value at a rung as a rank score: lower is better whatever the mode; a missing or NaN value is worst. */
export function rankScore(v: number | null | undefined, mode: RungMode): number {
  return typeof v === 'number' && Number.isFinite(v) ? (mode === 'min' ? v : -v) : Infinity;
}

/**
 * ASHA's priority among promoted jobs, as a comparator: more rungs passed first, then the better value at the last
 * one (`rankScore`), then job order. The run loop's re-plan (`survivors`) and the simulation use it.
 */
export function ashaPriority(a: { level: number; score: number; order: number }, b: { level: number; score: number; order: number }): number {
  return b.level - a.level || a.score - b.score || a.order - b.order;
}

/** The metric's value a job reported at a rung (its step); null when it reported none there, or not a finite number. */
export function valueAtRung(rec: IJobRecord, step: number, metric: string): number | null {
  const v = rec.info.rung_reports?.[step]?.[metric];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function rank(jobs: IRungJob[], rung: number, mode: RungMode): string[] {
  const score = (j: IRungJob): number => rankScore(j.reports[rung], mode);
  return jobs
    .filter(j => rung in j.reports)
    .sort((a, b) => score(a) - score(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map(j => j.id);
}

/** Whether no unsettled job can still report at `rung`. */
export function rungComplete(jobs: IRungJob[], rung: number): boolean {
  return jobs.every(j => j.settled || rung in j.reports);
}

export function decideRungs(jobs: IRungJob[], cfg: Pick<IEarlyStopping, 'kind' | 'mode' | 'eta'>): IRungDecisions {
  if (!(cfg.eta > 1)) {
    throw new Error(`the reduction factor eta must be greater than 1, got ${cfg.eta}`);
  }
  const out: IRungDecisions = { promote: [], stop: [] };
  const rungs = [...new Set(jobs.map(j => j.waitingAt).filter((r): r is number => r !== null))].sort((a, b) => a - b);
  for (const rung of rungs) {
    const ranked = rank(jobs, rung, cfg.mode);
    const complete = rungComplete(jobs, rung);
    const k = complete ? Math.max(1, Math.floor(ranked.length / cfg.eta)) : Math.floor(ranked.length / cfg.eta);
    const top = new Set(cfg.kind === 'sha' && !complete ? [] : ranked.slice(0, k));
    for (const j of jobs.filter(x => x.waitingAt === rung).sort((a, b) => ranked.indexOf(a.id) - ranked.indexOf(b.id))) {
      if (top.has(j.id)) {
        out.promote.push({ job: j.id, rung });
      } else if (complete) {
        out.stop.push({ job: j.id, rung });
      }
    }
  }
  return out;
}

/**
 * The judge's view of a run's jobs, from their records: settled or not, the rung a job waits at (paused there,
 * `atRung`, or waiting on its GPUs, `holdingAt`), and the metric's value at each rung it reported at (a job that did
 * not report the metric ranks last).
 */
export function rungJobs(records: IJobRecord[], metric: string): IRungJob[] {
  return records.map(j => {
    const reports: Record<number, number> = {};
    for (const step of Object.keys(j.info.rung_reports ?? {})) {
      reports[Number(step)] = valueAtRung(j, Number(step), metric) ?? NaN;
    }
    return { id: j.id, settled: isSettled(j.state, j.info), waitingAt: atRung(j) ? j.info.stopped!.step : holdingAt(j), reports };
  });
}

/** The verdicts for a run's jobs: `decideRungs` over `rungJobs`. */
export function judge(records: IJobRecord[], cfg: Pick<IEarlyStopping, 'kind' | 'mode' | 'eta' | 'metric'>): IRungDecisions {
  return decideRungs(rungJobs(records, cfg.metric), cfg);
}

/** What a judgement does to one job. */
export type VerdictAction =
  /** Promoted at `rung`: it trains on to `rung_at`, its next rung (null: to its end). */
  | { kind: 'promote'; job: string; rung: number; rung_at: number | null }
  /** Judged out at `rung` while paused there: it stops early (checkpoint and history kept). */
  | { kind: 'stop_early'; job: string; rung: number }
  /** Waiting on its GPUs at its rung: asked to pause there (it frees them). */
  | { kind: 'pause'; job: string };

/**
 * The judgement of a run's jobs as actions, in this order: the promotions (each with its next rung from the job's
 * `rung_steps`), the early stops of jobs judged out while paused at their rung, then the pauses: a job waiting on
 * its GPUs at its rung that was not promoted and not yet asked to pause pauses when it was judged out (the next
 * judgement stops it, once paused) or when work not under way is placed on its GPUs (it frees them for that work
 * while it waits for the jobs still to report); otherwise it keeps waiting there.
 */
export function verdictActions(records: IJobRecord[], cfg: Pick<IEarlyStopping, 'kind' | 'mode' | 'eta' | 'metric'>): VerdictAction[] {
  const verdicts = judge(records, cfg);
  const byId = new Map(records.map(j => [j.id, j]));
  const promoted = new Set(verdicts.promote.map(p => p.job));
  const out: VerdictAction[] = verdicts.promote.map(p => ({ kind: 'promote' as const, job: p.job, rung: p.rung, rung_at: nextRung(byId.get(p.job)!.info.rung_steps ?? [], p.rung) }));
  const judgedOut = new Set<string>();
  for (const s of verdicts.stop) {
    if (holdingAt(byId.get(s.job)!) !== null) {
      judgedOut.add(s.job);
    } else {
      out.push({ kind: 'stop_early', job: s.job, rung: s.rung });
    }
  }
  for (const j of records) {
    if (holdingAt(j) !== null && !promoted.has(j.id) && !j.info.stop && (judgedOut.has(j.id) || gpusWanted(records, j))) {
      out.push({ kind: 'pause', job: j.id });
    }
  }
  return out;
}

/** Whether work not under way (not started, or to resume) is placed on any GPU of `job`: it waits for them. */
function gpusWanted(records: IJobRecord[], job: IJobRecord): boolean {
  return records.some(
    o =>
      o.id !== job.id &&
      !isActive(o.state) &&
      !isSettled(o.state, o.info) &&
      !atRung(o) &&
      sharesGpus(o.info.next_assignment ?? o.info.assignment, job.info.assignment)
  );
}

/**
 * Seconds an option spends on steps [from, to) of a job that trains `total` steps, when `runtimeS` is its time for
 * the whole job: the same share of the runtime as of the steps (a segment up to a rung, the rest after a checkpoint).
 * With no step count known, the whole runtime.
 */
export function segmentSeconds(runtimeS: number, from: number, to: number, total: number): number {
  return total > 0 ? (runtimeS * Math.max(0, to - from)) / total : runtimeS;
}

/** Steps a job has trained: its progress while it runs, else its last checkpoint (where it resumes). */
export function stepsDone(rec: IJobRecord): number {
  return isActive(rec.state)
    ? Math.max(rec.info.progress?.step ?? 0, rec.info.step ?? 0)
    : (rec.checkpoint_step ?? rec.info.checkpoint?.step ?? 0);
}

/**
 * The survivors a re-plan places before the new trials (src/spase/staged.ts `marginalPlan`), by task, in ASHA's
 * priority: more rungs passed first, then the better value at its last one (a missing value last), then job order.
 * Each weighs eta^(rungs passed): it stands for that many started jobs, the others were stopped. Which: every
 * unsettled job promoted at a rung that has not trained past it nor been launched again since (still on its GPUs
 * there, or paused there; a resumed runner is under way even before its first step); with `move_survivors` also one
 * under way on its next segment (resumed, training, or paused by a re-plan), which the re-plan may leave where it is
 * or move. A job waiting at a rung for its verdict is never one (its next segment depends on it).
 */
export function survivors(
  records: IJobRecord[],
  cfg: Pick<IEarlyStopping, 'mode' | 'eta' | 'metric' | 'move_survivors'>
): Array<{ job: string; weight: number }> {
  const out: Array<{ rec: IJobRecord; level: number; score: number; order: number }> = [];
  for (const rec of records) {
    const rungs = (rec.info.promotions ?? []).map(p => p?.rung).filter((r): r is number => typeof r === 'number');
    if (!rungs.length || isSettled(rec.state, rec.info) || atRung(rec)) {
      continue;
    }
    const last = Math.max(...rungs);
    if (!cfg.move_survivors && (stepsDone(rec) > last || launchedSince(rec, last))) {
      continue; // under way on its next segment (launched for it, maybe not past its first step yet)
    }
    const score = rankScore(valueAtRung(rec, last, cfg.metric), cfg.mode);
    out.push({ rec, level: new Set(rungs).size, score, order: rec.info.order ?? 0 });
  }
  return out.sort(ashaPriority).map(x => ({ job: x.rec.task, weight: cfg.eta ** x.level }));
}

/** Whether the job was launched again after its promotion at `rung` (a runner of its next segment, started). */
function launchedSince(rec: IJobRecord, rung: number): boolean {
  const at = Math.max(...(rec.info.promotions ?? []).filter(p => p?.rung === rung).map(p => p.at));
  return typeof rec.info.launched_at === 'number' && Number.isFinite(at) && rec.info.launched_at >= at;
}

/**
 * The jobs waiting to run (each `record` is one, not launched) whose kernels are worth warming, in two queues: those
 * that will run again whatever early stopping decides (not started yet, or promoted and waiting for GPUs, or moved by
 * a re-plan), in plan order; and those paused at their rung for a verdict, the better value there first (the likeliest
 * survivors). Jobs with no early stopping are all of the first kind.
 */
export function warmQueues(records: IJobRecord[]): { sure: IJobRecord[]; atRung: IJobRecord[] } {
  const score = (j: IJobRecord): number => {
    const es = j.info.early_stopping as Partial<IEarlyStopping> | undefined;
    const step = j.info.stopped?.step;
    return es?.metric && step !== undefined ? rankScore(valueAtRung(j, step, es.metric), es.mode ?? 'min') : Infinity;
  };
  const byOrder = (a: IJobRecord, b: IJobRecord): number => (a.info.order ?? 0) - (b.info.order ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return {
    sure: records.filter(j => !atRung(j)).sort(byOrder),
    atRung: records
      .filter(j => atRung(j))
      .map(j => ({ j, s: score(j) }))
      .sort((a, b) => a.s - b.s || byOrder(a.j, b.j))
      .map(x => x.j)
  };
}
