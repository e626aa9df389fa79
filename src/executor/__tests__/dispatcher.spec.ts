import { Dispatcher, idleBetweenJobs, IPlanLike, jobsFromPlan } from '../dispatcher';
import { JobState } from '../job-state';
import { MemoryJobStore, SimClock, SimWorld } from './sim';

const entry = (id: string, gpu_ids: number[], start_s: number, end_s: number) => ({
  id,
  parallelism: gpu_ids.length > 1 ? 'ddp' : 'spilling',
  gpus: gpu_ids.length,
  node: 'node0',
  gpu_ids,
  start_s,
  end_s
});

// 6 jobs of different sizes on 4 GPUs
const plan: IPlanLike = {
  makespan_s: 300,
  jobs: [
    entry('a', [0, 1], 0, 100),
    entry('b', [2], 0, 150),
    entry('c', [3], 0, 80),
    entry('d', [0, 1, 3], 100, 200),
    entry('e', [2], 150, 300),
    entry('f', [0], 200, 260)
  ]
};
const instance = {
  jobs: plan.jobs.map(e => ({ id: e.id, total_steps: 100, options: [{ parallelism: e.parallelism, gpus: e.gpus, runtime_s: e.end_s - e.start_s }] }))
};
const stepTime = (task: string) => {
  const e = plan.jobs.find(j => j.id === task)!;
  return (e.end_s - e.start_s) / 100;
};

function setup(opts: ConstructorParameters<typeof SimWorld>[3] = {}, maxRetries = 2) {
  const clock = new SimClock();
  const store = new MemoryJobStore(clock);
  const world = new SimWorld(store, clock, stepTime, { launchDelayS: 1, ...opts });
  const d = new Dispatcher(store, world, 'r1', { clock, maxRetries, relaunchBackoffS: 1 });
  return { clock, store, world, d };
}

async function drive(d: Dispatcher, world: SimWorld, clock: SimClock, until = 5000, onTick?: (t: number) => Promise<void> | void) {
  while (clock.t < 1000 + until) {
    await d.tick();
    if (d.finished) {
      return;
    }
    await onTick?.(clock.t);
    world.advanceTo(clock.t + 1);
  }
  throw new Error('the run did not finish');
}

/** [start, end, gpu ids] of every running interval, from the store's transition log replayed on the clock. */
function noOverlap(store: MemoryJobStore, intervals: Array<[string, number, number, number[]]>) {
  for (const [a, s1, e1, g1] of intervals) {
    for (const [b, s2, e2, g2] of intervals) {
      if (a !== b && g1.some(g => g2.includes(g))) {
        expect(s1 >= e2 || s2 >= e1).toBe(true);
      }
    }
  }
  expect(store.leases).toEqual([]);
}

