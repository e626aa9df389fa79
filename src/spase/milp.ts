/**
 * MILP model builder + HiGHS (WebAssembly) adapter.
 *
 * Formulation over a set W of "window" jobs, everything else fixed before
 * them (a prefix): each GPU of a node is free from its release time (end of
 * its last prefix job / unavailability). Per node, GPUs are modelled as a
 * resource flow (exact for a cumulative resource and free of GPU-id symmetry):
 *   x[j,m,n]  binary   job j runs option m on node n        Σ_{m,n} x = 1
 *   s_j >= 0           start;  e_j = s_j + Σ d_m x[j,m,n];    C >= e_j
 *   f[q->j,n] integer  GPUs handed from release group q of node n to j
 *   f[i->j,n] integer  GPUs handed from job i to job j on node n
 *   z_ij      binary   i ends before j starts: f[i->j,n] <= U z_ij,
 *                      s_j >= e_i - M (1 - z_ij), z_ij + z_ji <= 1
 *   inflow_j,n = Σ_m g_m x[j,m,n] >= outflow_j,n;  Σ_j f[q->j,n] <= |q|
 *   y_qj binary (late release groups): f[q->j,n] <= |q| y_qj, s_j >= r_q y_qj
 * with one start per job, a bounded big-M (M = the incumbent's makespan,
 * times scaled by it), C <= incumbent, C >= lower bound, the per-node energy
 * cut Σ g·d·x <= Σ_q |q| (C - r_q), and symmetry breaking (identical jobs
 * start in index order; the first job uses the first of identical nodes).
 * The incumbent is passed as a MIP start with `setSolution`.
 * GPU ids are assigned afterwards per node in start order (a flow-feasible
 * schedule always admits such an assignment), then start times are recomputed
 * exactly from the id chains and the result is checked by the caller.
 */
import loadHighs from 'highs';
import { Schedule } from './decode';
import { Problem } from './problem';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type HighsLike = any;

let highsPromise: Promise<HighsLike> | null = null;

/** Load (once) the HiGHS WebAssembly module. */
export function getHighs(): Promise<HighsLike> {
  if (!highsPromise) {
    highsPromise = (loadHighs as unknown as () => Promise<HighsLike>)();
  }
  return highsPromise;
}

export interface MilpResult {
  /** Improved full schedule (null when none found or not better). */
  sched: Schedule | null;
  /** Dual bound (seconds) on the windowed problem; a global bound when `global`. */
  bound?: number;
  optimal: boolean;
  global: boolean;
  status: string;
}

class Builder {
  lb: number[] = [];
  ub: number[] = [];
  cost: number[] = [];
  integ: number[] = [];
  rowLb: number[] = [];
  rowUb: number[] = [];
  rows: [number[], number[]][] = [];
  col(lb: number, ub: number, integer: boolean, cost = 0): number {
    this.lb.push(lb);
    this.ub.push(ub);
    this.cost.push(cost);
    this.integ.push(integer ? 1 : 0);
    return this.lb.length - 1;
  }
  row(lb: number, ub: number, idx: number[], val: number[]): void {
    // merge duplicates
    const m = new Map<number, number>();
    idx.forEach((c, k) => m.set(c, (m.get(c) ?? 0) + val[k]));
    const i2: number[] = [];
    const v2: number[] = [];
    for (const [c, v] of m) {
      if (v !== 0) {
        i2.push(c);
        v2.push(v);
      }
    }
    this.rowLb.push(lb);
    this.rowUb.push(ub);
    this.rows.push([i2, v2]);
  }
  model(inf: number): unknown {
    const starts = [0];
    const indices: number[] = [];
    const values: number[] = [];
    for (const [i, v] of this.rows) {
      indices.push(...i);
      values.push(...v);
      starts.push(indices.length);
    }
    const fix = (a: number[]) => a.map(x => (x === Infinity ? inf : x === -Infinity ? -inf : x));
    return {
      numCols: this.lb.length,
      numRows: this.rows.length,
      colCost: this.cost,
      colLower: fix(this.lb),
      colUpper: fix(this.ub),
      rowLower: fix(this.rowLb),
      rowUpper: fix(this.rowUb),
      matrix: { format: 'csr', numRows: this.rows.length, numCols: this.lb.length, starts, indices, values },
      integrality: this.integ
    };
  }
}

