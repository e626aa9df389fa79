/**
 * The anytime hybrid solver and the strategy dispatcher.
 *
 * hybrid: greedy incumbent (streamed at once) -> simulated annealing (node-
 * decomposed where only the makespan couples the nodes, see nodal.ts; else over
 * job order and options through the list decoder) -> HiGHS MILP, warm-started
 * from the incumbent: on the whole problem when it has <= 8 free jobs (which
 * can prove optimality and gives a dual bound), otherwise on windows of 6-8
 * jobs with the rest fixed -> annealing again, cooler, with what is left of the
 * budget. Every improvement is streamed through `onPlan`.
 */
import { anneal, Candidate, greedyIncumbent, now } from './anneal';
import { baselineSchedule, BaselineName } from './baselines';
import { energyLowerBound, problemLowerBound } from './bounds';
import { decode, Schedule, toPlan } from './decode';
import { getHighs, milpApplicable, milpImprove } from './milp';
import { nodalAnneal, nodalApplicable } from './nodal';
import { compile, Problem } from './problem';
import { Rng } from './rng';
import { InfeasibleError, Plan, SolveOptions, SolverStatus, STRATEGIES, Strategy } from './types';
import { validatePlan } from './validate';

export const MILP_WHOLE_MAX_JOBS = 8;

function pinsNamed(p: Problem): string[] {
  const out: string[] = [];
  p.jobs.forEach(j => {
    if (j.pinIndex !== undefined && (j.fixedStart !== undefined || j.fixedIds)) {
      out.push(`pins[${j.pinIndex}] (job ${j.id})`);
    }
    if (j.runningIndex !== undefined) {
      out.push(`running[${j.runningIndex}] (job ${j.id})`);
    }
  });
  (p.inst.precedence ?? []).forEach((_, i) => out.push(`precedence[${i}]`));
  return out;
}

function noPlan(p: Problem): never {
  const names = pinsNamed(p);
  throw new InfeasibleError(
    `infeasible constraints: no plan honours ${names.length ? names.join(', ') : 'the instance'} together`,
    names
  );
}

/** Greedy incumbent with a fallback of random orders (for tightly pinned instances). */
export function firstCandidate(p: Problem, seed = 1): Candidate {
  const g = greedyIncumbent(p);
  if (g) {
    return g;
  }
  const rng = new Rng(seed);
  for (let k = 0; k < 200; k++) {
    // a preemptible running job keeps its place first (mode 0), later tries may move it (its other modes)
    const modes = new Int32Array(p.jobs.map(j => (j.modes[0]?.keep && k === 0 ? 0 : rng.int(j.modes.length))));
    const order = rng.shuffle(p.free.slice());
    const s = decode(p, order, modes);
    if (s) {
      return { order, modes, sched: s };
    }
  }
  return noPlan(p);
}

