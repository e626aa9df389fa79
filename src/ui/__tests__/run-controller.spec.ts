import { Signal } from '@lumino/signaling';
import { Instance, Plan } from '../../spase/types';
import { IRunStarter, snapshotFromJobs, StoreRunController, toDispatcherPlan } from '../models/run-controller';
import { SaturnModel } from '../models/saturn-model';
import { smallInstance, smallPlan } from './fixtures';

/** Run "run1" started at t=1000 (store clock) from smallPlan: A done, B running, C waiting. */
function runJobs(): any[] {
  const a = (p: Plan['jobs'][number]) => ({ parallelism: p.parallelism, gpus: p.gpus, node: p.node, gpu_ids: p.gpu_ids, planned_start_s: p.start_s, planned_end_s: p.end_s });
  const [A, B, C] = smallPlan().jobs;
  return [
    { id: 'run1-A', task: 'A', state: 'done', created_at: 1000, info: { run_id: 'run1', assignment: a(A), first_step_at: 1001, finished_at: 1030 } },
    { id: 'run1-B', task: 'B', state: 'running', created_at: 1000, info: { run_id: 'run1', assignment: a(B), first_step_at: 1001 } },
    { id: 'run1-C', task: 'C', state: 'waiting', created_at: 1000, info: { run_id: 'run1', assignment: a(C) } }
  ];
}

function fakeBridge(jobs: () => any[]): any {
  return {
    state: 'disconnected',
    stateChanged: new Signal<any, any>({}),
    events: new Signal<any, any>({}),
    lastError: null,
    hello: { saturn_version: '0.1.0' },
    async connect() {
      this.state = 'connected';
    },
    async request(req: any) {
      const r: Record<string, () => any> = {
        devices: () => ({ devices: [] }),
        tasks: () => ({ tasks: [] }),
        profile_status: () => ({ running: false }),
        plans: () => ({ plans: [] }),
        events_since: () => ({ events: [] }),
        instance: () => ({ instance: null, last_event_id: 0 }),
        plan_save: () => ({ plan_id: 1 }),
        jobs: () => ({ jobs: jobs() })
      };
      return { ok: true, ...r[req.type]() };
    }
  };
}

class FakeStarter implements IRunStarter {
  calls: Array<{ runId: string; plan: Plan; instance: Instance; nowS?: number }> = [];
  async start(): Promise<string> {
    return 'run1';
  }
  async cancel(): Promise<void> {}
  async applyPlan(runId: string, plan: Plan, instance: Instance, nowS?: number): Promise<void> {
    this.calls.push({ runId, plan, instance, nowS });
  }
}

const flush = () => new Promise(r => setTimeout(r, 0));

describe('toDispatcherPlan', () => {
  it('shifts to now, starts running jobs at 0 and leaves finished ones out', () => {
    const p = toDispatcherPlan(smallPlan(), new Map([['A', 'done'], ['B', 'running'], ['C', 'waiting']]), 40);
    expect(p.jobs).toEqual([
      { id: 'B', parallelism: 'ddp', gpus: 2, node: 'node0', gpu_ids: [2, 3], start_s: 0, end_s: 80, running: true },
      { id: 'C', parallelism: 'spilling', gpus: 1, node: 'node0', gpu_ids: [0], start_s: 60, end_s: 110 }
    ]);
    expect(p.makespan_s).toBe(110);
    // a job planned in the past starts now, keeping its duration
    expect(toDispatcherPlan(smallPlan(), new Map(), 120).jobs.find(j => j.id === 'C')).toMatchObject({ start_s: 0, end_s: 50 });
  });
});

describe('snapshotFromJobs with re-planned assignments', () => {
  it('places times that count from a re-plan on the run\'s time axis', () => {
    const jobs = runJobs();
    jobs[2].info.assignment = { ...jobs[2].info.assignment, gpu_ids: [1], planned_start_s: 60, planned_end_s: 110, planned_origin_s: 1040 };
    const s = snapshotFromJobs(jobs)!;
    expect(s.plan!.jobs.find(j => j.id === 'C')).toMatchObject({ gpu_ids: [1], start_s: 100, end_s: 150 });
  });
});

