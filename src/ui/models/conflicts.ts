/**
 * Whether jobs of a plan would hold one GPU at the same time, and that in words: the rule behind every plan edit
 * (./plan-model.ts). Pure.
 */
import { formatDuration } from './format';

/** A job placed on GPUs of a node for a time span. */
export interface IPlacedJob {
  id: string;
  node: string;
  gpu_ids: number[];
  start_s: number;
  end_s: number;
}

export interface IConflict {
  /** The job in the way. */
  job: string;
  node: string;
  gpu: number;
  /** Overlapping interval. */
  from_s: number;
  to_s: number;
}

const EPS = 1e-6;

/** Where `candidate` would overlap other jobs (same node and GPU, intersecting time). */
export function findConflicts(candidate: IPlacedJob, others: IPlacedJob[]): IConflict[] {
  const out: IConflict[] = [];
  for (const o of others) {
    if (o.id === candidate.id || o.node !== candidate.node) {
      continue;
    }
    const from = Math.max(o.start_s, candidate.start_s);
    const to = Math.min(o.end_s, candidate.end_s);
    if (to - from <= EPS * Math.max(1, Math.abs(to))) {
      continue;
    }
    for (const g of candidate.gpu_ids) {
      if (o.gpu_ids.includes(g)) {
        out.push({ job: o.id, node: o.node, gpu: g, from_s: from, to_s: to });
      }
    }
  }
  return out;
}

/** Every pair of jobs that overlap on a GPU (used to check whole plans). */
export function allConflicts(jobs: IPlacedJob[]): IConflict[] {
  const out: IConflict[] = [];
  for (let i = 0; i < jobs.length; i++) {
    out.push(...findConflicts(jobs[i], jobs.slice(i + 1)));
  }
  return out;
}

/** One sentence per conflicting job: `GPU 1, 2 of node0 are busy with "B" from 0s to 40s`. */
export function describeConflicts(conflicts: IConflict[]): string[] {
  const byJob = new Map<string, IConflict[]>();
  for (const c of conflicts) {
    byJob.set(c.job, [...(byJob.get(c.job) ?? []), c]);
  }
  return [...byJob.entries()].map(([job, cs]) => {
    const gpus = [...new Set(cs.map(c => c.gpu))].sort((a, b) => a - b);
    const from = Math.min(...cs.map(c => c.from_s));
    const to = Math.max(...cs.map(c => c.to_s));
    return `GPU ${gpus.join(', ')} of ${cs[0].node} ${gpus.length > 1 ? 'are' : 'is'} busy with "${job}" from ${formatDuration(from)} to ${formatDuration(to)}`;
  });
}
