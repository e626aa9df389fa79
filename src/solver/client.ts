/**
 * Page-side client of the solver Web Workers: long-lived workers (two where
 * the browser reports two or more cores: a portfolio with different seeds and
 * strategies whose improving plans are merged into one stream), a warm-up
 * solve on creation (absorbs the WebAssembly load and tier-up), progress
 * callbacks for each better plan, cancel = terminate all + recreate.
 */
import { PortfolioMerger, portfolioVariant } from '../spase/portfolio';
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

/** Portfolio size for the page: two workers where the browser reports two or more cores. */
export function defaultWorkerCount(): number {
  const hc = typeof navigator !== 'undefined' ? (navigator as { hardwareConcurrency?: number }).hardwareConcurrency : undefined;
  return hc && hc >= 2 ? 2 : 1;
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
  private workers: WorkerLike[] = [];
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private readonly factory: WorkerFactory;
  private readonly warmUp: boolean;
  private readonly count: number;
  /** Resolves when the warm-up solve has finished (or failed). */
  warmedUp: Promise<void> = Promise.resolve();

  /**
   * `workers`: portfolio size (default: two where the browser has two cores,
   * one with a custom factory).
   */
  constructor(factory?: WorkerFactory, options: { warmUp?: boolean; workers?: number } = {}) {
    this.factory = factory ?? (() => createSolverWorker() as unknown as WorkerLike);
    this.warmUp = options.warmUp ?? true;
    this.count = Math.max(1, Math.floor(options.workers ?? (factory ? 1 : defaultWorkerCount())));
    this.start();
  }

  private start(): void {
    this.workers = [];
    for (let k = 0; k < this.count; k++) {
      const w = this.factory();
      this.workers.push(w);
      w.onmessage = ev => this.onMessage(ev.data);
      w.onerror = ev => {
        const err = new SolverError(`solver worker failed: ${ev?.message ?? 'unknown error'}`);
        for (const p of this.pending.values()) {
          p.reject(err);
        }
        this.pending.clear();
      };
    }
    if (this.warmUp) {
      const ws = this.workers.map(w => this.solveOn(w, WARMUP_INSTANCE, { timeLimitS: 0.5 }));
      this.warmedUp = Promise.all(ws).then(
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

  private solveOn(w: WorkerLike, instance: Instance, options: WorkerSolveOptions, onProgress?: (p: Progress) => void): Promise<Plan> {
    const id = this.nextId++;
    return new Promise<Plan>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      w.postMessage({ type: 'solve', id, instance, options });
    });
  }

  /**
   * Solve in the worker(s); `onProgress` receives each strictly better plan
   * (merged over the portfolio). Resolves with the best plan once every worker is done.
   */
  solve(instance: Instance, options: WorkerSolveOptions = {}, onProgress?: (p: Progress) => void): Promise<Plan> {
    if (this.workers.length <= 1 || (options.strategy && options.strategy !== 'hybrid' && options.strategy !== 'anneal')) {
      return this.solveOn(this.workers[0], instance, options, onProgress);
    }
    const t0 = Date.now();
    const merger = new PortfolioMerger(instance, plan =>
      onProgress?.({ plan, makespan_s: plan.makespan_s, bound_s: plan.solver.bound_s, elapsed: (Date.now() - t0) / 1000 })
    );
    const runs = this.workers.map((w, k) =>
      this.solveOn(w, instance, portfolioVariant(options, k), pr => merger.offer(k, pr.plan)).then(pl => {
        merger.offer(k, pl);
      })
    );
    return Promise.all(runs).then(() => merger.result()!);
  }

  /** Stop every running solve (terminates the worker and starts a fresh one). */
  cancel(): void {
    const err = new SolverError('cancelled');
    for (const p of this.pending.values()) {
      p.reject(err);
    }
    this.pending.clear();
    for (const w of this.workers) {
      w.terminate();
    }
    this.start();
  }

  dispose(): void {
    const err = new SolverError('disposed');
    for (const p of this.pending.values()) {
      p.reject(err);
    }
    this.pending.clear();
    for (const w of this.workers) {
      w.terminate();
    }
    this.workers = [];
  }
}
