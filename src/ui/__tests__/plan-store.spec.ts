import { DEFAULT_SETTINGS } from '../models/interfaces';
import { IPlanStoreHooks, PlanStore, solvable, yardsticksOf } from '../models/plan-store';
import { FakeBridge, fakeSolver } from './fake-bridge';
import { smallInstance, smallPlan } from './fixtures';

function hooks(): IPlanStoreHooks & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    changed: () => log.push('changed'),
    say: (m: string) => log.push(`say ${m}`),
    settings: () => ({ ...DEFAULT_SETTINGS, solverTimeLimitS: 7 }),
    planReady: () => log.push('planReady'),
    beforeNewPlan: () => log.push('beforeNewPlan'),
    planChanged: pm => log.push(`planChanged ${pm.plan.makespan_s}`)
  };
}

const worse = () => ({ ...smallPlan(), makespan_s: 160, jobs: smallPlan().jobs.map(j => (j.id === 'C' ? { ...j, start_s: 110, end_s: 160 } : j)) });

describe('yardsticks and the solvable instance', () => {
  it('leaves out jobs without a feasible option; no jobs, no yardsticks', () => {
    const inst = smallInstance();
    inst.jobs.push({ id: 'D', options: [] });
    expect(solvable(inst).jobs.map(j => j.id)).toEqual(['A', 'B', 'C']);
    const y = yardsticksOf(inst);
    expect(y.lowerBound).toBeGreaterThan(0);
    expect(y.currentPractice).toBeGreaterThanOrEqual(y.lowerBound!);
    expect(yardsticksOf({ ...inst, jobs: [{ id: 'D', options: [] }] })).toEqual({ lowerBound: null, currentPractice: null });
  });
});

describe('PlanStore', () => {
  it('says why it cannot optimize: no profile, no solver, no feasible option', async () => {
    const h = hooks();
    const noSolver = new PlanStore(new FakeBridge(), null, h);
    expect(await noSolver.optimize()).toBeNull();
    noSolver.setInstance(smallInstance());
    expect(await noSolver.optimize()).toBeNull();
    const s = new PlanStore(new FakeBridge(), fakeSolver([smallPlan()]), h);
    s.setInstance({ ...smallInstance(), jobs: [{ id: 'D', options: [] }] });
    expect(await s.optimize()).toBeNull();
    expect(h.log).toEqual([
      'say Nothing to optimize yet: press Profile first.',
      'say The solver is not available in this build.',
      'say No task has a feasible option: see the profile table for the reasons.'
    ]);
  });

  it('streams a fresh solve onto a new plan: the old run is left first, the chart shown once, the best plan saved', async () => {
    const b = new FakeBridge();
    const h = hooks();
    const solves: any[] = [];
    const solver = fakeSolver([worse(), smallPlan()]);
    const solve = solver.solve.bind(solver);
    solver.solve = (inst, opts, onPlan) => {
      solves.push(opts);
      return solve(inst, opts, onPlan);
    };
    const s = new PlanStore(b, solver, h);
    s.setInstance(smallInstance());
    s.afterRun = 'run0';
    const plan = await s.optimize();
    expect(plan!.makespan_s).toBe(150);
    expect(solves[0]).toEqual({ timeLimitS: 7, strategy: 'hybrid' });
    expect(h.log.indexOf('beforeNewPlan')).toBeLessThan(h.log.indexOf('planReady'));
    expect(h.log.filter(x => x === 'planReady')).toHaveLength(1);
    expect(h.log.filter(x => x.startsWith('planChanged'))).toEqual([]); // a solve's plans are not edits
    expect(s.solving).toBe(false);
    expect(s.planModel!.canUndo).toBe(true);
    const saved = b.requests.filter(r => r.type === 'plan_save');
    expect(saved[saved.length - 1]).toMatchObject({ name: 'small', plan: { makespan_s: 150, saturn_after_run: 'run0', saturn_instance: { name: 'small' } } });
  });

  it('re-optimizes the same plan, keeping pins and the run on screen', async () => {
    const h = hooks();
    const s = new PlanStore(new FakeBridge(), fakeSolver([smallPlan()]), h);
    s.setInstance(smallInstance());
    s.setPlan(smallInstance(), worse());
    const pm = s.planModel!;
    pm.apply({ kind: 'pin', job: 'B' });
    await s.optimize(true);
    expect(s.planModel).toBe(pm);
    expect(pm.isPinned('B')).toBe(true);
    expect(pm.plan.makespan_s).toBe(150);
    expect(h.log).not.toContain('beforeNewPlan');
    expect(h.log.filter(x => x === 'planReady')).toHaveLength(1);
  });

  it('tells about edits outside a solve and saves them after a pause', () => {
    jest.useFakeTimers();
    try {
      const b = new FakeBridge();
      const h = hooks();
      const s = new PlanStore(b, null, h);
      s.setInstance(smallInstance());
      s.setPlan(smallInstance(), smallPlan());
      const r = s.planModel!.apply({ kind: 'move', job: 'C', start_s: 120 });
      expect(r.ok).toBe(true);
      expect(h.log[h.log.length - 1]).toBe(`planChanged ${s.planModel!.plan.makespan_s}`);
      expect(b.requests.filter(x => x.type === 'plan_save')).toHaveLength(0);
      jest.advanceTimersByTime(800);
      expect(b.requests.filter(x => x.type === 'plan_save')).toHaveLength(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it('restores after a reload: the run the plan followed, the profiled instance, the saved plan for it', async () => {
    const b = new FakeBridge();
    b.replies.plans = () => ({ plans: [{ id: 1, doc: { ...smallPlan(), saturn_instance: smallInstance(), saturn_after_run: 'run1' } }] });
    const s = new PlanStore(b, null, hooks());
    await s.restore(async () => null);
    expect(s.afterRun).toBe('run1');
    expect(s.instance!.name).toBe('small');
    expect(s.planModel!.plan.makespan_s).toBe(150);
    expect((s.planModel!.plan as any).saturn_instance).toBeUndefined();

    // a newer profile (another instance) wins over the one saved with the plan, and that plan is not for it
    const other = new PlanStore(b, null, hooks());
    await other.restore(async () => ({ ...smallInstance(), name: 'newer' }));
    expect(other.instance!.name).toBe('newer');
    expect(other.planModel).toBeNull();
  });
});
