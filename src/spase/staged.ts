/**
 * A re-plan for the time until the best job has finished, under early stopping: the jobs promoted at a rung first,
 * one by one, each at its least finish plus what its GPU-seconds cost the jobs placed after it; then the new trials
 * by a minimum-makespan solve, started in job order. The early-stopping benchmark calls this policy (c-m) ("marginal
 * cost"; docs/asha-bench.md), and (c-m+) when the survivors under way on their next segment are among the promoted
 * jobs too (`move_survivors`); the run loop uses it at every re-plan of a run with early stopping.
 *
 * Why not one makespan solve: a makespan is indifferent to which segment runs first, so a survivor (likely the
 * winner) may queue behind new trials, and the new trials may start in any order. Why not every survivor at its
 * earliest finish: a survivor that takes a large, poorly scaling GPU count delays every trial waiting behind it.
 */
import { decode, toPlan } from './decode';
import { compile } from './problem';
import { Instance, optionDuration, Pin, Plan, PlannedJob, RunningJob } from './types';
import { validatePlan } from './validate';

const EPS = 1e-6;

/** A job promoted at a rung whose next segment has not started, and how likely it is to be the winner. */
export interface IRanked {
  job: string;
  /** η^(rungs it passed): it stands for that many started jobs, the others were stopped. A new trial weighs 1. */
  weight: number;
}

export interface IStagedResult {
  plan: Plan;
  /** Solver calls made (one for the new trials, none when there are none). */
  solves: number;
}

/**
 * The exact plan of a one-job instance (busy GPUs given as `unavailable` from now): the placement that finishes the
 * job first, by enumeration of every option, node and start (the earliest time its GPU count is free on that node),
 * plus continuing on its GPUs when the instance has it as a running job. Ties: continuing in place, then fewer
 * GPU-seconds, fewer GPUs, option order, node order, lower GPU ids. With a `charge` > 0 it minimises finish + charge ×
 * GPU-seconds instead of the finish alone. Exact, so no solver call; the result passes `validatePlan`.
 */
export function earliestFinish(inst: Instance, charge = 0): Plan {
  const job = inst.jobs[0];
  const run = inst.running?.find(r => r.job === job.id);
  interface ICand {
    pj: PlannedJob;
    keep: boolean;
    energy: number;
    rank: number;
  }
  const cands: ICand[] = [];
  if (run) {
    cands.push({
      pj: { id: job.id, parallelism: run.parallelism, gpus: run.gpus, node: run.node, gpu_ids: [...run.gpu_ids].sort((a, b) => a - b), start_s: 0, end_s: run.remaining_s, running: true },
      keep: true,
      energy: run.gpus * run.remaining_s,
      rank: -1
    });
  }
  const free = new Map(inst.cluster.nodes.map(n => [n.id, new Array<number>(n.gpus).fill(0)]));
  for (const u of inst.unavailable ?? []) {
    const f = free.get(u.node);
    u.gpu_ids.forEach(g => f && g < f.length && (f[g] = Math.max(f[g], u.until_s)));
  }
  job.options.forEach((o, oi) => {
    inst.cluster.nodes.forEach((n, ni) => {
      if (o.gpus > n.gpus) {
        return;
      }
      const f = free.get(n.id)!;
      const ids = f.map((t, g) => ({ t, g })).sort((x, y) => x.t - y.t || x.g - y.g).slice(0, o.gpus);
      const start = Math.max(0, ...ids.map(x => x.t));
      const d = optionDuration(o);
      cands.push({
        pj: { id: job.id, parallelism: o.parallelism, gpus: o.gpus, node: n.id, gpu_ids: ids.map(x => x.g).sort((a, b) => a - b), start_s: start, end_s: start + d },
        keep: false,
        energy: o.gpus * d,
        rank: oi * inst.cluster.nodes.length + ni
      });
    });
  });
  if (!cands.length) {
    throw new Error(`${inst.name}: job ${job.id} has no option that fits a node of the cluster`);
  }
  const tol = (x: number) => 1e-9 * Math.max(1, x);
  const score = (c: ICand) => c.pj.end_s + charge * c.energy;
  const best = cands.reduce((b, c) => {
    if (Math.abs(score(c) - score(b)) > tol(score(b))) {
      return score(c) < score(b) ? c : b;
    }
    if (c.keep !== b.keep) {
      return c.keep ? c : b;
    }
    if (Math.abs(c.energy - b.energy) > tol(b.energy)) {
      return c.energy < b.energy ? c : b;
    }
    return c.pj.gpus < b.pj.gpus || (c.pj.gpus === b.pj.gpus && c.rank < b.rank) ? c : b;
  });
  return {
    format: 'spase-plan/1',
    instance: inst.name,
    makespan_s: best.pj.end_s,
    jobs: [best.pj],
    solver: { name: 'earliest-finish', status: 'optimal', time_s: 0 }
  };
}

