/**
 * Heuristic incumbent and local search.
 *
 * - `greedyIncumbent`: a family of malleable-scheduling constructions: for a
 *   target length T every job takes its least-GPU-seconds option that runs in
 *   at most T (else its fastest), longest first, list scheduled; T sweeps
 *   around the lower bound; the best decode wins.
 * - `anneal`: simulated annealing over (job order, option choice), each state
 *   decoded by the list scheduler. Deterministic for a given seed and
 *   iteration limit; with a time budget the number of iterations depends on
 *   the machine's speed.
 */
import { decode, Schedule } from './decode';
import { Problem } from './problem';
import { problemLowerBound } from './bounds';
import { Rng } from './rng';

export function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

export interface Candidate {
  order: number[];
  modes: Int32Array;
  sched: Schedule;
  /** Per job a node it must go to, or -1 (the decoder's choice); absent = all -1. */
  nodeOf?: Int32Array;
}

// eslint-disable-next-line prefer-const
export let COST_W = 0.01;
// eslint-disable-next-line prefer-const
export let SA_T0 = 0.02;
export function setT0(x: number): void {
  SA_T0 = x;
}
export function setCostWeight(w: number): void {
  COST_W = w;
}

export function cost(p: Problem, s: Schedule): number {
  return s.makespan + (COST_W * s.sumEnd) / Math.max(1, p.jobs.length);
}

function better(a: Schedule, b: Schedule | null): boolean {
  if (!b) {
    return true;
  }
  const tol = 1e-9 * Math.max(1, b.makespan);
  return a.makespan < b.makespan - tol || (a.makespan <= b.makespan + tol && a.sumEnd < b.sumEnd - tol);
}

function keepIdx(p: Problem, j: number): number {
  return p.jobs[j].modes[0]?.keep ? 0 : -1;
}

/** Modes: least GPU-seconds option with runtime <= T (fastest if none). */
function modesForTarget(p: Problem, T: number): Int32Array {
  const modes = new Int32Array(p.jobs.length);
  p.jobs.forEach((job, j) => {
    const k = keepIdx(p, j);
    if (k >= 0 || job.fixed) {
      modes[j] = 0;
      return;
    }
    let best = -1;
    let fastest = 0;
    job.modes.forEach((m, i) => {
      if (m.runtime < job.modes[fastest].runtime) {
        fastest = i;
      }
      if (m.runtime <= T && (best < 0 || m.gpus * m.runtime < job.modes[best].gpus * job.modes[best].runtime)) {
        best = i;
      }
    });
    modes[j] = best >= 0 ? best : fastest;
  });
  return modes;
}

export function greedyIncumbent(p: Problem, extra: Candidate[] = []): Candidate | null {
  const lb = problemLowerBound(p);
  const targets = new Set<number>([Infinity]);
  for (let f = 0.3; f <= 2.01; f += 0.05) {
    targets.add(lb * f);
  }
  let best: Candidate | null = null;
  for (const c of extra) {
    if (better(c.sched, best?.sched ?? null)) {
      best = c;
    }
  }
  // targets that give the same options decode to the same schedules: decode each option vector once
  const seen = new Set<string>();
  for (const T of targets) {
    const modes = modesForTarget(p, T);
    const key = modes.join(',');
    if (seen.has(key)) {
      continue;
    }
    seen.add(key);
    const rt = (j: number) => p.jobs[j].modes[modes[j]].runtime;
    const orders = [
      p.free.slice().sort((a, b) => rt(b) - rt(a) || a - b),
      p.free
        .slice()
        .sort((a, b) => p.jobs[b].modes[modes[b]].gpus - p.jobs[a].modes[modes[a]].gpus || rt(b) - rt(a) || a - b)
    ];
    for (const order of orders) {
      const s = decode(p, order, modes);
      if (s && better(s, best?.sched ?? null)) {
        best = { order, modes, sched: s };
      }
    }
  }
  return best;
}

/** What every local search of the portfolio takes (`anneal`, `nodalAnneal`). */
export interface SearchOptions {
  timeLimitS: number;
  seed: number;
  /** Stop after this many iterations (for deterministic runs). */
  maxIters?: number;
  /** Stop when the makespan reaches this value (e.g. a proven bound). */
  target?: number;
  shouldStop?: () => boolean;
  onImprove?: (c: Candidate) => void;
  /** Scales the starting temperature (default 1); a later phase continues cooler from the best. */
  heat?: number;
}

export interface AnnealOptions extends SearchOptions {
  /**
   * Node-aware moves (move a job to another node, swap two jobs across nodes,
   * re-pack a node, release a job's node); only where a job can choose
   * between nodes. Default off: the portfolio runs them beside the plain moves.
   */
  nodeMoves?: boolean;
}

