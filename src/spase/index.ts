/** SPASE solver core: pure TypeScript, usable in a Web Worker and in Node. */
export * from './types';
export { validateInstance, validatePlan, assertInstance } from './validate';
export { dominantOptions } from './dominance';
export { lowerBound, energyLowerBound, problemLowerBound } from './bounds';
export { compile } from './problem';
export type { Problem, PJob, Mode } from './problem';
export { decode, toPlan } from './decode';
export {
  baseline,
  currentPractice,
  minHeuristic,
  optimusGreedy,
  randomized
} from './baselines';
export type { BaselineName } from './baselines';
export { anneal, greedyIncumbent } from './anneal';
export { getHighs, milpImprove } from './milp';
export { solve } from './solve';
export { simulate } from './simulate';
export { earliestFinish, inJobOrder, marginalCharge, marginalPlan } from './staged';
export type { IRanked, IStagedResult } from './staged';
