/**
 * The early-stopping simulation (asha-sim.ts) on tiny workloads: the timeline invariants a reader of
 * docs/asha-bench.md relies on, for every strategy, and one case worked out by hand.
 */
import {
  checkTimeline,
  fixedFifo,
  fixedOption,
  IStrategyResult,
  IWorkload,
  makeCurves,
  saturnAsha,
  saturnNoStop
} from '../asha-sim';
import { Instance } from '../../spase/types';

const BUDGET = { iterations: 300, milpNodes: 50, seed: 1, noMilp: true };

/** 4 jobs on one node of 2 GPUs; runtimes of the whole job (6 epochs), 1 or 2 GPUs. */
function tiny(seed = 3): IWorkload {
  const runtimes = [
    [600, 360],
    [1200, 700],
    [900, 480],
    [300, 200]
  ];
  const instance: Instance = {
    format: 'spase-instance/1',
    name: 'tiny-4x2',
    cluster: { nodes: [{ id: 'n0', gpus: 2 }] },
    jobs: runtimes.map(([one, two], i) => ({
      id: `j${i}`,
      options: [
        { parallelism: 'ddp', gpus: 1, runtime_s: one, startup_s: 10 },
        { parallelism: 'ddp', gpus: 2, runtime_s: two, startup_s: 10 },
        { parallelism: 'fsdp', gpus: 2, runtime_s: two * 1.1, startup_s: 20 }
      ]
    }))
  };
  return {
    name: 'tiny-4x2',
    instance,
    epochs: 6,
    stepsPerEpoch: 10,
    curves: makeCurves(
      instance.jobs.map(j => j.id),
      6,
      seed
    ),
    restoreS: 5,
    es: { kind: 'asha', mode: 'min', eta: 2, rungs: [1, 3, 6], unit: 'epochs' }
  };
}

async function allStrategies(w: IWorkload): Promise<IStrategyResult[]> {
  return [
    await saturnNoStop(w, BUDGET),
    await fixedFifo(w, 1),
    await fixedFifo(w, 2),
    await saturnAsha(w, BUDGET),
    await saturnAsha(w, BUDGET, { restartEveryRung: true })
  ];
}

