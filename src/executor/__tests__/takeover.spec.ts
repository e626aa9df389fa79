import { Dispatcher, IPlanLike, jobsFromPlan } from '../dispatcher';
import { StoreRequestError } from '../kernel-backend';
import { retryOnLoss } from '../cli-run';
import { JobState } from '../job-state';
import { IAutopilotOptions } from '../types';
import { MemoryJobStore, SimClock, SimWorld } from './sim';

const entry = (id: string, gpu_ids: number[], start_s: number, end_s: number) => ({
  id,
  parallelism: 'spilling',
  gpus: gpu_ids.length,
  node: 'node0',
  gpu_ids,
  start_s,
  end_s
});
const plan: IPlanLike = { makespan_s: 300, jobs: [entry('a', [0], 0, 100), entry('b', [0], 100, 200), entry('c', [0], 200, 300), entry('d', [1], 0, 50)] };
const instance = { jobs: plan.jobs.map(e => ({ id: e.id, total_steps: 100, options: [{ parallelism: e.parallelism, gpus: e.gpus }] })) };

class BeatingStore extends MemoryJobStore {
  beats: Array<[string, number, boolean, number]> = [];
  autopilots: Array<[string, IAutopilotOptions]> = [];
  async heartbeat(runId: string, pollS: number, paused: boolean): Promise<void> {
    this.beats.push([runId, pollS, paused, this.clock.now()]);
  }
  async startAutopilot(runId: string, options: IAutopilotOptions): Promise<unknown> {
    this.autopilots.push([runId, options]);
    return { run_id: runId };
  }
}

class WarmWorld extends SimWorld {
  warmed: string[] = [];
  async prewarm(id: string): Promise<void> {
    this.warmed.push(id);
  }
}

function setup() {
  const clock = new SimClock();
  const store = new BeatingStore(clock);
  const world = new WarmWorld(store, clock, () => 1, { launchDelayS: 1 });
  const d = new Dispatcher(store, world, 'r1', { clock, relaunchBackoffS: 1, pollS: 0.5, maxRetries: 3 });
  return { clock, store, world, d };
}

describe('takeover support in the dispatcher', () => {
  it('starts the autopilot when it submits a plan and after a reconcile, and beats on every tick', async () => {
    const { clock, store, world, d } = setup();
    await d.submit(jobsFromPlan(plan, instance, 'r1'));
    expect(store.autopilots).toEqual([['r1', { max_retries: 3, grace_factor: 3 }]]);
    const before = store.beats.length;
    for (let i = 0; i < 5; i++) {
      await d.tick();
      world.advanceTo(clock.t + 1);
      clock.t += 1;
    }
    expect(store.beats.length - before).toBe(5);
    expect(store.beats.every(([run, poll, paused]) => run === 'r1' && poll === 0.5 && !paused)).toBe(true);
    expect(d.lastHeartbeat).toBe(store.beats[store.beats.length - 1][3]);
    await d.pause();
    expect(store.beats[store.beats.length - 1][2]).toBe(true); // a paused run: the autopilot starts nothing either
    await d.reconcile();
    expect(store.autopilots.length).toBe(2);
  });

  it('does not start the autopilot when told not to', async () => {
    const clock = new SimClock();
    const store = new BeatingStore(clock);
    const d = new Dispatcher(store, new SimWorld(store, clock, () => 1), 'r1', { clock, autopilot: false });
    await d.submit(jobsFromPlan(plan, instance, 'r1'));
    expect(store.autopilots).toEqual([]);
  });

  it('pre-warms the next jobs in plan order while their GPUs are still busy, never a launched one', async () => {
    const { clock, world, d } = setup();
    await d.submit(jobsFromPlan(plan, instance, 'r1'));
    await d.tick();
    expect(world.launches.sort()).toEqual(['r1-a', 'r1-d']);
    expect(world.warmed).toEqual([]); // not while a and d are booting
    world.advanceTo(clock.t + 1.5);
    clock.t += 1.5;
    await d.tick();
    expect(world.warmed).toEqual(['r1-b', 'r1-c']); // a and d run; the next two in order are warmed once
    await d.tick();
    expect(world.warmed).toEqual(['r1-b', 'r1-c']);
    // drive to the end: every job runs once, on its own turn
    while (!d.finished && clock.t < 2000) {
      world.advanceTo(clock.t + 1);
      clock.t += 1;
      await d.tick();
    }
    expect(d.finished).toBe(true);
    expect(d.snapshot!.jobs.every(j => j.state === JobState.Done)).toBe(true);
    expect(world.warmed).toEqual(['r1-b', 'r1-c']);
  });
});

