import { solve } from '../../spase/solve';
import { Dispatcher, IPlanLike, jobsFromPlan } from '../dispatcher';
import { JobState } from '../job-state';
import { estimate, IInstanceLike, Introspector, project, projectCurrent, remainingInstance, SolveFn } from '../introspection';
import { MemoryJobStore, SimClock, SimWorld } from './sim';

const opts = (id: string, one: number, two: number, four: number) => ({
  id,
  total_steps: 100,
  options: [
    { parallelism: 'ddp', gpus: 1, runtime_s: one },
    { parallelism: 'ddp', gpus: 2, runtime_s: two },
    { parallelism: 'ddp', gpus: 4, runtime_s: four }
  ]
});

const instance: IInstanceLike = {
  format: 'spase-instance/1',
  name: 'misestimated',
  cluster: { nodes: [{ id: 'node0', gpus: 4 }] },
  jobs: [
    opts('big', 300, 170, 100),
    ...['s1', 's2', 's3', 's4', 's5', 's6', 's7'].map(id => opts(id, 150, 85, 50))
  ]
};

/** The truth: `big` is 3x slower than profiled, everything else as profiled. */
const SLOW = 3;
const stepTime = (task: string, parallelism: string, gpus: number) => {
  const o = instance.jobs.find(j => j.id === task)!.options.find(x => x.parallelism === parallelism && x.gpus === gpus)!;
  return (o.runtime_s / 100) * (task === 'big' ? SLOW : 1);
};

// budgeted by iterations, not seconds: the same plans on a loaded machine
const solveFast: SolveFn = (inst, o) => solve(inst, { ...o, iterations: 3000, seed: 1, noMilp: true }) as Promise<IPlanLike>;

async function runOnce(introspection: boolean): Promise<{ makespan: number; switches: number; planned: number; intro: Introspector }> {
  const clock = new SimClock();
  const store = new MemoryJobStore(clock);
  const world = new SimWorld(store, clock, stepTime, { launchDelayS: 2, ckptEvery: 5 });
  const plan = (await solveFast(instance, {})) as IPlanLike;
  const d = new Dispatcher(store, world, 'r', { clock });
  await d.submit(jobsFromPlan(plan, instance, 'r'));
  const intro = new Introspector(instance, { intervalS: 100, thresholdS: 50, switchCostS: 10, solve: solveFast });
  const t0 = clock.t;
  let switches = 0;
  while (!d.finished) {
    const snap = await d.tick();
    if (d.finished) {
      break;
    }
    if (introspection && intro.due(clock.t)) {
      const decision = await intro.check(snap, clock.t);
      if (decision.switched) {
        switches++;
        await d.applyPlan(decision.plan!, intro.knobsOf);
      }
    }
    world.advanceTo(clock.t + 1);
    if (clock.t - t0 > 20000) {
      throw new Error('did not finish');
    }
  }
  expect([...store.jobs.values()].every(j => j.state === JobState.Done)).toBe(true);
  expect(store.leases).toEqual([]);
  return { makespan: d.summary(plan, t0).realised_makespan_s!, switches, planned: plan.makespan_s, intro };
}

