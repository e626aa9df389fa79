/**
 * Early-stopping simulation benchmark: time until the best configuration has finished, for
 *   (a) Saturn without early stopping (one SPASE plan of every job to its end),
 *   (b) Ray-Tune-like ASHA (fixed GPU count per trial, FIFO placement),
 *   (c) Saturn + ASHA (the remaining segments re-solved by SPASE at every rung event), under each re-plan policy of
 *       `PlanPolicy` (one makespan solve, as the product does today; survivors first; by rung level; earliest finish
 *       per survivor),
 * on a paper-like workload (§5.2: 8 jobs, 2 nodes × 8 GPUs, rungs at 1, 3, 6 epochs, η = 2) and a 32-job grid on
 * 8 GPUs. The model is in asha-sim.ts and docs/asha-bench.md. Deterministic: seeded curves, solver budgets in
 * iterations. Prints a table and writes docs/asha-bench.md.
 *
 *   node lib-node/cli/asha-bench.js [--quick] [--no-write]
 */
import { execSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { solve } from '../spase/solve';
import { Instance } from '../spase/types';
import { validatePlan } from '../spase/validate';
import {
  checkTimeline,
  fixedFifo,
  ISolverBudget,
  IStrategyResult,
  IWorkload,
  makeCurves,
  PLAN_POLICIES,
  PlanPolicy,
  rankCorrelation,
  saturnAsha,
  saturnNoStop,
  trueBest
} from './asha-sim';

export const DEFAULTS = {
  epochs: 6,
  stepsPerEpoch: 100,
  rungs: [1, 3, 6],
  eta: 2,
  /** Start-up cost of every option (the public instances carry none): process start, model build, ranks. */
  startupS: 120,
  /** Checkpoint restore on top of the start-up when a job starts again from a step > 0. */
  restoreS: 60,
  curveSeed: 15,
  fixedCounts: [1, 2, 4, 8]
};

export const BUDGET: ISolverBudget = { iterations: 3000, milpNodes: 200, seed: 1, noMilp: true };

function instancesDir(): string {
  return process.env.SATURN_SPASE_INSTANCES ?? path.resolve(__dirname, '../../bench/instances');
}

function loadInstance(file: string): Instance {
  return JSON.parse(fs.readFileSync(path.join(instancesDir(), file), 'utf8')) as Instance;
}

/** A workload from an instance: its first `n` jobs, every option given the default start-up cost if it has none. */
export function workloadFrom(inst: Instance, name: string, n: number, o: Partial<typeof DEFAULTS> = {}): IWorkload {
  const d = { ...DEFAULTS, ...o };
  const jobs = inst.jobs.slice(0, n).map(j => ({
    ...j,
    options: j.options.map(x => ({ ...x, startup_s: x.startup_s ?? d.startupS }))
  }));
  return {
    name,
    instance: { format: 'spase-instance/1', name, cluster: inst.cluster, jobs },
    epochs: d.epochs,
    stepsPerEpoch: d.stepsPerEpoch,
    curves: makeCurves(
      jobs.map(j => j.id),
      d.epochs,
      d.curveSeed
    ),
    restoreS: d.restoreS,
    es: { kind: 'asha', mode: 'min', eta: d.eta, rungs: d.rungs, unit: 'epochs' }
  };
}

/** Curve seeds of the robustness sweep (fixed before any result was seen). */
export const SWEEP_SEEDS = { paper: [1, 2, 3, 4, 5, 6, 7, 8], grid: [1, 2, 3, 4] };

/**
 * Curve seeds no policy was designed on: chosen before (c-o) and (c-m) were first run on them, after both had been
 * designed on the main seed and the sweep above. They confirm or refute what the sweep suggests.
 */
export const HOLDOUT_SEEDS = { paper: [9, 10, 11, 12, 13, 14, 16, 17], grid: [5, 6, 7, 8] };

/**
 * A second held-out set, fixed (2026-12-04, commit 67d9230) before any policy was run on it. It was meant as the
 * test of one more policy (the marginal rule for the new trials too, without SPASE); that policy turned out to be one
 * the Disclosure already lists as run and dropped (the same figures: 12.3 h and 49.1 h at the main seed), so it was
 * not added. Every policy now also runs on these seeds: a third look, by no policy's designer, at what the sweep says.
 */
export const FRESH_SEEDS = { paper: [18, 19, 20, 21, 22, 23, 24, 25], grid: [9, 10, 11, 12] };

/**
 * The test of (c-m+) (survivors under way placed again too), fixed (2026-12-05) before that policy first ran on any
 * workload, and written down with its verdict rule: it *meets* the criterion as every policy does (main curve seed,
 * solver seed 1, below every (b); median of (b) ÷ policy above 1 for every count over the sweep); these seeds say
 * whether that holds on curves it was not run on before. Whatever it shows, the product's re-plan takes (c-m+) only
 * if its median time to best over all curve seeds (sweep, held-out, fresh and these) is not above (c-m)'s on either
 * workload: the issue asks that a survivor may move when that is sooner, and that must not cost the search.
 * Unused before: 26-33 and 13-16 were (c-t)'s.
 */
export const MOVE_SEEDS = { paper: [34, 35, 36, 37, 38, 39, 40, 41], grid: [17, 18, 19, 20] };

export function workloads(): Array<{ w: IWorkload; source: string; make: (curveSeed: number) => IWorkload }> {
  const txt = loadInstance('txt-like-2x8.json');
  const many = loadInstance('many-32x1x8.json');
  const paper = (curveSeed: number) => workloadFrom(txt, 'paper-like-8x2x8', 8, { curveSeed });
  const grid = (curveSeed: number) => workloadFrom(many, 'grid-32x1x8', 32, { curveSeed });
  return [
    { w: paper(DEFAULTS.curveSeed), source: 'bench/instances/txt-like-2x8.json, its first 8 jobs', make: paper },
    { w: grid(DEFAULTS.curveSeed), source: 'bench/instances/many-32x1x8.json, all 32 jobs', make: grid }
  ];
}

/** Solver seeds of (c) at the main curve seed (fixed before any result was seen). */
export const C_SEEDS = [1, 2, 3];

export interface ICRun {
  policy: PlanPolicy;
  seed: number;
  r: IStrategyResult;
}

export interface IWorkloadResult {
  w: IWorkload;
  source: string;
  a: IStrategyResult;
  b: IStrategyResult[];
  /** (b) with Ray Tune's own rung rule (`RayCutoff`), per fixed count. */
  bRay: IStrategyResult[];
  /** (c) per policy (PLAN_POLICIES order) and solver seed (cSeeds order). */
  c: ICRun[];
  cRestart: IStrategyResult;
  seconds: number;
}

function checked(w: IWorkload, r: IStrategyResult): IStrategyResult {
  const errs = checkTimeline(w, r);
  if (errs.length) {
    throw new Error(`${w.name}: ${errs.slice(0, 5).join('; ')}`);
  }
  return r;
}

export async function runWorkload(
  w: IWorkload,
  budget: ISolverBudget,
  counts: number[],
  cSeeds: number[] = [budget.seed],
  policies: readonly PlanPolicy[] = PLAN_POLICIES
): Promise<Omit<IWorkloadResult, 'source'>> {
  const t0 = Date.now();
  const a = checked(w, await saturnNoStop(w, budget));
  const b: IStrategyResult[] = [];
  for (const g of counts) {
    b.push(checked(w, await fixedFifo(w, g)));
  }
  const bRay: IStrategyResult[] = [];
  for (const g of counts) {
    bRay.push(checked(w, await fixedFifo(w, g, 'ray')));
  }
  const c: ICRun[] = [];
  for (const policy of policies) {
    for (const seed of cSeeds) {
      c.push({ policy, seed, r: checked(w, await saturnAsha(w, { ...budget, seed }, { policy })) });
    }
  }
  const cRestart = checked(w, await saturnAsha(w, budget, { restartEveryRung: true }));
  return { w, a, b, bRay, c, cRestart, seconds: (Date.now() - t0) / 1000 };
}

const h = (s: number) => (Number.isFinite(s) ? (s / 3600).toFixed(1) : '-');
const r2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const gOf = (r: IStrategyResult) => Number(/fixed-(\d+)-/.exec(r.name)?.[1]);

/** Short names of the (c) policies, as in the tables. */
export const POLICY_LABEL: Record<PlanPolicy, string> = {
  makespan: '(c) makespan',
  survivors: '(c-s) survivors first',
  'by-rung': '(c-r) by rung',
  'earliest-finish': '(c-e) earliest finish',
  'in-order': '(c-o) earliest finish, new trials in job order',
  marginal: '(c-m) marginal cost',
  'marginal-move': '(c-m+) marginal cost, survivors under way placed again too'
};

const POLICY_SHORT: Record<PlanPolicy, string> = { makespan: '(c)', survivors: '(c-s)', 'by-rung': '(c-r)', 'earliest-finish': '(c-e)', 'in-order': '(c-o)', marginal: '(c-m)', 'marginal-move': '(c-m+)' };

function label(r: IStrategyResult, seed?: number): string {
  if (r.name === 'saturn-no-stop') {
    return '(a) Saturn, no early stopping';
  }
  if (r.name === 'saturn-asha-restart') {
    return "(c') as (c) makespan, every segment a fresh start";
  }
  const m = /^saturn-asha(?:-(.+))?$/.exec(r.name);
  if (m) {
    const policy = (m[1] ?? 'makespan') as PlanPolicy;
    return `${POLICY_LABEL[policy]}${seed !== undefined ? ` (solver seed ${seed})` : ''}`;
  }
  const g = gOf(r);
  return `(b) ASHA, ${g} GPU${g === 1 ? '' : 's'}/trial, FIFO`;
}

function fastestB(b: IStrategyResult[]): IStrategyResult {
  return b.reduce((x, y) => (y.timeToBestS < x.timeToBestS ? y : x));
}

export function table(res: Omit<IWorkloadResult, 'source'>): string[] {
  const { w, a, b, c, cRestart } = res;
  const fb = fastestB(b).timeToBestS;
  const out = [
    '| strategy | time to best (h) | ÷ fastest (b) | best job: waits for rung decisions / queued after promotion (h) | makespan (h) | GPU-hours | best finished | true best finished | restarts | SPASE solves |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: |'
  ];
  const row = (r: IStrategyResult, l: string) => {
    const restarts = r.segments.filter(s => s.kind === 'resume').length;
    const wq = waits(w, r);
    out.push(
      `| ${l} | ${h(r.timeToBestS)} | ${r2(r.timeToBestS / fb)} | ${wq ? `${h(wq.decision)} / ${h(wq.queued)}` : '-'} | ${h(r.makespanS)} | ${r.gpuHours.toFixed(0)} | ` +
        `${r.bestJob ?? '-'} | ${r.trueBestFinished ? 'yes' : 'no'} | ${restarts} | ${r.plans} |`
    );
  };
  row(a, label(a));
  b.forEach(r => row(r, label(r)));
  c.filter(x => x.policy === 'makespan').forEach(x => row(x.r, label(x.r, x.seed)));
  row(cRestart, label(cRestart));
  c.filter(x => x.policy !== 'makespan').forEach(x => row(x.r, label(x.r, x.seed)));
  return out;
}

/**
 * The best finished job's time between its segments, split into waiting at a rung for the decision (from the end of
 * a segment to its promotion) and queued after promotion (from the promotion to the next segment's start).
 */
export function waits(w: IWorkload, r: IStrategyResult): { decision: number; queued: number } | null {
  const job = r.bestJob;
  if (!job) {
    return null;
  }
  const segs = r.segments.filter(x => x.job === job).sort((x, y) => x.start - y.start);
  let decision = 0;
  let queued = 0;
  for (let i = 1; i < segs.length; i++) {
    const promo = r.events.find(e => e.job === job && e.action === 'promote' && e.rung === segs[i - 1].toStep);
    const at = promo ? promo.t : segs[i - 1].end;
    decision += at - segs[i - 1].end;
    queued += segs[i].start - at;
  }
  return { decision, queued };
}

/** Where a strategy's best job ran: its place in the job list, first start, GPUs per segment, time between segments. */
export function trace(w: IWorkload, r: IStrategyResult): string {
  const job = r.bestJob;
  if (!job) {
    return `${label(r)}: nothing finished`;
  }
  const segs = r.segments.filter(x => x.job === job).sort((x, y) => x.start - y.start);
  const wq = waits(w, r)!;
  const idx = w.instance.jobs.findIndex(j => j.id === job) + 1;
  return (
    `${label(r).replace(/ \(solver seed \d+\)/, '')}: \`${job}\` (job ${idx} of ${w.instance.jobs.length}) starts at ${h(segs[0].start)} h, ` +
    `segments on ${segs.map(x => x.gpus).join('/')} GPUs, ${h(wq.decision)} h waiting for rung decisions and ${h(wq.queued)} h queued after ` +
    `promotion, done at ${h(r.timeToBestS)} h`
  );
}

function median(xs: number[]): number {
  const s = xs.slice().sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface IRunFigures {
  ttb: number;
  makespan: number;
  gpuHours: number;
  trueBestFinished: boolean;
}

const figures = (r: IStrategyResult): IRunFigures => ({
  ttb: r.timeToBestS,
  makespan: r.makespanS,
  gpuHours: r.gpuHours,
  trueBestFinished: r.trueBestFinished
});

interface ISweepRow {
  seed: number;
  trueBest: string;
  a: IRunFigures;
  b: IRunFigures[];
  bRay: IRunFigures[];
  c: Record<PlanPolicy, IRunFigures>;
}

/** Every strategy over several curve seeds (which job is best, and where it sits in the queue, changes with them). */
async function sweep(
  make: (seed: number) => IWorkload,
  seeds: number[],
  budget: ISolverBudget,
  counts: number[],
  policies: readonly PlanPolicy[]
): Promise<ISweepRow[]> {
  const rows: ISweepRow[] = [];
  for (const seed of seeds) {
    const w = make(seed);
    const a = checked(w, await saturnNoStop(w, budget));
    const b: IStrategyResult[] = [];
    for (const g of counts) {
      b.push(checked(w, await fixedFifo(w, g)));
    }
    const bRay: IRunFigures[] = [];
    for (const g of counts) {
      bRay.push(figures(checked(w, await fixedFifo(w, g, 'ray'))));
    }
    const c = {} as Record<PlanPolicy, IRunFigures>;
    for (const policy of policies) {
      c[policy] = figures(checked(w, await saturnAsha(w, budget, { policy })));
    }
    rows.push({ seed, trueBest: trueBest(w), a: figures(a), b: b.map(figures), bRay, c });
  }
  return rows;
}

function sweepTable(rows: ISweepRow[], counts: number[], policies: readonly PlanPolicy[]): string[] {
  const out = [
    `| curve seed | true best | (a) | ${counts.map(g => `(b) ${g} GPU`).join(' | ')} | ${policies.map(p => POLICY_SHORT[p]).join(' | ')} |`,
    `| ---: | --- | ---: | ${counts.map(() => '---:').join(' | ')} | ${policies.map(() => '---:').join(' | ')} |`
  ];
  const mark = (x: IRunFigures) => `${h(x.ttb)}${x.trueBestFinished ? '' : '°'}`;
  for (const r of rows) {
    const fb = Math.min(...r.b.map(x => x.ttb));
    const cell = (x: IRunFigures) => (x.ttb < fb ? `**${mark(x)}**` : mark(x));
    out.push(`| ${r.seed} | ${r.trueBest} | ${mark(r.a)} | ${r.b.map(mark).join(' | ')} | ${policies.map(p => cell(r.c[p])).join(' | ')} |`);
  }
  return out;
}

/** The verdict for one policy on one workload (the criterion was fixed before any result was seen). */
export interface IVerdict {
  policy: PlanPolicy;
  /** Time to best at the main curve seed, per solver seed, and the fastest (b) there. */
  mainTtb: number[];
  mainFastestB: number;
  /** Beats every (b) at the main curve seed with solver seed 1 / with every solver seed. */
  mainBeats: boolean;
  mainBeatsAllSeeds: boolean;
  /** Over the sweep: per fixed count g, the median of (b) g ÷ policy; beats on the median when every one is > 1. */
  medianRatio: number[];
  medianBeats: boolean;
  /** Median over the sweep of (fastest (b) of that seed) ÷ policy: against an oracle that knew the best count. */
  medianOracle: number;
  seedsBeaten: number;
  seeds: number;
  /** Medians over the sweep of (b) g ÷ policy for makespan and GPU-hours, per g. */
  medianMakespan: number[];
  medianGpuHours: number[];
  /** At the main curve seed (solver seed 1). */
  mainMakespan: number;
  mainGpuHours: number;
  /** Over the held-out seeds: per fixed count g, the median of (b) g ÷ policy. */
  holdoutRatio: number[];
  holdoutBeaten: number;
  holdoutSeeds: number;
}

/** Per fixed count (b) g, the median over `rows` of (b) g's time to best ÷ the policy's. */
function ttbRatios(rows: ISweepRow[], policy: PlanPolicy): number[] {
  return rows.length ? rows[0].b.map((_, i) => median(rows.map(r => r.b[i].ttb / r.c[policy].ttb))) : [];
}

/** How many of `rows` the policy beats every fixed count at. */
function beatenIn(rows: ISweepRow[], policy: PlanPolicy): number {
  return rows.filter(r => r.b.every(x => r.c[policy].ttb < x.ttb)).length;
}

export interface IMoveVerdict {
  workload: string;
  seeds: number;
  medianKept: number;
  medianMoved: number;
  sooner: number;
  later: number;
  /** (c-m+)'s median is not above (c-m)'s. */
  adopt: boolean;
}

/** The rule of `MOVE_SEEDS`: (c-m+) against (c-m) on the median time to best over the given curve seeds. */
export function moveVerdict(workload: string, rows: ISweepRow[]): IMoveVerdict {
  const kept = rows.map(r => r.c.marginal.ttb);
  const moved = rows.map(r => r.c['marginal-move'].ttb);
  const tol = (x: number) => 1e-9 * Math.max(1, x);
  const sooner = rows.filter((_, i) => moved[i] < kept[i] - tol(kept[i])).length;
  const later = rows.filter((_, i) => moved[i] > kept[i] + tol(kept[i])).length;
  const medianKept = median(kept);
  const medianMoved = median(moved);
  return { workload, seeds: rows.length, medianKept, medianMoved, sooner, later, adopt: medianMoved <= medianKept + tol(medianKept) };
}

export function verdict(res: Omit<IWorkloadResult, 'source'>, rows: ISweepRow[], policy: PlanPolicy, held: ISweepRow[] = []): IVerdict {
  const runs = res.c.filter(x => x.policy === policy);
  const fb = fastestB(res.b).timeToBestS;
  const medianRatio = ttbRatios(rows, policy);
  return {
    policy,
    mainTtb: runs.map(x => x.r.timeToBestS),
    mainFastestB: fb,
    mainBeats: runs[0].r.timeToBestS < fb,
    mainBeatsAllSeeds: runs.every(x => x.r.timeToBestS < fb),
    medianRatio,
    medianBeats: medianRatio.every(x => x > 1),
    medianOracle: median(rows.map(r => Math.min(...r.b.map(x => x.ttb)) / r.c[policy].ttb)),
    seedsBeaten: beatenIn(rows, policy),
    seeds: rows.length,
    medianMakespan: res.b.map((_, i) => median(rows.map(r => r.b[i].makespan / r.c[policy].makespan))),
    medianGpuHours: res.b.map((_, i) => median(rows.map(r => r.b[i].gpuHours / r.c[policy].gpuHours))),
    mainMakespan: runs[0].r.makespanS,
    mainGpuHours: runs[0].r.gpuHours,
    holdoutRatio: ttbRatios(held, policy),
    holdoutBeaten: beatenIn(held, policy),
    holdoutSeeds: held.length
  };
}

/**
 * (b) under Ray Tune's own rung rule against two (c) policies: per fixed count, its time to best at the main seed and
 * the medians of (b, Ray's rule) ÷ policy over the sweep and the held-out seeds.
 */
export function rayTable(res: Omit<IWorkloadResult, 'source'>, rows: ISweepRow[], held: ISweepRow[], counts: number[], policies: PlanPolicy[]): string[] {
  const all = [...rows, ...held];
  const out = [
    `| | ${counts.map(g => `${g} GPU${g === 1 ? '' : 's'}/trial`).join(' | ')} |`,
    `| --- | ${counts.map(() => '---:').join(' | ')} |`,
    `| time to best at curve seed ${DEFAULTS.curveSeed}, Ray's rule / the rule above (h) | ${res.bRay.map((r, i) => `${h(r.timeToBestS)} / ${h(res.b[i].timeToBestS)}`).join(' | ')} |`,
    `| the true best finished, Ray's rule / the rule above (of ${all.length} sweep and held-out seeds) | ${counts
      .map((_, i) => `${all.filter(r => r.bRay[i].trueBestFinished).length} / ${all.filter(r => r.b[i].trueBestFinished).length}`)
      .join(' | ')} |`
  ];
  for (const p of policies) {
    const m = (rs: ISweepRow[], i: number) => (rs.length ? r2(median(rs.map(r => r.bRay[i].ttb / r.c[p].ttb))) : '-');
    out.push(`| median (b, Ray's rule) ÷ ${POLICY_SHORT[p]}: sweep / held-out seeds | ${counts.map((_, i) => `${m(rows, i)} / ${m(held, i)}`).join(' | ')} |`);
  }
  return out;
}

function verdictTable(vs: IVerdict[], counts: number[], cSeeds: number[]): string[] {
  const out = [
    `| policy | time to best at the main seed, solver seeds ${cSeeds.join(' / ')} (h) | beats every (b) there | over the sweep: median (b) ${counts.join(' / ')} GPU ÷ policy | median fastest-(b)-per-seed ÷ policy | beats every (b) in | held-out seeds: median (b) ${counts.join(' / ')} GPU ÷ policy | beats every (b) in | makespan: median (b) ${counts.join(' / ')} ÷ policy | GPU-hours: median (b) ${counts.join(' / ')} ÷ policy |`,
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'
  ];
  for (const v of vs) {
    out.push(
      `| ${POLICY_LABEL[v.policy]} | ${v.mainTtb.map(h).join(' / ')} | ${v.mainBeatsAllSeeds ? 'yes, every solver seed' : v.mainBeats ? 'seed 1 only' : 'no'} | ` +
        `${v.medianRatio.map(r2).join(' / ')} | ${r2(v.medianOracle)} | ${v.seedsBeaten} of ${v.seeds} | ` +
        `${v.holdoutSeeds ? v.holdoutRatio.map(r2).join(' / ') : '-'} | ${v.holdoutSeeds ? `${v.holdoutBeaten} of ${v.holdoutSeeds}` : '-'} | ` +
        `${v.medianMakespan.map(r2).join(' / ')} | ${v.medianGpuHours.map(r2).join(' / ')} |`
    );
  }
  return out;
}

/**
 * The solver bug met while building the staged policies: a pin over a preemptible running job's GPUs. Feasible
 * (preempt P, restart it on GPU 1), but `firstCandidate` keeps every preemptible running job in place (both its
 * greedy incumbent and its random fallback) and throws InfeasibleError. Run on every benchmark so the page says
 * whether it still happens.
 */
export const PREEMPT_PIN_INSTANCE: Instance = {
  format: 'spase-instance/1',
  name: 'preempt-pin',
  cluster: { nodes: [{ id: 'n0', gpus: 2 }] },
  jobs: [
    { id: 'P', options: [{ parallelism: 'ddp', gpus: 1, runtime_s: 100 }] },
    { id: 'Q', options: [{ parallelism: 'ddp', gpus: 1, runtime_s: 100 }] }
  ],
  running: [{ job: 'P', parallelism: 'ddp', gpus: 1, node: 'n0', gpu_ids: [0], remaining_s: 50, preemptible: true }],
  pins: [{ job: 'Q', parallelism: 'ddp', gpus: 1, node: 'n0', gpu_ids: [0], start_s: 0 }]
};

export async function preemptPinCheck(): Promise<string> {
  try {
    const plan = await solve(PREEMPT_PIN_INSTANCE, { iterations: 100, seed: 1, noMilp: true });
    return `solved (makespan ${plan.makespan_s} s): fixed`;
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

/**
 * The second solver bug: GPU 1 is unavailable until 1000 s, the only job needs 1 GPU for 100 s. The optimum is
 * 100 s (on GPU 0), but the lower bound (src/spase/bounds.ts) adds every unavailable window's full length to the
 * energy, (100 + 1000) / 2 = 550 s > the makespan: the plan fails validatePlan, is labelled optimal, and the search
 * stops at its first candidate because it believes it has reached the bound.
 */
export const RELEASE_BOUND_INSTANCE: Instance = {
  format: 'spase-instance/1',
  name: 'release-past-makespan',
  cluster: { nodes: [{ id: 'n0', gpus: 2 }] },
  jobs: [{ id: 'A', options: [{ parallelism: 'ddp', gpus: 1, runtime_s: 100 }] }],
  unavailable: [{ node: 'n0', gpu_ids: [1], until_s: 1000 }]
};

export async function releaseBoundCheck(): Promise<string> {
  const plan = await solve(RELEASE_BOUND_INSTANCE, { iterations: 100, seed: 1, noMilp: true });
  const errs = validatePlan(RELEASE_BOUND_INSTANCE, plan);
  return `makespan ${plan.makespan_s} s, solver.bound_s ${plan.solver.bound_s} s, status ${plan.solver.status}; validatePlan: ${
    errs.length ? errs.join('; ') : 'valid (fixed)'
  }`;
}

export interface IBenchOptions {
  quick?: boolean;
  write?: boolean;
}

export async function runAshaBench(o: IBenchOptions = {}): Promise<IWorkloadResult[]> {
  const lines: string[] = [];
  const log = (s: string) => {
    lines.push(s);
    process.stdout.write(s + '\n');
  };
  const load0 = os.loadavg();
  const t0 = Date.now();
  const budget = o.quick ? { ...BUDGET, iterations: 500 } : BUDGET;
  const cSeeds = o.quick ? [1] : C_SEEDS;
  const sweepSeeds = o.quick ? [[1, 2], [1]] : [SWEEP_SEEDS.paper, SWEEP_SEEDS.grid];
  const heldSeeds = o.quick ? [[], []] : [HOLDOUT_SEEDS.paper, HOLDOUT_SEEDS.grid];
  const freshSeeds = o.quick ? [[], []] : [FRESH_SEEDS.paper, FRESH_SEEDS.grid];
  const moveSeeds = o.quick ? [[], []] : [MOVE_SEEDS.paper, MOVE_SEEDS.grid];
  /** Per workload, (c-m) against (c-m+) over every curve seed but the main one (the rule of `MOVE_SEEDS`). */
  const moveVerdicts: IMoveVerdict[] = [];
  const counts = DEFAULTS.fixedCounts;
  const policies = PLAN_POLICIES;
  const results: IWorkloadResult[] = [];
  const summary: string[] = [];
  const verdicts: IVerdict[][] = [];
  const raySummary: string[] = [];
  /** Per workload, the (c) policies whose medians over all seeds beat (b) under Ray's rule at every count. */
  const rayAhead: PlanPolicy[][] = [];
  const all = workloads();
  for (let k = 0; k < all.length; k++) {
    const { w, source, make } = all[k];
    const r = { ...(await runWorkload(w, budget, counts, cSeeds, policies)), source };
    results.push(r);
    const nodes = w.instance.cluster.nodes.map(n => n.gpus).join(' + ');
    log(`## ${w.name}: ${w.instance.jobs.length} jobs on ${nodes} GPUs`);
    log('');
    log(
      `Jobs: ${source}. True best (lowest value after ${w.epochs} epochs): \`${trueBest(w)}\`. Spearman rank correlation ` +
        `of the values after epoch 1 / epoch 3 with the final values: ${rankCorrelation(w, 1).toFixed(2)} / ${rankCorrelation(w, 3).toFixed(2)} ` +
        `(curve seed ${DEFAULTS.curveSeed}). Simulated in ${r.seconds.toFixed(0)} s.`
    );
    log('');
    table(r).forEach(log);
    log('');
    const bb = fastestB(r.b);
    log(`Where the best finished job ran (solver seed ${cSeeds[0]}):`);
    log('');
    log(`- ${trace(w, bb)}`);
    for (const p of policies) {
      log(`- ${trace(w, r.c.find(x => x.policy === p)!.r)}`);
    }
    log('');
    const t1 = Date.now();
    const rows = await sweep(make, sweepSeeds[k], budget, counts, policies);
    log(
      `Time to best over curve seeds ${sweepSeeds[k].join(', ')} (solver seed ${budget.seed}; hours; ° = the true best did not finish; ` +
        `**bold** = faster than every (b); ${((Date.now() - t1) / 1000).toFixed(0)} s):`
    );
    log('');
    sweepTable(rows, counts, policies).forEach(log);
    log('');
    const t2 = Date.now();
    const held = await sweep(make, heldSeeds[k], budget, counts, policies);
    if (held.length) {
      log(
        `Held-out curve seeds ${heldSeeds[k].join(', ')} (chosen before (c-o) and (c-m) were run on them; solver seed ${budget.seed}; ` +
          `hours; ° and **bold** as above; ${((Date.now() - t2) / 1000).toFixed(0)} s):`
      );
      log('');
      sweepTable(held, counts, policies).forEach(log);
      log('');
    }
    const seedSet = async (seeds: number[], title: string, short: string): Promise<ISweepRow[]> => {
      const t = Date.now();
      const set = await sweep(make, seeds, budget, counts, policies);
      if (set.length) {
        log(`${title} (solver seed ${budget.seed}; hours; ° and **bold** as above; ${((Date.now() - t) / 1000).toFixed(0)} s):`);
        log('');
        sweepTable(set, counts, policies).forEach(log);
        log('');
        log(`| policy | ${short} seeds: median (b) ${counts.join(' / ')} GPU ÷ policy | beats every (b) in |`);
        log('| --- | ---: | ---: |');
        for (const p of policies) {
          log(`| ${POLICY_LABEL[p]} | ${ttbRatios(set, p).map(r2).join(' / ')} | ${beatenIn(set, p)} of ${set.length} |`);
        }
        log('');
      }
      return set;
    };
    const fresh = await seedSet(
      freshSeeds[k],
      `Fresh curve seeds ${freshSeeds[k].join(', ')} (fixed before any policy was run on them, after every policy but (c-m+) was designed)`,
      'fresh'
    );
    const moved = await seedSet(
      moveSeeds[k],
      `Curve seeds ${moveSeeds[k].join(', ')} of (c-m+) (\`MOVE_SEEDS\`: fixed before (c-m+) first ran, as its test)`,
      '(c-m+)'
    );
    if (moved.length) {
      const mv = moveVerdict(w.name, [...rows, ...held, ...fresh, ...moved]);
      moveVerdicts.push(mv);
      log(
        `(c-m) against (c-m+) over all ${mv.seeds} curve seeds above (sweep, held-out, fresh, (c-m+)'s): median time to best ` +
          `${h(mv.medianKept)} h against ${h(mv.medianMoved)} h; (c-m+) sooner at ${mv.sooner}, later at ${mv.later}, the same at ` +
          `${mv.seeds - mv.sooner - mv.later}. By the rule fixed with \`MOVE_SEEDS\` the product's re-plan ${mv.adopt ? 'may take' : '**may not take**'} (c-m+) on this workload.`
      );
      log('');
    }
    log(
      `(b) with Ray Tune's own rung rule instead (\`RayCutoff\` in src/cli/asha-sim.ts; a sensitivity check, not part of the ` +
        `criterion; (c) keeps the product's rule):`
    );
    log('');
    rayTable(r, rows, held, counts, ['makespan', 'marginal']).forEach(log);
    log('');
    const rayAll = [...rows, ...held];
    const rayMed = (p: PlanPolicy) => counts.map((_, i) => median(rayAll.map(x => x.bRay[i].ttb / x.c[p].ttb)));
    raySummary.push(
      `${w.name}: medians over all ${rayAll.length} seeds of (b, Ray's rule) ${counts.join('/')} GPUs ÷ (c) makespan ` +
        `${rayMed('makespan').map(r2).join('/')}, ÷ (c-m) ${rayMed('marginal').map(r2).join('/')}; the true best finished at ` +
        `${counts.map((_, i) => rayAll.filter(x => x.bRay[i].trueBestFinished).length).join('/')} seeds under Ray's rule, ` +
        `${counts.map((_, i) => rayAll.filter(x => x.b[i].trueBestFinished).length).join('/')} under the rule above`
    );
    rayAhead.push((['makespan', 'marginal'] as PlanPolicy[]).filter(p => rayMed(p).every(x => x > 1)));
    const vs = policies.map(p => verdict(r, rows, p, held));
    verdicts.push(vs);
    log(`Per policy (main curve seed ${DEFAULTS.curveSeed}, then the sweep and the held-out seeds):`);
    log('');
    verdictTable(vs, counts, cSeeds).forEach(log);
    log('');
  }
  log('## Summary');
  log('');
  for (const p of policies) {
    const per = verdicts.map(vs => vs.find(v => v.policy === p)!);
    const wins = per.map(v => v.mainBeats && v.medianBeats);
    summary.push(
      `- ${POLICY_LABEL[p]}: ${all
        .map(
          (x, k) =>
            `${x.w.name}: at curve seed ${DEFAULTS.curveSeed} ${per[k].mainBeats ? 'beats' : '**does not beat**'} every (b) ` +
            `(${h(per[k].mainTtb[0])} h vs fastest (b) ${h(per[k].mainFastestB)} h${
              per[k].mainTtb.length > 1 ? `; solver seeds ${cSeeds.join('/')}: ${per[k].mainTtb.map(h).join('/')} h` : ''
            }), on the sweep's medians ${per[k].medianBeats ? 'beats' : '**does not beat**'} every (b) ` +
            `(min over g of the median (b) ÷ policy: ${r2(Math.min(...per[k].medianRatio))}; faster than every (b) at ${per[k].seedsBeaten} of ${per[k].seeds} seeds)`
        )
        .join('; ')}. **${wins.every(Boolean) ? 'Meets' : 'Does not meet'}** the criterion on both workloads.`
    );
  }
  summary.forEach(log);
  log('');
  log(`Solver check 1, a pin over a preemptible running job's GPUs (\`PREEMPT_PIN_INSTANCE\` in src/cli/asha-bench.ts): ${await preemptPinCheck()}.`);
  log('');
  log(`Solver check 2, a GPU unavailable past the optimal makespan (\`RELEASE_BOUND_INSTANCE\`): ${await releaseBoundCheck()}.`);
  log('');
  const total = (Date.now() - t0) / 1000;
  if (o.write !== false && !o.quick) {
    const md = docPage(lines, load0, total, budget, cSeeds, results, verdicts, raySummary, rayAhead, moveVerdicts);
    const file = path.resolve(__dirname, '../../docs/asha-bench.md');
    fs.writeFileSync(file, md);
    process.stdout.write(`wrote ${path.relative(process.cwd(), file)} (${total.toFixed(0)} s)\n`);
  }
  return results;
}

function gitState(): string {
  try {
    // trimEnd only: a porcelain line starts with its two status columns (' M path'), which trim() would cut into
    const run = (cmd: string) => execSync(cmd, { cwd: path.resolve(__dirname, '../..'), stdio: ['ignore', 'pipe', 'ignore'] }).toString().trimEnd();
    const head = run('git rev-parse --short HEAD');
    const dirty = run('git status --porcelain -- src/spase src/executor/rungs.ts src/cli/asha-sim.ts src/cli/asha-bench.ts');
    const paths = dirty ? [...new Set(dirty.split('\n').filter(l => l.length > 3).map(l => l.slice(3)))] : [];
    return `Code: commit ${head}${paths.length ? ' with uncommitted changes in ' + paths.join(', ') : ''}.`;
  } catch {
    return '';
  }
}

function docPage(
  lines: string[],
  load0: number[],
  total: number,
  budget: ISolverBudget,
  cSeeds: number[],
  results: IWorkloadResult[],
  verdicts: IVerdict[][],
  raySummary: string[],
  rayAhead: PlanPolicy[][],
  moveVerdicts: IMoveVerdict[]
): string {
  const adopted = moveVerdicts.length === results.length && moveVerdicts.every(v => v.adopt);
  const product = adopted ? '(c-m+)' : '(c-m)';
  const d = DEFAULTS;
  const run = (r: IWorkloadResult, p: PlanPolicy) => r.c.find(x => x.policy === p && x.seed === cSeeds[0])!.r;
  const firstStart = (r: IStrategyResult) => Math.min(...r.segments.filter(x => x.job === r.bestJob).map(x => x.start));
  const gpusOf = (r: IStrategyResult) => r.segments.filter(x => x.job === r.bestJob).map(x => x.gpus).join('/');
  const meets = PLAN_POLICIES.filter(p => verdicts.every(vs => vs.find(v => v.policy === p)!.mainBeats && vs.find(v => v.policy === p)!.medianBeats));
  const medianOnly = PLAN_POLICIES.filter(p => verdicts.every(vs => vs.find(v => v.policy === p)!.medianBeats));
  const perWorkload = (f: (r: IWorkloadResult, k: number) => string) => results.map((r, k) => `${r.w.name}: ${f(r, k)}`).join('; ');
  const pct = (x: number, y: number) => `${x >= y ? '+' : '−'}${Math.abs((100 * (x - y)) / y).toFixed(0)}%`;
  return [
    '# Early stopping composed with the plan: simulation benchmark',
    '',
    '<!-- written by `npm run bench:asha` (src/cli/asha-bench.ts); do not edit by hand -->',
    '',
    'Time until the best configuration has finished, for (a) Saturn without early stopping, (b) ASHA with a fixed GPU',
    'count per trial and FIFO placement (how Ray Tune runs it), (c) Saturn + ASHA re-planned at each rung. Simulated,',
    'not measured: no job ran. Produced by',
    '',
    '```bash',
    'npm run bench:asha      # = tsc -p tsconfig.node.json && node lib-node/cli/asha-bench.js',
    '```',
    '',
    `Machine: Node ${process.version}, ${process.platform}/${process.arch}, ${os.cpus().length} CPUs (shared with other work; load ` +
      `average at the start ${load0.map(x => x.toFixed(2)).join(' / ')}); ${total.toFixed(0)} s in all. ${gitState()} The figures do not ` +
      `depend on the machine: the learning curves are seeded and every SPASE solve is budgeted in iterations, never in seconds: ` +
      `\`solve()\` (hybrid) with \`iterations: ${budget.iterations}\`, \`seed: ${budget.seed}\`${budget.noMilp ? ', `noMilp: true`' : ''}. ` +
      (budget.noMilp
        ? 'The HiGHS improver is off because on this shared 2-core machine one call took 15–45 s on these instances (the ' +
          'first-rung instance of the 8-job workload: 21 s with it, 0.2 s without, same makespan; of the 32-job grid: 44 s ' +
          `vs 1.1 s, 0.2% apart), and (c) solves ${Math.min(...results.flatMap(r => r.c.map(x => x.r.plans)))}–${Math.max(...results.flatMap(r => r.c.map(x => x.r.plans)))} times per run. `
        : '') +
      `Every (c) policy is run with solver seeds ${cSeeds.join(', ')} at the main curve seed: which of several equally good plans the ` +
      'solver returns changes which job starts first, and that moves the time to best (see Findings).',
    '',
    '**The question** ("(c) must beat (b) on both workloads"), and the criterion fixed before any result of the ' +
      're-plan policies was seen: a policy *meets* it when, on both workloads, (1) at the main curve seed ' +
      `(${d.curveSeed}) with solver seed ${cSeeds[0]} its time to best is below that of every fixed count (b), and (2) over the ` +
      'sweep of other curve seeds the median of (b) ÷ policy is above 1 for every fixed count. Workloads, curve seeds, ' +
      'sweep seeds, solver budget and solver seeds are those of the first version of this page (commit 0032d87).',
    '',
    '## Model',
    '',
    `- **Jobs and epochs.** Each job trains E = ${d.epochs} epochs of ${d.stepsPerEpoch} steps. Its SPASE options (from the`,
    '  public instances: per (technique, GPU count) the runtime of the whole job) give the runtime per epoch =',
    `  runtime_s / E. Every option costs a start-up of ${d.startupS} s (the instances carry no \`startup_s\`, so this stated`,
    `  default is added) at every (re)start, and a start from a checkpoint also restores it (${d.restoreS} s). A job that is`,
    '  promoted the moment it reaches its rung continues on its GPUs and pays nothing.',
    `- **Rungs.** At 1, 3 and 6 epochs (\`rungSteps\`: 6 = the end, so the judgements are after epochs 1 and 3), η = ${d.eta},`,
    '  metric minimised. Every decision is `decideRungs` of src/executor/rungs.ts (the product\'s rule), in ASHA form: a job',
    '  that reaches a rung is promoted at once if it is in the top ⌊n/η⌋ of the n jobs that reported there so far;',
    '  otherwise it waits; once no unsettled job can still report there, the top max(1, ⌊n/η⌋) go on and the rest stop.',
    '- **Learning curves.** Per job, val(e) = a + b·e^(−c) + 0.02·N(0,1), a ~ U(1,2), b ~ U(0.5,1.5), c ~ U(0.5,1.5),',
    `  seeded (seed ${d.curveSeed}); the ranks after epoch 1 correlate imperfectly with the final ranks (figures per workload).`,
    '  The *true best* is the job with the lowest value after all epochs; the *best configuration* of a strategy is the',
    '  best of the jobs it trained to the end; *time to best* is when that job finished.',
    '- **(a) Saturn, no early stopping:** one SPASE plan (`solve`, hybrid) of every job to its end; the solver picks each',
    '  job\'s technique, GPU count, node and start.',
    '- **(b) Ray-Tune-like ASHA:** every trial gets the fastest option with the fixed GPU count (1, 2, 4 or 8; the next',
    '  larger count for a job without one) and keeps it; trials start in FIFO order as GPUs free up (first fit over the',
    '  nodes, lowest free GPU ids; promoted trials before new ones). A promoted trial continues on the same GPUs; a',
    '  stopped one frees them. A trial that reaches a rung and is not promoted at once **keeps nothing**: it checkpoints',
    '  and frees its GPUs (holding them would deadlock one 8-GPU trial on an 8-GPU machine, waiting at rung 1 for a',
    '  peer that cannot start); if it is promoted later it queues again and pays start-up + restore.',
    "- **(b) with Ray Tune's own rung rule (sensitivity, not in the criterion):** as (b), but decided as Ray Tune's",
    '  `AsyncHyperBandScheduler` decides (`RayCutoff`): a trial is judged once, the moment it reports at a rung, against',
    '  the values recorded there before it (stopped trials\' included); it stops if it is worse than their (1 − 1/η)',
    '  quantile, else it goes on at once on its GPUs. The first trial at a rung always goes on, nobody waits, and no',
    '  stopped trial is promoted later. The rows (b) above use the product\'s rule so that (b) and (c) differ only in',
    '  placement; this check, added after every result above was known, shows what Ray Tune\'s rule itself does.',
    '- **(c) Saturn + ASHA:** at time 0 and at every segment end (rung or job end) the remaining work is re-planned: the',
    '  next segment of every job that may run (not started yet, or promoted), from its current step up to its next rung',
    "  (or its end), with the options' runtimes scaled to that segment (+ restore when resuming). Jobs mid-segment are",
    '  `running` constraints (fixed); a job promoted the moment it reached its rung is a *preemptible* running job: it',
    '  may continue on its GPUs (no cost) or move to another technique or GPU count (start-up + restore). Jobs waiting',
    '  for a decision hold no GPUs and are not planned until promoted. Every plan passes `validatePlan`; the plan is',
    '  executed as solved until the next event, when whatever has not started is re-planned. What a re-plan solves is',
    '  the *policy* (src/cli/asha-sim.ts `PlanPolicy`; only (c) changes between the rows, (a) and (b) are as before):',
    '  - **(c) makespan** — one SPASE solve of every segment; minimum makespan (the product\'s run loop before it took (c-m)).',
    '  - **(c-s) survivors first** — two solves: the promoted jobs\' segments alone (jobs mid-segment fixed, in-place',
    '    survivors preemptible), then the new trials\' segments with the survivors fixed: those kept on their GPUs as',
    '    non-preemptible `running` jobs, the others as exact `pins` (option, node, GPU ids, start).',
    '  - **(c-r) by rung** — lexicographic by rung level: one solve per level of promoted jobs, highest level first, each',
    '    with the earlier levels fixed as in (c-s); then the new trials. A promoted job still on its GPUs whose GPUs an',
    '    earlier stage took before it would finish there enters as paused (it restarts) instead of as a preemptible',
    '    running job (see the solver bugs below).',
    '  - **(c-e) earliest finish** — one stage per promoted job, in ASHA\'s priority order (highest rung first, then the',
    '    better value at that rung, then job order): the job alone, every GPU already taken (jobs mid-segment, survivors',
    '    placed before it) `unavailable` until it frees, so the makespan is the job\'s own finish; that one-job instance is',
    '    planned exactly by enumeration (`earliestFinish`: every option × node, start = when that many GPUs of the node',
    '    are free; continuing in place wins ties) and checked by `validatePlan`; then the new trials by SPASE as in (c-s).',
    '    Added after the first look at (c-s) (see Findings).',
    '  - **(c-o) earliest finish, new trials in job order** — as (c-e), but the new trials keep the technique and GPU',
    '    count that the SPASE solve gave them and are placed in job order, each at the earliest start it has after the',
    '    ones before it (`inJobOrder`, by SPASE\'s list decoder: a later trial may fill a gap, never delay an earlier one), as',
    '    ASHA starts new trials. The SPASE solve says how many GPUs and which technique; the order is ASHA\'s.',
    '  - **(c-m) marginal cost** — as (c-o), but a promoted job\'s placement minimises its finish + charge × its',
    '    GPU-seconds instead of its finish alone (`marginalCharge`). Each free job is weighed by how likely it is to be',
    '    the winner: a job that passed r rungs stands for η^r started jobs (the others were stopped), a new trial for 1;',
    '    a placement that takes E GPU-seconds delays each job placed after it by about E / (GPUs of the cluster). The',
    '    expected cost is weight(job) × finish + Σ weight(after) × E / GPUs, so charge = Σ weight(after) / (GPUs ×',
    '    weight(job)): with nothing else waiting a survivor takes its earliest finish; with many new trials waiting it',
    '    takes GPU-efficient counts. No constant is tuned (η is the run\'s own). The re-plan is src/spase/staged.ts',
    '    `marginalPlan`, a function of a SPASE instance that the simulation and the run loop both call.',
    '    (c-o) and (c-m) were added after every earlier result had been seen (see Findings, Disclosure).',
    '  - **(c-m+) marginal cost, survivors under way placed again too** — as (c-m), but a survivor under way (training, or',
    '    starting, on the segment after a rung it passed) is placed again at every event with the promoted jobs, in ASHA\'s',
    '    priority: it enters as a preemptible running job for the rest of its segment and either carries on (no cost) or',
    '    checkpoints at that moment and resumes on another option (start-up + restore), whichever scores better by the',
    '    same rule; a survivor placed before it may take its GPUs (it then moves). Jobs in their first segment stay where',
    '    they are. The issue asks for this ("a survivor may get more GPUs or another technique through checkpoint-resume',
    '    when that shortens the makespan"); (c-m) only moved a survivor the moment it reached its rung. The simulation',
    '    checkpoints a moved job at the instant of the move (the product\'s runner first finishes the step it is in:',
    '    here up to 1–2 min of a multi-hour segment). Registered with its own curve seeds and verdict rule before its',
    '    first run (Disclosure).',
    "- **(c') sensitivity:** as (c) but every segment is a fresh start (start-up + restore), as a product that pauses every",
    '  job at every rung would do.',
    '- **Checks** (src/cli/asha-sim.ts `checkTimeline`, run on every strategy before anything is printed): no GPU used by',
    '  two jobs at once, every segment lasts its option\'s time, every job resumes from the step where it stopped, stopped',
    '  jobs never run past their rung, finished jobs trained every step.',
    '- **Metrics:** time to best; makespan (until every job finished or was stopped); GPU-hours reserved by jobs',
    '  (start-ups included); restarts = segments started from a checkpoint.',
    '',
    '## Results',
    '',
    ...lines.map(l => l.replace(/^## /, '### ')),
    '## Findings',
    '',
    `- **Verdict.** ${
      meets.length
        ? `${meets.map(p => POLICY_LABEL[p]).join(', ')} meet${meets.length === 1 ? 's' : ''} the criterion on both workloads.`
        : 'No re-plan policy meets the criterion on both workloads: none beats every fixed count (b) at the main curve seed with solver seed ' +
          `${cSeeds[0]} on both.`
    } ${
      medianOnly.length
        ? `On the medians over the sweep alone, ${medianOnly.map(p => POLICY_LABEL[p]).join(', ')} beat${medianOnly.length === 1 ? 's' : ''} every fixed count on both workloads.`
        : ''
    } The sweeps are small (${results.map(r => `${verdicts[results.indexOf(r)][0].seeds} seeds`).join(' and ')}) and every (c) row still moves with the solver seed, so a median above 1 is a tendency, not a guarantee.`,
    '- **What the makespan objective did** (the finding of the first version): it is indifferent to which segment runs',
    "  first, so a promoted survivor may sit behind new trials. Queued after promotion, the best job's time between its",
    `  promotion and its next segment (solver seed ${cSeeds[0]}): ${perWorkload(r => `(c) ${h(waits(r.w, run(r, 'makespan'))!.queued)} h, (c-s) ${h(waits(r.w, run(r, 'survivors'))!.queued)} h, (c-r) ${h(waits(r.w, run(r, 'by-rung'))!.queued)} h, (c-e) ${h(waits(r.w, run(r, 'earliest-finish'))!.queued)} h`)}.`,
    '- **Why staging alone is not enough ((c-s), (c-r)).** Solving the survivors first still minimises a makespan, and',
    '  that makespan includes the jobs fixed in the instance (mid-segment trials, earlier stages): a survivor may end',
    '  anywhere before the longest of them without changing it; nothing asks for its earliest finish (the greedy start',
    '  even prefers the option with the fewest GPU-seconds under that horizon). So survivors still queue, and',
    '  since a survivor alone on the cluster gets large GPU counts, the new trials behind it start later.',
    '- **What (c-e) changes.** With the survivor alone and everything else `unavailable`, the objective is its own',
    '  finish: it gets the option and GPUs that end its segment first given what is busy, and never waits behind a new',
    '  trial that started after its promotion. That is ASHA\'s priority (promotions before new trials) with Saturn\'s',
    '  choice of technique and GPU count for the survivor, which is the mechanism behind its medians.',
    `- **Why it still loses at the main seed.** Time to best = when the eventual winner starts + its three segments + its waits. ` +
      `First start of the best job (solver seed ${cSeeds[0]}): ${perWorkload(r => {
        const fb = fastestB(r.b);
        return `fastest (b) ${h(firstStart(fb))} h (\`${fb.bestJob}\`), (c) ${h(firstStart(run(r, 'makespan')))} h, (c-e) ${h(firstStart(run(r, 'earliest-finish')))} h (\`${run(r, 'earliest-finish').bestJob}\`)`;
      })}. ` +
      'The new trials are still planned by one makespan solve, which does not care which new trial starts first, and survivors ' +
      'that take more GPUs slow the stream of new trials, so on the grid the winner (late in the job list) starts no earlier ' +
      'than under FIFO and its first segments get the small, GPU-efficient counts the makespan solve prefers. On the 8-job ' +
      'workload (c-e) ranks survivors by their value at the rung; the rank after epoch 1 correlates imperfectly with the final ' +
      'one, and the eventual winner was ranked behind another survivor and queued behind it. There the policies at solver ' +
      'seed 1 also finish a *better* job than (b) (the true best, which no (b) finishes), later: time to best compares the best ' +
      'job each strategy finished, not the same job.',
    `- **What (c-o) and (c-m) change.** (c-e) left two things to the makespan objective: which new trial starts first ` +
      '(a makespan does not care, so on the grid the eventual winner could start late although it was early in the job ' +
      'list), and nothing stopped a survivor from taking a large, poorly scaling GPU count while two dozen new trials waited. ' +
      '(c-o) fixes the first only; (c-m) both. ' +
      `Time to best at the main seed, solver seeds ${cSeeds.join('/')}: ${perWorkload((r) => {
        const seeds = (p: PlanPolicy) => r.c.filter(x => x.policy === p).map(x => h(x.r.timeToBestS)).join('/');
        return `(c-e) ${seeds('earliest-finish')} h, (c-o) ${seeds('in-order')} h, (c-m) ${seeds('marginal')} h, fastest (b) ${h(fastestB(r.b).timeToBestS)} h`;
      })}. ` +
      `Held-out medians of (b) g ÷ policy for g = ${DEFAULTS.fixedCounts.join('/')}: ${perWorkload((r, k) => {
        const v = (p: PlanPolicy) => verdicts[k].find(x => x.policy === p)!.holdoutRatio.map(r2).join('/');
        return `(c-e) ${v('earliest-finish')}, (c-o) ${v('in-order')}, (c-m) ${v('marginal')}`;
      })}.` +
      ' On the 8-job workload (c-m) only ties (b) with 8 GPUs per trial, the count that suits that workload in hindsight: ' +
      'the makespan solve gives every first segment a few GPUs, so all 8 trials reach rung 1 together, late, and at its ' +
      'promotion the winner finds only the GPUs that the survivors ranked before it left free (its segments on ' +
      `${gpusOf(run(results[0], 'marginal'))} GPUs, where (b) ran ${gpusOf(fastestB(results[0].b))}).`,
    `- **What (c-m+) changes.** A survivor that started its next segment on the GPUs free at its promotion is no longer ` +
      'stuck there when GPUs free up later (a trial stopped at a rung, a segment ended): it moves when the move, start-up ' +
      `and restore included, scores better. Time to best at the main seed, solver seeds ${cSeeds.join('/')}: ${perWorkload(r => {
        const seeds = (p: PlanPolicy) => r.c.filter(x => x.policy === p).map(x => h(x.r.timeToBestS)).join('/');
        return `(c-m) ${seeds('marginal')} h, (c-m+) ${seeds('marginal-move')} h, fastest (b) ${h(fastestB(r.b).timeToBestS)} h`;
      })}; the best finished job's segments (solver seed ${cSeeds[0]}): ${perWorkload(r => `(c-m) on ${gpusOf(run(r, 'marginal'))} GPUs, (c-m+) on ${gpusOf(run(r, 'marginal-move'))}`)}. ` +
      `Moves of a survivor mid-segment at the main seed (solver seed ${cSeeds[0]}): ${perWorkload(r => String(run(r, 'marginal-move').segments.filter(x => x.kind === 'resume' && !Number.isInteger(x.fromStep / d.stepsPerEpoch)).length))}. ` +
      `The rule fixed with \`MOVE_SEEDS\`, median time to best over every curve seed but the main one: ${moveVerdicts
        .map(v => `${v.workload}: (c-m) ${h(v.medianKept)} h, (c-m+) ${h(v.medianMoved)} h over ${v.seeds} seeds ((c-m+) sooner at ${v.sooner}, later at ${v.later})`)
        .join('; ')}; so the product ${adopted ? 'takes (c-m+)' : 'keeps (c-m) by default and offers (c-m+) as an option (below)'}.`,
    `- **What it costs.** At the main seed (solver seed ${cSeeds[0]}), (c-e) against (c): ${perWorkload(r => {
      const c = run(r, 'makespan');
      const e = run(r, 'earliest-finish');
      return `makespan ${h(e.makespanS)} h vs ${h(c.makespanS)} h (${pct(e.makespanS, c.makespanS)}), GPU-hours ${e.gpuHours.toFixed(0)} vs ${c.gpuHours.toFixed(0)} (${pct(e.gpuHours, c.gpuHours)})`;
    })}. Giving every survivor its fastest finish spends GPUs on poor scaling; (c) keeps the shortest search (the paper\'s metric).`,
    `- **Ray Tune's own rung rule.** ${raySummary.join('; ')}. Judging on arrival, nobody waits at a rung: when the ` +
      'best job is a fast one that reports early, Ray\'s rule can finish it well before the policies here, whose rule ' +
      'holds the first reports until enough peers have reported; the price is that early trials pass on thin evidence ' +
      'and late ones meet a higher cut-off (how often each rule finished the true best is in the tables). On the ' +
      'medians over all seeds, against every count ' +
      `under Ray's rule: ${results.map((r, k) => `${r.w.name}: ${rayAhead[k].length ? `${rayAhead[k].map(p => POLICY_SHORT[p]).join(' and ')} ahead` : 'neither (c) nor (c-m) ahead'}`).join('; ')}. ` +
      'The criterion is judged against (b) with the same rule as (c), so that it measures placement alone.',
    '- **Disclosure.** (c-s) and (c-r) were specified before any of their results. (c-e) was added after one look at (c-s) and',
    '  (c-r) (the 8-job workload and the grid at the main curve seed, solver seed 1), to remove the queueing explained',
    '  above; its priority order (rung, then value) was chosen before its first run. Its survivor stage was first solved by',
    '  SPASE; that run hit the bound bug below (an invalid plan on the 8-job workload at solver seeds 2 and 3), so the',
    '  one-job stage is now planned exactly, which is what the SPASE solve was meant to return. (c-o) and (c-m) were designed',
    '  after every result above the held-out tables had been seen, on the main curve seed and the sweep; on the way, three',
    '  variants were run and dropped: the new trials and survivors in one SPASE solve, then placed in ASHA\'s order (the',
    '  8-job workload at the main seed: 17.0/15.0/13.6 h at solver seeds 1/2/3); that, with earliest finish once no new',
    '  trial waits (the same figures); and the marginal rule applied to the new trials too, without SPASE (12.3 h; grid',
    '  49.1 h, sweep median against (b) 2 GPUs 0.82). (c-m)\'s first form charged a flat 1 / GPUs whenever anything waited',
    '  (8-job workload 11.7 h; grid 39.2 h, but sweep median against (b) 2 GPUs 1.00); the weights replaced it. The',
    '  held-out seeds were fixed before (c-o) and (c-m) were run on them; they are the test of that post-hoc design. After',
    '  that first run (commit 8b7235d), a review replaced the placement code of `inJobOrder` by SPASE\'s own list decoder',
    '  (`decode`), which picks among free GPUs by best fit instead of the lowest ids; that moved the figures. At 8b7235d:',
    '  8-job workload unchanged ((c-m) 11.7/11.0/11.0 h, sweep median against 8 GPUs 1.07, held-out 0.99); grid (c-m)',
    '  38.5/40.7/36.8 h, sweep medians 2.04/1.18/1.66/2.43, held-out 3.78/2.36/3.05/4.15; (c-o) grid 40.6/47.6/61.7 h.',
    '  No workload, seed, budget or count of the criterion was changed after seeing results. Later (commit 67d9230) a',
    '  third set of curve seeds (the fresh seeds) was fixed before any policy ran on it, to test one more policy; that',
    '  policy proved to be the marginal rule for the new trials too, already run and dropped above (re-run: 12.3 h and',
    '  49.1 h at the main seed, sweep median against (b) 2 GPUs on the grid 0.82), so it was not added. Every policy was',
    '  designed before the fresh seeds were drawn; their table is a third look, not part of the criterion.',
    '  Later still (commits 0ed9081 and the next), an eighth policy, (c-t), was registered before any run of it, with a',
    '  third held-out set (curve seeds 26-33 and 13-16) fixed as its test: as (c-m), but the new trials\' technique and GPU',
    '  count re-chosen from the SPASE solve\'s for the least sum of their ends in job order (each new trial is as likely as',
    '  any to be the winner, so the expected time to its first judgement is the mean of their ends). It does not meet the',
    '  criterion: at the main seed, solver seeds 1/2/3, 11.96/11.96/13.43 h on the 8-job workload (fastest (b) 11.47 h)',
    '  and 21.50/23.00/21.22 h on the grid (fastest (b) 43.83 h); on its held-out seeds, medians of (b) 1/2/4/8 GPUs ÷',
    '  (c-t) 11.70/2.02/1.24/1.26 and 3.31/2.39/2.56/3.38 ((c-m) there: 11.91/1.97/1.27/1.21 and 1.93/1.13/1.36/1.98).',
    '  Against (c-m) over all 32 and 16 curve seeds (solver seed 1) it is faster at 12 and slower at 20 on the 8-job',
    '  workload, faster at 10 and slower at 6 on the grid; with no clear gain on both it was dropped (its code is in',
    '  0ed9081) and the tables above do not carry it.',
    '  Last (2026-12-05), (c-m+) was registered before its first run (commit 0f241e6: `MOVE_SEEDS`, curve seeds 34-41',
    '  and 17-20, and the rule that the product takes it only if its median time to best over every curve seed but the',
    '  main one is not above (c-m)\'s on either workload). It is not a tuning of (c-m) on these figures: it implements',
    '  what the issue asks of a re-plan at a rung (a survivor may get the freed GPUs through checkpoint-resume) and',
    '  what the README listed as a gap (the early-stopping re-plan never moved a job under way). Its design has one',
    '  choice made by principle, not by a run: survivors whose kernel is still starting are movable too, as in the',
    '  makespan re-plan (introspection moves a starting job when the move gains more than the boot it loses); jobs in',
    '  their first segment stay where they are, as the issue speaks of survivors. Its first run was on the main curve',
    '  seed of both workloads (solver seed 1), then this page. The eight earlier policies were all seen first, so the',
    '  main seed is not a fresh test for it; `MOVE_SEEDS` are.',
    '- **Model limits.** Simulated, not measured: runtimes are the instances\' (synthetic but profile-shaped), scaled',
    '  linearly per epoch; start-up and restore are stated constants; validation time is not modelled; the learning',
    '  curves are synthetic and independent of the model and its runtime. The product\'s runner waits on its GPUs at a',
    '  rung for up to 10 s and trains on there when promoted in time, else pauses (a restart, as in (c\'));',
    '  jobs already launched count as under way in its re-plans; the simulation starts a segment the moment it is planned.',
    '',
    '## Solver bugs met (both fixed in src/spase since, commit ca8a1c9)',
    '',
    '1. **A pin over a preemptible running job\'s GPUs is reported infeasible** (src/spase/solve.ts `firstCandidate`,',
    '   through src/spase/anneal.ts `greedyIncumbent` / `modesForTarget`). Both the greedy incumbent (`modesForTarget`',
    '   gives every job with a keep mode mode 0) and the random fallback (`j.modes[0]?.keep ? 0 : …`) keep every',
    '   preemptible running job in place, so when a pin (or an unavailable window) needs one of its GPUs before it ends,',
    '   every candidate fails to decode and `noPlan` throws InfeasibleError, although preempting it gives a plan. Minimal',
    '   instance (`PREEMPT_PIN_INSTANCE` in src/cli/asha-bench.ts): one node of 2 GPUs; P and Q, one option each',
    '   (ddp, 1 GPU, 100 s); running P on GPU 0, 50 s left, `preemptible: true`; pin Q to ddp/1 on GPU 0 at start 0.',
    '   Expected: P preempted and restarted on GPU 1 (0–100 s), Q on GPU 0 (0–100 s), makespan 100 s. The staged',
    '   policies avoid it: a survivor whose GPUs an earlier stage took enters as paused, and every stage instance is',
    '   checked (`preemptibleConflicts`). Fix: let the fallback (and one greedy pass) also try the preemptible jobs\'',
    '   other modes, or decode a keep mode that collides as its best other mode.',
    '2. **The lower bound counts unavailable GPU time past the makespan** (src/spase/bounds.ts `problemLowerBound` and',
    '   `energyLowerBound`: `energy += t` for every unavailable release time `t`). Sound only when every release is',
    '   before the optimal makespan; otherwise `solver.bound_s` exceeds the makespan, the plan fails `validatePlan`',
    '   ("a lower bound cannot exceed the makespan"), is labelled optimal, and `solve` stops at its first candidate',
    '   because it believes it reached the bound. Minimal instance (`RELEASE_BOUND_INSTANCE`): one node of 2 GPUs, GPU 1',
    '   unavailable until 1000 s, one job ddp/1 of 100 s: optimum 100 s, bound (100 + 1000) / 2 = 550 s. Fix: in',
    '   `need(C)` count min(t, C) per GPU, and in `problemLowerBound` do not add releases to the energy (or take the',
    '   least C with Σ min(t, C) + jobs\' energy ≤ GPUs·C).',
    '',
    'Both are fixed (in `need(C)` an unavailable GPU counts min(t, C); the fallback may move a preemptible running job),',
    'and src/spase\'s specs assert the fixed behaviour. The benchmark still re-runs both instances (end of Results). The',
    'staged policies keep their guards (`preemptibleConflicts`, the exact one-job stage), which the fixes made redundant',
    'but not wrong.',
    '',
    '## The re-plan in the product (src/executor/run-loop.ts)',
    '',
    `${meets.length ? '' : 'No policy meets the issue\'s bar, so the figures above do not support claiming that (c) beats (b) on time to best. '}` +
      `For time to best the run loop takes ${product}: at every re-plan of a run with early stopping (a rung\'s judgement, a job\'s end, a lost node, a periodic one):`,
    '',
    ...(adopted
      ? [
          '1. Fix every job in its first segment where it is (`running`, non-preemptible), training or with its kernel still',
          '   starting.',
          '2. Order the survivors (every unsettled job promoted at a rung, except one waiting at a later rung for its',
          '   verdict: paused at its rung, waiting for GPUs, or under way on its next segment): more rungs passed first,',
          '   then the better value at the last one (the run\'s metric and mode), then job order (`survivors` in',
          '   src/executor/rungs.ts).',
          '3. For each in that order: consider carrying on where it is (if it is on GPUs, training or starting, and no',
          '   survivor placed before it in this event takes one of them before it would finish; no new start-up) and every',
          '   (option, node) with start = the time the node has that many GPUs free (start-up and restore included), the',
          '   GPUs busy being those of the jobs fixed in step 1 until they end and of the survivors placed before it from now',
          '   until their planned end; take the least finish + charge × GPU-seconds, charge from `marginalCharge` (ties:',
          '   carry on, then fewer GPU-seconds, fewer GPUs): `earliestFinish`, an exact enumeration, no solver call. A',
          '   survivor under way that does not carry on is checkpointed and resumed on its new placement.'
        ]
      : [
          '1. Fix every job under way where it is (`running`, non-preemptible), and every job already launched whose kernel',
          '   is still starting, a new trial or a resumed survivor (it would otherwise be relaunched elsewhere).',
          '2. Order the promoted jobs not yet launched for their next segment: more rungs passed first, then the better',
          '   value at the last one (the run\'s metric and mode), then job order (`survivors` in src/executor/rungs.ts).',
          '3. For each in that order: consider continuing on its GPUs (if it is still on them and no job placed before it in',
          '   this event takes one of them before it would finish; no start-up) and every (option, node) with start = the',
          '   time the node has that many GPUs free, the GPUs busy being those of running jobs until they end and of the',
          '   promoted jobs placed before it from now until their planned end; take the least finish + charge × GPU-seconds,',
          '   charge from `marginalCharge` (ties: continue, then fewer GPU-seconds, fewer GPUs): `earliestFinish`, an exact',
          '   enumeration, no solver call.'
        ]),
    '4. Solve the new trials\' first segments with SPASE (minimum makespan) with the survivors fixed: kept on their',
    '   GPUs as non-preemptible `running` jobs, moved or waiting as exact `pins` (parallelism, gpus, node, gpu_ids,',
    '   start_s); keep each new trial\'s technique and GPU count and place them in job order (`inJobOrder`).',
    adopted
      ? '5. Take the plan (a move happens only when it scores better, start-up and restore included); start what starts now.'
      : '5. Take the plan (nothing under way moves, so there is no churn to weigh against a gain); start what starts now.',
    '',
    'Steps 1–4 are src/spase/staged.ts `marginalPlan` (given the instance of the remaining work and the survivors in',
    `that order with their weights); the simulation\'s ${product} rows above come from the same function. A job that a`,
    're-plan moves holds back later jobs on the GPUs it moves to (a dispatch rule), so a new trial does not take them',
    'while the survivor pauses to move. In each step of the run loop the judgement comes before the dispatch rules, and',
    'a survivor promoted while paused at its rung keeps its place in that tick without being resumed, so no new trial',
    'takes its GPUs before the re-plan has placed it. Should the re-plan fail, the run loop falls back to the makespan',
    're-plan.',
    '',
    ...(adopted
      ? []
      : [
          'With `move_survivors` (Settings → Saturn → "Early stopping: move survivors under way", `saturn run …',
          '--move-survivors`, `saturn.set_early_stopping(…, move_survivors=True)`) the run loop takes (c-m+) instead: step 2',
          'also takes the survivors under way on their next segment (training, or their kernel starting), and step 3 lets',
          'each carry on where it is or move (checkpoint, resume on its new placement: start-up and restore again). By the',
          'figures above it is the policy that meets the criterion on both workloads, but on the 32-job grid its median time',
          'to best is longer than (c-m)\'s, which the rule fixed before its first run does not allow for the default.',
          ''
        ]),
    'Expect a longer search and more GPU-hours than (c) makespan (figures above). Runs without early stopping keep the',
    'makespan re-plan: there the goal is the whole search\'s execution time.',
    ''
  ].join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  runAshaBench({ quick: args.includes('--quick'), write: !args.includes('--no-write') }).then(
    () => process.exit(0),
    e => {
      process.stderr.write(`asha-bench: ${(e as Error)?.stack ?? e}\n`);
      process.exit(1);
    }
  );
}
