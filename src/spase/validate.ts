/**
 * Validation of `spase-instance/1` and `spase-plan/1` documents. Every message
 * starts with the JSON path of the offending field, e.g.
 * `jobs[3].options[1].gpus: must be a positive integer`.
 */
import { INSTANCE_FORMAT, Instance, PLAN_FORMAT, ValidationError, optionDuration } from './types';

/** Relative/absolute tolerance used when comparing times. */
export const TIME_EPS = 1e-6;

export function timeTol(x: number): number {
  return TIME_EPS * Math.max(1, Math.abs(x));
}

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
function isPosInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x > 0;
}
function isNonNegInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0;
}
function isFiniteNum(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}
function isNonEmptyStr(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0;
}

/** Structural + referential checks of an instance. Returns messages (empty = valid). */
export function validateInstance(x: unknown): string[] {
  const errs: string[] = [];
  if (!isObj(x)) {
    return ['(root): must be a JSON object'];
  }
  if (x.format !== INSTANCE_FORMAT) {
    errs.push(`format: must be "${INSTANCE_FORMAT}"`);
  }
  if (typeof x.name !== 'string') {
    errs.push('name: must be a string');
  }
  const nodeGpus = new Map<string, number>();
  if (!isObj(x.cluster)) {
    errs.push('cluster: must be an object with "nodes"');
  } else if (!Array.isArray(x.cluster.nodes) || x.cluster.nodes.length === 0) {
    errs.push('cluster.nodes: must be a non-empty array');
  } else {
    x.cluster.nodes.forEach((n: unknown, i: number) => {
      const p = `cluster.nodes[${i}]`;
      if (!isObj(n)) {
        errs.push(`${p}: must be an object`);
        return;
      }
      if (!isNonEmptyStr(n.id)) {
        errs.push(`${p}.id: must be a non-empty string`);
      } else if (nodeGpus.has(n.id)) {
        errs.push(`${p}.id: duplicate node id "${n.id}"`);
      }
      if (!isPosInt(n.gpus)) {
        errs.push(`${p}.gpus: must be a positive integer`);
      } else if (isNonEmptyStr(n.id) && !nodeGpus.has(n.id)) {
        nodeGpus.set(n.id, n.gpus);
      }
    });
  }
  const maxNode = Math.max(0, ...nodeGpus.values());
  const jobs = new Map<string, Obj>();
  if (!Array.isArray(x.jobs)) {
    errs.push('jobs: must be an array');
  } else {
    x.jobs.forEach((j: unknown, i: number) => {
      const p = `jobs[${i}]`;
      if (!isObj(j)) {
        errs.push(`${p}: must be an object`);
        return;
      }
      if (!isNonEmptyStr(j.id)) {
        errs.push(`${p}.id: must be a non-empty string`);
      } else if (jobs.has(j.id)) {
        errs.push(`${p}.id: duplicate job id "${j.id}"`);
      } else {
        jobs.set(j.id, j);
      }
      if (!Array.isArray(j.options) || j.options.length === 0) {
        errs.push(`${p}.options: must be a non-empty array`);
        return;
      }
      let fits = false;
      j.options.forEach((o: unknown, k: number) => {
        const q = `${p}.options[${k}]`;
        if (!isObj(o)) {
          errs.push(`${q}: must be an object`);
          return;
        }
        if (!isNonEmptyStr(o.parallelism)) {
          errs.push(`${q}.parallelism: must be a non-empty string`);
        }
        if (!isPosInt(o.gpus)) {
          errs.push(`${q}.gpus: must be a positive integer`);
        } else if (o.gpus <= maxNode) {
          fits = true;
        }
        if (!isFiniteNum(o.runtime_s) || o.runtime_s <= 0) {
          errs.push(`${q}.runtime_s: must be a finite number > 0`);
        }
        if (o.startup_s !== undefined && (!isFiniteNum(o.startup_s) || o.startup_s < 0)) {
          errs.push(`${q}.startup_s: must be a finite number >= 0 (seconds from launch to the first step)`);
        }
      });
      if (!fits && maxNode > 0 && errs.length === 0) {
        errs.push(`${p}.options: no option fits on any node (largest node has ${maxNode} GPUs)`);
      }
    });
  }
  const optionOf = (jid: string, par: unknown, g: unknown): boolean => {
    const j = jobs.get(jid);
    return !!j && Array.isArray(j.options) && j.options.some((o: Obj) => o.parallelism === par && o.gpus === g);
  };
  const checkIds = (p: string, node: unknown, ids: unknown, count?: unknown) => {
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every(isNonNegInt)) {
      errs.push(`${p}.gpu_ids: must be a non-empty array of GPU indices`);
      return;
    }
    if (new Set(ids).size !== ids.length) {
      errs.push(`${p}.gpu_ids: GPU ids must be distinct`);
    }
    const cap = typeof node === 'string' ? nodeGpus.get(node) : undefined;
    if (cap !== undefined) {
      const bad = (ids as number[]).filter(g => g >= cap);
      if (bad.length) {
        errs.push(`${p}.gpu_ids: GPU id ${bad[0]} is outside node "${node}" (ids 0..${cap - 1})`);
      }
    }
    if (count !== undefined && isPosInt(count) && ids.length !== count) {
      errs.push(`${p}.gpu_ids: must list exactly gpus = ${count} ids`);
    }
  };
  const checkJobRef = (p: string, v: unknown): boolean => {
    if (!isNonEmptyStr(v)) {
      errs.push(`${p}: must be a job id`);
      return false;
    }
    if (!jobs.has(v)) {
      errs.push(`${p}: unknown job "${v}"`);
      return false;
    }
    return true;
  };
  const checkNodeRef = (p: string, v: unknown): boolean => {
    if (!isNonEmptyStr(v) || !nodeGpus.has(v)) {
      errs.push(`${p}: unknown node ${JSON.stringify(v)}`);
      return false;
    }
    return true;
  };
  const seen = (arrName: string, arr: unknown): Obj[] => {
    if (arr === undefined) {
      return [];
    }
    if (!Array.isArray(arr)) {
      errs.push(`${arrName}: must be an array`);
      return [];
    }
    return arr.map((e, i) => {
      if (!isObj(e)) {
        errs.push(`${arrName}[${i}]: must be an object`);
        return {};
      }
      return e;
    });
  };
  const pinned = new Set<string>();
  seen('pins', x.pins).forEach((pin, i) => {
    const p = `pins[${i}]`;
    if (!checkJobRef(`${p}.job`, pin.job)) {
      return;
    }
    const jid = pin.job as string;
    if (pinned.has(jid)) {
      errs.push(`${p}.job: job "${jid}" is pinned twice`);
    }
    pinned.add(jid);
    if (pin.parallelism !== undefined && !isNonEmptyStr(pin.parallelism)) {
      errs.push(`${p}.parallelism: must be a non-empty string`);
    }
    if (pin.gpus !== undefined && !isPosInt(pin.gpus)) {
      errs.push(`${p}.gpus: must be a positive integer`);
    }
    if (pin.start_s !== undefined && (!isFiniteNum(pin.start_s) || pin.start_s < 0)) {
      errs.push(`${p}.start_s: must be a number >= 0`);
    }
    if (pin.node !== undefined) {
      checkNodeRef(`${p}.node`, pin.node);
    }
    if (pin.gpu_ids !== undefined) {
      if (pin.node === undefined) {
        errs.push(`${p}.gpu_ids: requires "node"`);
      }
      checkIds(p, pin.node, pin.gpu_ids, pin.gpus);
    }
  });
  const running = new Set<string>();
  seen('running', x.running).forEach((r, i) => {
    const p = `running[${i}]`;
    if (!checkJobRef(`${p}.job`, r.job)) {
      return;
    }
    if (running.has(r.job as string)) {
      errs.push(`${p}.job: job "${r.job}" is listed as running twice`);
    }
    running.add(r.job as string);
    if (!isPosInt(r.gpus)) {
      errs.push(`${p}.gpus: must be a positive integer`);
    }
    if (!optionOf(r.job as string, r.parallelism, r.gpus)) {
      errs.push(`${p}.parallelism: (${r.parallelism}, ${r.gpus} GPUs) is not an option of job "${r.job}"`);
    }
    checkNodeRef(`${p}.node`, r.node);
    checkIds(p, r.node, r.gpu_ids, r.gpus);
    if (!isFiniteNum(r.remaining_s) || r.remaining_s <= 0) {
      errs.push(`${p}.remaining_s: must be a number > 0`);
    }
    if (r.started_s !== undefined && (!isFiniteNum(r.started_s) || r.started_s > 0)) {
      errs.push(`${p}.started_s: must be a number <= 0 (time origin is now)`);
    }
    if (r.preemptible !== undefined && typeof r.preemptible !== 'boolean') {
      errs.push(`${p}.preemptible: must be a boolean`);
    }
  });
  seen('unavailable', x.unavailable).forEach((u, i) => {
    const p = `unavailable[${i}]`;
    checkNodeRef(`${p}.node`, u.node);
    checkIds(p, u.node, u.gpu_ids);
    if (!isFiniteNum(u.until_s) || u.until_s < 0) {
      errs.push(`${p}.until_s: must be a number >= 0`);
    }
  });
  seen('precedence', x.precedence).forEach((e, i) => {
    const p = `precedence[${i}]`;
    const a = checkJobRef(`${p}.before`, e.before);
    const b = checkJobRef(`${p}.after`, e.after);
    if (a && b && e.before === e.after) {
      errs.push(`${p}.after: a job cannot follow itself`);
    }
  });
  return errs;
}