describe('edits during a run', () => {
  it('reach the starter in the dispatcher\'s time origin; edits of started jobs are refused', async () => {
    let jobs = runJobs();
    const starter = new FakeStarter();
    const runner = new StoreRunController(fakeBridge(() => jobs), starter);
    runner._now = () => 1040;
    const m = new SaturnModel(runner['bridge'] as any, null, runner);
    // the profiled instance is known (a finished profile), so the run's plan is edited with every profiled option
    (runner['bridge'] as any).events.emit({ type: 'event', id: 1, kind: 'profile.finished', data: { run_id: 'p1', instance: smallInstance() } });
    await m.refresh();
    expect(m.planModel!.instance.jobs.find(j => j.id === 'B')!.options).toHaveLength(2);
    expect(m.activity).toBe('running');
    expect(runner.canApplyPlan).toBe(true);
    const pm = m.planModel!;
    // the run's own plan on the chart is not an edit
    expect(starter.calls).toHaveLength(0);

    // started jobs cannot be changed: done cannot move, running keeps its GPUs
    const done = pm.apply({ kind: 'move', job: 'A', start_s: 10 });
    expect(done.ok).toBe(false);
    expect(done.reasons[0]).toContain('"A" is done');
    const running = pm.apply({ kind: 'move', job: 'B', start_s: 0, gpu_ids: [1, 2] });
    expect(running.ok).toBe(false);
    expect(running.reasons[0]).toContain('"B" is running');
    expect(pm.apply({ kind: 'option', job: 'B', parallelism: 'pipeline', gpus: 1 }).ok).toBe(false);
    await flush();
    expect(starter.calls).toHaveLength(0);

    // a waiting job moved to a free GPU: the executor gets it 40 s (the run's age) earlier, from now
    const ok = pm.apply({ kind: 'move', job: 'C', start_s: 100, gpu_ids: [1] });
    expect(ok.ok).toBe(true);
    await flush();
    expect(starter.calls).toHaveLength(1);
    const call = starter.calls[0];
    expect(call.runId).toBe('run1');
    expect(call.nowS).toBe(1040);
    expect(call.plan.jobs.map(j => j.id)).toEqual(['B', 'C']);
    expect(call.plan.jobs[0]).toMatchObject({ id: 'B', gpu_ids: [2, 3], start_s: 0, end_s: 80, running: true });
    expect(call.plan.jobs[1]).toMatchObject({ id: 'C', gpu_ids: [1], start_s: 60, end_s: 110 });

    // the store now has the new assignment (counting from the re-plan): the chart keeps the edit, nothing is re-sent
    jobs = runJobs();
    jobs[2].info.assignment = { ...jobs[2].info.assignment, gpu_ids: [1], planned_start_s: 60, planned_end_s: 110, planned_origin_s: 1040 };
    await runner.refresh();
    await flush();
    expect(pm.plan.jobs.find(j => j.id === 'C')).toMatchObject({ gpu_ids: [1], start_s: 100, end_s: 150 });
    expect(starter.calls).toHaveLength(1);
    m.dispose();
  });

  it('says so when the executor cannot re-plan', async () => {
    const starter: IRunStarter = { start: async () => 'run1', cancel: async () => undefined };
    const runner = new StoreRunController(fakeBridge(() => runJobs()), starter);
    const m = new SaturnModel(runner['bridge'] as any, null, runner);
    const notices: string[] = [];
    m.notice.connect((_, n) => notices.push(n.message));
    await m.refresh();
    expect(runner.canApplyPlan).toBe(false);
    await expect(runner.applyPlan(smallPlan(), smallInstance())).rejects.toThrow('cannot re-plan');
    expect(m.planModel!.apply({ kind: 'move', job: 'C', start_s: 100, gpu_ids: [1] }).ok).toBe(true);
    await flush();
    expect(notices[0]).toContain('only changes the chart');
    m.dispose();
  });
});

describe('snapshotFromJobs', () => {
  it('takes the latest run, progress, actual times and a plan from the assignments', () => {
    expect(snapshotFromJobs([])).toBeNull();
    const s = snapshotFromJobs([
      { id: 'old-A', task: 'A', state: 'done', created_at: 1, info: { run_id: 'old' } },
      { id: 'new-A', task: 'A', state: 'failed', created_at: 50, info: { run_id: 'new', given_up: true, error: 'boom', assignment: { parallelism: 'ddp', gpus: 1, node: 'node0', gpu_ids: [1], planned_start_s: 0, planned_end_s: 10 }, first_step_at: 52, failed_at: 55 } }
    ])!;
    expect(s.phase).toBe('failed');
    expect(s.message).toBe('new');
    expect(s.jobs).toEqual([{ job: 'A', state: 'failed', progress: undefined, actual_start_s: 2, actual_end_s: 5, node: 'node0', gpu_ids: [1], error: 'boom' }]);
    expect(s.plan!.jobs[0]).toMatchObject({ id: 'A', gpu_ids: [1], start_s: 0, end_s: 10 });
  });
});
