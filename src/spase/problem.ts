/**
 * Compiled form of an instance used by the decoder, the heuristics and the
 * MILP: dominance-reduced modes per job, allowed nodes, fixed placements
 * (running jobs, fully pinned jobs), GPU release times and precedence arcs.
 */
import { dominantOptions } from './dominance';
import { InfeasibleError, Instance, optionDuration } from './types';
import { assertInstance } from './validate';

export interface Mode {
  /** Index into the job's original options. */
  opt: number;
  parallelism: string;
  gpus: number;
  /** How long the job holds its GPUs in this mode: start-up cost + training runtime (or the running job's rest). */
  runtime: number;
  /** Continue a running job where it is (fixed node/ids, start 0, runtime = remaining). */
  keep?: boolean;
}

export interface PJob {
  idx: number;
  id: string;
  /** Candidate modes; all options fit some allowed node. Normal modes sorted by GPUs ascending. */
  modes: Mode[];
  /** Allowed node indices. */
  nodes: number[];
  fixedNode?: number;
  fixedIds?: number[];
  fixedStart?: number;
  /** Pre-placed: never moved by any search (non-preemptible running or fully pinned job). */
  fixed: boolean;
  pinIndex?: number;
  runningIndex?: number;
  /** Node and GPU ids of the running job (for the `keep` mode). */
  keepNode?: number;
  keepIds?: number[];
  preds: number[];
  succs: number[];
}

export interface PNode {
  id: string;
  gpus: number;
}

export interface Problem {
  inst: Instance;
  nodes: PNode[];
  jobs: PJob[];
  /** Free jobs (not pre-placed), in instance order. */
  free: number[];
  /** [node][gpu] time before which the GPU is unavailable. */
  release: number[][];
  totalGpus: number;
  /** True when any pin, running job, unavailable GPU or precedence is present. */
  constrained: boolean;
}

export interface CompileOptions {
  /**
   * 'full' (default): per GPU count the fastest technique, then drop counts not
   * faster than a smaller one. 'per-count': only the first step (the baselines
   * use it, since current practice takes the largest count that fits).
   */
  reduce?: 'full' | 'per-count';
}

