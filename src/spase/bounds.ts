/**
 * Lower bound on the optimal makespan (docs/spase-format.md):
 *   LB = max( max_j min_o runtime(j,o), Σ_j min_o gpus(o)·runtime(j,o) / Σ_n gpus(n) )
 * generalised soundly: options that fit no allowed node are ignored, running
 * jobs add their GPU-seconds to the energy term, pinned start times and
 * precedence chains lengthen the path term. A GPU unavailable until t takes
 * min(t, C) of a plan of makespan C (counting all of t would exceed the optimum
 * when t outlasts the plan), so the energy term is the least C with
 * (E + Σ_g min(t_g, C)) / GPUs <= C.
 */
import { compile, Problem } from './problem';
import { Instance } from './types';

export function problemLowerBound(p: Problem): number {
  let energy = 0;
  const minRt = p.jobs.map(j => Math.min(...j.modes.map(m => m.runtime)));
  for (const j of p.jobs) {
    energy += Math.min(...j.modes.map(m => m.gpus * m.runtime));
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
  return Math.max(path, p.totalGpus > 0 ? energyTime(energy, p.release.flat(), p.totalGpus) : 0);
}

/**
 * The least C >= 0 with (energy + Σ min(t, C)) / gpus <= C, for GPUs unavailable until the times `releases`.
 * On [t_i, t_i+1) the unavailable part is Σ_{t <= t_i} t + (GPUs still unavailable)·C: linear in C.
 */
export function energyTime(energy: number, releases: number[], gpus: number): number {
  const ts = releases.filter(t => t > 0).sort((a, b) => a - b);
  let below = 0;
  for (let i = 0; i <= ts.length; i++) {
    const lo = i === 0 ? 0 : ts[i - 1];
    const hi = i < ts.length ? ts[i] : Infinity;
    if (i > 0) {
      below += ts[i - 1];
    }
    const u = ts.length - i; // GPUs unavailable past lo
    if (u < gpus) {
      const c = Math.max(lo, (energy + below) / (gpus - u));
      if (c <= hi) {
        return c;
      }
    }
  }
  return (energy + below) / gpus;
}

/**
 * A stronger, still sound bound: in a plan of makespan C every job j runs an
 * option with runtime <= C - es_j, so it uses at least
 * E_j(C) = min{gpus·runtime : runtime <= C - es_j} GPU-seconds, and
 * Σ_j E_j(C) + Σ_g min(unavailable_g, C) <= GPUs·C. Returns the least C (>= the
 * docs/spase-format.md bound) that satisfies this.
 */
export function energyLowerBound(p: Problem): number {
  const base = problemLowerBound(p);
  if (p.totalGpus === 0) {
    return base;
  }
  const releases = p.release.flat();
  const es = p.jobs.map(j => j.fixedStart ?? 0);
  const need = (C: number): number => {
    let e = 0;
    for (const t of releases) {
      e += Math.min(t, C);
    }
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
  // candidate breakpoints: C where some option becomes allowed or an unavailable GPU frees up
  const points = new Set<number>([base, ...releases]);
  p.jobs.forEach((j, i) => j.modes.forEach(m => points.add(m.runtime + es[i])));
  const sorted = [...points].filter(c => c >= base).sort((a, b) => a - b);
  // Between breakpoints the jobs' part of need(C) is constant and each GPU still unavailable at C adds C/GPUs:
  // need(C) = (a + u·C) / GPUs on [c, hi), u = those GPUs. Find the first piece holding a C with need(C) <= C.
  const G = p.totalGpus;
  for (let k = 0; k < sorted.length; k++) {
    const c = sorted[k];
    const v = need(c);
    const hi = k + 1 < sorted.length ? sorted[k + 1] : Infinity;
    if (v <= c) {
      return c;
    }
    const u = releases.filter(t => t > c).length;
    if (u < G) {
      const x = (G * v - u * c) / (G - u); // need(x) = x on this piece
      if (x < hi) {
        return x;
      }
    }
  }
  return base;
}

/** The lower bound of an instance (validates it first). */
export function lowerBound(inst: Instance): number {
  return problemLowerBound(compile(inst));
}
