/**
 * Portfolio of solver runs (one per core): the variants each worker runs and
 * the merge of their improving streams. Pure: the Web Worker client
 * (src/solver) and the Node worker_threads driver (src/cli) both use it.
 *
 * Worker 0 runs the hybrid as asked; worker k > 0 with its own seed, odd ones
 * with node-aware annealing moves, so that two cores search different parts of the space. Given the
 * same seed and iteration budget every worker is deterministic, and so is the
 * merge of their final plans (lowest makespan, ties to the lower worker index).
 */
import { Instance, Plan, SolveOptions } from './types';
import { validatePlan } from './validate';

export type PortfolioOptions = Omit<SolveOptions, 'onPlan' | 'shouldStop'>;

/** The options of worker `k` of a portfolio run with base options `o`. */
export function portfolioVariant(o: PortfolioOptions, k: number): PortfolioOptions {
  const seed = o.seed ?? 1;
  if (k === 0) {
    return { ...o, seed };
  }
  return { ...o, seed: seed + 7919 * k, nodeMoves: o.nodeMoves ?? k % 2 === 1 };
}

/** Merges the improving streams of several workers into one strictly improving, validated stream. */
export class PortfolioMerger {
  private best: Plan | null = null;
  private bestWorker = -1;
  private bound = -Infinity;
  constructor(
    private readonly instance: Instance,
    private readonly onPlan?: (plan: Plan) => void
  ) {}

  /** Offer a plan from worker `k`; returns true when it is the new best (and was streamed). */
  offer(k: number, plan: Plan): boolean {
    if (plan.solver.bound_s !== undefined && plan.solver.bound_s > this.bound) {
      this.bound = plan.solver.bound_s;
    }
    const tol = 1e-9 * Math.max(1, plan.makespan_s);
    const b = this.best;
    const better =
      !b || plan.makespan_s < b.makespan_s - tol || (Math.abs(plan.makespan_s - b.makespan_s) <= tol && k < this.bestWorker);
    if (!better || validatePlan(this.instance, plan).length) {
      return false;
    }
    const strictly = !b || plan.makespan_s < b.makespan_s - tol;
    this.best = this.withBound(plan);
    this.bestWorker = k;
    if (strictly) {
      this.onPlan?.(this.best);
    }
    return true;
  }

  private withBound(plan: Plan): Plan {
    if (!Number.isFinite(this.bound)) {
      return plan;
    }
    const bound = Math.min(this.bound, plan.makespan_s);
    const optimal = plan.makespan_s <= bound * (1 + 1e-9);
    return {
      ...plan,
      solver: { ...plan.solver, bound_s: bound, status: optimal ? 'optimal' : plan.solver.status }
    };
  }

  /** The merged best plan (null before the first). */
  result(): Plan | null {
    return this.best ? this.withBound(this.best) : null;
  }
}
