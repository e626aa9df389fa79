/**
 * Optimize & Run with early stopping (src/ui/adapters/executor-starter.ts) on the executor's simulated world
 * (src/executor/__tests__/sim.ts): the first plan is solved over each job's first segment, every job records its first
 * rung, its rung steps and the configuration; a task without validation is refused before anything starts; a page
 * reloaded during the run judges the rungs with the configuration its jobs recorded.
 */
import { JobState } from '../../executor/job-state';
import { IEarlyStopping } from '../../executor/rungs';
import { MemoryJobStore, SimClock, SimWorld } from '../../executor/__tests__/sim';
import { solve } from '../../spase/solve';
import type { Instance, Plan } from '../../spase/types';
import { ExecutorStarter } from '../adapters/executor-starter';
import { EarlyStoppingError } from '../models/early-stopping';
import { DEFAULT_SETTINGS, ISaturnSettings, ISolver } from '../models/interfaces';

const ES: IEarlyStopping = { kind: 'asha', metric: 'val_loss', mode: 'min', rungs: [20, 60], eta: 2, unit: 'steps' };

/** Four tasks of 100 steps on two GPUs (1 s a step on one GPU), each with validation unless told. */
function instance(blind: string[] = []): Instance {
  return {
    format: 'spase-instance/1',
    name: 'grid',
    cluster: { nodes: [{ id: 'node0', gpus: 2 }] },
    jobs: ['a', 'b', 'c', 'd'].map(id => ({
      id,
      total_steps: 100,
      validates: !blind.includes(id),
      options: [
        { parallelism: 'ddp', gpus: 1, runtime_s: 100, startup_s: 2 },
        { parallelism: 'ddp', gpus: 2, runtime_s: 55, startup_s: 3 }
      ]
    }))
  };
}

/** The page's solver over the SPASE core, recording what it was asked to solve. */
function recordingSolver(): ISolver & { asked: Instance[] } {
  const asked: Instance[] = [];
  return {
    asked,
    async solve(inst: Instance) {
      asked.push(inst);
      return solve(inst, { iterations: 2000, noMilp: true });
    },
    cancel() {}
  };
}

function setup(python: IEarlyStopping | null = null) {
  const clock = new SimClock();
  const store = new MemoryJobStore(clock);
  const world = new SimWorld(store, clock, () => 1, { metric: (task, step) => ({ a: 0.1, b: 0.2, c: 0.3, d: 0.4 })[task]! + 1 / (1 + step) });
  const solver = recordingSolver();
  let asked = 0;
  const starter = new ExecutorStarter(null as any, solver, () => undefined, {
    store,
    launcher: world,
    runConfig: async () => (asked++, python),
    dispatcher: { clock, autopilot: false, prewarm: 0 }
  });
  return { clock, store, world, solver, starter, pythonAsked: () => asked };
}

const asha: ISaturnSettings = { ...DEFAULT_SETTINGS, earlyStopping: 'asha', earlyStoppingRungs: '20,60', solverTimeLimitS: 1 };
const fullPlan = async (inst: Instance): Promise<Plan> => solve(inst, { iterations: 500, noMilp: true });
const flush = async (n = 20) => {
  for (let i = 0; i < n; i++) {
    await new Promise(r => setTimeout(r, 0));
  }
};

