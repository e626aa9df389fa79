/** worker_threads entry of the Node portfolio: one hybrid solve, its plans posted to the parent. */
import { parentPort, workerData } from 'worker_threads';
import { solve } from '../spase/solve';
import { InfeasibleError } from '../spase/types';

async function run(): Promise<void> {
  const { instance, options } = workerData;
  try {
    const plan = await solve(instance, { ...options, onPlan: p => parentPort!.postMessage({ type: 'plan', plan: p }) });
    parentPort!.postMessage({ type: 'done', plan });
  } catch (e) {
    const err = e as Error;
    parentPort!.postMessage({
      type: 'error',
      message: err?.message ?? String(e),
      infeasible: e instanceof InfeasibleError,
      conflicts: e instanceof InfeasibleError ? e.conflicts : undefined
    });
  }
}

void run();