describe('Dispatcher', () => {
  it('runs a whole plan: each job on its planned GPUs, in plan order, never two on one GPU', async () => {
    const { clock, store, world, d } = setup();
    await d.submit(jobsFromPlan(plan, instance, 'r1'));
    const intervals: Array<[string, number, number, number[]]> = [];
    const started = new Map<string, number>();
    await drive(d, world, clock, 5000, () => {
      for (const j of store.jobs.values()) {
        if (j.state === JobState.Running && !started.has(j.id)) {
          started.set(j.id, clock.t);
        }
        if (j.state === JobState.Done && started.has(j.id) && !intervals.some(i => i[0] === j.id)) {
          intervals.push([j.id, started.get(j.id)!, j.info.finished_at!, j.info.assignment.gpu_ids]);
        }
      }
    });
    expect([...store.jobs.values()].every(j => j.state === JobState.Done)).toBe(true);
    noOverlap(store, intervals);
    // plan order on GPU 0: a before d before f
    const fin = (id: string) => store.jobs.get(`r1-${id}`)!.info.finished_at!;
    const first = (id: string) => store.jobs.get(`r1-${id}`)!.info.first_step_at!;
    expect(first('d')).toBeGreaterThanOrEqual(fin('a'));
    expect(first('d')).toBeGreaterThanOrEqual(fin('c'));
    expect(first('f')).toBeGreaterThanOrEqual(fin('d'));
    const summary = d.summary(plan, 1000);
    expect(summary.finished).toBe(true);
    expect(summary.counts).toEqual({ done: 6 });
    expect(summary.realised_makespan_s).toBeGreaterThanOrEqual(300);
    expect(summary.realised_makespan_s).toBeLessThan(330); // launch delays and 1 s ticks only
    // planned vs realised per job: start-up (launch to first step: at most the simulated 2 s launch delay and a tick), training, delay
    for (const j of summary.jobs) {
      expect(j.startup_s).toBeGreaterThan(0);
      expect(j.startup_s).toBeLessThan(3.5);
      expect(j.launched_s! + j.startup_s!).toBeCloseTo(j.realised_start_s!);
      expect(j.run_s).toBeCloseTo(j.realised_end_s! - j.realised_start_s!);
      expect(j.start_delay_s).toBeCloseTo(j.realised_start_s! - j.planned_start_s!);
    }
    // GPU 0 runs a, d, f one after another: it stands idle between them for at most a tick each
    const idle = summary.gpu_idle_s;
    expect(Object.keys(idle)).toContain('node0/0');
    expect(idle['node0/0']).toBeGreaterThanOrEqual(0);
    expect(idle['node0/0']).toBeLessThanOrEqual(2 * 1.01);
  });

  it('says how long each GPU stood idle between its jobs', () => {
    const at = (gpu_ids: number[], launched_s: number | null, realised_end_s: number | null, node = 'n') => ({ gpu_ids, launched_s, realised_end_s, node });
    expect(idleBetweenJobs([at([0, 1], 0, 10), at([0], 12.5, 20), at([1], 10, 30), at([0], 25, 26), at([0], null, null)])).toEqual({
      'n/0': 7.5,
      'n/1': 0
    });
  });

  it('retries a job that raised, then the run completes', async () => {
    const { clock, store, world, d } = setup({ failOnce: new Set(['b']) });
    await d.submit(jobsFromPlan(plan, instance, 'r1'));
    await drive(d, world, clock);
    const b = store.jobs.get('r1-b')!;
    expect(b.state).toBe(JobState.Done);
    expect(b.info.retries).toBe(1);
    expect(store.transitions.filter(t => t[0] === 'r1-b').map(t => t[2])).toContain(JobState.Failed);
  });

  it('gives a job up after maxRetries failures; the others complete', async () => {
    const { clock, store, world, d } = setup({}, 0);
    const given: string[] = [];
    const d2 = new Dispatcher(store, world, 'r1', { clock, maxRetries: 0, onGiveUp: j => given.push(j.id) });
    world.opts.failOnce = new Set(['c']);
    await d2.submit(jobsFromPlan(plan, instance, 'r1'));
    await drive(d2, world, clock);
    expect(given).toEqual(['r1-c']);
    expect(store.jobs.get('r1-c')!.state).toBe(JobState.Failed);
    expect(store.jobs.get('r1-c')!.info.error).toMatch(/boom/);
    expect([...store.jobs.values()].filter(j => j.state === JobState.Done)).toHaveLength(5);
    void d;
  });

  it('detects a dead kernel and resumes the job from its checkpoint', async () => {
    const { clock, store, world, d } = setup({ ckptEvery: 10 });
    await d.submit(jobsFromPlan(plan, instance, 'r1'));
    let killed = false;
    await drive(d, world, clock, 5000, t => {
      const b = store.jobs.get('r1-b')!;
      if (!killed && b.state === JobState.Running && (b.info.step ?? 0) >= 35) {
        world.kill('r1-b');
        killed = true;
      }
      void t;
    });
    const b = store.jobs.get('r1-b')!;
    expect(killed).toBe(true);
    expect(b.state).toBe(JobState.Done);
    expect(b.info.error).toMatch(/kernel died/);
    expect(world.launches.filter(x => x === 'r1-b')).toHaveLength(2);
  });

  it('after a restart (new dispatcher, reconcile) nothing finished is redone and the run completes', async () => {
    const { clock, store, world, d } = setup();
    await d.submit(jobsFromPlan(plan, instance, 'r1'));
    while (store.jobs.get('r1-a')!.state !== JobState.Done) {
      await d.tick();
      world.advanceTo(clock.t + 1);
    }
    // the server dies: every runner with it
    for (const id of [...store.alive]) {
      world.kill(id);
    }
    const again = new Dispatcher(store, world, 'r1', { clock, relaunchBackoffS: 1 });
    await again.reconcile();
    const launchesBefore = world.launches.length;
    await drive(again, world, clock);
    expect([...store.jobs.values()].every(j => j.state === JobState.Done)).toBe(true);
    expect(world.launches.slice(launchesBefore)).not.toContain('r1-a');
    expect(world.launches.slice(launchesBefore)).not.toContain('r1-c');
  });

  it('pauses (running jobs checkpoint and stop), resumes, and cancels', async () => {
    const { clock, store, world, d } = setup();
    await d.submit(jobsFromPlan(plan, instance, 'r1'));
    for (let i = 0; i < 20; i++) {
      await d.tick();
      world.advanceTo(clock.t + 1);
    }
    await d.pause();
    world.advanceTo(clock.t + 1);
    await d.tick();
    expect(store.jobs.get('r1-a')!.state).toBe(JobState.Preempted);
    world.advanceTo(clock.t + 50);
    await d.tick();
    expect(store.jobs.get('r1-a')!.state).toBe(JobState.Preempted);
    await d.cancel('r1-e');
    expect(store.jobs.get('r1-e')!.state).toBe(JobState.Cancelled);
    d.resume();
    await drive(d, world, clock);
    expect(store.jobs.get('r1-a')!.state).toBe(JobState.Done);
    expect(store.jobs.get('r1-e')!.state).toBe(JobState.Cancelled);
  });
});