/** Can the MILP handle this problem at all (no exact start/id pins, no preemptible running job)? */
export function milpApplicable(p: Problem): boolean {
  return p.jobs.every(j => (j.fixed ? (j.fixedStart ?? 0) === 0 : j.fixedStart === undefined && !j.fixedIds && !j.modes[0]?.keep));
}

export interface MilpOptions {
  timeLimitS: number;
  /** Jobs to free (default: all free jobs). */
  window?: number[];
  lowerBound?: number;
  seed?: number;
  /** Branch-and-bound node limit (deterministic, unlike the time limit). */
  maxNodes?: number;
  /**
   * Only these nodes (default all): window jobs may only go there, and jobs on
   * other nodes are left alone wherever they are in time.
   */
  nodes?: number[];
}

/**
 * Improve `inc` by re-optimising the jobs in `window` (default all free jobs)
 * with the rest fixed as a prefix. Returns the improved full schedule (not yet
 * validated against the instance: the caller validates).
 */
export function milpImprove(highs: HighsLike, p: Problem, inc: Schedule, o: MilpOptions): MilpResult {
  const W = (o.window ?? p.free).slice().sort((a, b) => inc.start[a] - inc.start[b] || a - b);
  const inW = new Set(W);
  const onlyNodes = o.nodes ? new Set(o.nodes) : null;
  const global = W.length === p.free.length && !onlyNodes;
  const none: MilpResult = { sched: null, optimal: false, global, status: 'skipped' };
  if (W.length === 0) {
    return none;
  }
  const T0 = Math.min(...W.map(j => inc.start[j]));
  // prefix must end before window jobs on every GPU
  const release = p.release.map(r => r.slice());
  for (let j = 0; j < p.jobs.length; j++) {
    if (inW.has(j) || (onlyNodes && !onlyNodes.has(inc.node[j]))) {
      continue;
    }
    if (inc.start[j] >= T0 && !(inc.end[j] <= T0)) {
      // a non-window job that starts inside the window region: not a prefix
      if (inc.start[j] > T0 || !global) {
        return { ...none, status: 'not-a-prefix' };
      }
    }
    for (const g of inc.ids[j]) {
      release[inc.node[j]][g] = Math.max(release[inc.node[j]][g], inc.end[j]);
    }
  }
  const UB = inc.makespan;
  const S = 1 / UB; // time scale
  const b = new Builder();
  const N = p.nodes.length;
  // release groups per node
  const groups: { node: number; r: number; ids: number[] }[][] = p.nodes.map((_, n) => {
    const m = new Map<number, number[]>();
    release[n].forEach((r, g) => {
      const key = r;
      if (!m.has(key)) {
        m.set(key, []);
      }
      m.get(key)!.push(g);
    });
    return [...m.entries()].sort((a, c) => a[0] - c[0]).map(([r, ids]) => ({ node: n, r, ids }));
  });
  const C = b.col(Math.max(0, (o.lowerBound ?? 0) * S - 1e-9), 1, false, 1);
  const est = W.map(j => {
    let e = 0;
    for (const q of p.jobs[j].preds) {
      if (!inW.has(q)) {
        e = Math.max(e, inc.end[q]);
      }
    }
    return e;
  });
  // node classes for symmetry breaking
  const nodeKey = (n: number) => `${p.nodes[n].gpus}|${release[n].slice().sort((a, c) => a - c).join(',')}`;
  const firstOfClass = new Map<string, number>();
  for (let n = 0; n < N; n++) {
    if (onlyNodes && !onlyNodes.has(n)) {
      continue;
    }
    if (!firstOfClass.has(nodeKey(n))) {
      firstOfClass.set(nodeKey(n), n);
    }
  }
  const x: { m: number; n: number; col: number }[][] = [];
  const s: number[] = [];
  W.forEach((j, wi) => {
    const job = p.jobs[j];
    const list: { m: number; n: number; col: number }[] = [];
    job.modes.forEach((m, mi) => {
      for (const n of job.nodes) {
        if (m.gpus > p.nodes[n].gpus || (onlyNodes && !onlyNodes.has(n))) {
          continue;
        }
        if (wi === 0 && firstOfClass.get(nodeKey(n)) !== n) {
          continue;
        }
        list.push({ m: mi, n, col: b.col(0, 1, true) });
      }
    });
    x.push(list);
    s.push(b.col(est[wi] * S, 1, false));
    b.row(1, 1, list.map(e => e.col), list.map(() => 1));
  });
  const dur = (wi: number) => ({
    idx: x[wi].map(e => e.col),
    val: x[wi].map(e => p.jobs[W[wi]].modes[e.m].runtime * S)
  });
  // C >= e_j
  W.forEach((_, wi) => {
    const d = dur(wi);
    b.row(0, Infinity, [C, s[wi], ...d.idx], [1, -1, ...d.val.map(v => -v)]);
  });
  const gpusOn = (wi: number, n: number) => {
    const es = x[wi].filter(e => e.n === n);
    return { idx: es.map(e => e.col), val: es.map(e => p.jobs[W[wi]].modes[e.m].gpus) };
  };
  const maxG = W.map(j => Math.max(...p.jobs[j].modes.map(m => m.gpus)));
  // order variables
  const z = new Map<string, number>();
  const M = 1 + 1e-6;
  for (let a = 0; a < W.length; a++) {
    for (let c = 0; c < W.length; c++) {
      if (a === c) {
        continue;
      }
      const shareNode = x[a].some(e => x[c].some(f => f.n === e.n));
      const prec = p.jobs[W[c]].preds.includes(W[a]);
      if (!shareNode && !prec) {
        continue;
      }
      const zc = b.col(prec ? 1 : 0, 1, true);
      z.set(`${a},${c}`, zc);
      const d = dur(a);
      // s_c >= s_a + d_a - M (1 - z)  ->  s_c - s_a - d_a - M z >= -M
      b.row(-M, Infinity, [s[c], s[a], ...d.idx, zc], [1, -1, ...d.val.map(v => -v), -M]);
    }
  }
  for (let a = 0; a < W.length; a++) {
    for (let c = a + 1; c < W.length; c++) {
      const za = z.get(`${a},${c}`);
      const zb = z.get(`${c},${a}`);
      if (za !== undefined && zb !== undefined) {
        b.row(-Infinity, 1, [za, zb], [1, 1]);
      }
    }
  }
  // identical jobs: start in index order
  const sig = (j: number) =>
    JSON.stringify([p.jobs[j].modes.map(m => [m.gpus, m.runtime]), p.jobs[j].nodes, p.jobs[j].preds, p.jobs[j].succs]);
  for (let a = 0; a < W.length; a++) {
    for (let c = a + 1; c < W.length; c++) {
      if (sig(W[a]) === sig(W[c]) && est[a] === est[c]) {
        b.row(0, Infinity, [s[c], s[a]], [1, -1]);
        break;
      }
    }
  }
  // flows per node
  const flows: { from: number; to: number; n: number; q: number; col: number }[] = []; // from = -1 for source q
  const ycols = new Map<string, number>();
  for (let n = 0; n < N; n++) {
    const onN = W.map((_, wi) => x[wi].some(e => e.n === n));
    for (let wi = 0; wi < W.length; wi++) {
      if (!onN[wi]) {
        continue;
      }
      const inIdx: number[] = [];
      const inVal: number[] = [];
      groups[n].forEach((gq, qi) => {
        const cap = Math.min(gq.ids.length, maxG[wi]);
        const f = b.col(0, cap, true);
        flows.push({ from: -1, to: wi, n, q: qi, col: f });
        inIdx.push(f);
        inVal.push(1);
        if (gq.r * S > est[wi] * S + 1e-12) {
          const y = b.col(0, 1, true);
          ycols.set(`${n},${qi},${wi}`, y);
          b.row(-Infinity, 0, [f, y], [1, -cap]);
          b.row(0, Infinity, [s[wi], y], [1, -gq.r * S]);
        }
      });
      for (let a = 0; a < W.length; a++) {
        if (a === wi || !onN[a]) {
          continue;
        }
        const zc = z.get(`${a},${wi}`)!;
        const cap = Math.min(maxG[a], maxG[wi]);
        const f = b.col(0, cap, true);
        flows.push({ from: a, to: wi, n, q: -1, col: f });
        b.row(-Infinity, 0, [f, zc], [1, -cap]);
        inIdx.push(f);
        inVal.push(1);
      }
      const g = gpusOn(wi, n);
      b.row(0, 0, [...inIdx, ...g.idx], [...inVal, ...g.val.map(v => -v)]);
    }
    // outflow <= gpus
    for (let wi = 0; wi < W.length; wi++) {
      if (!onN[wi]) {
        continue;
      }
      const outs = flows.filter(f => f.n === n && f.from === wi);
      const g = gpusOn(wi, n);
      b.row(-Infinity, 0, [...outs.map(f => f.col), ...g.idx], [...outs.map(() => 1), ...g.val.map(v => -v)]);
    }
    groups[n].forEach((gq, qi) => {
      const outs = flows.filter(f => f.n === n && f.from === -1 && f.q === qi);
      if (outs.length) {
        b.row(-Infinity, gq.ids.length, outs.map(f => f.col), outs.map(() => 1));
      }
    });
    // energy cut per node: Σ g d x - Σ_q |q| C <= - Σ_q |q| r_q
    const eIdx: number[] = [];
    const eVal: number[] = [];
    W.forEach((j, wi) =>
      x[wi].forEach(e => {
        if (e.n === n) {
          const m = p.jobs[j].modes[e.m];
          eIdx.push(e.col);
          eVal.push(m.gpus * m.runtime * S);
        }
      })
    );
    let capSum = 0;
    let relSum = 0;
    for (const gq of groups[n]) {
      capSum += gq.ids.length;
      relSum += gq.ids.length * gq.r * S;
    }
    if (eIdx.length) {
      b.row(-Infinity, -relSum, [...eIdx, C], [...eVal, -capSum]);
    }
  }
  // ---- warm start from the incumbent
  const nCols = b.lb.length;
  const start = new Array<number>(nCols).fill(0);
  start[C] = inc.makespan * S;
  let warmOk = true;
  W.forEach((j, wi) => {
    start[s[wi]] = inc.start[j] * S;
    const e = x[wi].find(e2 => e2.m === inc.mode[j] && e2.n === inc.node[j]);
    if (!e) {
      warmOk = false;
    } else {
      start[e.col] = 1;
    }
  });
  for (const [key, col] of z) {
    const [a, c] = key.split(',').map(Number);
    start[col] = inc.end[W[a]] <= inc.start[W[c]] + 1e-9 * UB ? 1 : 0;
  }
  // GPU chains: per (node, gpu) the window jobs on it in start order
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < p.nodes[n].gpus; g++) {
      const chain = W.map((j, wi) => ({ j, wi }))
        .filter(({ j }) => inc.node[j] === n && inc.ids[j].includes(g))
        .sort((u, v) => inc.start[u.j] - inc.start[v.j]);
      if (!chain.length) {
        continue;
      }
      const qi = groups[n].findIndex(gq => gq.ids.includes(g));
      const f0 = flows.find(f => f.n === n && f.from === -1 && f.q === qi && f.to === chain[0].wi);
      if (f0) {
        start[f0.col] += 1;
        const y = ycols.get(`${n},${qi},${chain[0].wi}`);
        if (y !== undefined) {
          start[y] = 1;
        }
      } else {
        warmOk = false;
      }
      for (let k = 1; k < chain.length; k++) {
        const f = flows.find(ff => ff.n === n && ff.from === chain[k - 1].wi && ff.to === chain[k].wi);
        if (f) {
          start[f.col] += 1;
        } else {
          warmOk = false;
        }
      }
    }
  }
  const model = highs.createModel(b.model(highs.infinity));
  try {
    const hopts: Record<string, number | boolean> = { output_flag: false, mip_rel_gap: 1e-6, random_seed: o.seed ?? 0 };
    if (Number.isFinite(o.timeLimitS)) {
      hopts.time_limit = Math.max(0.05, o.timeLimitS);
    }
    if (o.maxNodes !== undefined) {
      hopts.mip_max_nodes = Math.max(1, Math.floor(o.maxNodes));
    }
    model.options.set(hopts);
    if (warmOk) {
      try {
        model.setSolution({ colValue: start });
      } catch {
        // a rejected start is not fatal
      }
    }
    model.run();
    const st = model.getModelStatus();
    const K = highs.constants.modelStatus;
    const optimal = st === K.optimal;
    let bound: number | undefined;
    try {
      const db = Number(model.info.get('mip_dual_bound'));
      if (Number.isFinite(db)) {
        bound = db / S;
      }
    } catch {
      bound = undefined;
    }
    const statusName = Object.keys(K).find(k => K[k] === st) ?? String(st);
    let sol: Float64Array | null = null;
    try {
      const ps = Number(model.info.get('primal_solution_status'));
      if (ps === 2) {
        sol = model.getSolution().colValue;
      }
    } catch {
      sol = null;
    }
    if (optimal && bound === undefined) {
      bound = model.getObjectiveValue() / S;
    }
    if (!sol) {
      return { sched: null, bound, optimal, global, status: statusName };
    }
    // ---- extract: mode/node/start, then GPU ids in start order, then exact retiming
    const mode = new Int32Array(inc.mode);
    const node = new Int32Array(inc.node);
    const startT = new Float64Array(inc.start);
    const end = new Float64Array(inc.end);
    const ids = inc.ids.slice();
    W.forEach((j, wi) => {
      let bestE = x[wi][0];
      for (const e of x[wi]) {
        if (sol![e.col] > sol![bestE.col]) {
          bestE = e;
        }
      }
      mode[j] = bestE.m;
      node[j] = bestE.n;
      startT[j] = Math.max(0, sol![s[wi]] / S);
    });
    const orderW = W.slice().sort((a, c) => startT[a] - startT[c] || a - c);
    const free = release.map(r => r.slice());
    const tol = 1e-5 * UB;
    for (const j of orderW) {
      const n = node[j];
      const m = p.jobs[j].modes[mode[j]];
      let t = startT[j];
      for (const q of p.jobs[j].preds) {
        t = Math.max(t, end[q]);
      }
      const avail = free[n]
        .map((r, g) => ({ r, g }))
        .filter(e => e.r <= t + tol)
        .sort((u, v) => v.r - u.r || u.g - v.g);
      if (avail.length < m.gpus) {
        return { sched: null, bound, optimal, global, status: statusName + ' (ids failed)' };
      }
      const chosen = avail.slice(0, m.gpus).map(e => e.g);
      let s0 = 0;
      for (const q of p.jobs[j].preds) {
        s0 = Math.max(s0, end[q]);
      }
      for (const g of chosen) {
        s0 = Math.max(s0, free[n][g]);
      }
      startT[j] = Math.max(s0, 0); // exact: as early as its GPUs and predecessors allow
      end[j] = startT[j] + m.runtime;
      ids[j] = chosen.sort((u, v) => u - v);
      for (const g of chosen) {
        free[n][g] = end[j];
      }
    }
    let mk = 0;
    let se = 0;
    for (let j = 0; j < p.jobs.length; j++) {
      mk = Math.max(mk, end[j]);
      se += end[j];
    }
    return {
      sched: { mode, node, start: startT, end, ids, makespan: mk, sumEnd: se },
      bound,
      optimal,
      global,
      status: statusName
    };
  } finally {
    model.dispose();
  }
}
