/**
 * Replays a plan with actual runtimes that differ from the estimates: every
 * job keeps its node, GPU ids and its place in each GPU's order, and starts as
 * soon as all its GPUs are free (and its precedence predecessors, if any, have
 * ended; unavailable GPUs stay unavailable until their time). Jobs keep the
 * same option, so a realised plan may no longer match profiled runtimes: it
 * describes what happens, not what the validator expects.
 *
 * `actual[job]` is the job's realised training time; the job holds its GPUs
 * for its option's start-up cost (`startup_s`) first, except a job that is
 * already running. A job without an entry takes its planned duration.
 */
import { Instance, Plan } from './types';

export interface SimulationResult {
  plan: Plan;
  makespan_s: number;
  /** Per job: realised start minus planned start. */
  delay_s: Record<string, number>;
}

export function simulate(inst: Instance, plan: Plan, actual: Record<string, number> = {}): SimulationResult {
  const free = new Map<string, number>();
  for (const u of inst.unavailable ?? []) {
    for (const g of u.gpu_ids) {
      const k = `${u.node}/${g}`;
      free.set(k, Math.max(free.get(k) ?? 0, u.until_s));
    }
  }
  const preds = new Map<string, string[]>();
  for (const pr of inst.precedence ?? []) {
    preds.set(pr.after, [...(preds.get(pr.after) ?? []), pr.before]);
  }
  const order = plan.jobs
    .map((j, i) => ({ j, i }))
    .sort((a, b) => a.j.start_s - b.j.start_s || a.j.end_s - b.j.end_s || a.i - b.i);
  const end = new Map<string, number>();
  const out = plan.jobs.map(j => ({ ...j, gpu_ids: [...j.gpu_ids] }));
  const delay: Record<string, number> = {};
  let pending = order;
  // precedence may require a job planned earlier in time to wait; iterate until all placed
  for (let guard = 0; pending.length && guard <= plan.jobs.length; guard++) {
    const next: typeof pending = [];
    for (const { j, i } of pending) {
      const ps = preds.get(j.id) ?? [];
      if (ps.some(q => !end.has(q) && plan.jobs.some(x => x.id === q))) {
        next.push({ j, i });
        continue;
      }
      let s = j.running ? 0 : 0;
      for (const g of j.gpu_ids) {
        s = Math.max(s, free.get(`${j.node}/${g}`) ?? 0);
      }
      for (const q of ps) {
        s = Math.max(s, end.get(q) ?? 0);
      }
      if (j.running) {
        s = 0;
      }
      const d = j.id in actual ? actual[j.id] + (j.running ? 0 : startupOf(inst, j)) : j.end_s - j.start_s;
      const e = s + d;
      for (const g of j.gpu_ids) {
        free.set(`${j.node}/${g}`, e);
      }
      end.set(j.id, e);
      out[i].start_s = s;
      out[i].end_s = e;
      delay[j.id] = s - j.start_s;
    }
    pending = next;
  }
  const mk = out.reduce((m, j) => Math.max(m, j.end_s), 0);
  return {
    plan: { ...plan, jobs: out, makespan_s: mk, solver: { ...plan.solver, name: `${plan.solver.name}+simulated` } },
    makespan_s: mk,
    delay_s: delay
  };
}

function startupOf(inst: Instance, pj: { id: string; parallelism: string; gpus: number }): number {
  const job = inst.jobs.find(x => x.id === pj.id);
  const opt = job?.options.find(o => o.parallelism === pj.parallelism && o.gpus === pj.gpus);
  return opt?.startup_s ?? 0;
}