describe('introspection', () => {
  it('projects makespans the way the dispatcher runs plans', () => {
    expect(
      project([
        { task: 'a', parallelism: 'ddp', gpus: 2, node: 'n', gpu_ids: [0, 1], durationS: 10, running: false },
        { task: 'b', parallelism: 'ddp', gpus: 1, node: 'n', gpu_ids: [1], durationS: 5, running: false },
        { task: 'c', parallelism: 'ddp', gpus: 1, node: 'n', gpu_ids: [2], durationS: 3, running: true }
      ])
    ).toBe(15);
  });

  it('re-estimates remaining work from measured step times and progress', () => {
    const rec = {
      id: 'r-big',
      task: 'big',
      state: JobState.Running,
      info: {
        assignment: { parallelism: 'ddp', gpus: 2, node: 'node0', gpu_ids: [0, 1] },
        total_steps: 100,
        progress: { step: 25, total_steps: 100, step_time_s: 5.1 }
      }
    };
    const e = estimate(instance, rec);
    expect(e.factor).toBeCloseTo(3);
    expect(e.remainingS).toBeCloseTo(170 * 3 * 0.75);
    const rem = remainingInstance(instance, { jobs: [rec], leases: [], now: 0 }, 10);
    expect(rem.jobs).toHaveLength(1);
    expect(rem.jobs[0].options[2].runtime_s).toBeCloseTo(100 * 3 * 0.75 + 10);
    expect(rem.running).toEqual([
      { job: 'big', parallelism: 'ddp', gpus: 2, node: 'node0', gpu_ids: [0, 1], remaining_s: e.remainingS, preemptible: true }
    ]);
    expect(projectCurrent(instance, { jobs: [rec], leases: [], now: 0 })).toBeCloseTo(382.5);
  });

  it('counts start-up and the measured restore of a checkpoint in the re-plan and in carrying on', () => {
    const inst: IInstanceLike = {
      ...instance,
      jobs: instance.jobs.map(j => ({ ...j, options: j.options.map(o => ({ ...o, startup_s: 3 })) }))
    };
    const assignment = { parallelism: 'ddp', gpus: 2, node: 'node0', gpu_ids: [0, 1] };
    const running = {
      id: 'r-big',
      task: 'big',
      state: JobState.Running,
      info: { assignment, total_steps: 100, restore_s: 4, progress: { step: 50, total_steps: 100, step_time_s: 1.7 } }
    };
    const rem = remainingInstance(inst, { jobs: [running], leases: [], now: 0 }, 10);
    const o = rem.jobs[0].options[2];
    const profiled = inst.jobs.find(j => j.id === 'big')!.options[2];
    // moving it: half the training left, plus its measured restore (not the 10 s default); start-up stays on the option
    expect(o.runtime_s).toBeCloseTo(profiled.runtime_s * 0.5 + 4);
    expect(o.startup_s).toBe(3);
    const assigned = inst.jobs.find(j => j.id === 'big')!.options.find(x => x.parallelism === 'ddp' && x.gpus === 2)!;
    // a job not started yet pays its start-up and no restore when carried on
    const pending = { ...running, state: JobState.Pending, info: { assignment, total_steps: 100 } };
    const fresh = remainingInstance(inst, { jobs: [pending], leases: [], now: 0 }, 10);
    expect(fresh.jobs[0].options[2].runtime_s).toBeCloseTo(profiled.runtime_s);
    expect(projectCurrent(inst, { jobs: [pending], leases: [], now: 0 })).toBeCloseTo(assigned.runtime_s + 3);
    // a preempted job with a checkpoint pays start-up and restore
    const resumed = { ...pending, state: JobState.Preempted, checkpoint_step: 50, info: { assignment, total_steps: 100, restore_s: 4 } };
    expect(projectCurrent(inst, { jobs: [resumed], leases: [], now: 0 })).toBeCloseTo(assigned.runtime_s * 0.5 + 3 + 4);
  });

  it('keeps the plan when the estimates were right (no switch, jobs untouched)', async () => {
    const clock = new SimClock();
    const store = new MemoryJobStore(clock);
    const world = new SimWorld(store, clock, (t, p, g) => stepTime(t, p, g) / (t === 'big' ? SLOW : 1), { launchDelayS: 2 });
    const plan = (await solveFast(instance, {})) as IPlanLike;
    const d = new Dispatcher(store, world, 'r', { clock });
    await d.submit(jobsFromPlan(plan, instance, 'r'));
    const intro = new Introspector(instance, { intervalS: 50, thresholdS: 50, solve: solveFast });
    while (!d.finished) {
      const snap = await d.tick();
      if (!d.finished && intro.due(clock.t)) {
        expect((await intro.check(snap, clock.t)).switched).toBe(false);
      }
      world.advanceTo(clock.t + 1);
    }
    expect(store.transitions.some(t => t[2] === JobState.Preempted)).toBe(false);
    expect(intro.decisions.length).toBeGreaterThan(0);
  });

  it('with one job 3x slower than profiled, introspection finishes measurably sooner than without', async () => {
    const off = await runOnce(false);
    const on = await runOnce(true);
    // figures for the note
    // eslint-disable-next-line no-console
    console.log(
      `introspection: planned ${off.planned.toFixed(0)} s; realised off ${off.makespan.toFixed(0)} s, on ${on.makespan.toFixed(0)} s ` +
        `(${(100 * (1 - on.makespan / off.makespan)).toFixed(1)}% sooner, ${on.switches} switch(es))`
    );
    expect(on.switches).toBeGreaterThan(0);
    expect(on.makespan).toBeLessThan(off.makespan * 0.9);
  }, 60000);
});