describe('Optimize & Run with early stopping', () => {
  it('plans the first segments with the page\'s solver and records each job\'s first rung', async () => {
    const { store, solver, starter } = setup();
    const inst = instance();
    const runId = await starter.start(await fullPlan(inst), inst, asha);
    starter.stop();
    // solved again over the work to the first rung: a fifth of each option's runtime (20 of 100 steps)
    expect(solver.asked).toHaveLength(1);
    expect(solver.asked[0].jobs.map(j => j.options.map(o => o.runtime_s))).toEqual(inst.jobs.map(() => [20, 11]));
    const jobs = [...store.jobs.values()];
    expect(jobs.map(j => j.task).sort()).toEqual(['a', 'b', 'c', 'd']);
    for (const j of jobs) {
      expect(j.id.startsWith(runId)).toBe(true);
      expect(j.info).toMatchObject({ rung_at: 20, rung_steps: [20, 60], early_stopping: ES, total_steps: 100 });
      const a = j.info.assignment;
      // the plan's blocks are first segments (the full jobs would take 55 s or more)
      expect(a.planned_end_s! - a.planned_start_s!).toBeLessThan(30);
    }
  });

  it('uses what Python set by default, and nothing when Settings say Off', async () => {
    const py = setup(ES);
    const inst = instance();
    await py.starter.start(await fullPlan(inst), inst, DEFAULT_SETTINGS);
    py.starter.stop();
    expect(py.pythonAsked()).toBe(1);
    expect([...py.store.jobs.values()].every(j => j.info.rung_at === 20)).toBe(true);

    const off = setup(ES);
    const plan = await fullPlan(inst);
    await off.starter.start(plan, inst, { ...DEFAULT_SETTINGS, earlyStopping: 'off' });
    off.starter.stop();
    expect(off.pythonAsked()).toBe(0);
    expect(off.solver.asked).toHaveLength(0); // the page's plan runs as it is
    expect([...off.store.jobs.values()].every(j => !('rung_at' in j.info) && !('early_stopping' in j.info))).toBe(true);
  });

  it('refuses a task without validation, naming it, and starts nothing', async () => {
    const { store, solver, starter } = setup();
    const inst = instance(['c']);
    const err = await starter.start(await fullPlan(inst), inst, asha).then(
      () => null,
      e => e
    );
    expect(err).toBeInstanceOf(EarlyStoppingError);
    expect(err.message).toContain('this task has no validation: c');
    expect(err.message).toContain('Nothing was started');
    expect(store.jobs.size).toBe(0);
    expect(solver.asked).toHaveLength(0);
  });

  it('after a reload, judges the rungs with the configuration the run\'s jobs recorded', async () => {
    const first = setup();
    const inst = instance();
    const runId = await first.starter.start(await fullPlan(inst), inst, asha);
    first.starter.stop();
    // every job reached its first rung and paused there
    for (const j of first.store.jobs.values()) {
      const v = { a: 0.1, b: 0.2, c: 0.3, d: 0.4 }[j.task]!;
      j.state = JobState.Preempted;
      Object.assign(j.info, { step: 20, checkpoint: { step: 20, path: 'mem', at: 1 }, stopped: { reason: 'rung', at: 1, step: 20 }, rung_reports: { 20: { val_loss: v } } });
    }
    // a fresh page (Settings say Off now: the run keeps the early stopping it started with)
    const page = new ExecutorStarter(null as any, first.solver, () => undefined, {
      store: first.store,
      launcher: first.world,
      runConfig: async () => null,
      dispatcher: { clock: first.clock, autopilot: false, prewarm: 0 }
    });
    await page.resume(runId, inst, { ...DEFAULT_SETTINGS, earlyStopping: 'off', solverTimeLimitS: 1 });
    await flush();
    page.stop();
    const state = Object.fromEntries([...first.store.jobs.values()].map(j => [j.task, j.state]));
    expect(state.c).toBe(JobState.StoppedEarly);
    expect(state.d).toBe(JobState.StoppedEarly);
    const promoted = [...first.store.jobs.values()].filter(j => (j.info.promotions as unknown[] | undefined)?.length).map(j => [j.task, j.info.rung_at]);
    expect(promoted.sort()).toEqual([
      ['a', 60],
      ['b', 60]
    ]);
  });
});

describe('Optimize & Run without early stopping', () => {
  it("warms the kernels of the jobs planned at time 0 before the plan's clock starts, then submits the plan", async () => {
    const { store, world, starter } = setup();
    const warmed: Array<{ job: string; jobsInStore: number }> = [];
    // the simulated world with a launcher that can warm (as the kernel launcher can)
    const launcher = Object.assign(Object.create(world), {
      async prewarm(jobId: string) {
        warmed.push({ job: jobId, jobsInStore: store.jobs.size });
      }
    });
    const page = new ExecutorStarter(null as any, null, () => undefined, {
      store,
      launcher,
      runConfig: async () => null,
      dispatcher: { clock: (starter as any)._dispatcherOptions.clock, autopilot: false, prewarm: 0 }
    });
    const inst = instance();
    const plan = await fullPlan(inst);
    const runId = await page.start(plan, inst, { ...DEFAULT_SETTINGS, solverTimeLimitS: 1 });
    page.stop();
    const atZero = plan.jobs.filter(j => j.start_s <= 1e-6).map(j => `${runId}-${j.id}`).sort();
    expect(atZero.length).toBeGreaterThan(0);
    expect(atZero.length).toBeLessThan(plan.jobs.length);
    // exactly the first wave, and before any job record existed (the clock had not started)
    expect(warmed.map(w => w.job).sort()).toEqual(atZero);
    expect(warmed.every(w => w.jobsInStore === 0)).toBe(true);
    expect(store.jobs.size).toBe(plan.jobs.length);
  });
});