describe('the first wave', () => {
  it('warms the kernels of the jobs planned at time 0 and of the next two before the run, once, and launches them warm', async () => {
    const { clock, world, d } = setup();
    // the plan above and a fifth job after d: one job is left for the dispatcher to warm during the run
    const five: IPlanLike = { ...plan, jobs: [...plan.jobs, entry('e', [1], 50, 150)] };
    const jobs = jobsFromPlan(five, { jobs: [...instance.jobs, { ...instance.jobs[0], id: 'e' }] }, 'r1');
    const firsts = jobs.filter(j => j.assignment.planned_start_s === 0).map(j => j.id).sort();
    const later = jobs.filter(j => j.assignment.planned_start_s! > 0).sort((a, b) => a.assignment.planned_start_s! - b.assignment.planned_start_s!);
    expect(firsts.length).toBeGreaterThan(0);
    expect(later.length).toBeGreaterThan(2);
    // the next two (the dispatcher's prewarm default) are warm before the clock starts too: they do not boot
    // beside the first wave's training
    const early = [...firsts, ...later.slice(0, 2).map(j => j.id)].sort();
    expect(await d.warmFirstWave(jobs)).toBe(early.length);
    expect([...world.warmed].sort()).toEqual(early);
    await d.submit(jobs); // warming needs no job record: it comes before the submit
    await d.tick();
    expect(world.launches.sort()).toEqual(firsts);
    world.advanceTo(clock.t + 1.5);
    clock.t += 1.5;
    await d.tick();
    // once d is over and e has started, the dispatcher's own pre-warming goes on with the next job (c) and warms
    // none of these again
    for (let t = 0; t < 60 && !world.warmed.includes('r1-c'); t++) {
      world.advanceTo(clock.t + 1);
      clock.t += 1;
      await d.tick();
    }
    expect(world.warmed).toContain('r1-c');
    expect(world.warmed.filter(id => early.includes(id))).toHaveLength(early.length);
    expect(world.warmed.length).toBeGreaterThan(early.length);
  });
});

class ReconnectingStore extends BeatingStore {
  epoch = 0;
  reconciles = 0;
  async reconcile(): Promise<unknown> {
    this.reconciles++;
    return super.reconcile();
  }
}

class ForgetfulWorld extends WarmWorld {
  forgot = 0;
  forget(): void {
    this.forgot++;
    this.runs.clear();
  }
}

describe('a store connection made anew between ticks (a server restart no call failed on)', () => {
  it('forgets the launches, reconciles, and resumes the job whose runner went with the server instead of failing it', async () => {
    const clock = new SimClock();
    const store = new ReconnectingStore(clock);
    const world = new ForgetfulWorld(store, clock, () => 1, { launchDelayS: 1 });
    const d = new Dispatcher(store, world, 'r1', { clock, relaunchBackoffS: 1, pollS: 0.5, maxRetries: 3, deadGraceTicks: 1 });
    await d.submit(jobsFromPlan(plan, instance, 'r1'));
    for (let i = 0; i < 4; i++) {
      await d.tick();
      clock.t += 1;
      world.advanceTo(clock.t);
    }
    expect(store.jobs.get('r1-a')!.state).toBe(JobState.Running);
    expect(store.reconciles).toBe(0); // the epoch did not change: no reconcile on an ordinary tick

    world.kill('r1-a'); // the server restarted: a's runner went with it...
    store.epoch++; // ...and the store reached a new control kernel without any call failing
    await d.tick();
    expect(store.reconciles).toBe(1);
    expect(world.forgot).toBe(1);
    const a = store.jobs.get('r1-a')!;
    expect(a.state).toBe(JobState.Resumed); // preempted by the reconcile, relaunched from its checkpoint
    expect(a.info.retries ?? 0).toBe(0); // not counted as a failure
    await d.tick();
    expect(store.reconciles).toBe(1); // once per reconnection
  });
});

describe('retryOnLoss (saturn run across a server restart)', () => {
  it('retries while the server is away and returns the answer once it is back', async () => {
    let calls = 0;
    let lostOnce = 0;
    const logs: string[] = [];
    const value = await retryOnLoss(
      async () => {
        calls++;
        if (calls < 4) {
          throw new Error('socket hang up');
        }
        return 42;
      },
      'profiling',
      { maxS: 60, sleepS: async () => undefined, log: m => logs.push(m), onLost: () => lostOnce++ }
    );
    expect(value).toBe(42);
    expect(calls).toBe(4);
    expect(lostOnce).toBe(1);
    expect(logs.length).toBe(2);
  });

  it('does not retry an error the store answered with, and gives up after maxS', async () => {
    let calls = 0;
    await expect(
      retryOnLoss(async () => { calls++; throw new StoreRequestError('failed', 'ValueError: bad'); }, 'x', { maxS: 60, sleepS: async () => undefined })
    ).rejects.toThrow('ValueError: bad');
    expect(calls).toBe(1);
    let t = 0;
    await expect(
      retryOnLoss(async () => { throw new Error('down'); }, 'x', { maxS: 10, now: () => t, sleepS: async () => { t += 3; } })
    ).rejects.toThrow('down');
    expect(t).toBeGreaterThan(10);
  });
});