describe('applyPlan origin', () => {
  /** The plan submitted and 10 s under way (a, b and c, planned at 0, launched); no autopilot. */
  async function tenSecondsIn() {
    const clock = new SimClock();
    const store = new MemoryJobStore(clock);
    const world = new SimWorld(store, clock, stepTime, { launchDelayS: 1 });
    const d = new Dispatcher(store, world, 'r1', { clock, autopilot: false });
    await d.submit(jobsFromPlan(plan, instance, 'r1'));
    await d.tick();
    world.advanceTo(clock.t + 10);
    await d.tick();
    return { clock, store, d };
  }

  it('records the origin of a re-plan: new assignments and every unchanged job not under way take its times, a running one keeps its own', async () => {
    const { store, d } = await tenSecondsIn();
    expect(store.jobs.get('r1-a')!.state).toBe(JobState.Running);
    // e has not started but holds a checkpoint (as a survivor paused at its rung does): its block was work it did
    await store.update('r1-e', { checkpoint: { step: 40 } as any });
    // a re-plan (times from then): f moves; d and e are unchanged and due 5 s later; a, under way, gets "from now"
    // times that must not replace the ones it started by
    const later: Record<string, [number[], number, number]> = { f: [[3], 160, 220], d: [[0, 1, 3], 95, 195], e: [[2], 145, 295], a: [[0, 1], 0, 90] };
    const replan = { ...plan, origin_s: 1234, jobs: plan.jobs.map(e => (later[e.id] ? entry(e.id, ...later[e.id]) : e)) };
    expect(await d.applyPlan(replan)).toEqual(['r1-f']);
    const snap = await store.snapshot();
    const get = (t: string) => snap.jobs.find(j => j.task === t)!.info.assignment;
    expect(get('f')).toMatchObject({ gpu_ids: [3], planned_start_s: 160, planned_end_s: 220, planned_origin_s: 1234 });
    expect(get('e')).toMatchObject({ gpu_ids: [2], planned_start_s: 145, planned_end_s: 295, planned_origin_s: 1234 });
    expect(get('d')).toMatchObject({ gpu_ids: [0, 1, 3], planned_start_s: 95, planned_end_s: 195, planned_origin_s: 1234 });
    expect(get('a')).toMatchObject({ planned_start_s: 0, planned_end_s: 100 });
    expect(get('a').planned_origin_s).toBeUndefined();
    // the summary gives every planned time from the run's start, as the realised ones (here the run started at 1000)
    await d.tick();
    const sum = d.summary(plan, 1000).jobs;
    expect(sum.find(j => j.task === 'e')).toMatchObject({ planned_start_s: 379, planned_end_s: 529 });
    expect(sum.find(j => j.task === 'd')).toMatchObject({ planned_start_s: 329, planned_end_s: 429 });
    expect(sum.find(j => j.task === 'a')).toMatchObject({ planned_start_s: 0, planned_end_s: 100 });
  });

  it('after a switch, the blocks of the work still to start fit together on every GPU (the chart takes them)', async () => {
    const { clock, d } = await tenSecondsIn();
    // re-planned 10 s into the run: d keeps its GPUs but is due 30 s earlier (a finishes early), f moves to GPU 1
    // right after d; d's old block (100–200) would overlap f's new one (170–230) on GPU 1
    const origin = clock.t;
    const shift = origin - 1000;
    const replan = {
      ...plan,
      origin_s: origin,
      jobs: plan.jobs.map(e => (e.id === 'd' ? entry('d', [0, 1, 3], 70 - shift, 170 - shift) : e.id === 'f' ? entry('f', [1], 170 - shift, 230 - shift) : e))
    };
    expect(await d.applyPlan(replan)).toEqual(['r1-f']);
    await d.tick();
    const toStart = d.summary(plan, 1000).jobs.filter(j => j.realised_start_s === null);
    expect(toStart.map(j => j.task).sort()).toEqual(['d', 'e', 'f']);
    expect(toStart.find(j => j.task === 'd')).toMatchObject({ planned_start_s: 70, planned_end_s: 170 });
    for (const x of toStart) {
      for (const y of toStart) {
        if (x !== y && x.gpu_ids.some(g => y.gpu_ids.includes(g))) {
          expect([x.task, y.task, x.planned_end_s! <= y.planned_start_s! || y.planned_end_s! <= x.planned_start_s!]).toEqual([x.task, y.task, true]);
        }
      }
    }
  });

  it('a job whose kernel is still starting, moved to other GPUs, is taken back and runs on the new ones', async () => {
    const { clock, store, world, d } = setup({ launchDelayS: 5 });
    await d.submit(jobsFromPlan(plan, instance, 'r1'));
    await d.tick(); // a, b, c launched: waiting for their kernels
    expect(store.jobs.get('r1-c')!.state).toBe(JobState.Waiting);
    const moved = { ...plan, jobs: plan.jobs.map(e => (e.id === 'c' ? entry('c', [2], 150, 230) : e)) };
    expect(await d.applyPlan(moved)).toEqual(['r1-c']);
    const c = store.jobs.get('r1-c')!;
    expect(c.state).toBe(JobState.Pending);
    expect(c.info.assignment.gpu_ids).toEqual([2]);
    await drive(d, world, clock);
    expect(store.jobs.get('r1-c')!.state).toBe(JobState.Done);
    expect(store.jobs.get('r1-c')!.info.assignment.gpu_ids).toEqual([2]);
    expect(world.launches.filter(id => id === 'r1-c')).toHaveLength(2);
    // it ran after b on GPU 2: b was done before c claimed
    const order = store.transitions.filter(([, , to]) => to === JobState.Running || to === JobState.Done).map(([id, , to]) => `${id}:${to}`);
    expect(order.indexOf('r1-b:done')).toBeLessThan(order.indexOf('r1-c:running'));
  });
});
