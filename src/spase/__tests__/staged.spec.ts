/**
 * The re-plan at a rung's judgement (`marginalPlan`): survivors first, one by one, each at its least finish plus
 * what its GPU-seconds cost those placed after it; then the new trials by a makespan solve, in job order. Every
 * expectation below is worked out by hand in its comment.
 */
import { solve } from '../solve';
import { marginalPlan } from '../staged';
import { Instance } from '../types';
import { validatePlan } from '../validate';

const opts = (one: number, two: number) => [
  { parallelism: 'ddp', gpus: 1, runtime_s: one },
  { parallelism: 'ddp', gpus: 2, runtime_s: two }
];
const solver = (inst: Instance) => solve(inst, { iterations: 2000, seed: 1, noMilp: true });

/**
 * One node of 4 GPUs. R is under way on GPU 1 (50 s left). S was promoted at its rung and still holds GPU 0 (100 s of
 * its next segment left there); on 2 GPUs the segment takes 60 s (restore included). N1 and N2 are new trials.
 */
const rungInstance = (): Instance => ({
  format: 'spase-instance/1',
  name: 'rung',
  cluster: { nodes: [{ id: 'n0', gpus: 4 }] },
  jobs: [
    { id: 'R', options: opts(100, 60) },
    { id: 'S', options: opts(100, 60) },
    { id: 'N1', options: opts(80, 50) },
    { id: 'N2', options: opts(80, 50) }
  ],
  running: [
    { job: 'R', parallelism: 'ddp', gpus: 1, node: 'n0', gpu_ids: [1], remaining_s: 50, preemptible: true },
    { job: 'S', parallelism: 'ddp', gpus: 1, node: 'n0', gpu_ids: [0], remaining_s: 100, preemptible: true }
  ]
});

describe('marginalPlan (the re-plan at a rung)', () => {
  it('moves a survivor to more GPUs when that is worth what it costs the trials behind it, then starts the new trials in job order', async () => {
    const inst = rungInstance();
    // S weighs 2 (one rung passed, eta 2); two new trials of weight 1 wait: charge = (1 + 1) / (4 GPUs × 2) = 0.25.
    // Carry on: 100 + 0.25 × 100 = 125. Two GPUs (0 and 2 are free now): 60 + 0.25 × 120 = 90. So S moves.
    const { plan, solves } = await marginalPlan(inst, [{ job: 'S', weight: 2 }], solver);
    expect(solves).toBe(1);
    const by = (id: string) => plan.jobs.find(j => j.id === id)!;
    expect(by('R')).toMatchObject({ gpu_ids: [1], start_s: 0, end_s: 50, running: true });
    expect(by('S')).toMatchObject({ gpus: 2, gpu_ids: [0, 2], start_s: 0, end_s: 60 });
    expect(by('S').running).toBeFalsy();
    // The new trials: GPU 3 free now, GPU 1 at 50, GPUs 0 and 2 at 60; the least makespan is 110 (e.g. one on GPU 3
    // until 80, the other on 2 GPUs from 60), and N1 never starts after N2.
    expect(plan.makespan_s).toBeCloseTo(110);
    expect(by('N1').start_s).toBeLessThanOrEqual(by('N2').start_s);
    expect(validatePlan(inst, plan)).toEqual([]);
  });

  it('with nothing else waiting a survivor takes its earliest finish', async () => {
    const inst = rungInstance();
    inst.jobs = inst.jobs.filter(j => j.id === 'S');
    inst.running = inst.running!.filter(r => r.job === 'S');
    const { plan, solves } = await marginalPlan(inst, [{ job: 'S', weight: 2 }], solver);
    expect(solves).toBe(0);
    // charge 0: 60 s on 2 GPUs beats carrying on (100 s)
    expect(plan.jobs[0]).toMatchObject({ gpus: 2, end_s: 60 });
  });

  it('a survivor that cannot gain carries on where it is, at no cost', async () => {
    const inst = rungInstance();
    inst.jobs = inst.jobs.filter(j => j.id === 'S').map(j => ({ ...j, options: opts(100, 100) }));
    inst.running = inst.running!.filter(r => r.job === 'S');
    const { plan } = await marginalPlan(inst, [{ job: 'S', weight: 2 }], solver);
    // carrying on ends at 100 like a fresh 1-GPU start; the tie goes to staying (no restart)
    expect(plan.jobs[0]).toMatchObject({ gpu_ids: [0], start_s: 0, end_s: 100, running: true });
  });

  it('places the survivors in the order given: the first gets the GPUs first', async () => {
    // Two GPUs, A and B both paused at their rungs (nothing running): 1 GPU 100 s, 2 GPUs 55 s.
    const inst: Instance = {
      format: 'spase-instance/1',
      name: 'two',
      cluster: { nodes: [{ id: 'n0', gpus: 2 }] },
      jobs: [
        { id: 'A', options: opts(100, 55) },
        { id: 'B', options: opts(100, 55) }
      ]
    };
    // A first (weight 4, B weighs 2 after it): charge = 2 / (2 × 4) = 0.25: 2 GPUs 55 + 27.5 = 82.5 against 1 GPU
    // 100 + 25 = 125, so 0–55 on both GPUs; then B alone (charge 0): 2 GPUs from 55 to 110 (1 GPU would end at 155).
    const ab = (await marginalPlan(inst, [{ job: 'A', weight: 4 }, { job: 'B', weight: 2 }], solver)).plan;
    expect(ab.jobs.map(j => [j.id, j.start_s, j.end_s])).toEqual([['A', 0, 55], ['B', 55, 110]]);
    const ba = (await marginalPlan(inst, [{ job: 'B', weight: 2 }, { job: 'A', weight: 4 }], solver)).plan;
    expect(ba.jobs.map(j => [j.id, j.start_s, j.end_s])).toEqual([['A', 55, 110], ['B', 0, 55]]);
  });

  it('names a promoted job the instance does not have', async () => {
    await expect(marginalPlan(rungInstance(), [{ job: 'ghost', weight: 2 }], solver)).rejects.toThrow(/promoted job ghost is not in the instance/);
  });
});
