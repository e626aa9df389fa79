jest.mock('../create-worker', () => ({ createSolverWorker: jest.fn() }));

import * as fs from 'fs';
import * as path from 'path';
import { SolverClient, SolverError, WorkerLike } from '../client';
import { handleMessage } from '../handler';
import type { WorkerResponse } from '../protocol';
import { validatePlan } from '../../spase/validate';
import type { Instance } from '../../spase/types';

const DIR = process.env.SATURN_SPASE_INSTANCES ?? path.resolve(__dirname, '../../../bench/instances');
const fig4: Instance = JSON.parse(fs.readFileSync(path.join(DIR, 'paper-fig4.json'), 'utf8'));

/** A fake Worker that runs the real message handler in-process, asynchronously. */
class InProcessWorker implements WorkerLike {
  onmessage: ((ev: { data: WorkerResponse }) => void) | null = null;
  onerror: ((ev: { message?: string }) => void) | null = null;
  terminated = false;
  posted: unknown[] = [];
  postMessage(message: unknown): void {
    this.posted.push(message);
    setTimeout(() => {
      void handleMessage(JSON.parse(JSON.stringify(message)), m => {
        if (!this.terminated) {
          this.onmessage?.({ data: JSON.parse(JSON.stringify(m)) });
        }
      });
    }, 0);
  }
  terminate(): void {
    this.terminated = true;
  }
}

describe('solver worker path', () => {
  it('handler posts plan messages then done', async () => {
    const msgs: WorkerResponse[] = [];
    await handleMessage({ type: 'solve', id: 3, instance: fig4, options: { timeLimitS: 0.5 } }, m => msgs.push(m));
    expect(msgs[0].type).toBe('plan');
    const done = msgs[msgs.length - 1];
    expect(done.type).toBe('done');
    expect(done.id).toBe(3);
    if (done.type === 'done') {
      expect(done.plan.makespan_s).toBe(108000);
    }
  });

  it('handler reports errors (bad instance, infeasible pins)', async () => {
    const msgs: WorkerResponse[] = [];
    await handleMessage({ type: 'solve', id: 4, instance: { ...fig4, jobs: [{ id: 'x', options: [] }] } as Instance }, m =>
      msgs.push(m)
    );
    expect(msgs).toEqual([{ type: 'error', id: 4, message: 'jobs[0].options: must be a non-empty array', conflicts: undefined }]);
    const pinned: Instance = {
      ...fig4,
      pins: [
        { job: 'A', node: 'node0', gpu_ids: [0, 1], start_s: 0, gpus: 2 },
        { job: 'B', node: 'node0', gpu_ids: [0], start_s: 0, gpus: 1 }
      ]
    };
    const m2: WorkerResponse[] = [];
    await handleMessage({ type: 'solve', id: 5, instance: pinned }, m => m2.push(m));
    expect(m2[0].type).toBe('error');
    if (m2[0].type === 'error') {
      expect(m2[0].conflicts).toEqual(['pins[0] (job A) and pins[1] (job B)']);
    }
  });

  it('streams more than one strictly improving plan where search matters (deterministic budget)', async () => {
    const img: Instance = JSON.parse(fs.readFileSync(path.join(DIR, 'img-like-8+4.json'), 'utf8'));
    const msgs: WorkerResponse[] = [];
    await handleMessage({ type: 'solve', id: 6, instance: img, options: { iterations: 20000, seed: 1, noMilp: true } }, m => msgs.push(m));
    const plans = msgs.filter(m => m.type === 'plan').map(m => (m.type === 'plan' ? m.plan.makespan_s : 0));
    expect(plans.length).toBeGreaterThan(1);
    for (let k = 1; k < plans.length; k++) {
      expect(plans[k]).toBeLessThan(plans[k - 1]);
    }
    const done = msgs[msgs.length - 1];
    expect(done.type).toBe('done');
    if (done.type === 'done') {
      // the first candidate is 172145 s; the search must take at least 6% off it
      expect(done.plan.makespan_s).toBeLessThan(0.94 * plans[0]);
      expect(validatePlan(img, done.plan)).toEqual([]);
    }
  }, 60000);

  it('SolverClient solves through the worker, streams progress, and cancels', async () => {
    const workers: InProcessWorker[] = [];
    const client = new SolverClient(() => {
      const w = new InProcessWorker();
      workers.push(w);
      return w;
    });
    await client.warmedUp;
    expect(workers[0].posted.length).toBe(1); // the warm-up solve
    const progress: number[] = [];
    const plan = await client.solve(fig4, { timeLimitS: 0.5 }, p => progress.push(p.makespan_s));
    expect(plan.makespan_s).toBe(108000);
    expect(progress.length).toBeGreaterThan(0);
    expect(validatePlan(fig4, plan)).toEqual([]);

    const pending = client.solve(fig4, { timeLimitS: 5 });
    client.cancel();
    await expect(pending).rejects.toBeInstanceOf(SolverError);
    expect(workers[0].terminated).toBe(true);
    expect(workers.length).toBe(2);
    client.dispose();
  });

  it('a two-worker portfolio merges one improving stream, is deterministic for an iteration budget, and cancel stops both', async () => {
    const img: Instance = JSON.parse(fs.readFileSync(path.join(DIR, 'img-like-8+4.json'), 'utf8'));
    const workers: InProcessWorker[] = [];
    const client = new SolverClient(
      () => {
        const w = new InProcessWorker();
        workers.push(w);
        return w;
      },
      { workers: 2, warmUp: false }
    );
    expect(workers.length).toBe(2);
    const run = async () => {
      const progress: number[] = [];
      const plan = await client.solve(img, { iterations: 4000, seed: 1, noMilp: true }, p => progress.push(p.makespan_s));
      return { plan, progress };
    };
    const a = await run();
    expect(a.progress.length).toBeGreaterThan(1);
    for (let k = 1; k < a.progress.length; k++) {
      expect(a.progress[k]).toBeLessThan(a.progress[k - 1]);
    }
    expect(validatePlan(img, a.plan)).toEqual([]);
    expect(a.plan.makespan_s).toBe(a.progress[a.progress.length - 1]);
    const seeds = workers.map(w => (w.posted[0] as { options: { seed: number } }).options.seed);
    expect(new Set(seeds).size).toBe(2);
    const b = await run();
    expect(b.plan.jobs).toEqual(a.plan.jobs);
    const pending = client.solve(img, { timeLimitS: 5 });
    client.cancel();
    await expect(pending).rejects.toBeInstanceOf(SolverError);
    expect(workers.slice(0, 2).every(w => w.terminated)).toBe(true);
    expect(workers.length).toBe(4);
    client.dispose();
  }, 60000);
});
