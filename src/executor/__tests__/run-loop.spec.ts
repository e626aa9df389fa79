/**
 * The one run loop (`run-loop.ts`) that the page and the CLI share: forced re-plans (a job given up, jobs on a lost
 * node) happen whatever the introspection setting, periodic ones only when it is on.
 */
import { solve } from '../../spase/solve';
import { Dispatcher, IPlanLike, jobsFromPlan } from '../dispatcher';
import { IInstanceLike, Introspector, SolveFn } from '../introspection';
import { JobState } from '../job-state';
import { nextStepInS, RunLoop } from '../run-loop';
import { INodeState, ISnapshot } from '../types';
import { MemoryJobStore, SimClock, SimWorld } from './sim';

const solveFast: SolveFn = (inst, o) => solve(inst as any, { ...o, iterations: 2000, noMilp: true }) as unknown as Promise<IPlanLike>;

function instanceOf(nodes: Array<{ id: string; gpus: number }>, jobs: string[]): IInstanceLike {
  return {
    format: 'spase-instance/1',
    name: 'loop',
    cluster: { nodes },
    jobs: jobs.map(id => ({ id, total_steps: 100, options: [{ parallelism: 'ddp', gpus: 1, runtime_s: 100 }] }))
  };
}

class NodeStore extends MemoryJobStore {
  nodes: INodeState[] = [];
  async snapshot(): Promise<ISnapshot> {
    return { ...(await super.snapshot()), nodes: this.nodes };
  }
}

async function setUp(
  instance: IInstanceLike,
  world: (store: MemoryJobStore, clock: SimClock) => SimWorld,
  store: MemoryJobStore,
  maxRetries = 2,
  given?: IPlanLike
) {
  const clock = store.clock as SimClock;
  const w = world(store, clock);
  const plan = given ?? (await solveFast(instance, {}));
  const d = new Dispatcher(store, w, 'r', { clock, maxRetries, autopilot: false });
  await d.submit(jobsFromPlan(plan, instance, 'r'));
  const intro = new Introspector(instance, { intervalS: 1000, thresholdS: 500, solve: solveFast });
  const logs: string[] = [];
  const loop = new RunLoop(d, intro, { introspectionIntervalS: 0, thresholdS: 500, log: m => logs.push(m) });
  return { d, w, clock, loop, logs, plan };
}

describe('the run loop', () => {
  it('re-plans at once when a job is given up, with periodic introspection off', async () => {
    const instance = instanceOf([{ id: 'node0', gpus: 2 }], ['a', 'b', 'bad']);
    const clock = new SimClock();
    const store = new MemoryJobStore(clock);
    const entry = (id: string, gpu: number, start: number) => ({ id, parallelism: 'ddp', gpus: 1, node: 'node0', gpu_ids: [gpu], start_s: start, end_s: start + 100 });
    // 'bad' first on GPU 0, 'b' after it: when 'bad' is given up, 'b' is still to run
    const plan: IPlanLike = { makespan_s: 200, jobs: [entry('bad', 0, 0), entry('a', 1, 0), entry('b', 0, 100)] };
    const world = (s: MemoryJobStore, c: SimClock) => new SimWorld(s, c, () => 1, { failOnce: new Set(['bad']) });
    const { w, loop, logs } = await setUp(instance, world, store, 0, plan);
    for (let i = 0; i < 400 && !loop.finished; i++) {
      await loop.step();
      w.advanceTo(clock.t + 1);
    }
    expect(loop.finished).toBe(true);
    expect(store.jobs.get('r-bad')!.info.given_up).toBe(true);
    expect(logs.some(l => /r-bad given up: re-planning the rest/.test(l))).toBe(true);
    expect(loop.decisions.length).toBe(1); // the forced re-plan only: no periodic one with the interval at 0
    expect(['r-a', 'r-b'].map(id => store.jobs.get(id)!.state)).toEqual([JobState.Done, JobState.Done]);
  });

  it('moves the jobs of a lost node to the others at once, with periodic introspection off', async () => {
    const instance = instanceOf([{ id: 'n1', gpus: 1 }, { id: 'n2', gpus: 1 }], ['a', 'b']);
    const clock = new SimClock();
    const store = new NodeStore(clock);
    const { d, w, loop, logs, plan } = await setUp(instance, (s, c) => new SimWorld(s, c, () => 1, {}), store);
    expect(new Set(plan.jobs.map(j => j.node))).toEqual(new Set(['n1', 'n2']));
    store.nodes = [
      { id: 'n1', gpus: 1, state: 'down*', usable: false },
      { id: 'n2', gpus: 1, state: 'idle', usable: true }
    ];
    for (let i = 0; i < 600 && !loop.finished; i++) {
      await loop.step();
      w.advanceTo(clock.t + 1);
    }
    expect(loop.finished).toBe(true);
    expect(logs.some(l => /node\(s\) n1 unusable: re-planning/.test(l))).toBe(true);
    const jobs = [...store.jobs.values()];
    expect(jobs.map(j => [j.state, j.info.assignment.node])).toEqual([
      [JobState.Done, 'n2'],
      [JobState.Done, 'n2']
    ]);
    expect(d.finished).toBe(true);
  });
});