/** Throws a ValidationError (message = first error) unless `x` is a valid instance. */
export function assertInstance(x: unknown): Instance {
  const errs = validateInstance(x);
  if (errs.length) {
    throw new ValidationError(errs);
  }
  return x as Instance;
}

/**
 * Checks a plan against its instance: everything docs/spase-format.md requires, plus
 * pins, running jobs, unavailable GPUs and precedence. Returns messages
 * (empty = valid).
 */
export function validatePlan(inst: Instance, plan: unknown): string[] {
  const errs: string[] = [];
  if (!isObj(plan)) {
    return ['(root): must be a JSON object'];
  }
  if (plan.format !== PLAN_FORMAT) {
    errs.push(`format: must be "${PLAN_FORMAT}"`);
  }
  if (!Array.isArray(plan.jobs)) {
    errs.push('jobs: must be an array');
    return errs;
  }
  const nodes = new Map(inst.cluster.nodes.map(n => [n.id, n.gpus]));
  const jobs = new Map(inst.jobs.map(j => [j.id, j]));
  const runningOf = new Map((inst.running ?? []).map((r, i) => [r.job, { r, i }]));
  const pinOf = new Map((inst.pins ?? []).map((p, i) => [p.job, { p, i }]));
  const seenJobs = new Map<string, number>();
  // busy[node][gpu] = list of [start, end, index]
  const busy = new Map<string, [number, number, string][][]>();
  for (const n of inst.cluster.nodes) {
    busy.set(
      n.id,
      Array.from({ length: n.gpus }, () => [])
    );
  }
  for (const u of inst.unavailable ?? []) {
    const b = busy.get(u.node);
    for (const g of u.gpu_ids) {
      if (b && b[g] && u.until_s > 0) {
        b[g].push([-Infinity, u.until_s, `unavailable GPU ${g} of ${u.node}`]);
      }
    }
  }
  let maxEnd = 0;
  const ends = new Map<string, [number, number]>();
  plan.jobs.forEach((pj: unknown, i: number) => {
    const p = `jobs[${i}]`;
    if (!isObj(pj)) {
      errs.push(`${p}: must be an object`);
      return;
    }
    const id = pj.id as string;
    const job = jobs.get(id);
    if (!job) {
      errs.push(`${p}.id: unknown job ${JSON.stringify(pj.id)}`);
      return;
    }
    if (seenJobs.has(id)) {
      errs.push(`${p}.id: job "${id}" appears more than once`);
      return;
    }
    seenJobs.set(id, i);
    if (!isFiniteNum(pj.start_s) || !isFiniteNum(pj.end_s)) {
      errs.push(`${p}.start_s: start_s and end_s must be numbers`);
      return;
    }
    const s = pj.start_s;
    const e = pj.end_s;
    if (s < -timeTol(s)) {
      errs.push(`${p}.start_s: must be >= 0 (time origin is now)`);
    }
    maxEnd = Math.max(maxEnd, e);
    ends.set(id, [s, e]);
    const cap = nodes.get(pj.node as string);
    if (cap === undefined) {
      errs.push(`${p}.node: unknown node ${JSON.stringify(pj.node)}`);
      return;
    }
    const opt = job.options.find(o => o.parallelism === pj.parallelism && o.gpus === pj.gpus);
    if (!opt) {
      errs.push(`${p}.parallelism: (${pj.parallelism}, ${pj.gpus} GPUs) is not an option of job "${id}"`);
      return;
    }
    const ids = pj.gpu_ids;
    if (
      !Array.isArray(ids) ||
      ids.length !== opt.gpus ||
      !ids.every(g => isNonNegInt(g) && g < cap) ||
      new Set(ids).size !== ids.length
    ) {
      errs.push(`${p}.gpu_ids: must be ${opt.gpus} distinct integers in [0, ${cap}) of node "${pj.node}"`);
      return;
    }
    const run = runningOf.get(id);
    const sameAsRunning =
      run &&
      run.r.node === pj.node &&
      run.r.parallelism === pj.parallelism &&
      run.r.gpus === pj.gpus &&
      [...run.r.gpu_ids].sort((a, b) => a - b).join(',') === [...(ids as number[])].sort((a, b) => a - b).join(',') &&
      Math.abs(s) <= timeTol(0) &&
      Math.abs(e - run.r.remaining_s) <= timeTol(run.r.remaining_s);
    if (run && !sameAsRunning && !run.r.preemptible) {
      errs.push(
        `${p}: running job "${id}" (running[${run.i}]) must stay on ${run.r.node} GPUs [${run.r.gpu_ids}] from 0 to ${run.r.remaining_s}`
      );
    } else if (!sameAsRunning && Math.abs(e - s - optionDuration(opt)) > timeTol(optionDuration(opt))) {
      errs.push(
        `${p}.end_s: end_s - start_s must equal the option's runtime ${opt.runtime_s}` +
          (opt.startup_s ? ` plus its start-up cost ${opt.startup_s}` : '')
      );
    }
    const pin = pinOf.get(id);
    if (pin) {
      const q = `${p}: pinned job "${id}" (pins[${pin.i}])`;
      if (pin.p.parallelism !== undefined && pin.p.parallelism !== pj.parallelism) {
        errs.push(`${q} must use parallelism ${pin.p.parallelism}`);
      }
      if (pin.p.gpus !== undefined && pin.p.gpus !== pj.gpus) {
        errs.push(`${q} must use ${pin.p.gpus} GPUs`);
      }
      if (pin.p.node !== undefined && pin.p.node !== pj.node) {
        errs.push(`${q} must run on node ${pin.p.node}`);
      }
      if (
        pin.p.gpu_ids !== undefined &&
        [...pin.p.gpu_ids].sort((a, b) => a - b).join(',') !== [...(ids as number[])].sort((a, b) => a - b).join(',')
      ) {
        errs.push(`${q} must use GPU ids [${pin.p.gpu_ids}]`);
      }
      if (pin.p.start_s !== undefined && Math.abs(pin.p.start_s - s) > timeTol(pin.p.start_s)) {
        errs.push(`${q} must start at ${pin.p.start_s}`);
      }
    }
    const b = busy.get(pj.node as string)!;
    for (const g of ids as number[]) {
      b[g].push([s, e, id]);
    }
  });
  for (const j of inst.jobs) {
    if (!seenJobs.has(j.id)) {
      errs.push(`jobs: job "${j.id}" is missing from the plan`);
    }
  }
  for (const [node, gpus] of busy) {
    gpus.forEach((list, g) => {
      list.sort((a, b) => a[0] - b[0]);
      for (let k = 1; k < list.length; k++) {
        const [, e0, a] = list[k - 1];
        const [s1, , c] = list[k];
        if (e0 > s1 + timeTol(s1)) {
          const idx = seenJobs.get(c);
          errs.push(
            `jobs[${idx}].gpu_ids: job "${c}" overlaps ${a.startsWith('unavailable') ? a : `job "${a}"`} on ${node} GPU ${g}`
          );
        }
      }
    });
  }
  (inst.precedence ?? []).forEach((pr, i) => {
    const a = ends.get(pr.before);
    const b = ends.get(pr.after);
    if (a && b && b[0] < a[1] - timeTol(a[1])) {
      errs.push(`jobs[${seenJobs.get(pr.after)}].start_s: job "${pr.after}" must start after "${pr.before}" ends (precedence[${i}])`);
    }
  });
  if (!isFiniteNum(plan.makespan_s) || Math.abs(plan.makespan_s - maxEnd) > timeTol(maxEnd)) {
    errs.push(`makespan_s: must equal the latest end_s (${maxEnd})`);
  }
  if (plan.solver !== undefined && isObj(plan.solver) && plan.solver.bound_s !== undefined) {
    const bs = plan.solver.bound_s;
    if (!isFiniteNum(bs) || bs > maxEnd + timeTol(maxEnd)) {
      errs.push('solver.bound_s: a lower bound cannot exceed the makespan');
    }
  }
  return errs;
}
