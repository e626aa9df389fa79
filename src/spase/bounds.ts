/**
 * Lower bound on the optimal makespan (FORMAT.md):
 *   LB = max( max_j min_o runtime(j,o), Σ_j min_o gpus(o)·runtime(j,o) / Σ_n gpus(n) )
 * generalised soundly: options that fit no allowed node are ignored, running
 * jobs and unavailable GPUs add their GPU-seconds to the energy term, pinned
 * start times and precedence chains lengthen the path term.
 */
import { compile, Problem } from './problem';
import { Instance } from './types';

export function problemLowerBound(p: Problem): number {
  let energy = 0;
  const minRt = p.jobs.map(j => Math.min(...j.modes.map(m => m.runtime)));
  for (const j of p.jobs) {
    energy += Math.min(...j.modes.map(m => m.gpus * m.runtime));
  }
  for (const r of p.release) {
    for (const t of r) {
      energy += t;
    }
  }
  // earliest starts along precedence chains (Kahn order)
  const es = p.jobs.map(j => j.fixedStart ?? 0);
  const indeg = p.jobs.map(j => j.preds.length);
  const queue = p.jobs.filter(j => j.preds.length === 0).map(j => j.idx);
  while (queue.length) {
    const v = queue.pop()!;
    for (const w of p.jobs[v].succs) {
      es[w] = Math.max(es[w], es[v] + minRt[v]);
      if (--indeg[w] === 0) {
        queue.push(w);
      }
    }
  }
  let path = 0;
  p.jobs.forEach((_, i) => (path = Math.max(path, es[i] + minRt[i])));
  return Math.max(path, p.totalGpus > 0 ? energy / p.totalGpus : 0);
}

/**
 * A stronger, still sound bound: in a plan of makespan C every job j runs an
 * option with runtime <= C - es_j, so it uses at least
 * E_j(C) = min{gpus·runtime : runtime <= C - es_j} GPU-seconds, and
 * Σ_j E_j(C) + unavailable GPU-seconds <= GPUs·C. Returns the least C (>= the
 * FORMAT.md bound) that satisfies this.
 */
export function energyLowerBound(p: Problem): number {
  const base = problemLowerBound(p);
  if (p.totalGpus === 0) {
    return base;
  }
  let fixedEnergy = 0;
  for (const r of p.release) {
    for (const t of r) {
      fixedEnergy += t;
    }
  }
  const es = p.jobs.map(j => j.fixedStart ?? 0);
  const need = (C: number): number => {
    let e = fixedEnergy;
    for (let j = 0; j < p.jobs.length; j++) {
      let best = Infinity;
      for (const m of p.jobs[j].modes) {
        if (m.runtime <= C - es[j] + 1e-9 * C) {
          best = Math.min(best, m.gpus * m.runtime);
        }
      }
      e += best;
    }
    return e / p.totalGpus;
  };
  // candidate breakpoints: C where some option becomes allowed
  const points = new Set<number>([base]);
  p.jobs.forEach((j, i) => j.modes.forEach(m => points.add(m.runtime + es[i])));
  const sorted = [...points].filter(c => c >= base).sort((a, b) => a - b);
  // need(C) is piecewise constant and non-increasing; find the first feasible piece
  for (let k = 0; k < sorted.length; k++) {
    const c = sorted[k];
    const v = need(c);
    const hi = k + 1 < sorted.length ? sorted[k + 1] : Infinity;
    if (v <= c) {
      return c;
    }
    if (v < hi) {
      return v;
    }
  }
  return base;
}

/** The lower bound of an instance (validates it first). */
export function lowerBound(inst: Instance): number {
  return problemLowerBound(compile(inst));
}
