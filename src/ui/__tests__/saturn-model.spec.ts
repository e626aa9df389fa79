import { StoreRunController } from '../models/run-controller';
import { SaturnModel } from '../models/saturn-model';
import { FakeBridge, fakeSolver } from './fake-bridge';
import { smallInstance, smallPlan } from './fixtures';

describe('SaturnModel', () => {
  it('loads devices and tasks, and says when the bridge is unavailable', async () => {
    const b = new FakeBridge();
    const m = new SaturnModel(b);
    await m.refresh();
    expect(m.devices).toHaveLength(2);
    expect(m.tasks!.map(t => t.name)).toEqual(['A']);
    expect(m.loaded).toBe(true);
    expect(m.activity).toBe('idle');
    const b2 = new FakeBridge();
    b2.failConnect = true;
    const m2 = new SaturnModel(b2);
    await m2.refresh();
    expect(m2.bridgeState).toBe('unavailable');
    expect(m2.tasks).toBeNull();
    m.dispose();
    m2.dispose();
  });

  it('follows profiling through events and keeps the profiled instance', async () => {
    const b = new FakeBridge();
    const m = new SaturnModel(b);
    await m.refresh();
    await m.startProfile();
    expect(b.requests.find(r => r.type === 'profile')).toMatchObject({ warmup: 2, measure: 3, use_cache: true });
    expect(m.activity).toBe('profiling');
    b.push('profile.started', { run_id: 'r1', total: 4, tasks: ['A', 'B', 'C'] }, 10);
    b.push('profile.progress', { run_id: 'r1', done: 1, total: 4, eta_s: 30, trial: { task: 'A', parallelism: 'ddp', gpus: 1, feasible: true } }, 11);
    b.push('profile.progress', { run_id: 'r1', done: 1, total: 4, eta_s: 30 }, 11); // duplicate id: ignored
    expect(m.profile).toMatchObject({ running: true, done: 1, total: 4, eta_s: 30 });
    expect(m.profile!.trials.A).toHaveLength(1);
    b.push('profile.finished', { run_id: 'r1', instance: smallInstance() }, 12);
    expect(m.profile!.running).toBe(false);
    expect(m.instance!.jobs).toHaveLength(3);
    expect(m.yardsticks.lowerBound).toBeGreaterThan(0);
    expect(m.yardsticks.currentPractice).toBeGreaterThan(0);
    m.dispose();
  });

  it('reports failures as notices with details', async () => {
    const b = new FakeBridge();
    b.replies.profile = () => {
      throw Object.assign(new Error('profiling is already running'), { hint: 'wait for it' });
    };
    const m = new SaturnModel(b);
    const notices: any[] = [];
    m.notice.connect((_, n) => notices.push(n));
    await m.refresh();
    await m.startProfile();
    expect(notices[0]).toEqual({ message: 'Profiling could not start.', details: 'profiling is already running\nwait for it' });
    await m.optimize();
    expect(notices[1].message).toContain('Profile first');
    m.dispose();
  });

  it('optimizes with streamed plans, saves the plan, and re-optimizes keeping pins', async () => {
    const b = new FakeBridge();
    const worse = { ...smallPlan(), makespan_s: 160, jobs: smallPlan().jobs.map(j => (j.id === 'C' ? { ...j, start_s: 110, end_s: 160 } : j)) };
    const solver = fakeSolver([worse, smallPlan()]);
    const m = new SaturnModel(b, solver);
    let ready = 0;
    m.planReady.connect(() => ready++);
    await m.refresh();
    b.push('profile.finished', { run_id: 'r1', instance: smallInstance() }, 12);
    const plan = await m.optimize();
    expect(plan!.makespan_s).toBe(150);
    expect(ready).toBe(1);
    expect(m.planModel!.plan.makespan_s).toBe(150);
    expect(m.planModel!.canUndo).toBe(true); // the streamed improvement is one undo step
    const saved = b.requests.filter(r => r.type === 'plan_save');
    expect(saved[saved.length - 1].plan.saturn_instance.name).toBe('small');
    m.planModel!.apply({ kind: 'pin', job: 'B' });
    await m.optimize(true);
    expect(m.planModel!.isPinned('B')).toBe(true);
    expect(m.solving).toBe(false);
    m.dispose();
  });

  it('restores the latest profile and plan after a reload', async () => {
    const b = new FakeBridge();
    b.replies.plans = () => ({ plans: [{ id: 1, doc: { ...smallPlan(), saturn_instance: smallInstance() } }] });
    b.replies.events_since = req => (req.since === 0 ? { events: [{ id: 5, kind: 'task.registered', data: {} }], last_id: 5 } : { events: [], last_id: 5 });
    const m = new SaturnModel(b);
    await m.refresh();
    expect(m.instance!.name).toBe('small');
    expect(m.planModel!.plan.makespan_s).toBe(150);
    m.dispose();
  });

  it('shows the store\'s run: job states on the plan, completion', async () => {
    const b = new FakeBridge();
    const jobs = [
      { id: 'run1-A', task: 'A', state: 'done', created_at: 1000, info: { run_id: 'run1', assignment: { parallelism: 'ddp', gpus: 2, node: 'node0', gpu_ids: [0, 1], planned_start_s: 0, planned_end_s: 100 }, first_step_at: 1002, finished_at: 1090 } },
      { id: 'run1-B', task: 'B', state: 'running', created_at: 1000, info: { run_id: 'run1', assignment: { parallelism: 'ddp', gpus: 2, node: 'node0', gpu_ids: [2, 3], planned_start_s: 0, planned_end_s: 120 }, progress: { step: 30, total_steps: 60 } } },
      { id: 'run1-C', task: 'C', state: 'waiting', created_at: 1000, info: { run_id: 'run1', assignment: { parallelism: 'spilling', gpus: 1, node: 'node0', gpu_ids: [0], planned_start_s: 100, planned_end_s: 150 } } }
    ];
    b.replies.jobs = () => ({ jobs });
    const runner = new StoreRunController(b, null);
    const m = new SaturnModel(b, null, runner);
    await m.refresh();
    expect(m.canRun).toBe(false);
    expect(m.run!.phase).toBe('running');
    expect(m.activity).toBe('running');
    expect(m.planModel!.stateOf('A')).toBe('done');
    expect(m.planModel!.stateOf('B')).toBe('running');
    expect(m.planModel!.plan.makespan_s).toBe(150);
    jobs[1].state = 'done';
    jobs[2].state = 'done';
    await runner.refresh();
    expect(m.run!.phase).toBe('done');
    expect(m.planModel!.stateOf('C')).toBe('done');
    m.dispose();
  });
});

