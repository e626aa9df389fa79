import { DEFAULT_SETTINGS, IRunController, IRunSnapshot } from '../models/interfaces';
import { PlanStore } from '../models/plan-store';
import { instanceForPlan, IRunMirrorHooks, RunMirror, runIsActive, samePlacement } from '../models/run-mirror';
import { FakeBridge } from './fake-bridge';
import { smallInstance, smallPlan } from './fixtures';

function hooks(): IRunMirrorHooks & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    changed: () => log.push('changed'),
    say: (m: string) => log.push(`say ${m}`),
    settings: () => DEFAULT_SETTINGS,
    devices: () => [{ id: 0, name: 'cpu0', kind: 'cpu' }, { id: 1, name: 'cpu1', kind: 'cpu' }]
  };
}

/** A store whose planChanged hook sends edits to `mirror()` as the model does while a run is active. */
function store(mirror: () => RunMirror | null): PlanStore {
  return new PlanStore(new FakeBridge(), null, {
    changed: () => undefined,
    say: () => undefined,
    settings: () => DEFAULT_SETTINGS,
    planReady: () => undefined,
    beforeNewPlan: () => undefined,
    planChanged: pm => void mirror()?.applyEdit(pm)
  });
}

const snap = (phase: IRunSnapshot['phase'], states: Record<string, any>, plan = smallPlan()): IRunSnapshot => ({
  phase,
  started_at_ms: 1000,
  plan,
  jobs: Object.entries(states).map(([job, state]) => ({ job, state })),
  message: 'run1'
});

describe('run mirror helpers', () => {
  it('knows an active run, the same placement and the instance to edit a run\'s plan on', () => {
    expect(runIsActive(null)).toBe(false);
    expect(runIsActive(snap('starting', {}))).toBe(true);
    expect(runIsActive(snap('done', {}))).toBe(false);
    const moved = { ...smallPlan(), jobs: smallPlan().jobs.map(j => (j.id === 'C' ? { ...j, gpu_ids: [1] } : j)) };
    expect(samePlacement(smallPlan(), { ...smallPlan(), jobs: [...smallPlan().jobs].reverse() })).toBe(true);
    expect(samePlacement(smallPlan(), moved)).toBe(false);

    expect(instanceForPlan(smallPlan(), smallInstance(), null).jobs[0].options).toHaveLength(3); // the profiled one
    const made = instanceForPlan(smallPlan(), null, [{ id: 5, name: 'gpu5', kind: 'cuda' }]);
    expect(made.cluster.nodes).toEqual([{ id: 'node0', gpus: 6 }]);
    expect(made.jobs.find(j => j.id === 'C')!.options).toEqual([{ parallelism: 'spilling', gpus: 1, runtime_s: 50 }]);
  });
});

describe('RunMirror', () => {
  it('shows the run\'s plan and states, and a re-plan as one step, without sending either back', async () => {
    const applied: any[] = [];
    const runner = { canStart: true, canApplyPlan: true, applyPlan: async (p: any) => void applied.push(p) } as unknown as IRunController;
    let m: RunMirror | null = null;
    const plans = store(() => m);
    const h = hooks();
    m = new RunMirror(runner, plans, h);
    m.show(snap('running', { A: 'running', B: 'running', C: 'pending' }));
    expect(m.active).toBe(true);
    expect(plans.planModel!.stateOf('A')).toBe('running');
    expect(plans.planModel!.instance.cluster.nodes).toEqual([{ id: 'node0', gpus: 4 }]);
    const pm = plans.planModel!;
    const replanned = { ...smallPlan(), makespan_s: 170, jobs: smallPlan().jobs.map(j => (j.id === 'C' ? { ...j, gpu_ids: [2], start_s: 120, end_s: 170 } : j)) };
    m.show(snap('running', { A: 'done', B: 'running', C: 'pending' }, replanned));
    expect(plans.planModel).toBe(pm);
    expect(pm.plan.jobs.find(j => j.id === 'C')!.gpu_ids).toEqual([2]);
    expect(pm.history[pm.history.length - 1].label).toBe('Re-planned during the run');
    await Promise.resolve();
    expect(applied).toEqual([]);
    // the user's edit does go to the executor
    expect(pm.apply({ kind: 'move', job: 'C', start_s: 125 }).ok).toBe(true);
    await Promise.resolve();
    expect(applied).toHaveLength(1);
    expect(h.log.filter(x => x === 'changed')).toHaveLength(2);
  });

  it('leaves a finished run behind and does not show it again', () => {
    const plans = store(() => null);
    const m = new RunMirror(null, plans, hooks());
    m.show(snap('running', { A: 'running' }));
    m.leaveFinishedRun();
    expect(m.run).not.toBeNull(); // a running run stays
    m.show(snap('done', { A: 'done', B: 'done', C: 'done' }));
    m.leaveFinishedRun();
    expect(m.run).toBeNull();
    expect(plans.afterRun).toBe('run1');
    m.show(snap('done', { A: 'done', B: 'done', C: 'done' }));
    expect(m.run).toBeNull();
  });

  it('says what it cannot do: start without an executor, edits an executor cannot take', async () => {
    const h = hooks();
    const plans = store(() => null);
    const none = new RunMirror(null, plans, h);
    expect(none.canRun).toBe(false);
    await none.start();
    plans.setPlan(smallInstance(), smallPlan());
    const watcher = new RunMirror({ canStart: false } as unknown as IRunController, plans, h);
    expect(watcher.canRun).toBe(false);
    await watcher.applyEdit(plans.planModel!);
    expect(h.log).toEqual([
      'say Running plans needs the Saturn executor, which is not available in this build.',
      'say This edit only changes the chart: the executor in this build cannot re-plan a run.'
    ]);
  });

  it('starts the current plan after saving it', async () => {
    const started: any[] = [];
    const runner = { canStart: true, start: async (plan: any, inst: any, s: any) => void started.push([plan.makespan_s, inst.name, s.retries]) } as unknown as IRunController;
    const b = new FakeBridge();
    const plans = new PlanStore(b, null, { changed: () => undefined, say: () => undefined, settings: () => DEFAULT_SETTINGS, planReady: () => undefined, beforeNewPlan: () => undefined, planChanged: () => undefined });
    plans.setInstance(smallInstance());
    plans.setPlan(smallInstance(), smallPlan());
    await new RunMirror(runner, plans, hooks()).start();
    expect(b.requests.map(r => r.type)).toEqual(['plan_save']);
    expect(started).toEqual([[150, 'small', 2]]);
  });
});
