/**
 * Re-planning with rungs (`run-loop.ts` with early stopping) on the simulated world: every job's planned work is one
 * segment, each rung is a judgement and a re-plan, stopped jobs free their GPUs at once for the next work, and a
 * survivor may get more GPUs for what is left.
 */
import { solve } from '../../spase/solve';
import { Dispatcher, IPlanLike, jobsFromPlan } from '../dispatcher';
import { IInstanceLike, Introspector, SolveFn } from '../introspection';
import { JobState } from '../job-state';
import { firstSegments, RunLoop, rungSettings } from '../run-loop';
import { atRung } from '../rules';
import { IEarlyStopping } from '../rungs';
import { MemoryJobStore, SimClock, SimWorld } from './sim';

const solveFast: SolveFn = (inst, o) => solve(inst as any, { ...o, iterations: 3000, noMilp: true }) as unknown as Promise<IPlanLike>;
const TOTAL = 100;
const TASKS = ['j0', 'j1', 'j2', 'j3', 'j4', 'j5'];
// job i's validation loss: a fixed ranking (j2 best, then j4, j0, ...), falling with the steps
const QUALITY: Record<string, number> = { j2: 0.1, j4: 0.2, j0: 0.3, j5: 0.4, j1: 0.5, j3: 0.6 };
const metric = (task: string, step: number) => QUALITY[task] + 1 / (1 + step);
// one GPU: 1 s a step; two GPUs: 0.5 s a step; 2 s to start (more on two GPUs)
const instance: IInstanceLike = {
  format: 'spase-instance/1',
  name: 'asha',
  cluster: { nodes: [{ id: 'node0', gpus: 2 }] },
  jobs: TASKS.map(id => ({
    id,
    total_steps: TOTAL,
    validates: true,
    options: [
      { parallelism: 'ddp', gpus: 1, runtime_s: TOTAL * 1, startup_s: 2 },
      { parallelism: 'ddp', gpus: 2, runtime_s: TOTAL * 0.5, startup_s: 3 }
    ]
  }))
};
const ES: IEarlyStopping = { kind: 'asha', metric: 'val_loss', mode: 'min', rungs: [20, 60], eta: 2, unit: 'steps' };

/** The simulated world, noting when each job's kernel was warmed (the world itself starts every kernel alike). */
class WarmingWorld extends SimWorld {
  warmed: Array<[string, number]> = [];
  async prewarm(id: string): Promise<void> {
    this.warmed.push([id, this.clock.now()]);
  }
}

async function run(es: IEarlyStopping | null, inst: IInstanceLike = instance, holdS = 0, slower: Record<string, number> = {}, prewarm = 0) {
  const clock = new SimClock();
  const store = new MemoryJobStore(clock);
  const world = new WarmingWorld(store, clock, (t, _p, g) => (g === 2 ? 0.5 : 1) * (slower[t] ?? 1), { launchDelayS: 1, metric });
  const seg = es ? firstSegments(inst, es) : null;
  const plan = await solveFast(seg?.instance ?? inst, { seed: 1 });
  const d = new Dispatcher(store, world, 'r', { clock, autopilot: false, prewarm });
  // each job's early-stopping settings as a run records them (its rungs, the configuration), with the hold under test
  const jobs = jobsFromPlan(plan, inst, 'r').map(j => (seg && es ? { ...j, settings: { ...rungSettings(es, TOTAL, null, seg.rungAt[j.task]), rung_hold_s: holdS } } : j));
  await d.submit(jobs);
  const intro = new Introspector(inst, { intervalS: 1000, thresholdS: 1000, solve: solveFast, solveTimeLimitS: 1 });
  const loop = new RunLoop(d, intro, { introspectionIntervalS: 0, thresholdS: 1000, earlyStopping: es });
  const t0 = clock.t;
  const launches: Array<[string, number, number[]]> = []; // job, launched at (store clock), GPUs
  const pausedAtRung: Array<[string, number, number[]]> = []; // job, a step it began paused at its rung, its GPUs
  for (let i = 0; i < 5000 && !loop.finished; i++) {
    for (const j of store.jobs.values()) {
      if (atRung(j)) {
        pausedAtRung.push([j.id, clock.t, [...j.info.assignment.gpu_ids]]);
      }
    }
    await loop.step();
    while (launches.length < world.launches.length) {
      const id = world.launches[launches.length];
      launches.push([id, clock.t, [...store.jobs.get(id)!.info.assignment.gpu_ids]]);
    }
    world.advanceTo(clock.t + 0.5);
  }
  return { store, world, loop, intro, launches, pausedAtRung, makespan: clock.t - t0, summary: () => d.summary(plan, t0), t0 };
}