describe('ASHA simulation', () => {
  it('keeps every strategy\'s timeline sound on a tiny workload (several curve seeds)', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const w = tiny(seed);
      for (const r of await allStrategies(w)) {
        // no GPU used by two jobs at once; each segment lasts its option's time; every job resumes from the step
        // where it stopped; stopped jobs never run past their rung; finished jobs trained every step
        expect(checkTimeline(w, r)).toEqual([]);
        expect(r.outcomes).toHaveLength(4);
        expect(r.outcomes.filter(o => o.state === 'done').length).toBeGreaterThanOrEqual(1);
        expect(r.bestJob).not.toBeNull();
        expect(r.timeToBestS).toBeLessThanOrEqual(r.makespanS);
        for (const o of r.outcomes.filter(x => x.state === 'stopped')) {
          expect([10, 30]).toContain(o.step); // stopped at a rung, never between
        }
        if (r.name !== 'saturn-no-stop') {
          // stop decisions are only taken at rungs, and a job is stopped at most once
          const stops = r.events.filter(e => e.action === 'stop').map(e => e.job);
          expect(new Set(stops).size).toBe(stops.length);
        }
      }
    }
  }, 60000);

  it('(a) trains every job to its end; early stopping (b, c) stops some and uses fewer GPU-hours', async () => {
    const w = tiny(3);
    const [a, , b2, c] = await allStrategies(w);
    expect(a.outcomes.every(o => o.state === 'done')).toBe(true);
    expect(a.trueBestFinished).toBe(true);
    for (const r of [b2, c]) {
      expect(r.outcomes.some(o => o.state === 'stopped')).toBe(true);
      expect(r.gpuHours).toBeLessThan(a.gpuHours);
    }
  }, 30000);

  it('is deterministic for a seed and an iteration budget', async () => {
    const w = tiny(2);
    const x = await saturnAsha(w, BUDGET);
    const y = await saturnAsha(w, BUDGET);
    expect(y.segments).toEqual(x.segments);
    expect(y.events).toEqual(x.events);
  }, 30000);

  it('(b) on a case worked out by hand: a trial not promoted at once frees its GPU and later resumes where it stopped', async () => {
    // one node, 2 GPUs, two 1-GPU trials; A: 100 s/epoch, B: 200 s/epoch; start-up 10 s, restore 5 s; A is better
    const instance: Instance = {
      format: 'spase-instance/1',
      name: 'hand',
      cluster: { nodes: [{ id: 'n0', gpus: 2 }] },
      jobs: [
        { id: 'A', options: [{ parallelism: 'ddp', gpus: 1, runtime_s: 600, startup_s: 10 }] },
        { id: 'B', options: [{ parallelism: 'ddp', gpus: 1, runtime_s: 1200, startup_s: 10 }] }
      ]
    };
    const w: IWorkload = {
      name: 'hand',
      instance,
      epochs: 6,
      stepsPerEpoch: 100,
      curves: { A: [2, 1.8, 1.6, 1.5, 1.4, 1.3], B: [3, 2.8, 2.6, 2.5, 2.4, 2.3] },
      restoreS: 5,
      es: { kind: 'asha', mode: 'min', eta: 2, rungs: [1, 3, 6], unit: 'epochs' }
    };
    const r = await fixedFifo(w, 1);
    expect(checkTimeline(w, r)).toEqual([]);
    const seg = (job: string) => r.segments.filter(s => s.job === job).map(s => [s.fromStep, s.toStep, s.start, s.end, s.kind]);
    // A reaches rung 1 at 110 s: 1 of 1 reported, top ⌊1/2⌋ = 0 -> it waits and frees its GPU.
    // B reports at 210 s: the rung is complete, A is promoted (resumes: start-up + restore), B stops.
    // At rung 3 A is the only one left: promoted at once, it continues on its GPU.
    expect(seg('A')).toEqual([
      [0, 100, 0, 110, 'start'],
      [100, 300, 210, 425, 'resume'],
      [300, 600, 425, 725, 'continue']
    ]);
    expect(seg('B')).toEqual([[0, 100, 0, 210, 'start']]);
    expect(r.events).toEqual([
      { t: 210, job: 'A', rung: 100, action: 'promote' },
      { t: 210, job: 'B', rung: 100, action: 'stop' },
      { t: 425, job: 'A', rung: 300, action: 'promote' }
    ]);
    expect(r.bestJob).toBe('A');
    expect(r.timeToBestS).toBe(725);
    expect(r.makespanS).toBe(725);
    // (c) on the same case: both start at once, the same decisions; A may take both GPUs once B has stopped
    const c = await saturnAsha(w, BUDGET);
    expect(checkTimeline(w, c)).toEqual([]);
    expect(c.events.map(e => [e.job, e.rung, e.action])).toEqual([
      ['A', 100, 'promote'],
      ['B', 100, 'stop'],
      ['A', 300, 'promote']
    ]);
    expect(c.timeToBestS).toBeLessThanOrEqual(725);
  }, 30000);

  it('checkTimeline reports a GPU used twice, a job resumed at the wrong step and a stopped job run past its rung', async () => {
    const w = tiny(3);
    const b = await fixedFifo(w, 2);
    const stopped = b.outcomes.find(o => o.state === 'stopped')!;
    const first = b.segments[0];
    const broken: IStrategyResult = {
      ...b,
      segments: [
        ...b.segments,
        { ...first, job: stopped.id, fromStep: stopped.step + 5, toStep: stopped.step + 10, overheadS: 0, end: first.start + (first.end - first.start) / 100 }
      ]
    };
    const errs = checkTimeline(w, broken).join('\n');
    expect(errs).toMatch(/used by .* at once/);
    expect(errs).toMatch(/not where it stopped/);
    expect(errs).toMatch(/ran past its rung|trained \d+ steps but reports/);
  });

  it('gives a fixed-count trial the fastest option of that count, else of the next larger count', () => {
    const opts = [
      { parallelism: 'fsdp', gpus: 2, runtime_s: 100 },
      { parallelism: 'pipeline', gpus: 2, runtime_s: 90 },
      { parallelism: 'fsdp', gpus: 4, runtime_s: 60, startup_s: 5 },
      { parallelism: 'pipeline', gpus: 4, runtime_s: 62 }
    ];
    expect(fixedOption(opts, 2, 8)).toMatchObject({ parallelism: 'pipeline', gpus: 2 });
    expect(fixedOption(opts, 1, 8)).toMatchObject({ parallelism: 'pipeline', gpus: 2 });
    expect(fixedOption(opts, 3, 8)).toMatchObject({ parallelism: 'pipeline', gpus: 4 }); // 62 < 60 + 5
    expect(fixedOption(opts, 8, 8)).toMatchObject({ gpus: 4 }); // none larger: the largest that fits
  });
});