describe('SaturnModel after a finished run', () => {
  const doneJobs = () =>
    smallPlan().jobs.map(j => ({
      id: `run1-${j.id}`,
      task: j.id,
      state: 'done',
      created_at: 1000,
      info: { run_id: 'run1', assignment: { parallelism: j.parallelism, gpus: j.gpus, node: j.node, gpu_ids: j.gpu_ids, planned_start_s: j.start_s, planned_end_s: j.end_s }, first_step_at: 1001, finished_at: 1200 }
    }));

  it('a new plan leaves the finished run behind, also after a reload', async () => {
    const b = new FakeBridge();
    const saved: any[] = [];
    b.replies.plans = () => ({ plans: saved.length ? [{ id: 2, doc: saved[saved.length - 1] }] : [{ id: 1, doc: { ...smallPlan(), saturn_instance: smallInstance() } }] });
    b.replies.plan_save = req => {
      saved.push(req.plan);
      return { plan_id: saved.length + 1 };
    };
    b.replies.jobs = () => ({ jobs: doneJobs() });
    const newPlan = { ...smallPlan(), makespan_s: 130, jobs: smallPlan().jobs.map(j => (j.id === 'C' ? { ...j, gpu_ids: [2], start_s: 120, end_s: 170 } : j)) };
    const m = new SaturnModel(b, fakeSolver([newPlan]), new StoreRunController(b, null));
    await m.refresh();
    expect(m.run!.phase).toBe('done');
    expect(m.planModel!.stateOf('A')).toBe('done');

    await m.optimize();
    expect(m.run).toBeNull(); // the chart no longer shows the old run's states and bars
    expect(m.planModel!.stateOf('A')).toBe('planned');
    expect(m.planModel!.plan.jobs.find(j => j.id === 'C')!.gpu_ids).toEqual([2]);
    expect(saved[saved.length - 1].saturn_after_run).toBe('run1');
    m.dispose();

    // reload: the saved plan wins over the finished run it followed
    const again = new SaturnModel(b, null, new StoreRunController(b, null));
    await again.refresh();
    expect(again.run).toBeNull();
    expect(again.planModel!.plan.jobs.find(j => j.id === 'C')!.gpu_ids).toEqual([2]);
    again.dispose();
  });
});
