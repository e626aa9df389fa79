/**
 * Page-side client of the solver Web Worker: one long-lived worker, a warm-up
 * solve on creation (absorbs the WebAssembly load and tier-up), progress
 * callbacks for each better plan, cancel = terminate + recreate.
 */
import type { Instance, Plan } from '../spase/types';
import { createSolverWorker } from './create-worker';
import type { WorkerResponse, WorkerSolveOptions } from './protocol';

export interface WorkerLike {
  postMessage(message: unknown): void;
  terminate(): void;
  onmessage: ((ev: { data: WorkerResponse }) => void) | null;
  onerror: ((ev: { message?: string }) => void) | null;
}

export type WorkerFactory = () => WorkerLike;

export interface Progress {
  plan: Plan;
  makespan_s: number;
  bound_s?: number;
  elapsed: number;
}

export class SolverError extends Error {
  readonly conflicts: string[];
  constructor(message: string, conflicts: string[] = []) {
    super(message);
    this.name = 'SolverError';
    this.conflicts = conflicts;
  }
}

interface Pending {
  resolve: (p: Plan) => void;
  reject: (e: Error) => void;
  onProgress?: (p: Progress) => void;
}

/** A tiny instance that exercises the MILP path once. */
export const WARMUP_INSTANCE: Instance = {
  format: 'spase-instance/1',
  name: 'warm-up',
  cluster: { nodes: [{ id: 'n0', gpus: 2 }] },
  jobs: [
    { id: 'a', options: [ { parallelism: 'ddp', gpus: 1, runtime_s: 3 }, { parallelism: 'ddp', gpus: 2, runtime_s: 2 } ] },
    { id: 'b', options: [ { parallelism: 'ddp', gpus: 1, runtime_s: 2 }, { parallelism: 'ddp', gpus: 2, runtime_s: 1.5 } ] },
    { id: 'c', options: [ { parallelism: 'ddp', gpus: 1, runtime_s: 1 } ] }
  ]
};

export class SolverClient {
  private worker: WorkerLike | null = null;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private readonly factory: WorkerFactory;
  private readonly warmUp: boolean;
  /** Resolves when the warm-up solve has finished (or failed). */
  warmedUp: Promise<void> = Promise.resolve();

  constructor(factory?: WorkerFactory, options: { warmUp?: boolean } = {}) {
    this.factory = factory ?? (() => createSolverWorker() as unknown as WorkerLike);
    this.warmUp = options.warmUp ?? true;
    this.start();
  }

  private start(): void {
    const w = this.factory();
    this.worker = w;
    w.onmessage = ev => this.onMessage(ev.data);
    w.onerror = ev => {
      const err = new SolverError(`solver worker failed: ${ev?.message ?? 'unknown error'}`);
      for (const p of this.pending.values()) {
        p.reject(err);
      }
      this.pending.clear();
    };
    if (this.warmUp) {
      this.warmedUp = this.solve(WARMUP_INSTANCE, { timeLimitS: 0.5 }).then(
        () => undefined,
        () => undefined
      );
    }
  }

  private onMessage(m: WorkerResponse): void {
    const p = this.pending.get(m.id);
    if (!p) {
      return;
    }
    if (m.type === 'plan') {
      p.onProgress?.({ plan: m.plan, makespan_s: m.plan.makespan_s, bound_s: m.plan.solver.bound_s, elapsed: m.elapsed });
    } else if (m.type === 'done') {
      this.pending.delete(m.id);
      p.resolve(m.plan);
    } else if (m.type === 'error') {
      this.pending.delete(m.id);
      p.reject(new SolverError(m.message, m.conflicts ?? []));
    }
  }

  /** Solve in the worker; `onProgress` receives each better plan. */
  solve(instance: Instance, options: WorkerSolveOptions = {}, onProgress?: (p: Progress) => void): Promise<Plan> {
    const id = this.nextId++;
    return new Promise<Plan>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.worker!.postMessage({ type: 'solve', id, instance, options });
    });
  }

  /** Stop every running solve (terminates the worker and starts a fresh one). */
  cancel(): void {
    const err = new SolverError('cancelled');
    for (const p of this.pending.values()) {
      p.reject(err);
    }
    this.pending.clear();
    this.worker?.terminate();
    this.start();
  }

  dispose(): void {
    const err = new SolverError('disposed');
    for (const p of this.pending.values()) {
      p.reject(err);
    }
    this.pending.clear();
    this.worker?.terminate();
    this.worker = null;
  }
}