/** Every promotion and early stop of a run, in a fixed order. */
const verdicts = (r: Awaited<ReturnType<typeof run>>): string[] => r.loop.rungEvents.map(e => `${e.job}@${e.rung}:${e.decision}`).sort();

describe('re-planning with rungs', () => {
  it('judges at every rung, stops the bottom half, and the best job finishes', async () => {
    const { store, loop, intro } = await run(ES);
    expect(loop.finished).toBe(true);
    const states = Object.fromEntries([...store.jobs.values()].map(j => [j.task, j.state]));
    // rung 20: top 3 of 6 go on (j2, j4, j0); rung 60: top max(1, floor(3/2)) = 1 (j2)
    expect(states).toEqual({ j2: JobState.Done, j4: JobState.StoppedEarly, j0: JobState.StoppedEarly, j5: JobState.StoppedEarly, j1: JobState.StoppedEarly, j3: JobState.StoppedEarly });
    const stoppedAt = Object.fromEntries([...store.jobs.values()].filter(j => j.state === JobState.StoppedEarly).map(j => [j.task, (j.info.stopped_early as any).rung]));
    expect(stoppedAt).toEqual({ j5: 20, j1: 20, j3: 20, j4: 60, j0: 60 });
    const promoted = loop.rungEvents.filter(e => e.decision === 'promoted').map(e => `${e.job}@${e.rung}`);
    expect(promoted.sort()).toEqual(['r-j0@20', 'r-j2@20', 'r-j2@60', 'r-j4@20']);
    // every judgement that left work to do re-planned the rest at once (the last one stops the last jobs)
    const over = Math.max(...[...store.jobs.values()].map(j => (j.info.finished_at as number) ?? (j.info.stopped_early as any).at));
    const judgedAt = [...new Set(loop.rungEvents.map(e => e.at))];
    expect(judgedAt.filter(t => t < over).length).toBeGreaterThanOrEqual(3);
    for (const t of judgedAt.filter(t => t < over)) {
      expect({ t, replanned: intro.decisions.some(x => x.at === t) }).toEqual({ t, replanned: true });
    }
    // the history of each stopped job is kept: its checkpoint at the rung it stopped at
    for (const j of store.jobs.values()) {
      if (j.state === JobState.StoppedEarly) {
        expect(j.info.checkpoint!.step).toBe((j.info.stopped_early as any).rung);
      }
    }
  });

  it('the run\'s summary lasts until the last job ended, a job stopped early ending where it paused at its rung', async () => {
    // j4 and j0 go on to rung 60 beside the winner j2 and are stopped there: the last of them may end after j2
    const r = await run(ES, instance, 0, { j2: 0.5 });
    const summary = r.summary();
    const ends = [...r.store.jobs.values()].map(j =>
      j.state === JobState.StoppedEarly ? (j.info.stopped as any).at : (j.info.finished_at as number)
    );
    const stoppedLast = Math.max(...[...r.store.jobs.values()].filter(j => j.state === JobState.StoppedEarly).map(j => (j.info.stopped as any).at));
    expect(stoppedLast).toBeGreaterThan(r.store.jobs.get('r-j2')!.info.finished_at as number); // the case under test
    expect(summary.realised_makespan_s).toBeCloseTo(Math.max(...ends) - r.t0, 6);
    const j0 = summary.jobs.find(j => j.task === 'j0')!;
    expect(j0.state).toBe(JobState.StoppedEarly);
    expect(j0.realised_end_s).toBeCloseTo((r.store.jobs.get('r-j0')!.info.stopped as any).at - r.t0, 6);
  });

  it('gives the last survivor both GPUs once the others stopped (SHA), and finishes sooner than without early stopping', async () => {
    // synchronous halving: the rung at 60 is judged once all three survivors reached it, so the winner goes on alone
    const es = await run({ ...ES, kind: 'sha' });
    const full = await run(null);
    const last = es.launches.filter(([id]) => id === "r-j2").pop()!;
    expect(last[2]).toEqual([0, 1]); // its last segment on two GPUs, through its checkpoint
    expect(es.makespan).toBeLessThan(full.makespan * 0.7);
    // the GPUs a judgement frees are taken by the next work in the same step (the job that lost holds none)
    const judged = [...new Set(es.loop.rungEvents.filter(e => e.decision === 'stopped').map(e => e.at))];
    expect(judged.length).toBeGreaterThan(0);
    for (const at of judged) {
      expect(es.launches.some(([, t]) => t >= at && t <= at + 0.5)).toBe(true);
    }
  }, 60000);

  it.each([
    ['pauses at every rung', 0],
    ['waits on its GPUs at a rung', 10]
  ])('after every judgement each survivor\'s planned block is its next segment (a job that %s)', async (_how, holdS) => {
    const four: IInstanceLike = { ...instance, cluster: { nodes: [{ id: 'node0', gpus: 4 }] }, jobs: instance.jobs.slice(0, 4) };
    for (const inst of [instance, four]) {
      const { store, loop, intro } = await run(ES, inst, holdS as number);
      // every judgement re-planned with the survivors first (src/spase/staged.ts), and that plan was taken
      const judgedAt = new Set(loop.rungEvents.map(e => e.at));
      const atJudgements = intro.decisions.filter(x => judgedAt.has(x.at) && x.candidateS !== null);
      expect(atJudgements.length).toBeGreaterThan(0);
      for (const x of atJudgements) {
        expect(x.reason).toMatch(/^rung re-plan/);
        expect(x.switched).toBe(true);
      }
      for (const j of store.jobs.values()) {
        const a = j.info.assignment;
        const promos = loop.rungEvents.filter(e => e.job === j.id && e.decision === 'promoted').map(e => e.at);
        if (j.state !== JobState.Done || !promos.length) {
          continue;
        }
        // its planned times count from its last promotion, or from a later re-plan made before its last segment
        // started (not from the plan its first segment ran by), and the block ends about when the job did (the
        // estimate counts a 10 s restore the simulated world does not spend)
        const last = Math.max(...promos);
        expect(a.planned_origin_s!).toBeGreaterThanOrEqual(last - 1e-6);
        expect(a.planned_start_s).toBeGreaterThanOrEqual(0);
        expect(Math.abs(a.planned_end_s! + a.planned_origin_s! - (j.info.finished_at as number))).toBeLessThanOrEqual(12);
      }
    }
  }, 60000);

  it.each([
    ['waits on its GPUs at its rung', 10],
    ['pauses at its rung', 0]
  ])('at a judgement the survivor goes first: no new trial waiting then starts before the survivor\'s next segment (a survivor that %s)', async (_how, holdS) => {
    const { loop, launches, store } = await run(ES, instance, holdS as number);
    const promotions = loop.rungEvents.filter(e => e.decision === 'promoted');
    expect(promotions.length).toBeGreaterThan(0);
    let moved = 0;
    for (const p of promotions) {
      // its next segment ends at its next judgement (or its end)
      const until = loop.rungEvents.find(e => e.job === p.job && e.at > p.at)?.at ?? (store.jobs.get(p.job)!.info.finished_at as number);
      const next = launches.find(([id, t]) => id === p.job && t >= p.at && t < until);
      if (!next) {
        continue; // it trained on where it was
      }
      moved++;
      const waiting = TASKS.map(t => `r-${t}`).filter(id => !launches.some(([x, t]) => x === id && t <= p.at));
      for (const id of waiting) {
        const first = launches.find(([x]) => x === id);
        if (first) {
          expect({ id, at: first[1] }).toEqual({ id, at: Math.max(first[1], next[1]) });
        }
      }
    }
    // here a survivor was moved to both GPUs at least once (a re-plan through its checkpoint)
    expect(moved).toBeGreaterThan(0);
    // each launch of a survivor's next segment is the one the re-plan chose: never resumed where it paused and
    // launched again a moment later where the re-plan moved it
    const twice = launches.filter(([id, t], i) => launches.slice(0, i).some(([x, u]) => x === id && t - u <= 2));
    expect(twice).toEqual([]);
  }, 60000);

  it('warms a paused job\'s next kernel while it waits at its rung, so a survivor resumes in a warm kernel', async () => {
    const r = await run(ES, instance, 0, {}, 2);
    expect(r.loop.finished).toBe(true);
    // every launch after a job's first is a resume from its rung; before each, after the segment before it ended,
    // that job's kernel was warmed
    const resumes = r.launches.filter(([id], i) => r.launches.findIndex(([other]) => other === id) < i);
    expect(resumes.length).toBeGreaterThan(0);
    const report = resumes.map(([id, at]) => {
      const before = Math.max(...r.launches.filter(([l, t]) => l === id && t < at).map(([, t]) => t));
      const paused = r.pausedAtRung.filter(([p, t]) => p === id && t > before && t <= at).map(([, t]) => t);
      const warmed = r.world.warmed.filter(([w, t]) => w === id && t > before && t <= at).map(([, t]) => t);
      return { id, before, at, paused: paused.length ? [paused[0], paused[paused.length - 1]] : [], warmed };
    });
    // a survivor that waited a few seconds (for the others to report, or for its GPUs) was warmed while it waited,
    // once; one promoted within a step or two is resumed at once, warm or not
    const waited = report.filter(w => w.paused.length && w.at - w.paused[0] >= 3);
    expect(waited.length).toBeGreaterThan(0);
    for (const w of waited) {
      expect({ ...w, warmedOnce: w.warmed.length === 1 }).toEqual({ ...w, warmedOnce: true });
    }
  });

  it('a job paused at its rung and promoted keeps its GPUs: no new trial takes them in the step that promotes it', async () => {
    // one GPU a job, so a job that pauses at its rung frees a GPU that a waiting trial is planned on
    const oneGpu: IInstanceLike = { ...instance, jobs: instance.jobs.map(j => ({ ...j, options: j.options.filter(o => o.gpus === 1) })) };
    let seen = 0;
    for (const [inst, slower] of [[instance, {}], [oneGpu, {}], [instance, { j2: 1.3 }], [oneGpu, { j4: 1.4, j2: 1.2 }]] as const) {
      const r = await run(ES, inst, 0, slower);
      const fromPause = r.loop.rungEvents.filter(e => e.decision === 'promoted' && r.pausedAtRung.some(([id, t]) => id === e.job && t === e.at));
      seen += fromPause.length;
      const taken = fromPause.flatMap(e => {
        const gpus = r.pausedAtRung.find(([id, t]) => id === e.job && t === e.at)![2];
        // a trial's first launch in that step, on one of those GPUs (the re-plan after it may give them to a trial:
        // that one starts in a later step)
        return r.launches
          .filter(([id, t, g], i) => t === e.at && id !== e.job && !r.launches.slice(0, i).some(([x]) => x === id) && g.some(x => gpus.includes(x)))
          .map(([id, , g]) => `${id} on ${g} took ${e.job}'s ${gpus} at ${e.at}`);
      });
      expect(taken).toEqual([]);
    }
    expect(seen).toBeGreaterThan(2);
  }, 60000);

  it('a job that waits on its GPUs at its rung trains on there when promoted: the same verdicts, fewer restarts, the best job done no later', async () => {
    const paused = await run(ES);
    const held = await run(ES, instance, 10);
    expect(verdicts(held)).toEqual(verdicts(paused));
    const states = (r: typeof held) => [...r.store.jobs.values()].map(j => `${j.task}:${j.state}`).sort();
    expect(states(held)).toEqual(states(paused));
    expect(held.world.launches.length).toBeLessThan(paused.world.launches.length);
    // a job launched again is moved by a re-plan (more GPUs), never restarted where it already was
    const again = held.launches.filter(([id, , gpus], i) => held.launches.slice(0, i).some(([x, , g]) => x === id && g.join() === gpus.join()));
    expect(again).toEqual([]);
    const best = (r: typeof held) => r.store.jobs.get('r-j2')!.info.finished_at as number;
    expect(best(held)).toBeLessThanOrEqual(best(paused));
    // a job that is not promoted at once is asked to free its GPUs and pauses at its rung (ASHA: a job promoted later
    // would resume from there)
    const pausedAtRung = held.store.transitions.filter(([, from, to]) => from === JobState.Checkpointing && to === JobState.Preempted).map(([id]) => id);
    expect(pausedAtRung.length).toBeGreaterThan(0);
    for (const j of held.store.jobs.values()) {
      expect(j.info.holding ?? null).toBeNull();
    }
  }, 60000);

  it('a job waiting on its GPUs for jobs still to report keeps them while no other work wants them', async () => {
    // 4 jobs on 4 GPUs: nothing waits for a GPU, so a job that reported first waits there for the others' reports
    // and, promoted, trains on: a job is launched again only when a re-plan moves it (more GPUs once others stopped)
    const four: IInstanceLike = { ...instance, cluster: { nodes: [{ id: 'node0', gpus: 4 }] }, jobs: instance.jobs.slice(0, 4) };
    // the best job (j2) is the last to reach each rung, so the others report first and must wait for it
    const paused = await run(ES, four, 0, { j2: 1.2 });
    const held = await run(ES, four, 10, { j2: 1.2 });
    expect(verdicts(held)).toEqual(verdicts(paused));
    const relaunchedInPlace = (r: typeof held) =>
      r.launches.filter(([id, , gpus], i) => {
        const before = r.launches.slice(0, i).filter(([x]) => x === id).pop();
        return before !== undefined && before[2].join() === gpus.join();
      });
    expect(relaunchedInPlace(held)).toEqual([]);
    expect(held.world.launches.length).toBeLessThan(paused.world.launches.length);
    expect(held.makespan).toBeLessThan(paused.makespan);
  }, 60000);
});
