/** Messages between SolverClient (page) and the solver Web Worker. */
import type { Instance, Plan, SolveOptions } from '../spase/types';

export type WorkerSolveOptions = Omit<SolveOptions, 'onPlan' | 'shouldStop'>;

export interface SolveRequest {
  type: 'solve';
  id: number;
  instance: Instance;
  options?: WorkerSolveOptions;
}

export type WorkerRequest = SolveRequest;

export interface PlanMessage {
  type: 'plan';
  id: number;
  plan: Plan;
  /** Seconds since the request was received. */
  elapsed: number;
}
export interface DoneMessage {
  type: 'done';
  id: number;
  plan: Plan;
}
export interface ErrorMessage {
  type: 'error';
  id: number;
  message: string;
  /** Names of conflicting constraints for infeasible pins. */
  conflicts?: string[];
}

export type WorkerResponse = PlanMessage | DoneMessage | ErrorMessage;
