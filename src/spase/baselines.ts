/**
 * The Saturn paper's baselines (VLDB'24 §4.3, definitions in docs/spase-format.md), each
 * returning a valid plan (pins, running jobs, unavailable GPUs and precedence
 * are honoured by the decoder; pinned options override a baseline's choice).
 *
 * - current practice: every job holds a whole node, using the option with the
 *   most GPUs that fits the node (fastest technique among those); jobs run one
 *   after another, longest first, each onto the node that frees up first.
 * - Min-heuristic: one GPU per job (fastest 1-GPU technique, typically
 *   spilling); a job without a 1-GPU option gets its smallest GPU count; list
 *   scheduled longest first.
 * - Optimus*-greedy: every job starts at its smallest GPU count; repeatedly the
 *   job with the largest runtime gain gets its next larger count, while the
 *   total allocation is below the cluster's GPUs; list scheduled longest first.
 * - randomized: a uniformly random option per job (fastest technique per GPU
 *   count) and a random order (seeded).
 */
import { decode, Schedule, toPlan } from './decode';
import { compile, Problem } from './problem';
import { Rng } from './rng';
import { InfeasibleError, Plan, SolverInfo } from './types';

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

function keepOrFirst(p: Problem, j: number, pick: () => number): number {
  const job = p.jobs[j];
  if (job.modes[0]?.keep) {
    return 0;
  }
  return pick();
}

function lpt(p: Problem, runtime: (j: number) => number): number[] {
  return p.free.slice().sort((a, b) => runtime(b) - runtime(a) || a - b);
}

function finish(p: Problem, s: Schedule | null, name: string, t0: number): Plan {
  if (!s) {
    throw new InfeasibleError(`${name}: could not place the jobs with the given pins/precedence`, []);
  }
  const info: SolverInfo = { name, status: 'heuristic', time_s: (now() - t0) / 1000 };
  return toPlan(p, s, info);
}

export function currentPracticeSchedule(p: Problem): Schedule | null {
  const modeFor = (j: number, cap: number): number => {
    const modes = p.jobs[j].modes;
    let best = -1;
    modes.forEach((m, i) => {
      if (m.keep || m.gpus > cap) {
        return;
      }
      if (best < 0 || m.gpus > modes[best].gpus || (m.gpus === modes[best].gpus && m.runtime < modes[best].runtime)) {
        best = i;
      }
    });
    return best;
  };
  const maxCap = (j: number) => Math.max(...p.jobs[j].nodes.map(n => p.nodes[n].gpus));
  const modes = p.jobs.map((_, j) => keepOrFirst(p, j, () => modeFor(j, maxCap(j))));
  const order = lpt(p, j => p.jobs[j].modes[modes[j]]?.runtime ?? 0);
  return decode(p, order, modes, {
    exclusive: true,
    modeForNode: (j, n) => (p.jobs[j].modes[0]?.keep ? 0 : modeFor(j, p.nodes[n].gpus))
  });
}

export function minHeuristicModes(p: Problem): number[] {
  return p.jobs.map((job, j) =>
    keepOrFirst(p, j, () => {
      let best = 0;
      job.modes.forEach((m, i) => {
        const b = job.modes[best];
        if (m.gpus < b.gpus || (m.gpus === b.gpus && m.runtime < b.runtime)) {
          best = i;
        }
      });
      return best;
    })
  );
}

export function optimusModes(p: Problem): number[] {
  const modes = minHeuristicModes(p);
  // candidate upgrades: next larger GPU count that is faster
  const next = (j: number): number => {
    const job = p.jobs[j];
    const cur = job.modes[modes[j]];
    if (cur.keep || job.fixed) {
      return -1;
    }
    let best = -1;
    job.modes.forEach((m, i) => {
      if (!m.keep && m.gpus > cur.gpus && m.runtime < cur.runtime && (best < 0 || m.gpus < job.modes[best].gpus)) {
        best = i;
      }
    });
    return best;
  };
  let used = p.jobs.reduce((s, job, j) => s + job.modes[modes[j]].gpus, 0);
  while (used < p.totalGpus) {
    let bj = -1;
    let bm = -1;
    let gain = 0;
    for (const j of p.free) {
      const m = next(j);
      if (m < 0) {
        continue;
      }
      const job = p.jobs[j];
      const g = job.modes[modes[j]].runtime - job.modes[m].runtime;
      if (g > gain) {
        gain = g;
        bj = j;
        bm = m;
      }
    }
    if (bj < 0) {
      break;
    }
    used += p.jobs[bj].modes[bm].gpus - p.jobs[bj].modes[modes[bj]].gpus;
    modes[bj] = bm;
  }
  return modes;
}

export type BaselineName = 'current-practice' | 'min-heuristic' | 'optimus-greedy' | 'randomized';

export function baselineSchedule(p: Problem, name: BaselineName, seed = 1): Schedule | null {
  switch (name) {
    case 'current-practice':
      return currentPracticeSchedule(p);
    case 'min-heuristic': {
      const m = minHeuristicModes(p);
      return decode(p, lpt(p, j => p.jobs[j].modes[m[j]].runtime), m);
    }
    case 'optimus-greedy': {
      const m = optimusModes(p);
      return decode(p, lpt(p, j => p.jobs[j].modes[m[j]].runtime), m);
    }
    case 'randomized': {
      const rng = new Rng(seed);
      for (let attempt = 0; attempt < 50; attempt++) {
        const m = p.jobs.map((job, j) => keepOrFirst(p, j, () => rng.int(job.modes.length)));
        const s = decode(p, rng.shuffle(p.free.slice()), m);
        if (s) {
          return s;
        }
      }
      return null;
    }
  }
}

/** Run one baseline on an instance; returns a plan or throws (ValidationError / InfeasibleError). */
export function baseline(instance: unknown, name: BaselineName, seed = 1): Plan {
  const t0 = now();
  const p = compile(instance, { reduce: 'per-count' });
  return finish(p, baselineSchedule(p, name, seed), name, t0);
}

export const currentPractice = (inst: unknown): Plan => baseline(inst, 'current-practice');
export const minHeuristic = (inst: unknown): Plan => baseline(inst, 'min-heuristic');
export const optimusGreedy = (inst: unknown): Plan => baseline(inst, 'optimus-greedy');
export const randomized = (inst: unknown, seed = 1): Plan => baseline(inst, 'randomized', seed);