/**
 * The plan with its free jobs (every other job of the instance is fixed) placed again in the instance's order, which
 * is job order, each with the technique and GPU count the plan gave it. SPASE's own list decoder does the placing (a
 * serial schedule with back-fill: a job may use a gap before one placed earlier but never delays it).
 */
export function inJobOrder(inst: Instance, plan: Plan): Plan {
  const p = compile(inst);
  const modes = new Int32Array(p.jobs.length);
  for (const j of p.free) {
    const pj = plan.jobs.find(x => x.id === p.jobs[j].id)!;
    modes[j] = p.jobs[j].modes.findIndex(m => !m.keep && m.parallelism === pj.parallelism && m.gpus === pj.gpus);
  }
  const s = decode(p, p.free, modes);
  if (!s) {
    throw new Error(`${inst.name}: the new trials cannot be placed in job order`);
  }
  return toPlan(p, s, { ...plan.solver, name: `${plan.solver.name}+job-order`, status: 'feasible' });
}

/**
 * What one GPU-second of a promoted job costs, in seconds of its own finish: each job is weighed by how likely it is
 * to be the winner, and a placement that takes E GPU-seconds delays each job placed after it by about E / (GPUs of
 * the cluster). The expected cost weight × finish + Σ weight(after) × E / GPUs, divided by the job's weight, is
 * finish + charge × E with charge = Σ weight(after) / (GPUs × weight). No constant is tuned.
 */
export function marginalCharge(weight: number, after: number[], clusterGpus: number): number {
  return after.reduce((a, x) => a + x, 0) / (clusterGpus * weight);
}

/** A running job that stays where it is (not preemptible). */
function held(r: RunningJob): RunningJob {
  const { job, parallelism, gpus, node, gpu_ids, remaining_s } = r;
  return { job, parallelism, gpus, node, gpu_ids: [...gpu_ids], remaining_s, ...(r.started_s !== undefined ? { started_s: r.started_s } : {}) };
}

function throwIfInvalid(inst: Instance, plan: Plan): void {
  const errs = validatePlan(inst, plan);
  if (errs.length) {
    throw new Error(`${inst.name}: invalid plan: ${errs.slice(0, 3).join('; ')}`);
  }
}

/**
 * The re-plan. `inst`: every job to consider; a `running` job that is not in `promoted` is under way and stays where
 * it is (whatever its `preemptible`); a `running` job in `promoted` is a survivor on its GPUs, at its rung or under way
 * on its next segment (it may carry on there, or move: its options then include start-up and restore); its GPUs are
 * free to the survivors placed before it (one whose GPUs they take moves). Every other job is a new trial. `promoted`
 * gives the order in which the survivors are placed (ASHA's: the highest rung first, then the better value there,
 * then job order) and their weights; the new trials keep the instance's job order. The plan has every job: those under way as `running` from 0.
 */
