/**
 * Exact dominance reduction of a job's options: per GPU count keep the fastest
 * technique, then drop GPU counts that are not faster than a smaller count
 * (a smaller count fits wherever a larger one does, so no optimal plan needs
 * the dominated option). The original option index is kept so a chosen option
 * still names its parallelism.
 */
import { Option, optionDuration } from './types';

export interface ReducedOption {
  /** Index into the job's original `options`. */
  index: number;
  option: Option;
}

/** The non-dominated options, sorted by GPU count ascending (duration, start-up included, strictly decreasing). */
export function dominantOptions(
  options: readonly Option[],
  maxGpus = Infinity,
  dropSlowerCounts = true
): ReducedOption[] {
  const best = new Map<number, ReducedOption>();
  options.forEach((option, index) => {
    if (option.gpus > maxGpus) {
      return;
    }
    const cur = best.get(option.gpus);
    if (!cur || optionDuration(option) < optionDuration(cur.option)) {
      best.set(option.gpus, { index, option });
    }
  });
  const sorted = [...best.values()].sort((a, b) => a.option.gpus - b.option.gpus);
  const out: ReducedOption[] = [];
  let fastest = Infinity;
  for (const r of sorted) {
    if (!dropSlowerCounts || optionDuration(r.option) < fastest) {
      out.push(r);
      fastest = optionDuration(r.option);
    }
  }
  return out;
}