describe('the makespan re-plan of a job whose kernel is starting (Introspector.check)', () => {
  // a's kernel is booting on GPU 0 (50 s of start-up); on both GPUs it would train 100 -> 70 s
  const one: IInstanceLike = {
    format: 'spase-instance/1',
    name: 'booting',
    cluster: { nodes: [{ id: 'node0', gpus: 2 }] },
    jobs: [
      {
        id: 'a',
        total_steps: 100,
        options: [
          { parallelism: 'ddp', gpus: 1, runtime_s: 100, startup_s: 50 },
          { parallelism: 'ddp', gpus: 2, runtime_s: 70, startup_s: 50 }
        ]
      }
    ]
  };
  const booting = (launchedAgo: number) =>
    ({
      now: 1000,
      leases: [],
      jobs: [
        {
          id: 'r-a',
          task: 'a',
          state: JobState.Waiting,
          info: { order: 1, total_steps: 100, launched_at: 1000 - launchedAgo, assignment: { parallelism: 'ddp', gpus: 1, node: 'node0', gpu_ids: [0] } }
        }
      ]
    }) as any;

  it('does not relaunch it elsewhere when the boot it has done outweighs the gain', async () => {
    // 45 s booted: staying ends in 5 + 100 s, a relaunch on both GPUs in 50 + 70 s
    const d = await new Introspector(one, { solve: solveFast }).check(booting(45), 1000, 0);
    expect(d.currentS).toBeCloseTo(105);
    expect(d.switched).toBe(false);
    expect(d.changed).toEqual([]);
  });

  it('still moves it when the move gains more than the boot it loses', async () => {
    // just launched: staying ends in 150 s, a relaunch on both GPUs in 50 + 70 = 120 s
    const d = await new Introspector(one, { solve: solveFast }).check(booting(0), 1000, 0);
    expect(d.switched).toBe(true);
    expect(d.changed).toEqual(['a']);
    expect(d.plan!.jobs[0]).toMatchObject({ gpus: 2, gpu_ids: [0, 1] });
    expect(d.candidateS).toBeCloseTo(120);
  });
});

