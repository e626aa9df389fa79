/**
 * The solver worker's message handler, kept separate from the worker entry so
 * that tests can run it in-process. Imports only src/spase.
 */
import { solve } from '../spase/solve';
import { InfeasibleError } from '../spase/types';
import type { WorkerRequest, WorkerResponse } from './protocol';

function clock(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

export async function handleMessage(msg: WorkerRequest, post: (m: WorkerResponse) => void): Promise<void> {
  if (!msg || msg.type !== 'solve') {
    post({ type: 'error', id: (msg as { id?: number })?.id ?? -1, message: `unknown message type ${(msg as { type?: string })?.type}` });
    return;
  }
  const t0 = clock();
  try {
    const plan = await solve(msg.instance, {
      ...(msg.options ?? {}),
      onPlan: p => post({ type: 'plan', id: msg.id, plan: p, elapsed: (clock() - t0) / 1000 })
    });
    post({ type: 'done', id: msg.id, plan });
  } catch (e) {
    const err = e as Error;
    post({
      type: 'error',
      id: msg.id,
      message: err?.message ?? String(e),
      conflicts: e instanceof InfeasibleError ? e.conflicts : undefined
    });
  }
}
