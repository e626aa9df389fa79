/**
 * List-scheduling decoder (serial schedule generation with insertion):
 * job order + mode choice -> start times, node and concrete GPU ids.
 * Honours fixed placements (running jobs, pins), unavailable GPUs and
 * precedence. Each job goes to the earliest time at which `gpus` GPUs of one
 * node are free for its whole runtime (gaps are back-filled), on the node that
 * finishes it first; among free GPUs the ones idle for the shortest time are
 * taken (best fit).
 */
import { PlannedJob, Plan, PLAN_FORMAT, SolverInfo } from './types';
import { Problem } from './problem';

export interface Schedule {
  /** Index into jobs[j].modes. */
  mode: Int32Array;
  node: Int32Array;
  start: Float64Array;
  end: Float64Array;
  ids: number[][];
  makespan: number;
  sumEnd: number;
}

export interface DecodeOptions {
  /** Per-node mode choice (overrides `modes`); return -1 when the node is not allowed. */
  modeForNode?: (job: number, node: number) => number;
  /** Each job holds its whole node (current practice). */
  exclusive?: boolean;
  /** Per job a node index it must go to, or -1 for the node that finishes it first (ignored where not allowed). */
  nodeOf?: ArrayLike<number>;
}

const EPS = 1e-9;

class GpuLine {
  st: number[] = [];
  en: number[] = [];
  /** Earliest c >= t such that [c, c+d) is free. */
  fit(t: number, d: number): number {
    const st = this.st;
    const en = this.en;
    let lo = 0;
    let hi = en.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (en[mid] <= t + EPS * Math.max(1, t)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    let c = t;
    for (let i = lo; i < st.length; i++) {
      if (st[i] < c + d - EPS * Math.max(1, c + d)) {
        if (en[i] > c) {
          c = en[i];
        }
      } else {
        break;
      }
    }
    return c;
  }
  /** End of the latest interval ending at or before t (0 if none). */
  prevEnd(t: number): number {
    let best = 0;
    for (let i = 0; i < this.en.length; i++) {
      if (this.en[i] <= t + EPS * Math.max(1, t)) {
        best = Math.max(best, this.en[i]);
      } else {
        break;
      }
    }
    return best;
  }
  insert(s: number, e: number): void {
    let i = this.st.length;
    while (i > 0 && this.st[i - 1] > s) {
      i--;
    }
    this.st.splice(i, 0, s);
    this.en.splice(i, 0, e);
  }
}

interface Placement {
  t: number;
  ids: number[];
  occupy: number[];
  waste: number;
}

function place(
  lines: GpuLine[],
  k: number,
  d: number,
  est: number,
  fixedStart: number | undefined,
  fixedIds: number[] | undefined,
  exclusive: boolean
): Placement | null {
  const cap = lines.length;
  if (k > cap) {
    return null;
  }
  if (fixedIds) {
    if (fixedIds.some(g => g >= cap)) {
      return null;
    }
    let t = fixedStart ?? est;
    for (let iter = 0; iter < 10000; iter++) {
      let t2 = t;
      for (const g of fixedIds) {
        t2 = Math.max(t2, lines[g].fit(t, d));
      }
      if (t2 <= t) {
        break;
      }
      if (fixedStart !== undefined) {
        return null;
      }
      t = t2;
    }
    return { t, ids: fixedIds, occupy: fixedIds, waste: 0 };
  }
  const need = exclusive ? cap : k;
  let t = fixedStart ?? est;
  const f = new Array<number>(cap);
  for (let iter = 0; iter < 100000; iter++) {
    let ready = 0;
    for (let g = 0; g < cap; g++) {
      f[g] = lines[g].fit(t, d);
      if (f[g] <= t) {
        ready++;
      }
    }
    if (ready >= need) {
      const cands: [number, number][] = [];
      for (let g = 0; g < cap; g++) {
        if (f[g] <= t) {
          cands.push([t - lines[g].prevEnd(t), g]);
        }
      }
      cands.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      const chosen = cands.slice(0, need);
      const occupy = chosen.map(c => c[1]).sort((a, b) => a - b);
      const ids = exclusive ? occupy.slice(0, k) : occupy;
      let waste = 0;
      for (const c of chosen) {
        waste += c[0];
      }
      return { t, ids, occupy, waste };
    }
    if (fixedStart !== undefined) {
      return null;
    }
    const sorted = f.slice().sort((a, b) => a - b);
    const next = sorted[need - 1];
    t = next > t ? next : t + EPS * Math.max(1, t);
  }
  return null;
}

/**
 * Decode `order` (the free jobs, any permutation; fixed jobs are placed first)
 * with `modes[j]` (index into jobs[j].modes). Returns null when the
 * constraints cannot be met in this order (e.g. a pinned start is blocked).
 */
export function decode(
  p: Problem,
  order: ArrayLike<number>,
  modes: ArrayLike<number>,
  opts: DecodeOptions = {}
): Schedule | null {
  const n = p.jobs.length;
  const lines: GpuLine[][] = p.nodes.map((nd, ni) =>
    Array.from({ length: nd.gpus }, (_, g) => {
      const l = new GpuLine();
      const r = p.release[ni][g];
      if (r > 0) {
        l.st.push(-Infinity);
        l.en.push(r);
      }
      return l;
    })
  );
  const sched: Schedule = {
    mode: new Int32Array(n).fill(-1),
    node: new Int32Array(n).fill(-1),
    start: new Float64Array(n),
    end: new Float64Array(n),
    ids: new Array(n),
    makespan: 0,
    sumEnd: 0
  };
  const done = new Uint8Array(n);
  const schedule = (j: number): boolean => {
    const job = p.jobs[j];
    let est = job.fixedStart ?? 0;
    for (const q of job.preds) {
      if (!done[q]) {
        return false;
      }
      est = Math.max(est, sched.end[q]);
    }
    if (job.fixedStart !== undefined && est > job.fixedStart + EPS * Math.max(1, est)) {
      return false;
    }
    let best: Placement | null = null;
    let bestNode = -1;
    let bestMode = -1;
    let bestEnd = Infinity;
    const chosenMode = job.fixed ? 0 : modes[j];
    const m0 = job.modes[chosenMode];
    if (m0 && m0.keep) {
      const pl = place(lines[job.keepNode!], m0.gpus, m0.runtime, 0, 0, job.keepIds, false);
      if (!pl) {
        return false;
      }
      best = pl;
      bestNode = job.keepNode!;
      bestMode = chosenMode;
      bestEnd = pl.t + m0.runtime;
    } else {
      const want = opts.nodeOf ? opts.nodeOf[j] : -1;
      const nodes =
        job.fixedNode !== undefined ? [job.fixedNode] : want >= 0 && job.nodes.includes(want) ? [want] : job.nodes;
      for (const ni of nodes) {
        const mi = opts.modeForNode && !job.fixed ? opts.modeForNode(j, ni) : chosenMode;
        if (mi < 0) {
          continue;
        }
        const m = job.modes[mi];
        if (!m || m.keep || m.gpus > p.nodes[ni].gpus) {
          continue;
        }
        const pl = place(lines[ni], m.gpus, m.runtime, est, job.fixedStart, job.fixedIds, !!opts.exclusive);
        if (!pl) {
          continue;
        }
        const end = pl.t + m.runtime;
        const key = opts.modeForNode ? pl.t : end;
        const bestKey = opts.modeForNode ? (best ? best.t : Infinity) : bestEnd;
        if (
          !best ||
          key < bestKey - EPS * Math.max(1, key) ||
          (Math.abs(key - bestKey) <= EPS * Math.max(1, key) && pl.waste < best.waste)
        ) {
          best = pl;
          bestNode = ni;
          bestMode = mi;
          bestEnd = end;
        }
      }
      if (!best) {
        return false;
      }
    }
    const m = job.modes[bestMode];
    const lineSet = lines[bestNode];
    for (const g of best.occupy) {
      lineSet[g].insert(best.t, best.t + m.runtime);
    }
    sched.mode[j] = bestMode;
    sched.node[j] = bestNode;
    sched.start[j] = best.t;
    sched.end[j] = best.t + m.runtime;
    sched.ids[j] = best.ids;
    done[j] = 1;
    return true;
  };
  // fixed placements first
  for (const job of p.jobs) {
    if (job.fixed && !schedule(job.idx)) {
      return null;
    }
  }
  // then keep-mode and fixed-start jobs, then the rest, deferring jobs whose predecessors are not done
  const first: number[] = [];
  const rest: number[] = [];
  for (let i = 0; i < order.length; i++) {
    const j = order[i];
    const job = p.jobs[j];
    if (job.fixed) {
      continue;
    }
    const m = job.modes[modes[j]];
    if ((m && m.keep) || job.fixedStart !== undefined) {
      first.push(j);
    } else {
      rest.push(j);
    }
  }
  first.sort((a, b) => (p.jobs[a].fixedStart ?? 0) - (p.jobs[b].fixedStart ?? 0));
  const seq = first.concat(rest);
  let pending: number[] = [];
  for (const j of seq) {
    if (!schedule(j)) {
      if (p.jobs[j].preds.some(q => !done[q])) {
        pending.push(j);
        continue;
      }
      return null;
    }
    if (pending.length) {
      let progress = true;
      while (progress && pending.length) {
        progress = false;
        const still: number[] = [];
        for (const q of pending) {
          if (p.jobs[q].preds.every(r => done[r])) {
            if (!schedule(q)) {
              return null;
            }
            progress = true;
          } else {
            still.push(q);
          }
        }
        pending = still;
      }
    }
  }
  if (pending.length) {
    return null;
  }
  let mk = 0;
  let se = 0;
  for (let j = 0; j < n; j++) {
    if (!done[j]) {
      return null;
    }
    mk = Math.max(mk, sched.end[j]);
    se += sched.end[j];
  }
  sched.makespan = mk;
  sched.sumEnd = se;
  return sched;
}

/** Turn a schedule into a `spase-plan/1` document. */
export function toPlan(p: Problem, s: Schedule, solver: SolverInfo): Plan {
  const jobs: PlannedJob[] = p.jobs.map((job, j) => {
    const m = job.modes[s.mode[j]];
    const opt = p.inst.jobs[j].options[m.opt];
    const pj: PlannedJob = {
      id: job.id,
      parallelism: opt.parallelism,
      gpus: opt.gpus,
      node: p.nodes[s.node[j]].id,
      gpu_ids: [...s.ids[j]].sort((a, b) => a - b),
      start_s: s.start[j],
      end_s: s.start[j] + m.runtime
    };
    if (job.pinIndex !== undefined) {
      pj.pinned = true;
    }
    if (m.keep) {
      pj.running = true;
      pj.start_s = 0;
      pj.end_s = m.runtime;
    }
    return pj;
  });
  let mk = 0;
  for (const j of jobs) {
    mk = Math.max(mk, j.end_s);
  }
  return { format: PLAN_FORMAT, instance: p.inst.name, makespan_s: mk, jobs, solver };
}