describe('a job that ends before its plan said', () => {
  const t0 = new SimClock().now();
  // 'a' and 'b' first, 'c' after 'b' on GPU 1; 'a' really trains 3× faster than profiled and frees GPU 0 early
  const run = async (introspectionIntervalS: number) => {
    const instance = instanceOf([{ id: 'node0', gpus: 2 }], ['a', 'b', 'c']);
    const clock = new SimClock();
    const store = new MemoryJobStore(clock);
    const entry = (id: string, gpu: number, start: number) => ({ id, parallelism: 'ddp', gpus: 1, node: 'node0', gpu_ids: [gpu], start_s: start, end_s: start + 100 });
    const plan: IPlanLike = { makespan_s: 200, jobs: [entry('a', 0, 0), entry('b', 1, 0), entry('c', 1, 100)] };
    const w = new SimWorld(store, clock, task => (task === 'a' ? 0.3 : 1), {});
    const d = new Dispatcher(store, w, 'r', { clock, maxRetries: 0, autopilot: false });
    await d.submit(jobsFromPlan(plan, instance, 'r'));
    const logs: string[] = [];
    const intro = new Introspector(instance, { intervalS: Math.max(introspectionIntervalS, 1), thresholdS: 500, solve: solveFast });
    const loop = new RunLoop(d, intro, { introspectionIntervalS, thresholdS: 500, log: m => logs.push(m) });
    for (let i = 0; i < 600 && !loop.finished; i++) {
      await loop.step();
      w.advanceTo(clock.t + 1);
    }
    expect(loop.finished).toBe(true);
    return { c: store.jobs.get('r-c')!, logs, decisions: loop.decisions };
  };

  it('re-plans when it ends: the waiting job moves to the GPU it freed (the periodic re-plan is 1000 s away)', async () => {
    const { c, logs, decisions } = await run(1000);
    expect(c.state).toBe(JobState.Done);
    expect(c.info.assignment.gpu_ids).toEqual([0]);
    // launched when 'a' ended (about 30 s into the run), not after 'b' (about 100 s); the sim clock starts at t0
    expect(c.info.launched_at! - t0).toBeLessThan(60);
    expect(decisions.filter(x => x.switched)).toHaveLength(1);
    expect(logs.some(l => /introspection: new plan .* sooner/.test(l))).toBe(true);
  });

  it('with introspection off (interval 0) the plan runs as it was', async () => {
    const { c, decisions } = await run(0);
    expect(c.state).toBe(JobState.Done);
    expect(c.info.assignment.gpu_ids).toEqual([1]);
    expect(decisions).toHaveLength(0);
  });
});

describe('when the loop steps again (nextStepInS)', () => {
  const job = (id: string, state: JobState, progress?: { eta_s?: number | null; at?: number }): any => ({
    id,
    task: id,
    state,
    info: { assignment: { parallelism: 'ddp', gpus: 1, node: 'n0', gpu_ids: [0] }, ...(progress ? { progress: { step: 1, total_steps: 10, ...progress } } : {}) }
  });
  const snap = (now: number, ...jobs: any[]): ISnapshot => ({ jobs, leases: [], now });

  it('waits the whole interval while no running job is about to end', () => {
    expect(nextStepInS(snap(100, job('a', JobState.Running, { eta_s: 30, at: 99 }), job('b', JobState.Pending)), 1)).toBe(1);
    expect(nextStepInS(snap(100), 1)).toBe(1);
    // an ETA of a job that is not running says nothing about GPUs freeing up
    expect(nextStepInS(snap(100, job('c', JobState.Done, { eta_s: 0, at: 99 })), 1)).toBe(1);
  });

  it('wakes when a running job should end, counting the age of its report, and then polls every soonS', () => {
    expect(nextStepInS(snap(100, job('a', JobState.Running, { eta_s: 0.9, at: 100 })), 1)).toBeCloseTo(0.9);
    expect(nextStepInS(snap(100, job('a', JobState.Running, { eta_s: 0.9, at: 99.5 })), 1)).toBeCloseTo(0.4);
    expect(nextStepInS(snap(100, job('a', JobState.Running, { eta_s: 5, at: 90 })), 1, 0.2)).toBe(0.2);
    // the soonest of several jobs; an interval shorter than soonS is kept
    expect(nextStepInS(snap(100, job('a', JobState.Running, { eta_s: 0.7, at: 100 }), job('b', JobState.Running, { eta_s: 0.5, at: 100 })), 1)).toBeCloseTo(0.5);
    expect(nextStepInS(snap(100, job('a', JobState.Running, { eta_s: 0.7, at: 100 })), 0.1)).toBe(0.1);
  });
});
