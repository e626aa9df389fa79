/**
 * The solver portfolio in Node: one worker_threads Worker per core (at most
 * `workers`), each running the hybrid with its own variant (see
 * spase/portfolio), their improving plans merged into one strictly improving
 * stream; `shouldStop` or the end of every worker ends the run, and stopping
 * terminates all workers. With one worker it is a plain in-thread solve.
 */
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { PortfolioMerger, portfolioVariant } from '../spase/portfolio';
import { solve } from '../spase/solve';
import { InfeasibleError, Instance, Plan, SolveOptions } from '../spase/types';
import { assertInstance } from '../spase/validate';

export function defaultWorkers(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(2, n));
}

export async function solvePortfolio(instance: unknown, opts: SolveOptions & { workers?: number } = {}): Promise<Plan> {
  const workers = opts.workers ?? defaultWorkers();
  const strategy = opts.strategy ?? 'hybrid';
  if (workers <= 1 || (strategy !== 'hybrid' && strategy !== 'anneal')) {
    return solve(instance, opts);
  }
  const inst = assertInstance(instance) as Instance;
  const { onPlan, shouldStop, workers: _w, ...base } = opts;
  void _w;
  const merger = new PortfolioMerger(inst, onPlan);
  // the greedy candidate at once, from this thread, while the workers start
  merger.offer(workers, await solve(inst, { ...base, strategy: 'anneal', iterations: 0, noMilp: true, timeLimitS: undefined }));
  const script = path.join(__dirname, 'portfolio-worker.js');
  const pool: Worker[] = [];
  return new Promise<Plan>((resolve, reject) => {
    let open = workers;
    let settled = false;
    let poll: ReturnType<typeof setInterval> | undefined;
    const finish = (err?: Error) => {
      if (settled) {
        return;
      }
      settled = true;
      if (poll) {
        clearInterval(poll);
      }
      for (const w of pool) {
        void w.terminate();
      }
      const r = merger.result();
      if (err && !r) {
        reject(err);
      } else if (r) {
        resolve(r);
      } else {
        reject(new Error('portfolio: no worker returned a plan'));
      }
    };
    for (let k = 0; k < workers; k++) {
      const w = new Worker(script, { workerData: { instance: inst, options: portfolioVariant(base, k) } });
      pool.push(w);
      w.on('message', (m: { type: string; plan?: Plan; message?: string; infeasible?: boolean; conflicts?: string[] }) => {
        if (m.type === 'plan' || m.type === 'done') {
          merger.offer(k, m.plan!);
        }
        if (m.type === 'error') {
          finish(m.infeasible ? new InfeasibleError(m.message!, m.conflicts ?? []) : new Error(m.message));
          return;
        }
        if (m.type === 'done' && --open === 0) {
          finish();
        }
      });
      w.on('error', e => finish(e));
    }
    if (shouldStop) {
      poll = setInterval(() => {
        if (shouldStop()) {
          finish();
        }
      }, 20);
    }
  });
}
