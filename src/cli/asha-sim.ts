/**
 * Simulation of early stopping (ASHA) on a GPU cluster, for the early-stopping benchmark (`asha-bench.ts`,
 * docs/asha-bench.md). Pure and deterministic: no clock, no file system.
 *
 * A job trains `epochs` epochs of `stepsPerEpoch` steps; its SPASE options give the runtime of the whole job, so a
 * segment from step s to step r on option o trains for runtime_s(o)·(r − s)/total. Every (re)start pays the option's
 * `startup_s`, and a start from a checkpoint (s > 0) also pays `restoreS`; a job that is promoted at a rung the
 * moment it reaches it continues on its GPUs and pays nothing. Each job has a fixed learning curve (one value of the
 * metric per epoch, lower is better) that it reports at every rung; the rung decisions are the product's
 * (`decideRungs` of src/executor/rungs.ts).
 *
 * Strategies:
 * - `saturnNoStop` (a): one SPASE plan of every job to its end.
 * - `fixedFifo` (b): Ray-Tune-like ASHA: every trial on a fixed GPU count (fastest technique of that count), trials
 *   started in FIFO order as GPUs free up (promoted trials first, then new ones, each in job order; first fit).
 *   A trial that reaches a rung and is not promoted at once checkpoints and frees its GPUs; if it is promoted later
 *   it queues again (and pays start-up + restore). With `rungRule` 'ray' the rungs are judged as Ray Tune judges
 *   them instead (`RayCutoff`: once, on arrival, stop or go on; nobody waits).
 * - `saturnAsha` (c): the same rung decisions; at time 0 and at every segment end, the remaining segments (each
 *   unsettled job's work up to its next rung, from its step) are re-solved by SPASE with the running jobs fixed
 *   (`running` constraints); a job promoted the moment it reaches its rung enters as a *preemptible* running job
 *   (continue on its GPUs at no cost, or move to another option and pay start-up + restore).
 *   With `restartEveryRung` every segment is a fresh start (start-up + restore), even for a job promoted at once.
 *   `policy` says what each re-plan solves (see `PlanPolicy`): 'makespan' (one solve of every segment), 'survivors'
 *   (the promoted jobs' segments first, then the new trials around them as pins), 'by-rung' (one solve per rung
 *   level, highest first, then the new trials), ..., 'marginal' (the run loop's re-plan under early stopping).
 */
import { ashaPriority, decideRungs, IEarlyStopping, IRungDecisions, IRungJob, nextRung, rankScore, rungSteps, segmentSeconds } from '../executor/rungs';
import { Rng } from '../spase/rng';
import { earliestFinish, inJobOrder, marginalCharge as chargeOf, marginalPlan } from '../spase/staged';
import { solve } from '../spase/solve';
import { Instance, Option, optionDuration, Pin, Plan, PlannedJob, RunningJob, runningOn } from '../spase/types';
import { validatePlan } from '../spase/validate';

export interface IWorkload {
  name: string;
  /** Options carry the runtime of the whole job (all epochs) and their `startup_s`. */
  instance: Instance;
  epochs: number;
  stepsPerEpoch: number;
  /** Job id → metric value after epoch 1..epochs (index e − 1); lower is better. */
  curves: Record<string, number[]>;
  /** Seconds to restore a checkpoint when a job starts again from a step > 0 (on top of `startup_s`). */
  restoreS: number;
  es: Pick<IEarlyStopping, 'kind' | 'mode' | 'eta' | 'rungs' | 'unit'>;
}

export interface ISegment {
  job: string;
  fromStep: number;
  toStep: number;
  start: number;
  end: number;
  node: string;
  gpu_ids: number[];
  parallelism: string;
  gpus: number;
  /** Seconds of the segment spent before training: start-up + restore (0 when it continued on its GPUs). */
  overheadS: number;
  /** 'start': first start; 'resume': from a checkpoint; 'continue': on the same GPUs without a pause. */
  kind: 'start' | 'resume' | 'continue';
}

export interface IJobOutcome {
  id: string;
  state: 'done' | 'stopped';
  /** Steps trained. */
  step: number;
  /** When the job finished (done) or was stopped. */
  settledAt: number;
  reports: Record<number, number>;
  finalValue?: number;
}

export interface IRungEvent {
  t: number;
  job: string;
  rung: number;
  action: 'promote' | 'stop';
}

export interface IStrategyResult {
  name: string;
  segments: ISegment[];
  outcomes: IJobOutcome[];
  events: IRungEvent[];
  /** The best job among those that finished (by final value), when it finished; null if none finished. */
  bestJob: string | null;
  timeToBestS: number;
  makespanS: number;
  gpuHours: number;
  /** The job with the best value after all epochs, and whether this strategy trained it to its end. */
  trueBest: string;
  trueBestFinished: boolean;
  /** SPASE solves made (each plan checked with validatePlan; the exact one-job plans of 'earliest-finish' not counted). */
  plans: number;
}

export interface ISolverBudget {
  iterations: number;
  milpNodes: number;
  seed: number;
  /** Leave out the HiGHS improver (annealing only). */
  noMilp?: boolean;
}

function solveOpts(b: ISolverBudget): { iterations: number; milpNodes: number; seed: number; noMilp?: boolean } {
  return { iterations: b.iterations, milpNodes: b.milpNodes, seed: b.seed, noMilp: b.noMilp };
}

const EPS = 1e-6;

// ---------------------------------------------------------------------------------------------------------------
// Learning curves