export function compile(instance: unknown, copts: CompileOptions = {}): Problem {
  const inst = assertInstance(instance);
  const nodes: PNode[] = inst.cluster.nodes.map(n => ({ id: n.id, gpus: n.gpus }));
  const nodeIdx = new Map(nodes.map((n, i) => [n.id, i]));
  const jobIdx = new Map(inst.jobs.map((j, i) => [j.id, i]));
  const maxCap = Math.max(...nodes.map(n => n.gpus));
  const conflicts: string[] = [];
  const messages: string[] = [];
  const conflict = (who: string, msg: string) => {
    conflicts.push(who);
    messages.push(`${who}: ${msg}`);
  };
  const pinOf = new Map<number, number>();
  (inst.pins ?? []).forEach((p, i) => pinOf.set(jobIdx.get(p.job)!, i));
  const runOf = new Map<number, number>();
  (inst.running ?? []).forEach((r, i) => runOf.set(jobIdx.get(r.job)!, i));

  const jobs: PJob[] = inst.jobs.map((job, idx) => {
    const pinI = pinOf.get(idx);
    const pin = pinI !== undefined ? inst.pins![pinI] : undefined;
    const runI = runOf.get(idx);
    const run = runI !== undefined ? inst.running![runI] : undefined;
    const who = pin ? `pins[${pinI}] (job ${job.id})` : '';
    let allowed = nodes.map((_, i) => i);
    if (pin?.node !== undefined) {
      allowed = [nodeIdx.get(pin.node)!];
    }
    const cap = Math.max(...allowed.map(n => nodes[n].gpus));
    const candidates = job.options.filter(
      o =>
        (pin?.parallelism === undefined || o.parallelism === pin.parallelism) &&
        (pin?.gpus === undefined || o.gpus === pin.gpus) &&
        (pin?.gpu_ids === undefined || o.gpus === pin.gpu_ids.length)
    );
    if (pin && candidates.length === 0) {
      const what = [
        pin.parallelism !== undefined ? `parallelism ${pin.parallelism}` : '',
        pin.gpus !== undefined ? `${pin.gpus} GPUs` : '',
        pin.gpu_ids !== undefined ? `${pin.gpu_ids.length} GPU ids` : ''
      ]
        .filter(Boolean)
        .join(', ');
      conflict(who, `job ${job.id} has no option with ${what}`);
    }
    const reduced = dominantOptions(candidates, cap, copts.reduce !== 'per-count').map(r => ({
      opt: job.options.indexOf(r.option),
      parallelism: r.option.parallelism,
      gpus: r.option.gpus,
      runtime: optionDuration(r.option)
    }));
    if (pin && candidates.length > 0 && reduced.length === 0) {
      conflict(who, `no allowed option of job ${job.id} fits on ${pin.node ?? 'any node'} (${cap} GPUs)`);
    }
    const pj: PJob = {
      idx,
      id: job.id,
      modes: reduced,
      nodes: allowed,
      fixed: false,
      preds: [],
      succs: []
    };
    if (pin) {
      pj.pinIndex = pinI;
      if (pin.node !== undefined) {
        pj.fixedNode = nodeIdx.get(pin.node);
      }
      if (pin.gpu_ids !== undefined) {
        pj.fixedIds = [...pin.gpu_ids].sort((a, b) => a - b);
      }
      if (pin.start_s !== undefined) {
        pj.fixedStart = pin.start_s;
      }
    }
    if (run) {
      pj.runningIndex = runI;
      pj.keepNode = nodeIdx.get(run.node);
      pj.keepIds = [...run.gpu_ids].sort((a, b) => a - b);
      const opt = job.options.findIndex(o => o.parallelism === run.parallelism && o.gpus === run.gpus);
      const keep: Mode = {
        opt,
        parallelism: run.parallelism,
        gpus: run.gpus,
        runtime: run.remaining_s,
        keep: true
      };
      if (pin) {
        conflict(`running[${runI}] (job ${job.id})`, `a running job cannot also be pinned (${who})`);
      }
      if (run.preemptible) {
        pj.modes = [keep, ...reduced];
      } else {
        pj.modes = [keep];
        pj.fixed = true;
        pj.nodes = [nodeIdx.get(run.node)!];
        pj.fixedNode = pj.nodes[0];
        pj.fixedIds = [...run.gpu_ids].sort((a, b) => a - b);
        pj.fixedStart = 0;
      }
    } else if (pj.fixedIds && pj.fixedStart !== undefined && pj.modes.length === 1) {
      pj.fixed = true;
    }
    if (maxCap > 0 && pj.modes.length === 0 && !pin) {
      conflict(`jobs[${idx}] (job ${job.id})`, 'no option fits on any node');
    }
    return pj;
  });
  (inst.precedence ?? []).forEach(pr => {
    const a = jobIdx.get(pr.before)!;
    const b = jobIdx.get(pr.after)!;
    jobs[b].preds.push(a);
    jobs[a].succs.push(b);
  });
  // precedence cycles
  if (inst.precedence?.length) {
    const state = new Array(jobs.length).fill(0);
    const stack: number[] = [];
    const visit = (v: number): number[] | null => {
      state[v] = 1;
      stack.push(v);
      for (const w of jobs[v].succs) {
        if (state[w] === 1) {
          return stack.slice(stack.indexOf(w));
        }
        if (state[w] === 0) {
          const c = visit(w);
          if (c) {
            return c;
          }
        }
      }
      stack.pop();
      state[v] = 2;
      return null;
    };
    for (let v = 0; v < jobs.length; v++) {
      if (state[v] === 0) {
        const cyc = visit(v);
        if (cyc) {
          const names = cyc.map(i => jobs[i].id);
          const entries = (inst.precedence ?? [])
            .map((p, i) => ({ p, i }))
            .filter(({ p }) => names.includes(p.before) && names.includes(p.after))
            .map(({ i }) => `precedence[${i}]`);
          conflicts.push(...entries);
          messages.push(`${entries.join(', ')}: precedence cycle ${names.join(' -> ')} -> ${names[0]}`);
          break;
        }
      }
    }
  }
  const release = nodes.map(n => new Array<number>(n.gpus).fill(0));
  for (const u of inst.unavailable ?? []) {
    const n = nodeIdx.get(u.node)!;
    for (const g of u.gpu_ids) {
      release[n][g] = Math.max(release[n][g], u.until_s);
    }
  }
  // Pairwise conflicts among placements that are certain: fixed ids + fixed start (min runtime), unavailable GPUs.
  interface Block {
    who: string;
    node: number;
    ids: number[];
    s: number;
    e: number;
  }
  const blocks: Block[] = [];
  (inst.unavailable ?? []).forEach((u, i) => {
    if (u.until_s > 0) {
      blocks.push({ who: `unavailable[${i}]`, node: nodeIdx.get(u.node)!, ids: u.gpu_ids, s: -Infinity, e: u.until_s });
    }
  });
  for (const j of jobs) {
    if (j.fixedIds && j.fixedStart !== undefined && j.fixedNode !== undefined && j.modes.length) {
      const who =
        j.runningIndex !== undefined ? `running[${j.runningIndex}] (job ${j.id})` : `pins[${j.pinIndex}] (job ${j.id})`;
      if (j.fixed || j.pinIndex !== undefined) {
        const rt = Math.min(...j.modes.map(m => m.runtime));
        blocks.push({ who, node: j.fixedNode, ids: j.fixedIds, s: j.fixedStart, e: j.fixedStart + rt });
      }
    }
  }
  for (let a = 0; a < blocks.length; a++) {
    for (let b = a + 1; b < blocks.length; b++) {
      const x = blocks[a];
      const y = blocks[b];
      if (x.node !== y.node || (x.who.startsWith('unavailable') && y.who.startsWith('unavailable'))) {
        continue;
      }
      const shared = x.ids.filter(g => y.ids.includes(g));
      if (shared.length && x.s < y.e && y.s < x.e) {
        conflict(
          `${x.who} and ${y.who}`,
          `both need GPU ${shared[0]} of ${nodes[x.node].id} at the same time (${Math.max(x.s, y.s, 0)}–${Math.min(x.e, y.e)} s)`
        );
      }
    }
  }
  // Pinned start before a pinned predecessor can end
  (inst.precedence ?? []).forEach((pr, i) => {
    const a = jobs[jobIdx.get(pr.before)!];
    const b = jobs[jobIdx.get(pr.after)!];
    if (b.fixedStart !== undefined && a.modes.length) {
      const aEnd = (a.fixedStart ?? 0) + Math.min(...a.modes.map(m => m.runtime));
      if (aEnd > b.fixedStart + 1e-9) {
        conflict(`precedence[${i}] and pins[${b.pinIndex ?? '?'}] (job ${b.id})`, `${b.id} is pinned to start at ${b.fixedStart} s but ${a.id} cannot end before ${aEnd} s`);
      }
    }
  });
  if (messages.length) {
    throw new InfeasibleError(`infeasible constraints: ${messages.join('; ')}`, conflicts);
  }
  const free = jobs.filter(j => !j.fixed).map(j => j.idx);
  const constrained = !!(
    inst.pins?.length ||
    inst.running?.length ||
    inst.unavailable?.some(u => u.until_s > 0) ||
    inst.precedence?.length
  );
  return { inst, nodes, jobs, free, release, totalGpus: nodes.reduce((s, n) => s + n.gpus, 0), constrained };
}