export function anneal(p: Problem, start: Candidate, o: AnnealOptions): Candidate {
  const rng = new Rng(o.seed);
  const t0 = now();
  const budgetMs = o.timeLimitS * 1000;
  const free = p.free.filter(j => p.jobs[j].modes.length > 1 || true);
  const n = free.length;
  let best = start;
  if (n === 0) {
    return best;
  }
  let order = start.order.slice();
  let modes = new Int32Array(start.modes);
  let nodeOf = start.nodeOf ? new Int32Array(start.nodeOf) : new Int32Array(p.jobs.length).fill(-1);
  let curCost = cost(p, start.sched);
  let curSched = start.sched;
  const mk0 = start.sched.makespan;
  const T0 = SA_T0 * mk0 * (o.heat ?? 1);
  const T1 = 0.0002 * mk0;
  const maxIters = o.maxIters ?? Infinity;
  const target = o.target ?? 0;
  let frac = 0;
  let lastImprove = 0;
  const multi = free.filter(j => p.jobs[j].modes.length > 1);
  const movable = free.filter(j => p.jobs[j].fixedNode === undefined && p.jobs[j].nodes.length > 1 && !p.jobs[j].modes[0]?.keep);
  const nodeAware = !!o.nodeMoves && movable.length > 0;
  const N = p.nodes.length;
  const fits = (j: number, m: number, n: number) => p.jobs[j].modes[m].gpus <= p.nodes[n].gpus;
  /** Largest-GPU mode of job j that fits node n (modes are sorted by GPUs ascending), or -1. */
  const modeOn = (j: number, n: number, m: number): number => {
    if (fits(j, m, n)) {
      return m;
    }
    for (let k = m; k >= 0; k--) {
      if (!p.jobs[j].modes[k].keep && fits(j, k, n)) {
        return k;
      }
    }
    return -1;
  };
  const critNode = (s: Schedule): number => {
    let bestJ = -1;
    for (const j of free) {
      if (bestJ < 0 || s.end[j] > s.end[bestJ]) {
        bestJ = j;
      }
    }
    return bestJ >= 0 ? s.node[bestJ] : 0;
  };
  const nodeEnd = (s: Schedule): Float64Array => {
    const e = new Float64Array(N);
    for (let j = 0; j < p.jobs.length; j++) {
      if (s.node[j] >= 0 && s.end[j] > e[s.node[j]]) {
        e[s.node[j]] = s.end[j];
      }
    }
    return e;
  };
  for (let it = 0; it < maxIters; it++) {
    if ((it & 15) === 0) {
      const el = now() - t0;
      if (el >= budgetMs || (o.shouldStop && o.shouldStop())) {
        break;
      }
      frac = o.maxIters ? it / o.maxIters : el / budgetMs;
    }
    if (best.sched.makespan <= target * (1 + 1e-9)) {
      break;
    }
    // restart from the best after a long stall
    if (it - lastImprove > 4000 + 40 * n) {
      order = best.order.slice();
      modes = new Int32Array(best.modes);
      nodeOf = best.nodeOf ? new Int32Array(best.nodeOf) : new Int32Array(p.jobs.length).fill(-1);
      curSched = best.sched;
      curCost = cost(p, curSched);
      lastImprove = it;
    }
    const T = T0 * Math.pow(T1 / T0, frac);
    let newOrder = order;
    let newModes = modes;
    let newNodeOf = nodeOf;
    const r = rng.next();
    let undo: (() => void) | null = null;
    const pMode = nodeAware ? 0.38 : 0.4;
    const pSwap = nodeAware ? 0.6 : 0.7;
    const pInsert = nodeAware ? 0.82 : 1;
    if (r < pMode && multi.length) {
      // change an option; prefer a job that ends last
      let j: number;
      if (rng.next() < 0.3) {
        const crit = multi.filter(x => curSched.end[x] >= curSched.makespan * (1 - 1e-9));
        j = crit.length ? crit[rng.int(crit.length)] : multi[rng.int(multi.length)];
      } else {
        j = multi[rng.int(multi.length)];
      }
      const nm = p.jobs[j].modes.length;
      let m: number;
      if (rng.next() < 0.7) {
        m = modes[j] + (rng.next() < 0.5 ? -1 : 1);
        if (m < 0) {
          m = 1;
        }
        if (m >= nm) {
          m = nm - 2;
        }
      } else {
        m = rng.int(nm);
      }
      if (m === modes[j] || m < 0) {
        continue;
      }
      newModes = new Int32Array(modes);
      newModes[j] = m;
      if (nodeOf[j] >= 0 && !fits(j, m, nodeOf[j])) {
        newNodeOf = new Int32Array(nodeOf);
        newNodeOf[j] = -1;
      }
    } else if (r < pInsert && n > 1) {
      const a = rng.int(n);
      let b = rng.int(n - 1);
      if (b >= a) {
        b++;
      }
      if (r < pSwap) {
        const x = newOrder[a];
        newOrder[a] = newOrder[b];
        newOrder[b] = x;
        undo = () => {
          newOrder[b] = newOrder[a];
          newOrder[a] = x;
        };
      } else {
        const x = newOrder.splice(a, 1)[0];
        newOrder.splice(b, 0, x);
        undo = () => {
          newOrder.splice(b, 1);
          newOrder.splice(a, 0, x);
        };
      }
    } else if (nodeAware && r >= pInsert) {
      const kind = rng.next();
      const cn = critNode(curSched);
      const onCrit = movable.filter(x => curSched.node[x] === cn);
      const pick = () => (onCrit.length && rng.next() < 0.6 ? onCrit[rng.int(onCrit.length)] : movable[rng.int(movable.length)]);
      if (kind < 0.4) {
        // move a job to another node (often the one that frees up first), maybe earlier in the order
        const j = pick();
        const cur = curSched.node[j];
        const allowed = p.jobs[j].nodes.filter(x => x !== cur);
        if (!allowed.length) {
          continue;
        }
        let tn: number;
        if (rng.next() < 0.5) {
          const e = nodeEnd(curSched);
          tn = allowed.reduce((u, v) => (e[v] < e[u] ? v : u), allowed[0]);
        } else {
          tn = allowed[rng.int(allowed.length)];
        }
        const m = modeOn(j, tn, modes[j]);
        if (m < 0) {
          continue;
        }
        newNodeOf = new Int32Array(nodeOf);
        newNodeOf[j] = tn;
        if (m !== modes[j]) {
          newModes = new Int32Array(modes);
          newModes[j] = m;
        }
        if (rng.next() < 0.5) {
          newOrder = order.slice();
          const at = newOrder.indexOf(j);
          newOrder.splice(at, 1);
          newOrder.splice(rng.int(at + 1), 0, j);
        }
      } else if (kind < 0.7) {
        // swap two jobs across nodes (nodes and, half the time, their places in the order)
        const a = pick();
        const others = movable.filter(x => curSched.node[x] !== curSched.node[a]);
        if (!others.length) {
          continue;
        }
        const b = others[rng.int(others.length)];
        const na = curSched.node[a];
        const nb = curSched.node[b];
        if (!p.jobs[a].nodes.includes(nb) || !p.jobs[b].nodes.includes(na)) {
          continue;
        }
        const ma = modeOn(a, nb, modes[a]);
        const mb = modeOn(b, na, modes[b]);
        if (ma < 0 || mb < 0) {
          continue;
        }
        newNodeOf = new Int32Array(nodeOf);
        newNodeOf[a] = nb;
        newNodeOf[b] = na;
        if (ma !== modes[a] || mb !== modes[b]) {
          newModes = new Int32Array(modes);
          newModes[a] = ma;
          newModes[b] = mb;
        }
        if (rng.next() < 0.5) {
          newOrder = order.slice();
          const ia = newOrder.indexOf(a);
          const ib = newOrder.indexOf(b);
          newOrder[ia] = b;
          newOrder[ib] = a;
        }
      } else if (kind < 0.9) {
        // re-pack a node: keep its jobs there and re-order them among their places in the order
        const nd = rng.next() < 0.6 ? cn : rng.int(N);
        const pos: number[] = [];
        for (let k = 0; k < n; k++) {
          if (curSched.node[order[k]] === nd) {
            pos.push(k);
          }
        }
        if (pos.length < 2) {
          continue;
        }
        const jobsOn = pos.map(k => order[k]);
        const how = rng.next();
        const rt = (j: number) => p.jobs[j].modes[modes[j]].runtime;
        const g = (j: number) => p.jobs[j].modes[modes[j]].gpus;
        if (how < 0.25) {
          jobsOn.sort((u, v) => rt(v) - rt(u) || u - v);
        } else if (how < 0.5) {
          jobsOn.sort((u, v) => g(v) - g(u) || rt(v) - rt(u) || u - v);
        } else {
          // shuffle a random stretch
          const a = rng.int(jobsOn.length - 1);
          const b = a + 2 + rng.int(Math.min(4, jobsOn.length - a - 1));
          const part = rng.shuffle(jobsOn.slice(a, b));
          jobsOn.splice(a, part.length, ...part);
        }
        newOrder = order.slice();
        pos.forEach((k, i) => (newOrder[k] = jobsOn[i]));

      } else {
        // release a job's node: the decoder chooses again
        const fixedOnes = movable.filter(x => nodeOf[x] >= 0);
        if (!fixedOnes.length) {
          continue;
        }
        newNodeOf = new Int32Array(nodeOf);
        newNodeOf[fixedOnes[rng.int(fixedOnes.length)]] = -1;
      }
    } else {
      continue;
    }
    const s = decode(p, newOrder, newModes, nodeAware ? { nodeOf: newNodeOf } : {});
    if (s) {
      const c = cost(p, s);
      if (c <= curCost || rng.next() < Math.exp((curCost - c) / Math.max(T, 1e-12))) {
        order = newOrder;
        modes = newModes;
        nodeOf = newNodeOf;
        curCost = c;
        curSched = s;
        if (better(s, best.sched)) {
          best = { order: newOrder.slice(), modes: new Int32Array(newModes), sched: s, nodeOf: new Int32Array(newNodeOf) };
          lastImprove = it;
          if (o.onImprove) {
            o.onImprove(best);
          }
        }
        continue;
      }
    }
    if (undo) {
      undo();
    }
  }
  return best;
}
