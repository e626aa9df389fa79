/**
 * Node-decomposed annealing, for problems without pins, running jobs, unavailable GPUs or precedence
 * (`!p.constrained`). The state gives every job its node explicitly and, per node, an order of its jobs
 * and their options. Nodes then interact only through the makespan, so a move re-decodes just the one or
 * two nodes it touches (list scheduling with back-filling on that node's GPUs, as `decode` does): at
 * 128 jobs on 4 nodes an iteration costs a small fraction of a whole decode. And the node of each job is
 * searched: the whole-plan decoder puts a job on the node that finishes it first, which cannot
 * reproduce many good plans (decoding a CP-SAT optimum's order and options that way loses 17-27%).
 *
 * Moves: change a job's option (often one on the node that ends last), swap or move jobs within a node,
 * move a job to another node (often the one that frees first), swap two jobs across nodes, re-pack a
 * node's order. Cost: makespan, then (small weights) the mean end time and the mean node finish, which
 * reward freeing room off the critical node. Deterministic for a seed and an iteration budget.
 */
import { Candidate, now, SearchOptions } from './anneal';
import { Schedule } from './decode';
import { Problem } from './problem';
import { Rng } from './rng';

interface NodeSched {
  mk: number;
  se: number;
  /** Per position in the node's order: start, and GPU ids at [i * cap, i * cap + gpus). */
  start: Float64Array;
  ids: Int32Array;
  cap: number;
}

/** Whether the node-decomposed search applies (no cross-node coupling but the makespan). */
export function nodalApplicable(p: Problem): boolean {
  return !p.constrained && p.free.length === p.jobs.length && p.free.length > 1;
}

const EPS = 1e-9;

/**
 * List scheduling with back-filling on one node's GPUs, as `decode` places a job (earliest start at
 * which `gpus` GPUs are free for its whole runtime; among free GPUs those idle the shortest), without
 * allocating per placement: the annealer calls it hundreds of thousands of times.
 */
class NodeDecoder {
  private st: Float64Array[];
  private en: Float64Array[];
  private cnt: Int32Array;
  private f: Float64Array;
  private tmp: Float64Array;
  private waste: Float64Array;
  private taken: Uint8Array;
  constructor(
    private readonly p: Problem,
    private readonly ni: number
  ) {
    const cap = p.nodes[ni].gpus;
    const room = p.jobs.length + 2;
    this.st = Array.from({ length: cap }, () => new Float64Array(room));
    this.en = Array.from({ length: cap }, () => new Float64Array(room));
    this.cnt = new Int32Array(cap);
    this.f = new Float64Array(cap);
    this.tmp = new Float64Array(cap);
    this.waste = new Float64Array(cap);
    this.taken = new Uint8Array(cap);
  }