export async function marginalPlan(inst: Instance, promoted: IRanked[], solve: (stage: Instance) => Promise<Plan>): Promise<IStagedResult> {
  const isPromoted = new Set(promoted.map(p => p.job));
  const fixed = (inst.running ?? []).filter(r => !isPromoted.has(r.job));
  const isFixed = new Set(fixed.map(r => r.job));
  const fresh = inst.jobs.filter(j => !isFixed.has(j.id) && !isPromoted.has(j.id));
  const gpus = inst.cluster.nodes.reduce((a, n) => a + n.gpus, 0);
  const placed = new Map<string, { pj: PlannedJob; kept: boolean }>();
  for (let k = 0; k < promoted.length; k++) {
    const { job: id, weight } = promoted[k];
    const job = inst.jobs.find(j => j.id === id);
    if (!job) {
      throw new Error(`${inst.name}: promoted job ${id} is not in the instance`);
    }
    const busy = [
      ...(inst.unavailable ?? []),
      ...fixed.map(r => ({ node: r.node, gpu_ids: [...r.gpu_ids], until_s: r.remaining_s })),
      // placed before it: busy from now until their planned end (a conservative block, so the instance has no pins)
      ...[...placed.values()].map(p => ({ node: p.pj.node, gpu_ids: [...p.pj.gpu_ids], until_s: p.pj.end_s }))
    ].filter(b => b.until_s > EPS);
    const here = (inst.running ?? []).find(r => r.job === id);
    const taken = !!here && busy.some(b => b.node === here.node && b.gpu_ids.some(g => here.gpu_ids.includes(g)));
    const alone: Instance = {
      format: inst.format,
      name: `${inst.name}#${k}`,
      cluster: inst.cluster,
      jobs: [job],
      running: here && !taken ? [{ ...here, preemptible: true }] : [],
      unavailable: busy
    };
    const after = [...promoted.slice(k + 1).map(p => p.weight), ...fresh.map(() => 1)];
    const plan = earliestFinish(alone, marginalCharge(weight, after, gpus));
    throwIfInvalid(alone, plan);
    placed.set(id, { pj: plan.jobs[0], kept: !!plan.jobs[0].running });
  }
  let solves = 0;
  const trials = new Map<string, PlannedJob>();
  if (fresh.length) {
    const running: RunningJob[] = fixed.map(held);
    const pins: Pin[] = [];
    for (const [id, p] of placed) {
      if (p.kept) {
        const r = inst.running!.find(x => x.job === id)!;
        running.push(held(r));
      } else {
        pins.push({ job: id, parallelism: p.pj.parallelism, gpus: p.pj.gpus, node: p.pj.node, gpu_ids: [...p.pj.gpu_ids], start_s: p.pj.start_s });
      }
    }
    const stage: Instance = {
      format: inst.format,
      name: `${inst.name}#${promoted.length}`,
      cluster: inst.cluster,
      jobs: inst.jobs.filter(j => isFixed.has(j.id) || placed.has(j.id) || fresh.includes(j)),
      running,
      ...(pins.length ? { pins } : {}),
      ...(inst.unavailable?.length ? { unavailable: inst.unavailable } : {})
    };
    // the solve gives each trial its technique and GPU count; the plan used is its re-placement in job order
    const plan = inJobOrder(stage, await solve(stage));
    solves++;
    throwIfInvalid(stage, plan);
    fresh.forEach(j => trials.set(j.id, plan.jobs.find(x => x.id === j.id)!));
  }
  const jobs: PlannedJob[] = [];
  for (const j of inst.jobs) {
    const r = fixed.find(x => x.job === j.id);
    if (r) {
      jobs.push({ id: j.id, parallelism: r.parallelism, gpus: r.gpus, node: r.node, gpu_ids: [...r.gpu_ids], start_s: 0, end_s: r.remaining_s, running: true });
    } else {
      jobs.push((placed.get(j.id) ?? { pj: trials.get(j.id)! }).pj);
    }
  }
  return {
    plan: {
      format: 'spase-plan/1',
      instance: inst.name,
      makespan_s: Math.max(0, ...jobs.map(j => j.end_s)),
      jobs,
      solver: { name: 'marginal', status: 'feasible', time_s: 0 }
    },
    solves
  };
}