describe('the re-plan under early stopping (Introspector.ranked)', () => {
  // a scales perfectly to 2 GPUs; its kernel is starting on GPU 0 (launched, not training yet); b and c wait
  const two: IInstanceLike = {
    format: 'spase-instance/1',
    name: 'launched',
    cluster: { nodes: [{ id: 'node0', gpus: 2 }] },
    jobs: [
      { id: 'a', total_steps: 100, options: [{ parallelism: 'ddp', gpus: 1, runtime_s: 300 }, { parallelism: 'ddp', gpus: 2, runtime_s: 100 }] },
      { id: 'b', total_steps: 100, options: [{ parallelism: 'ddp', gpus: 1, runtime_s: 100 }, { parallelism: 'ddp', gpus: 2, runtime_s: 60 }] },
      { id: 'c', total_steps: 100, options: [{ parallelism: 'ddp', gpus: 1, runtime_s: 100 }, { parallelism: 'ddp', gpus: 2, runtime_s: 60 }] }
    ]
  };
  const rec = (task: string, state: JobState, gpu: number, order: number) =>
    ({ id: `r-${task}`, task, state, info: { order, total_steps: 100, assignment: { parallelism: 'ddp', gpus: 1, node: 'node0', gpu_ids: [gpu] } } }) as any;
  const snap = { now: 1000, leases: [], jobs: [rec('a', JobState.Waiting, 0, 1), rec('b', JobState.Pending, 0, 2), rec('c', JobState.Pending, 1, 3)] };

  it('keeps a job already launched where it was launched, and plans the rest around it', async () => {
    const intro = new Introspector(two, { solve: solveFast });
    // planned afresh, a would go to both GPUs (100 s, then b and c side by side: 200 s against 300 s)
    const fresh = await solveFast(remainingInstance(two, snap), {});
    expect(fresh.jobs.find(j => j.id === 'a')!.gpus).toBe(2);
    const d = await intro.ranked(snap, 1000, []);
    expect(d.switched).toBe(true);
    expect(d.plan!.jobs.find(j => j.id === 'a')).toMatchObject({ gpu_ids: [0], start_s: 0, end_s: 300 });
    expect(d.changed).not.toContain('a');
    // b and c share GPU 1 beside it, in job order
    const b = d.plan!.jobs.find(j => j.id === 'b')!;
    const c = d.plan!.jobs.find(j => j.id === 'c')!;
    expect([b.gpu_ids, c.gpu_ids]).toEqual([[1], [1]]);
    expect(b.start_s).toBeLessThan(c.start_s);
  });

  it('places a survivor under way again: its kernel resuming on one GPU, it moves to both when that is sooner', async () => {
    // a was promoted at a rung and its kernel is resuming on GPU 0; b and c wait (new trials)
    const resumed = { ...snap, jobs: [rec('a', JobState.Resumed, 0, 1), ...snap.jobs.slice(1)] };
    // on both GPUs: 100 s + 0.5 x 200 GPU-s (b and c wait behind it) < 300 s + 0.5 x 300 carrying on
    const d = await new Introspector(two, { solve: solveFast }).ranked(resumed, 1000, [{ job: 'a', weight: 2 }]);
    expect(d.switched).toBe(true);
    expect(d.plan!.jobs.find(j => j.id === 'a')).toMatchObject({ gpu_ids: [0, 1], start_s: 0, end_s: 100 });
    expect(d.changed).toContain('a');
    // the same survivor paused at its rung is placed alike
    const paused = { ...snap, jobs: [rec('a', JobState.Preempted, 0, 1), ...snap.jobs.slice(1)] };
    const p = await new Introspector(two, { solve: solveFast }).ranked(paused, 1000, [{ job: 'a', weight: 2 }]);
    expect(p.plan!.jobs.find(j => j.id === 'a')!.gpu_ids).toEqual([0, 1]);
    // a new trial under way is not placed again, even where a move would be sooner (the first test)
  });

  it('moves a training survivor only when the move, start-up and restore included, scores better than carrying on', async () => {
    // as above, with 30 s of start-up on every option (and the default 10 s restore of a checkpoint)
    const slow: IInstanceLike = { ...two, jobs: two.jobs.map(j => ({ ...j, options: j.options.map(o => ({ ...o, startup_s: 30 })) })) };
    const training = (step: number) => ({
      ...snap,
      jobs: [{ ...rec('a', JobState.Running, 0, 1), info: { ...rec('a', JobState.Running, 0, 1).info, progress: { step } } }, ...snap.jobs.slice(1)]
    });
    // at step 10: carrying on 270 s (+ 0.5 x 270) against 30 + 10 + 90 s on both GPUs (+ 0.5 x 2 x 130): it moves
    const early = await new Introspector(slow, { solve: solveFast }).ranked(training(10), 1000, [{ job: 'a', weight: 2 }]);
    expect(early.plan!.jobs.find(j => j.id === 'a')).toMatchObject({ gpu_ids: [0, 1], end_s: 130 });
    expect(early.changed).toContain('a');
    // at step 90: carrying on 30 s (+ 15) against 30 + 10 + 10 s (+ 50): it stays where it is
    const late = await new Introspector(slow, { solve: solveFast }).ranked(training(90), 1000, [{ job: 'a', weight: 2 }]);
    expect(late.plan!.jobs.find(j => j.id === 'a')).toMatchObject({ gpu_ids: [0], start_s: 0, end_s: 30, running: true });
    expect(late.changed).not.toContain('a');
  });

  it('says why when the re-plan fails, so that the run loop can fall back', async () => {
    const intro = new Introspector(two, { solve: async () => { throw new Error('no solver here'); } });
    const d = await intro.ranked(snap, 1000, []);
    expect(d).toMatchObject({ switched: false, error: 'no solver here' });
    expect(d.reason).toMatch(/re-solve failed: no solver here/);
  });
});