function gauss(rng: Rng): number {
  const u = Math.max(1e-12, rng.next());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/**
 * Deterministic synthetic learning curves: val(e) = a + b·e^(−c) + σ·N(0, 1) per epoch, with a ~ U(1, 2),
 * b ~ U(0.5, 1.5), c ~ U(0.5, 1.5) per job and σ = `noise`: a job that starts well (small b) need not end well
 * (large a), so early ranks correlate imperfectly with final ones.
 */
export function makeCurves(ids: string[], epochs: number, seed: number, noise = 0.02): Record<string, number[]> {
  const rng = new Rng(seed);
  const out: Record<string, number[]> = {};
  for (const id of ids) {
    const a = 1 + rng.next();
    const b = 0.5 + rng.next();
    const c = 0.5 + rng.next();
    out[id] = Array.from({ length: epochs }, (_, k) => a + b * Math.pow(k + 1, -c) + noise * gauss(rng));
  }
  return out;
}

/** The job with the best value after the last epoch (ties by id). */
export function trueBest(w: IWorkload): string {
  const ids = w.instance.jobs.map(j => j.id);
  return ids.reduce((best, id) => (better(w, finalValue(w, id), finalValue(w, best)) ? id : best), ids[0]);
}

function finalValue(w: IWorkload, id: string): number {
  const c = w.curves[id];
  return c[c.length - 1];
}

function better(w: IWorkload, x: number, y: number): boolean {
  return w.es.mode === 'min' ? x < y : x > y;
}

/** Spearman rank correlation between the values at epoch `e` and the final values (for the report). */
export function rankCorrelation(w: IWorkload, e: number): number {
  const ids = w.instance.jobs.map(j => j.id);
  const ranks = (v: (id: string) => number) => {
    const order = ids.slice().sort((p, q) => v(p) - v(q));
    return new Map(order.map((id, i) => [id, i]));
  };
  const r1 = ranks(id => w.curves[id][e - 1]);
  const r2 = ranks(id => finalValue(w, id));
  const n = ids.length;
  const d2 = ids.reduce((s, id) => s + (r1.get(id)! - r2.get(id)!) ** 2, 0);
  return 1 - (6 * d2) / (n * (n * n - 1));
}

// ---------------------------------------------------------------------------------------------------------------
// Shared pieces

function totalSteps(w: IWorkload): number {
  return w.epochs * w.stepsPerEpoch;
}

function rungsOf(w: IWorkload): number[] {
  return rungSteps(w.es, totalSteps(w), w.stepsPerEpoch);
}

/** The option of `job` that a placement or a segment names (technique and GPU count); undefined when it has none. */
function optionOf(w: IWorkload, job: string, p: { parallelism: string; gpus: number }): Option | undefined {
  return w.instance.jobs.find(j => j.id === job)?.options.find(x => x.parallelism === p.parallelism && x.gpus === p.gpus);
}

/** Training seconds of `from → to` steps on option `o`. */
function trainS(w: IWorkload, o: Option, from: number, to: number): number {
  return segmentSeconds(o.runtime_s, from, to, totalSteps(w));
}

function valueAt(w: IWorkload, id: string, step: number): number {
  return w.curves[id][Math.round(step / w.stepsPerEpoch) - 1];
}

function summarise(w: IWorkload, name: string, segments: ISegment[], outcomes: IJobOutcome[], events: IRungEvent[], plans: number): IStrategyResult {
  const done = outcomes.filter(o => o.state === 'done');
  let best: IJobOutcome | null = null;
  for (const o of done) {
    if (!best || better(w, o.finalValue!, best.finalValue!) || (o.finalValue === best.finalValue && o.id < best.id)) {
      best = o;
    }
  }
  const tb = trueBest(w);
  return {
    name,
    segments,
    outcomes,
    events,
    bestJob: best?.id ?? null,
    timeToBestS: best ? best.settledAt : Infinity,
    makespanS: Math.max(0, ...segments.map(s => s.end), ...outcomes.map(o => o.settledAt)),
    gpuHours: segments.reduce((s, x) => s + (x.gpus * (x.end - x.start)) / 3600, 0),
    trueBest: tb,
    trueBestFinished: done.some(o => o.id === tb),
    plans
  };
}

function checkPlan(inst: Instance, plan: Plan): void {
  const errs = validatePlan(inst, plan);
  if (errs.length) {
    throw new Error(`invalid plan for ${inst.name}: ${errs.slice(0, 3).join('; ')}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// (a) Saturn without early stopping

export async function saturnNoStop(w: IWorkload, budget: ISolverBudget): Promise<IStrategyResult> {
  const plan = await solve(w.instance, solveOpts(budget));
  checkPlan(w.instance, plan);
  const total = totalSteps(w);
  const segments: ISegment[] = plan.jobs.map(p => {
    const o = optionOf(w, p.id, p)!;
    return {
      job: p.id,
      fromStep: 0,
      toStep: total,
      start: p.start_s,
      end: p.end_s,
      node: p.node,
      gpu_ids: [...p.gpu_ids],
      parallelism: p.parallelism,
      gpus: p.gpus,
      overheadS: o.startup_s ?? 0,
      kind: 'start'
    };
  });
  const outcomes: IJobOutcome[] = segments.map(s => {
    const reports: Record<number, number> = {};
    for (const r of rungsOf(w)) {
      reports[r] = valueAt(w, s.job, r);
    }
    return { id: s.job, state: 'done', step: total, settledAt: s.end, reports, finalValue: finalValue(w, s.job) };
  });
  return summarise(w, 'saturn-no-stop', segments, outcomes, [], 1);
}

// ---------------------------------------------------------------------------------------------------------------
// The event engine shared by (b) and (c)

type Status = 'pending' | 'running' | 'atRung' | 'waiting' | 'ready' | 'stopped' | 'done';

export interface IJobState {
  id: string;
  index: number;
  step: number;
  status: Status;
  reports: Record<number, number>;
  /** The segment it runs, or the last one it ran (for in-place continuation at a rung). */
  seg: ISegment | null;
  /** Promoted at this event while it still holds its GPUs (its segment ended now). */
  inPlace: boolean;
  settledAt: number;
  waitingAt: number | null;
}

export interface IDispatchContext {
  w: IWorkload;
  t: number;
  jobs: IJobState[];
  /** Running segments (mid-segment at `t`). */
  running: ISegment[];
}

/** Returns the segments to start, each with its absolute start time (>= t). */
type Dispatch = (ctx: IDispatchContext) => Promise<ISegment[]>;

/** The rung rule of a strategy: the decisions at an event, from every job's view (`decideRungs`, or `RayCutoff`). */
type RungRule = (view: IRungJob[], w: IWorkload) => IRungDecisions;

const productRule: RungRule = (view, w) => decideRungs(view, w.es);

async function runEngine(w: IWorkload, name: string, dispatch: Dispatch, plansMade: () => number, rule: RungRule = productRule): Promise<IStrategyResult> {
  const total = totalSteps(w);
  const jobs: IJobState[] = w.instance.jobs.map((j, index) => ({
    id: j.id,
    index,
    step: 0,
    status: 'pending',
    reports: {},
    seg: null,
    inPlace: false,
    settledAt: 0,
    waitingAt: null
  }));
  const byId = new Map(jobs.map(j => [j.id, j]));
  const segments: ISegment[] = [];
  const events: IRungEvent[] = [];
  let running: ISegment[] = [];
  let planned: ISegment[] = [];
  let t = 0;
  const start = (segs: ISegment[]) => {
    for (const s of segs) {
      const j = byId.get(s.job)!;
      j.status = 'running';
      j.seg = s;
      j.inPlace = false;
      segments.push(s);
      running.push(s);
    }
  };
  // a segment planned for a job under way moves it: its current segment ends now, where the new one starts from
  const cutMoved = (segs: ISegment[]) => {
    for (const s of segs) {
      const j = byId.get(s.job)!;
      if (j.status !== 'running') {
        continue;
      }
      const cur = j.seg!;
      cur.overheadS = Math.min(cur.overheadS, t - cur.start);
      cur.toStep = s.fromStep;
      cur.end = t;
      running = running.filter(x => x !== cur);
      j.step = s.fromStep;
      j.status = 'ready';
    }
    return segs;
  };
  planned = cutMoved(await dispatch({ w, t, jobs, running }));
  for (let guard = 0; guard < 100000; guard++) {
    if (!running.length && !planned.length) {
      break;
    }
    const next = Math.min(...running.map(s => s.end), ...planned.map(s => s.end));
    // planned segments that begin before the next event are under way; the rest are planned again then
    start(planned.filter(s => s.start < next - EPS));
    planned = [];
    t = next;
    const ending = running.filter(s => s.end <= t + EPS);
    running = running.filter(s => s.end > t + EPS);
    for (const s of ending) {
      const j = byId.get(s.job)!;
      j.step = s.toStep;
      if (j.step >= total) {
        j.status = 'done';
        j.settledAt = t;
      } else {
        j.status = 'atRung';
        j.waitingAt = j.step;
        j.reports[j.step] = valueAt(w, j.id, j.step);
      }
    }
    // decide until nothing changes (a stop at a lower rung can complete a higher one)
    for (;;) {
      const view: IRungJob[] = jobs.map(j => ({
        id: j.id,
        settled: j.status === 'done' || j.status === 'stopped',
        waitingAt: j.status === 'atRung' || j.status === 'waiting' ? j.waitingAt : null,
        reports: j.reports
      }));
      const d = rule(view, w);
      if (!d.promote.length && !d.stop.length) {
        break;
      }
      for (const p of d.promote) {
        const j = byId.get(p.job)!;
        events.push({ t, job: j.id, rung: p.rung, action: 'promote' });
        j.inPlace = j.status === 'atRung';
        j.status = 'ready';
        j.waitingAt = null;
      }
      for (const p of d.stop) {
        const j = byId.get(p.job)!;
        events.push({ t, job: j.id, rung: p.rung, action: 'stop' });
        j.status = 'stopped';
        j.settledAt = t;
        j.waitingAt = null;
      }
    }
    for (const j of jobs) {
      if (j.status === 'atRung') {
        j.status = 'waiting'; // checkpointed, GPUs freed, judged again at the next event
      }
    }
    planned = cutMoved(await dispatch({ w, t, jobs, running }));
    for (const j of jobs) {
      j.inPlace = false;
    }
  }
  if (jobs.some(j => j.status !== 'done' && j.status !== 'stopped')) {
    throw new Error(`${name}: simulation ended with unsettled jobs: ${jobs.filter(j => j.status !== 'done' && j.status !== 'stopped').map(j => `${j.id} (${j.status})`).join(', ')}`);
  }
  const outcomes: IJobOutcome[] = jobs.map(j => ({
    id: j.id,
    state: j.status === 'done' ? 'done' : 'stopped',
    step: j.step,
    settledAt: j.settledAt,
    reports: j.reports,
    finalValue: j.status === 'done' ? finalValue(w, j.id) : undefined
  }));
  return summarise(w, name, segments, outcomes, events, plansMade());
}

/** The step a job's next segment ends at: its next rung, or its end. */
function segmentEnd(w: IWorkload, step: number): number {
  return nextRung(rungsOf(w), step) ?? totalSteps(w);
}

/** The last rung at or before `step` (0: none passed). */
function lastRung(w: IWorkload, step: number): number {
  return Math.max(0, ...rungsOf(w).filter(r => r <= step + EPS));
}

/**
 * The step a running segment has reached at `t` (fractional): a job moved mid-segment checkpoints at that moment, so
 * nothing it trained is lost (the product's runner finishes the step it is in first).
 */
export function stepAt(w: IWorkload, s: ISegment, t: number): number {
  const o = optionOf(w, s.job, s)!;
  const trained = Math.max(0, t - s.start - s.overheadS);
  return Math.min(s.toStep, s.fromStep + (trained * totalSteps(w)) / o.runtime_s);
}

// ---------------------------------------------------------------------------------------------------------------
// (b) Ray-Tune-like ASHA: fixed GPU count, FIFO

/** The option a fixed-count user gets: the fastest with exactly `g` GPUs, else the fastest of the next larger count. */
export function fixedOption(opts: Option[], g: number, maxGpus: number): Option {
  const counts = [...new Set(opts.map(o => o.gpus))].sort((a, b) => a - b);
  const c = counts.find(x => x >= g && x <= maxGpus) ?? counts.filter(x => x <= maxGpus).pop();
  if (c === undefined) {
    throw new Error('no option fits on a node');
  }
  return opts.filter(o => o.gpus === c).reduce((b, o) => (optionDuration(o) < optionDuration(b) ? o : b));
}

/**
 * Ray Tune's ASHA rule (its `AsyncHyperBandScheduler`), for (b) as Ray Tune runs it: a trial is judged once, the
 * moment it reports at a rung, against the values recorded at that rung before it (those of trials since stopped
 * included): it stops if its value is worse than their (1 − 1/η) quantile (linear interpolation; in the better-is-
 * higher sense), else it goes on at once. The first trial to reach a rung always goes on, nobody waits, and a
 * stopped trial is never promoted later. Simultaneous reports are judged in job order.
 */
export class RayCutoff {
  private recorded = new Map<number, number[]>();

  decide: RungRule = (view, w) => {
    const out: IRungDecisions = { promote: [], stop: [] };
    const sign = w.es.mode === 'min' ? -1 : 1;
    for (const j of view) {
      // every job at a rung gets its decision at once, so no job is seen at the same rung twice
      const rung = j.waitingAt;
      if (rung === null) {
        continue;
      }
      const seen = this.recorded.get(rung) ?? [];
      const reward = sign * j.reports[rung];
      const cut = seen.length ? quantile(seen, 1 - 1 / w.es.eta) : null;
      (cut !== null && reward < cut ? out.stop : out.promote).push({ job: j.id, rung });
      this.recorded.set(rung, [...seen, reward]);
    }
    return out;
  };
}

/** The q-quantile (0..1) of `xs` with linear interpolation between order statistics (numpy's default). */
export function quantile(xs: number[], q: number): number {
  const v = [...xs].sort((a, b) => a - b);
  const pos = q * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(v.length - 1, lo + 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

export async function fixedFifo(w: IWorkload, g: number, rungRule: 'product' | 'ray' = 'product'): Promise<IStrategyResult> {
  const nodes = w.instance.cluster.nodes;
  const maxGpus = Math.max(...nodes.map(n => n.gpus));
  const choice = new Map(w.instance.jobs.map(j => [j.id, fixedOption(j.options, g, maxGpus)]));
  const dispatch: Dispatch = async ({ w, t, jobs, running }) => {
    const out: ISegment[] = [];
    const busy = new Map(nodes.map(n => [n.id, new Set<number>()]));
    for (const s of running) {
      s.gpu_ids.forEach(id => busy.get(s.node)!.add(id));
    }
    // promoted at a rung this moment: continue on the same GPUs (Ray Tune keeps the trial running)
    for (const j of jobs.filter(x => x.status === 'ready' && x.inPlace)) {
      const prev = j.seg!;
      const o = choice.get(j.id)!;
      const to = segmentEnd(w, j.step);
      out.push({ ...prev, gpu_ids: [...prev.gpu_ids], fromStep: j.step, toStep: to, start: t, end: t + trainS(w, o, j.step, to), overheadS: 0, kind: 'continue' });
      prev.gpu_ids.forEach(id => busy.get(prev.node)!.add(id));
    }
    const queue = [
      ...jobs.filter(x => x.status === 'ready' && !x.inPlace),
      ...jobs.filter(x => x.status === 'pending')
    ];
    for (const j of queue) {
      const o = choice.get(j.id)!;
      const node = nodes.find(n => n.gpus - busy.get(n.id)!.size >= o.gpus);
      if (!node) {
        continue;
      }
      const ids: number[] = [];
      for (let k = 0; k < node.gpus && ids.length < o.gpus; k++) {
        if (!busy.get(node.id)!.has(k)) {
          ids.push(k);
        }
      }
      ids.forEach(id => busy.get(node.id)!.add(id));
      const to = segmentEnd(w, j.step);
      const overheadS = (o.startup_s ?? 0) + (j.step > 0 ? w.restoreS : 0);
      out.push({
        job: j.id,
        fromStep: j.step,
        toStep: to,
        start: t,
        end: t + overheadS + trainS(w, o, j.step, to),
        node: node.id,
        gpu_ids: ids,
        parallelism: o.parallelism,
        gpus: o.gpus,
        overheadS,
        kind: j.step > 0 ? 'resume' : 'start'
      });
    }
    return out;
  };
  const rule = rungRule === 'ray' ? new RayCutoff().decide : productRule;
  return runEngine(w, `fixed-${g}-fifo-${rungRule === 'ray' ? 'ray-' : ''}asha`, dispatch, () => 0, rule);
}

// ---------------------------------------------------------------------------------------------------------------
// (c) Saturn + ASHA: re-solve the remaining segments at every event

/**
 * What a (c) re-plan solves at an event:
 * - 'makespan': one SPASE solve of every free job's next segment (promoted or new): minimum makespan of them all
 *   (the product's run loop without early stopping). Indifferent to which segment goes first.
 * - 'survivors': ASHA's priority in two solves. First the promoted jobs' segments alone on the cluster (jobs
 *   mid-segment fixed; a job promoted the moment it reached its rung preemptible on its GPUs), so they get the
 *   earliest finish the free GPUs allow; then the new trials' segments, with the survivors' placements fixed:
 *   those kept on their GPUs as non-preemptible `running` jobs, the others as exact `pins` (option, node, GPU ids,
 *   start).
 * - 'by-rung': lexicographic by rung level: one solve per level of promoted jobs, the highest (closest to the end)
 *   first, each with the levels before it fixed as above; then the new trials. A promoted job still on its GPUs
 *   whose GPUs a higher level was given before it would finish its segment there is planned as paused (it restarts:
 *   start-up + restore) instead of as a preemptible running job (see `stageInstance`).
 * - 'earliest-finish': one stage per promoted job, in ASHA's priority (highest rung first, then the better value at
 *   that rung, then job order), each job alone in its instance with every GPU already taken (jobs mid-segment, the
 *   promoted jobs placed before it) marked `unavailable` until it frees, so that the makespan is that job's own
 *   finish, planned exactly (`earliestFinish`); then the new trials by SPASE as in 'survivors' (see `aloneInstance`).
 * - 'in-order': as 'earliest-finish', but the new trials keep the technique and GPU count the SPASE solve gave them
 *   and are placed in job order, each at the earliest start it has after the ones before it (`inJobOrder`), as
 *   ASHA starts new trials; the SPASE solve's order of new trials is arbitrary (a makespan does not care).
 * - 'marginal': as 'in-order', but a promoted job's placement minimises its finish plus what its GPU-seconds cost
 *   the jobs placed after it (`marginalCharge`): the first when few wait, the second when many do.
 * - 'marginal-move': as 'marginal', but the survivors under way (mid-segment after a rung they passed) are placed
 *   again too, in ASHA's priority with the promoted ones: each carries on where it is, or checkpoints now and resumes
 *   on another option (start-up + restore) when that scores better (the issue: a survivor may get the freed GPUs).
 *   Jobs in their first segment stay where they are.
 */
export type PlanPolicy = 'makespan' | 'survivors' | 'by-rung' | 'earliest-finish' | 'in-order' | 'marginal' | 'marginal-move';

export const PLAN_POLICIES: readonly PlanPolicy[] = ['makespan', 'survivors', 'by-rung', 'earliest-finish', 'in-order', 'marginal', 'marginal-move'];

/** The policies that plan each promoted job alone, in ASHA's priority, before the new trials. */
const ONE_BY_ONE: ReadonlySet<PlanPolicy> = new Set<PlanPolicy>(['earliest-finish', 'in-order', 'marginal', 'marginal-move']);

export interface ISaturnAshaOptions {
  /** Every segment is a fresh start (start-up + restore), even for a job promoted the moment it reached its rung. */
  restartEveryRung?: boolean;
  /** What each re-plan solves (default 'makespan'). */
  policy?: PlanPolicy;
}

/** The strategy's name in results: 'saturn-asha', 'saturn-asha-restart', 'saturn-asha-survivors', 'saturn-asha-by-rung'. */
export function saturnAshaName(o: ISaturnAshaOptions = {}): string {
  const policy = o.policy ?? 'makespan';
  return `saturn-asha${o.restartEveryRung ? '-restart' : ''}${policy === 'makespan' ? '' : '-' + policy}`;
}

/**
 * The groups of jobs a re-plan solves one after another, in order (exported for the spec): every job that may run
 * (promoted, or not started) in exactly one group; empty groups left out.
 */
export function planStages(jobs: IJobState[], policy: PlanPolicy, mode: 'min' | 'max' = 'min', levelOf: (x: IJobState) => number = x => x.step): IJobState[][] {
  const free = jobs.filter(j => j.status === 'ready' || j.status === 'pending');
  const fresh = free.filter(j => j.status === 'pending');
  const promoted = free.filter(j => j.status === 'ready');
  let groups: IJobState[][];
  if (policy === 'makespan') {
    groups = [free];
  } else if (policy === 'survivors') {
    groups = [promoted, fresh];
  } else if (ONE_BY_ONE.has(policy)) {
    // ASHA's priority, by the run loop's rule; a promoted job's level is the last rung it passed (by default its step:
    // it sits at that rung)
    const key = (x: IJobState) => ({ level: levelOf(x), score: rankScore(x.reports[levelOf(x)], mode), order: x.index });
    const order = promoted.slice().sort((x, y) => ashaPriority(key(x), key(y)));
    groups = [...order.map(j => [j]), fresh];
  } else {
    const levels = [...new Set(promoted.map(j => j.step))].sort((a, b) => b - a);
    groups = [...levels.map(s => promoted.filter(j => j.step === s)), fresh];
  }
  return groups.filter(g => g.length > 0);
}

/** A job's options scaled to its next segment (+ restore when it resumes from a checkpoint). */
function segmentJob(w: IWorkload, j: IJobState): Instance['jobs'][number] {
  const base = w.instance.jobs[j.index];
  const to = segmentEnd(w, j.step);
  const restore = j.step > 0 ? w.restoreS : 0;
  return { ...base, options: base.options.map(o => ({ ...o, runtime_s: trainS(w, o, j.step, to) + restore })) };
}

/** The `running` entry of a job promoted at this event that is still on its GPUs (continue there at no cost). */
function inPlaceRunning(w: IWorkload, j: IJobState, preemptible: boolean): RunningJob {
  const s = j.seg!;
  const o = optionOf(w, j.id, s)!;
  return runningOn(j.id, s, trainS(w, o, j.step, segmentEnd(w, j.step)), preemptible);
}

/** A segment placed by an earlier solve of the same re-plan; `kept`: it continues on its GPUs (start 0). */
export interface IPlaced {
  pj: PlannedJob;
  kept: boolean;
}

/**
 * The SPASE instance of the remaining segments at an event (exported for the spec): every job mid-segment as a fixed
 * `running` constraint; every job ready or pending with its options scaled to its next segment (+ restore when it
 * resumes from a checkpoint); a job promoted the moment it reached its rung also as a preemptible `running` job (it
 * may continue on its GPUs at no cost). Null when there is nothing to decide (no job ready or pending), unless `always`.
 */
export function segmentInstance(ctx: IDispatchContext, restartEveryRung: boolean, always = false): Instance | null {
  const { w, t, jobs } = ctx;
  const jobsOut: Instance['jobs'] = [];
  const runningOut: RunningJob[] = [];
  let free = 0;
  for (const j of jobs) {
    const base = w.instance.jobs[j.index];
    if (j.status === 'running') {
      // mid-segment: fixed where it is until its segment ends
      const s = j.seg!;
      jobsOut.push(base);
      runningOut.push(runningOn(j.id, s, s.end - t));
      continue;
    }
    if (j.status !== 'ready' && j.status !== 'pending') {
      continue;
    }
    free++;
    jobsOut.push(segmentJob(w, j));
    if (j.inPlace && !restartEveryRung) {
      runningOut.push(inPlaceRunning(w, j, true));
    }
  }
  if (!free && !always) {
    return null;
  }
  return {
    format: 'spase-instance/1',
    name: `${w.name}@${t.toFixed(0)}`,
    cluster: w.instance.cluster,
    jobs: jobsOut,
    running: runningOut
  };
}

/**
 * The SPASE instance of one stage of a staged re-plan (exported for the spec): the jobs mid-segment fixed
 * (`running`); the segments placed by the earlier stages fixed: kept on their GPUs as non-preemptible `running`
 * jobs, the others as exact `pins` (option, node, GPU ids, start); the stage's jobs free, a job promoted the moment
 * it reached its rung as a preemptible `running` job, unless an earlier stage's pin takes one of its GPUs before it
 * would finish there: then it enters as a paused job (a restart), because the solver's first candidate keeps every
 * preemptible running job in place and finds no plan when a pin overlaps it (reported bug; see docs/asha-bench.md).
 * No stage ever has a preemptible running job and a pin on the same GPU at the same time.
 */
export function stageInstance(ctx: IDispatchContext, stage: IJobState[], placed: Map<string, IPlaced>, k: number): Instance {
  const { w, t, jobs } = ctx;
  const inStage = new Set(stage.map(j => j.id));
  const pins: Pin[] = [];
  const pinEnds: Array<{ node: string; gpu_ids: number[]; start: number; end: number }> = [];
  const runningOut: RunningJob[] = [];
  const jobsOut: Instance['jobs'] = [];
  for (const j of jobs) {
    const prev = placed.get(j.id);
    if (prev && !prev.kept) {
      const p = prev.pj;
      pins.push({ job: j.id, parallelism: p.parallelism, gpus: p.gpus, node: p.node, gpu_ids: [...p.gpu_ids], start_s: p.start_s });
      pinEnds.push({ node: p.node, gpu_ids: p.gpu_ids, start: p.start_s, end: p.end_s });
    }
  }
  for (const j of jobs) {
    const base = w.instance.jobs[j.index];
    const prev = placed.get(j.id);
    if (j.status === 'running') {
      const s = j.seg!;
      jobsOut.push(base);
      runningOut.push(runningOn(j.id, s, s.end - t));
    } else if (prev) {
      jobsOut.push(segmentJob(w, j));
      if (prev.kept) {
        runningOut.push(inPlaceRunning(w, j, false));
      }
    } else if (inStage.has(j.id)) {
      jobsOut.push(segmentJob(w, j));
      if (j.inPlace) {
        const r = inPlaceRunning(w, j, true);
        const taken = pinEnds.some(
          b => b.node === r.node && b.gpu_ids.some(g => r.gpu_ids.includes(g)) && b.start < r.remaining_s - EPS && b.end > EPS
        );
        if (!taken) {
          runningOut.push(r);
        }
      }
    }
  }
  return {
    format: 'spase-instance/1',
    name: `${w.name}@${t.toFixed(0)}#${k}`,
    cluster: w.instance.cluster,
    jobs: jobsOut,
    running: runningOut,
    ...(pins.length ? { pins } : {})
  };
}

/**
 * The SPASE instance of one promoted job alone (the 'earliest-finish' policy; exported for the spec): the job's next
 * segment, and every GPU already taken marked `unavailable` from now until it frees: jobs mid-segment until their
 * segment ends, promoted jobs placed by the earlier stages until their planned end (from now even when they start
 * later: a conservative block, so the instance has no pins). The plan's makespan is then this job's own finish. A job
 * promoted the moment it reached its rung is a preemptible `running` job unless one of its GPUs is taken before it
 * would finish there (then it enters paused, as in `stageInstance`).
 */
export function aloneInstance(ctx: IDispatchContext, j: IJobState, placed: Map<string, IPlaced>, k: number): Instance {
  const { w, t, jobs } = ctx;
  const busy: Array<{ node: string; gpu_ids: number[]; until_s: number }> = [];
  for (const x of jobs) {
    const prev = placed.get(x.id);
    if (x.status === 'running') {
      busy.push({ node: x.seg!.node, gpu_ids: [...x.seg!.gpu_ids], until_s: x.seg!.end - t });
    } else if (prev) {
      busy.push({ node: prev.pj.node, gpu_ids: [...prev.pj.gpu_ids], until_s: prev.pj.end_s });
    }
  }
  const running: RunningJob[] = [];
  if (j.inPlace) {
    const r = inPlaceRunning(w, j, true);
    const taken = busy.some(b => b.node === r.node && b.gpu_ids.some(g => r.gpu_ids.includes(g)) && b.until_s > EPS);
    if (!taken) {
      running.push(r);
    }
  }
  return {
    format: 'spase-instance/1',
    name: `${w.name}@${t.toFixed(0)}#${k}`,
    cluster: w.instance.cluster,
    jobs: [segmentJob(w, j)],
    running,
    unavailable: busy.filter(b => b.until_s > EPS)
  };
}

/**
 * Where an instance has a preemptible running job and a pin or an unavailable window on one of its GPUs before it
 * would finish there (exported for the spec): the case in which SPASE's `firstCandidate` throws InfeasibleError
 * although preempting the job gives a plan. The staged re-plans never build such an instance (checked at every stage).
 */
export function preemptibleConflicts(inst: Instance): string[] {
  const out: string[] = [];
  const dur = (job: string, pin: Pin): number => {
    const o = inst.jobs.find(j => j.id === job)?.options.find(x => x.parallelism === pin.parallelism && x.gpus === pin.gpus);
    return o ? optionDuration(o) : 0;
  };
  for (const r of inst.running ?? []) {
    if (!r.preemptible) {
      continue;
    }
    const hit = (node: string | undefined, ids: number[] | undefined, s: number, e: number) =>
      node === r.node && (ids ?? []).some(g => r.gpu_ids.includes(g)) && s < r.remaining_s - EPS && e > EPS;
    for (const p of inst.pins ?? []) {
      if (p.start_s !== undefined && hit(p.node, p.gpu_ids, p.start_s, p.start_s + dur(p.job, p))) {
        out.push(`running ${r.job} (preemptible) and pin ${p.job}`);
      }
    }
    for (const u of inst.unavailable ?? []) {
      if (hit(u.node, u.gpu_ids, 0, u.until_s)) {
        out.push(`running ${r.job} (preemptible) and unavailable ${u.node}[${u.gpu_ids}]`);
      }
    }
  }
  return out;
}

/**
 * What one GPU-second of a promoted job costs under the 'marginal' policy (exported for the spec): src/spase/staged.ts
 * `marginalCharge`, with each job's weight from the rungs it passed (`weightOf`).
 */
export function marginalCharge(w: IWorkload, j: IJobState, after: IJobState[]): number {
  const gpus = w.instance.cluster.nodes.reduce((a, n) => a + n.gpus, 0);
  return chargeOf(weightOf(w, j), after.map(x => weightOf(w, x)), gpus);
}

/** How likely a job is to be the winner: a job that passed r rungs stands for eta^r started jobs, a new trial for 1. */
function weightOf(w: IWorkload, x: IJobState): number {
  return w.es.eta ** rungsOf(w).filter(r => r <= x.step).length;
}

export async function saturnAsha(w: IWorkload, budget: ISolverBudget, o: ISaturnAshaOptions = {}): Promise<IStrategyResult> {
  let plans = 0;
  const restart = !!o.restartEveryRung;
  const policy = o.policy ?? 'makespan';
  if (restart && policy !== 'makespan') {
    throw new Error('restartEveryRung is defined for the makespan policy only');
  }
  const toSegment = (ctx: IDispatchContext, j: IJobState, p: PlannedJob, kept: boolean, from = j.step): ISegment => {
    const opt = optionOf(w, j.id, p)!;
    return {
      job: j.id,
      fromStep: from,
      toStep: segmentEnd(w, from),
      start: ctx.t + p.start_s,
      end: ctx.t + p.end_s,
      node: p.node,
      gpu_ids: [...p.gpu_ids],
      parallelism: p.parallelism,
      gpus: p.gpus,
      overheadS: kept ? 0 : (opt.startup_s ?? 0) + (from > 0 ? w.restoreS : 0),
      kind: kept ? 'continue' : from > 0 ? 'resume' : 'start'
    };
  };
  const oneSolve: Dispatch = async ctx => {
    const inst = segmentInstance(ctx, restart);
    if (!inst) {
      return [];
    }
    const plan = await solve(inst, solveOpts(budget));
    checkPlan(inst, plan);
    plans++;
    const out: ISegment[] = [];
    for (const p of plan.jobs) {
      const j = ctx.jobs.find(x => x.id === p.id)!;
      if (j.status === 'running') {
        continue; // fixed: already under way
      }
      out.push(toSegment(ctx, j, p, !!p.running));
    }
    return out;
  };
  /**
   * 'marginal' and 'marginal-move': the run loop's re-plan at a rung (src/spase/staged.ts `marginalPlan`), the same
   * code. With 'marginal-move' a survivor under way enters it as a preemptible running job whose options are the rest
   * of its segment from the step it has reached (+ restore): it carries on, or it moves (its segment is cut now).
   */
  const marginal: Dispatch = async ctx => {
    const movable = policy === 'marginal-move' ? ctx.jobs.filter(j => j.status === 'running' && j.seg!.fromStep > 0) : [];
    const inst = segmentInstance(ctx, false, movable.length > 0);
    if (!inst) {
      return [];
    }
    const reached = new Map(movable.map(j => [j.id, stepAt(w, j.seg!, ctx.t)]));
    for (const j of movable) {
      const from = reached.get(j.id)!;
      inst.jobs = inst.jobs.map(x => (x.id === j.id ? segmentJob(w, { ...j, step: from }) : x));
      inst.running = inst.running!.map(r => (r.job === j.id ? { ...r, preemptible: true } : r));
    }
    const level = (x: IJobState) => lastRung(w, reached.get(x.id) ?? x.step);
    const free = ctx.jobs.filter(j => j.status === 'ready' || j.status === 'pending' || reached.has(j.id));
    const order = planStages(
      free.map(j => (reached.has(j.id) ? { ...j, status: 'ready' as const } : j)),
      'marginal',
      w.es.mode,
      level
    )
      .filter(g => g[0].status === 'ready')
      .map(g => g[0]);
    const { plan, solves } = await marginalPlan(
      inst,
      order.map(j => ({ job: j.id, weight: weightOf(w, j) })),
      stage => solve(stage, solveOpts(budget))
    );
    plans += solves;
    const out: ISegment[] = [];
    for (const p of plan.jobs) {
      const j = ctx.jobs.find(x => x.id === p.id)!;
      if (reached.has(j.id)) {
        if (!p.running) {
          out.push(toSegment(ctx, j, p, false, reached.get(j.id)!));
        }
      } else if (j.status !== 'running') {
        out.push(toSegment(ctx, j, p, !!p.running && j.inPlace));
      }
    }
    return out;
  };
  const staged: Dispatch = async ctx => {
    const placed = new Map<string, IPlaced>();
    const stages = planStages(ctx.jobs, policy, w.es.mode);
    for (let k = 0; k < stages.length; k++) {
      const alone = ONE_BY_ONE.has(policy) && stages[k].length === 1 && stages[k][0].status === 'ready';
      const inst = alone ? aloneInstance(ctx, stages[k][0], placed, k) : stageInstance(ctx, stages[k], placed, k);
      const bad = preemptibleConflicts(inst);
      if (bad.length) {
        throw new Error(`${inst.name}: ${bad.join('; ')}`);
      }
      const charge = policy === 'marginal' && alone ? marginalCharge(w, stages[k][0], stages.slice(k + 1).flat()) : 0;
      let plan = alone ? earliestFinish(inst, charge) : await solve(inst, solveOpts(budget));
      if (!alone && (policy === 'in-order' || policy === 'marginal')) {
        plan = inJobOrder(inst, plan);
      }
      checkPlan(inst, plan);
      plans += alone ? 0 : 1;
      for (const j of stages[k]) {
        const p = plan.jobs.find(x => x.id === j.id)!;
        placed.set(j.id, { pj: p, kept: !!p.running && j.inPlace });
      }
    }
    return stages.flat().map(j => toSegment(ctx, j, placed.get(j.id)!.pj, placed.get(j.id)!.kept));
  };
  return runEngine(w, saturnAshaName(o), policy === 'makespan' ? oneSolve : policy === 'marginal' || policy === 'marginal-move' ? marginal : staged, () => plans);
}

// ---------------------------------------------------------------------------------------------------------------
// Checks a reader relies on (used by the spec and by the benchmark before it prints anything)

/** Messages for every broken invariant of a strategy's timeline (empty = sound). */
export function checkTimeline(w: IWorkload, r: IStrategyResult): string[] {
  const errs: string[] = [];
  const total = totalSteps(w);
  const nodes = new Map(w.instance.cluster.nodes.map(n => [n.id, n.gpus]));
  const perGpu = new Map<string, ISegment[]>();
  for (const s of r.segments) {
    const cap = nodes.get(s.node);
    if (cap === undefined || s.gpu_ids.length !== s.gpus || new Set(s.gpu_ids).size !== s.gpus || s.gpu_ids.some(g => g < 0 || g >= cap)) {
      errs.push(`${r.name}: ${s.job} has bad GPUs ${s.node}[${s.gpu_ids}]`);
    }
    const opt = optionOf(w, s.job, s);
    if (!opt) {
      errs.push(`${r.name}: ${s.job} runs (${s.parallelism}, ${s.gpus}) which is not one of its options`);
    } else {
      const want = s.overheadS + trainS(w, opt, s.fromStep, s.toStep);
      if (Math.abs(s.end - s.start - want) > 1e-6 * Math.max(1, want)) {
        errs.push(`${r.name}: ${s.job} segment ${s.fromStep}→${s.toStep} lasts ${s.end - s.start}, expected ${want}`);
      }
    }
    for (const g of s.gpu_ids) {
      const k = `${s.node}/${g}`;
      perGpu.set(k, [...(perGpu.get(k) ?? []), s]);
    }
  }
  for (const [k, segs] of perGpu) {
    const sorted = segs.slice().sort((a, b) => a.start - b.start);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].start < sorted[i - 1].end - 1e-6) {
        errs.push(`${r.name}: GPU ${k} used by ${sorted[i - 1].job} and ${sorted[i].job} at once`);
      }
    }
  }
  for (const o of r.outcomes) {
    const segs = r.segments.filter(s => s.job === o.id).sort((a, b) => a.start - b.start);
    let step = 0;
    let prevEnd = 0;
    for (const s of segs) {
      if (s.fromStep !== step) {
        errs.push(`${r.name}: ${o.id} resumes at step ${s.fromStep}, not where it stopped (${step})`);
      }
      if (s.start < prevEnd - 1e-6) {
        errs.push(`${r.name}: ${o.id} runs two segments at once`);
      }
      if (s.kind === 'continue' && Math.abs(s.start - prevEnd) > 1e-6) {
        errs.push(`${r.name}: ${o.id} continues in place after a pause`);
      }
      step = s.toStep;
      prevEnd = s.end;
    }
    if (step !== o.step) {
      errs.push(`${r.name}: ${o.id} trained ${step} steps but reports ${o.step}`);
    }
    if (o.state === 'done' && step !== total) {
      errs.push(`${r.name}: ${o.id} is done after ${step} of ${total} steps`);
    }
    if (o.state === 'stopped') {
      const stop = r.events.find(e => e.job === o.id && e.action === 'stop');
      if (!stop || step > stop.rung || stop.t < prevEnd - 1e-6) {
        errs.push(`${r.name}: stopped job ${o.id} ran past its rung`);
      }
    }
  }
  return errs;
}