export async function solve(instance: unknown, opts: SolveOptions = {}): Promise<Plan> {
  const t0 = now();
  const strategy: Strategy = opts.strategy ?? 'hybrid';
  if (!STRATEGIES.includes(strategy)) {
    throw new Error(`unknown strategy "${strategy}" (expected one of: ${STRATEGIES.join(', ')})`);
  }
  const seed = opts.seed ?? 1;
  const elapsed = () => (now() - t0) / 1000;
  if (strategy !== 'hybrid' && strategy !== 'anneal') {
    const p = compile(instance, { reduce: 'per-count' });
    const s = baselineSchedule(p, strategy as BaselineName, seed);
    if (!s) {
      noPlan(p);
    }
    const plan = toPlan(p, s!, { name: strategy, status: 'heuristic', time_s: elapsed() });
    opts.onPlan?.(plan);
    return plan;
  }
  const det = opts.iterations !== undefined;
  const iters = Math.max(0, Math.floor(opts.iterations ?? 0));
  const budget = opts.timeLimitS ?? (det ? Infinity : 10);
  const deadline = t0 + budget * 1000;
  const left = () => Math.max(0, (deadline - now()) / 1000);
  const milpNodes = opts.milpNodes ?? (det ? 1000 : undefined);
  const p = compile(instance);
  const lb = Math.max(problemLowerBound(p), energyLowerBound(p));
  let bound = lb;
  let proven = false;
  const name = strategy === 'hybrid' ? 'saturn-hybrid' : 'anneal';
  // the node-decomposed search where nothing but the makespan couples the nodes, else the list decoder's
  const nodal = (opts.search ?? 'nodal') === 'nodal' && nodalApplicable(p);
  let best = firstCandidate(p, seed);
  let bestPlan: Plan | null = null;
  const tol = (x: number) => 1e-9 * Math.max(1, x);
  const status = (): SolverStatus =>
    proven || best.sched.makespan <= bound + tol(bound) ? 'optimal' : left() <= 0 ? 'time_limit' : 'feasible';
  const emit = (c: Candidate, force = false) => {
    if (!force && bestPlan && c.sched.makespan >= bestPlan.makespan_s - tol(c.sched.makespan)) {
      return;
    }
    best = c;
    bestPlan = toPlan(p, c.sched, { name, status: status(), time_s: elapsed(), bound_s: bound });
    opts.onPlan?.(bestPlan);
  };
  emit(best, true);
  const stop = () => !!opts.shouldStop?.() || proven || best.sched.makespan <= bound + tol(bound);
  // A phase gets `seconds` of the wall clock, or `share` of the iterations in deterministic mode.
  const runSA = (seconds: number, share: number, s: number, heat = 1) => {
    const maxIters = det ? Math.round(iters * share) : undefined;
    if ((det ? maxIters! <= 0 : seconds <= 0) || stop()) {
      return;
    }
    const o = {
      timeLimitS: Math.min(seconds, left()),
      maxIters,
      seed: s,
      target: bound,
      nodeMoves: opts.nodeMoves,
      shouldStop: opts.shouldStop,
      heat,
      onImprove: (c: Candidate) => emit(c)
    };
    const res = nodal ? nodalAnneal(p, best, o) : anneal(p, best, o);
    if (res.sched.makespan < best.sched.makespan - tol(res.sched.makespan)) {
      emit(res);
    }
  };
  const tryMilp = (sched: Schedule | null): boolean => {
    if (!sched || sched.makespan >= best.sched.makespan - tol(sched.makespan)) {
      return false;
    }
    const plan = toPlan(p, sched, { name, status: 'feasible', time_s: elapsed() });
    if (validatePlan(p.inst, plan).length) {
      return false;
    }
    const order = p.free.slice().sort((a, c) => sched.start[a] - sched.start[c] || a - c);
    emit({ order, modes: new Int32Array(sched.mode), sched, nodeOf: new Int32Array(sched.node) });
    return true;
  };
  const useMilp = strategy === 'hybrid' && !opts.noMilp && milpApplicable(p) && p.free.length > 1;
  if (useMilp && p.free.length <= MILP_WHOLE_MAX_JOBS) {
    runSA(Math.min(0.5 * budget, 2), 0.5, seed);
    if (!stop() && left() > 0.3) {
      const highs = await getHighs();
      const r = milpImprove(highs, p, best.sched, {
        timeLimitS: left() * 0.9,
        lowerBound: bound,
        seed,
        maxNodes: milpNodes
      });
      if (r.global && r.bound !== undefined) {
        bound = Math.max(bound, Math.min(r.bound, best.sched.makespan));
      }
      tryMilp(r.sched);
      if (r.optimal && r.global) {
        bound = Math.max(bound, Math.min(best.sched.makespan, r.bound ?? 0));
        proven = best.sched.makespan <= (r.bound ?? best.sched.makespan) + tol(best.sched.makespan) || !!r.sched;
        if (proven) {
          bound = best.sched.makespan;
        }
      }
    }
    runSA(left(), 0.5, seed + 1);
  } else if (useMilp && budget >= 3) {
    runSA(0.75 * budget, 0.75, seed);
    const highs = !stop() ? await getHighs() : null;
    // Windows: the latest-starting jobs overall, alternating with those of the
    // node the makespan ends on together with the node that frees up first
    // (the critical path runs through the former; the latter has room).
    const pairWindow = (size: number): { window: number[]; nodes?: number[] } | null => {
      const N = p.nodes.length;
      if (N < 2) {
        return null;
      }
      const endOf = new Float64Array(N);
      let crit = -1;
      for (const j of p.free) {
        const n = best.sched.node[j];
        endOf[n] = Math.max(endOf[n], best.sched.end[j]);
        if (crit < 0 || best.sched.end[j] > best.sched.end[crit]) {
          crit = j;
        }
      }
      const cn = best.sched.node[crit];
      let other = -1;
      for (let n = 0; n < N; n++) {
        if (n !== cn && (other < 0 || endOf[n] < endOf[other])) {
          other = n;
        }
      }
      const nodes = [cn, other];
      const window = p.free
        .filter(j => nodes.includes(best.sched.node[j]))
        .sort((a, c) => best.sched.start[c] - best.sched.start[a] || c - a)
        .slice(0, size);
      return window.length > 1 ? { window, nodes } : null;
    };
    const plan: { size: number; pair: boolean }[] = [
      { size: 8, pair: true },
      { size: 6, pair: false },
      { size: 8, pair: true },
      { size: 8, pair: false },
      { size: 6, pair: true },
      { size: 8, pair: true }
    ];
    let k = 0;
    for (const step of plan) {
      if (!highs || stop() || left() < 0.15 * budget) {
        break;
      }
      const w = step.pair ? pairWindow(step.size) : null;
      const window =
        w?.window ??
        p.free
          .slice()
          .sort((a, c) => best.sched.start[c] - best.sched.start[a] || c - a)
          .slice(0, Math.min(step.size, p.free.length));
      const r = milpImprove(highs, p, best.sched, {
        timeLimitS: Math.min(left() * 0.5, Math.max(0.3, 0.06 * budget)),
        window,
        nodes: w?.nodes,
        seed: seed + k++,
        maxNodes: milpNodes
      });
      tryMilp(r.sched);
    }
    // then anneal on from the best, cooler (a hot restart would throw away what the first run built)
    runSA(left(), 0.25, seed + 1, 0.1);
  } else {
    runSA(left(), 1, seed);
  }
  const final = toPlan(p, best.sched, { name, status: status(), time_s: elapsed(), bound_s: bound });
  return final;
}