  /**
   * Earliest c >= t with [c, c + d) free on GPU g: the rule of `decode`'s GpuLine.fit, on this class's typed arrays.
   * Deliberately a copy: one function over ArrayLike for both measured 5% slower on deterministic solves (150000
   * iterations of many-64x4x8: 2.14 s against 2.03 s; the element reads become polymorphic).
   */
  private fit(g: number, t: number, d: number): number {
    const st = this.st[g];
    const en = this.en[g];
    const n = this.cnt[g];
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (en[mid] <= t + EPS * Math.max(1, t)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    let c = t;
    for (let i = lo; i < n; i++) {
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

  /** End of the latest interval on GPU g ending at or before t (0 if none). */
  private prevEnd(g: number, t: number): number {
    const en = this.en[g];
    let best = 0;
    for (let i = 0; i < this.cnt[g]; i++) {
      if (en[i] <= t + EPS * Math.max(1, t)) {
        best = Math.max(best, en[i]);
      } else {
        break;
      }
    }
    return best;
  }

  private insert(g: number, s: number, e: number): void {
    const st = this.st[g];
    const en = this.en[g];
    let i = this.cnt[g];
    while (i > 0 && st[i - 1] > s) {
      st[i] = st[i - 1];
      en[i] = en[i - 1];
      i--;
    }
    st[i] = s;
    en[i] = e;
    this.cnt[g]++;
  }

  run(list: number[], modes: Int32Array): NodeSched {
    const p = this.p;
    const cap = p.nodes[this.ni].gpus;
    for (let g = 0; g < cap; g++) {
      this.cnt[g] = 0;
      const r = p.release[this.ni][g];
      if (r > 0) {
        this.st[g][0] = -Infinity;
        this.en[g][0] = r;
        this.cnt[g] = 1;
      }
    }
    const start = new Float64Array(list.length);
    const ids = new Int32Array(list.length * cap);
    let mk = 0;
    let se = 0;
    const f = this.f;
    for (let i = 0; i < list.length; i++) {
      const m = p.jobs[list[i]].modes[modes[list[i]]];
      const k = m.gpus;
      const d = m.runtime;
      let t = 0;
      for (;;) {
        let ready = 0;
        for (let g = 0; g < cap; g++) {
          f[g] = this.fit(g, t, d);
          if (f[g] <= t) {
            ready++;
          }
        }
        if (ready >= k) {
          break;
        }
        this.tmp.set(f);
        this.tmp.sort();
        const next = this.tmp[k - 1];
        t = next > t ? next : t + EPS * Math.max(1, t);
      }
      // the k ready GPUs idle the shortest before t (ties: lower id), in id order
      this.taken.fill(0);
      for (let g = 0; g < cap; g++) {
        this.waste[g] = f[g] <= t ? t - this.prevEnd(g, t) : Infinity;
      }
      for (let q = 0; q < k; q++) {
        let bg = -1;
        for (let g = 0; g < cap; g++) {
          if (!this.taken[g] && this.waste[g] !== Infinity && (bg < 0 || this.waste[g] < this.waste[bg])) {
            bg = g;
          }
        }
        this.taken[bg] = 1;
      }
      let q = i * cap;
      for (let g = 0; g < cap; g++) {
        if (this.taken[g]) {
          ids[q++] = g;
          this.insert(g, t, t + d);
        }
      }
      start[i] = t;
      const e = t + d;
      if (e > mk) {
        mk = e;
      }
      se += e;
    }
    return { mk, se, start, ids, cap };
  }
}

function toSchedule(p: Problem, lists: number[][], modes: Int32Array, res: NodeSched[]): Schedule {
  const n = p.jobs.length;
  const s: Schedule = {
    mode: new Int32Array(n).fill(-1),
    node: new Int32Array(n).fill(-1),
    start: new Float64Array(n),
    end: new Float64Array(n),
    ids: new Array(n),
    makespan: 0,
    sumEnd: 0
  };
  lists.forEach((list, ni) =>
    list.forEach((j, i) => {
      s.mode[j] = modes[j];
      s.node[j] = ni;
      s.start[j] = res[ni].start[i];
      s.end[j] = res[ni].start[i] + p.jobs[j].modes[modes[j]].runtime;
      const c = res[ni].cap;
      s.ids[j] = Array.from(res[ni].ids.subarray(i * c, i * c + p.jobs[j].modes[modes[j]].gpus));
      s.makespan = Math.max(s.makespan, s.end[j]);
      s.sumEnd += s.end[j];
    })
  );
  return s;
}

/**
 * Cost weights (mean end time, mean node finish; both small beside the makespan), the starting
 * temperature (share of the makespan), the cumulative move probabilities and how often an option
 * change picks a job on the node that ends last.
 */
export const NODAL_WEIGHTS = { sumEnd: 0.01, nodeEnd: 0.05, t0: 0.02, pMode: 0.3, pSwap: 0.5, pIns: 0.65, pRepack: 0.72, pMove: 0.9, crit: 0.4 };

export function nodalAnneal(p: Problem, start: Candidate, o: SearchOptions): Candidate {
  const rng = new Rng(o.seed);
  const t0 = now();
  const budgetMs = o.timeLimitS * 1000;
  const n = p.jobs.length;
  const N = p.nodes.length;
  const cap = p.nodes.map(x => x.gpus);
  const modes = new Int32Array(start.sched.mode);
  const nodeOf = new Int32Array(start.sched.node);
  let lists: number[][] = p.nodes.map(() => []);
  p.free
    .slice()
    .sort((a, b) => start.sched.start[a] - start.sched.start[b] || a - b)
    .forEach(j => lists[nodeOf[j]].push(j));
  const dec = p.nodes.map((_, ni) => new NodeDecoder(p, ni));
  const decodeNode = (ni: number, list: number[]) => dec[ni].run(list, modes);
  let res = lists.map((l, ni) => decodeNode(ni, l));
  const W = NODAL_WEIGHTS;
  const costOf = (mk: number, se: number, nodeSum: number) => mk + (W.sumEnd * se) / n + (W.nodeEnd * nodeSum) / N;
  const totals = (r: NodeSched[]) => {
    let mk = 0;
    let se = 0;
    let ns = 0;
    for (const x of r) {
      mk = Math.max(mk, x.mk);
      se += x.se;
      ns += x.mk;
    }
    return { mk, se, ns };
  };
  let cur = totals(res);
  let curCost = costOf(cur.mk, cur.se, cur.ns);
  let best = start;
  let bestMk = start.sched.makespan;
  let bestSe = start.sched.sumEnd;
  let bestLists = lists.map(l => l.slice());
  let bestModes = new Int32Array(modes);
  const tol = (x: number) => 1e-9 * Math.max(1, x);
  const snapshot = (): Candidate => {
    const sched = toSchedule(p, lists, modes, res);
    const order = p.free.slice().sort((a, b) => sched.start[a] - sched.start[b] || a - b);
    return { order, modes: new Int32Array(modes), sched, nodeOf: new Int32Array(nodeOf) };
  };
  if (cur.mk < bestMk - tol(bestMk)) {
    best = snapshot();
    bestMk = cur.mk;
    bestSe = cur.se;
    o.onImprove?.(best);
  }
  const mk0 = Math.max(cur.mk, bestMk);
  const T0 = W.t0 * mk0 * (o.heat ?? 1);
  const T1 = 0.0002 * mk0;
  const maxIters = o.maxIters ?? Infinity;
  const target = o.target ?? 0;
  const multi = p.free.filter(j => p.jobs[j].modes.length > 1);
  const fits = (j: number, m: number, ni: number) => p.jobs[j].modes[m].gpus <= cap[ni];
  const canGo = (j: number, ni: number) => p.jobs[j].nodes.includes(ni) && fits(j, 0, ni);
  /** The option of job j on node ni: `m` if it fits, else the largest that fits (options ascend in GPUs). */
  const modeOn = (j: number, m: number, ni: number) => {
    let k = m;
    while (k > 0 && !fits(j, k, ni)) {
      k--;
    }
    return k;
  };
  const critical = () => {
    let c = 0;
    for (let ni = 1; ni < N; ni++) {
      if (res[ni].mk > res[c].mk) {
        c = ni;
      }
    }
    return c;
  };
  const someNode = (minJobs: number) => {
    const c = critical();
    if (rng.next() < 0.5 && lists[c].length >= minJobs) {
      return c;
    }
    const ni = rng.int(N);
    return lists[ni].length >= minJobs ? ni : -1;
  };
  let frac = 0;
  let lastImprove = 0;
  const stall = 4000 + 40 * n;
  for (let it = 0; it < maxIters; it++) {
    if ((it & 15) === 0) {
      const el = now() - t0;
      if (el >= budgetMs || (o.shouldStop && o.shouldStop())) {
        break;
      }
      frac = o.maxIters ? it / o.maxIters : el / budgetMs;
    }
    if (bestMk <= target * (1 + 1e-9)) {
      break;
    }
    if (it - lastImprove > stall) {
      lists = bestLists.map(l => l.slice());
      modes.set(bestModes);
      lists.forEach((l, ni) => l.forEach(j => (nodeOf[j] = ni)));
      res = lists.map((l, ni) => decodeNode(ni, l));
      cur = totals(res);
      curCost = costOf(cur.mk, cur.se, cur.ns);
      lastImprove = it;
    }
    const T = T0 * Math.pow(T1 / T0, frac);
    // a move: new lists for nodes a (and b), option changes to undo on rejection
    let a = -1;
    let b = -1;
    let la: number[] | null = null;
    let lb: number[] | null = null;
    const undoModes: [number, number][] = [];
    const setMode = (j: number, m: number) => {
      if (modes[j] !== m) {
        undoModes.push([j, modes[j]]);
        modes[j] = m;
      }
    };
    const r = rng.next();
    const pMode = W.pMode;
    const pSwap = W.pSwap;
    const pIns = W.pIns;
    const pRepack = W.pRepack;
    const pMove = N > 1 ? W.pMove : 1;
    if (r < pMode) {
      if (!multi.length) {
        continue;
      }
      let j: number;
      const c = critical();
      if (rng.next() < W.crit && lists[c].length) {
        j = lists[c][rng.int(lists[c].length)];
      } else {
        j = multi[rng.int(multi.length)];
      }
      const nm = p.jobs[j].modes.length;
      let m = rng.next() < 0.7 ? modes[j] + (rng.next() < 0.5 ? -1 : 1) : rng.int(nm);
      if (m < 0 || m >= nm || m === modes[j] || !fits(j, m, nodeOf[j])) {
        continue;
      }
      a = nodeOf[j];
      la = lists[a];
      setMode(j, m);
    } else if (r < pIns) {
      a = someNode(2);
      if (a < 0) {
        continue;
      }
      la = lists[a].slice();
      const len = la.length;
      const x = rng.int(len);
      let y = rng.int(len - 1);
      if (y >= x) {
        y++;
      }
      if (r < pSwap) {
        const t = la[x];
        la[x] = la[y];
        la[y] = t;
      } else {
        const t = la.splice(x, 1)[0];
        la.splice(y, 0, t);
      }
    } else if (r < pRepack) {
      // re-pack a node: longest first, widest first, or shuffle a stretch
      a = someNode(3);
      if (a < 0) {
        continue;
      }
      la = lists[a].slice();
      const how = rng.next();
      const rt = (j: number) => p.jobs[j].modes[modes[j]].runtime;
      const g = (j: number) => p.jobs[j].modes[modes[j]].gpus;
      if (how < 0.2) {
        la.sort((u, v) => rt(v) - rt(u) || u - v);
      } else if (how < 0.4) {
        la.sort((u, v) => g(v) - g(u) || rt(v) - rt(u) || u - v);
      } else {
        const x = rng.int(la.length - 1);
        const y = x + 2 + rng.int(Math.min(4, la.length - x - 1));
        const part = rng.shuffle(la.slice(x, y));
        la.splice(x, part.length, ...part);
      }
    } else if (r < pMove) {
      // move a job to another node (often the one that frees first), at a random place there
      a = someNode(1);
      if (a < 0) {
        continue;
      }
      const j = lists[a][rng.int(lists[a].length)];
      if (rng.next() < 0.5) {
        let lo = -1;
        for (let ni = 0; ni < N; ni++) {
          if (ni !== a && canGo(j, ni) && (lo < 0 || res[ni].mk < res[lo].mk)) {
            lo = ni;
          }
        }
        b = lo;
      } else {
        b = rng.int(N);
      }
      if (b < 0 || b === a || !canGo(j, b)) {
        continue;
      }
      la = lists[a].filter(x => x !== j);
      lb = lists[b].slice();
      lb.splice(rng.int(lb.length + 1), 0, j);
      const m = rng.next() < 0.3 ? modeOn(j, rng.int(p.jobs[j].modes.length), b) : modeOn(j, modes[j], b);
      setMode(j, m);
    } else {
      // swap two jobs across nodes, each taking the other's place in the order
      a = someNode(1);
      if (a < 0) {
        continue;
      }
      b = rng.int(N - 1);
      if (b >= a) {
        b++;
      }
      if (!lists[b].length) {
        continue;
      }
      const x = rng.int(lists[a].length);
      const y = rng.int(lists[b].length);
      const ja = lists[a][x];
      const jb = lists[b][y];
      if (!canGo(ja, b) || !canGo(jb, a)) {
        continue;
      }
      la = lists[a].slice();
      lb = lists[b].slice();
      la[x] = jb;
      lb[y] = ja;
      setMode(ja, modeOn(ja, modes[ja], b));
      setMode(jb, modeOn(jb, modes[jb], a));
    }
    const ra = decodeNode(a, la!);
    const rb = b >= 0 ? decodeNode(b, lb!) : null;
    let mk = 0;
    let se = 0;
    let ns = 0;
    for (let ni = 0; ni < N; ni++) {
      const x = ni === a ? ra : ni === b ? rb! : res[ni];
      mk = Math.max(mk, x.mk);
      se += x.se;
      ns += x.mk;
    }
    const c = costOf(mk, se, ns);
    if (c <= curCost || rng.next() < Math.exp((curCost - c) / Math.max(T, 1e-12))) {
      lists[a] = la!;
      res[a] = ra;
      la!.forEach(j => (nodeOf[j] = a));
      if (b >= 0) {
        lists[b] = lb!;
        res[b] = rb!;
        lb!.forEach(j => (nodeOf[j] = b));
      }
      cur = { mk, se, ns };
      curCost = c;
      if (mk < bestMk - tol(bestMk) || (mk <= bestMk + tol(bestMk) && se < bestSe - tol(bestSe))) {
        bestMk = mk;
        bestSe = se;
        bestLists = lists.map(l => l.slice());
        bestModes = new Int32Array(modes);
        best = snapshot();
        lastImprove = it;
        o.onImprove?.(best);
      }
    } else {
      for (let k = undoModes.length - 1; k >= 0; k--) {
        modes[undoModes[k][0]] = undoModes[k][1];
      }
    }
  }
  return best;
}
