/**
 * Start-up costs (`options[].startup_s`: launch to first step) count in every piece that reasons about time: the
 * solver, the lower bound, the baselines, the validator and the simulator; instances without them read as before.
 */
import * as fs from 'fs';
import * as path from 'path';
import { baseline } from '../baselines';
import { lowerBound } from '../bounds';
import { simulate } from '../simulate';
import { solve } from '../solve';
import { Instance, optionDuration } from '../types';
import { validateInstance, validatePlan } from '../validate';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

/** Two jobs on 2 GPUs: both on 2 GPUs one after the other (2 × 45 s) beats 1 GPU each side by side (100 s) only
 * while starting costs nothing; with 10 s of start-up per 2-GPU launch it is 2 × 55 = 110 s, and 100 s wins. */
const pair = (startup2: number): Instance => ({
  format: 'spase-instance/1',
  name: 'pair',
  cluster: { nodes: [{ id: 'n0', gpus: 2 }] },
  jobs: ['a', 'b'].map(id => ({
    id,
    options: [
      { parallelism: 'spilling', gpus: 1, runtime_s: 100, startup_s: 0 },
      { parallelism: 'ddp', gpus: 2, runtime_s: 45, startup_s: startup2 }
    ]
  }))
});

const budget = { iterations: 2000, seed: 3 };

describe('start-up costs', () => {
  it('the solver counts them: they change the best plan, and each planned block lasts start-up + runtime', async () => {
    const free = await solve(pair(0), budget);
    expect(free.makespan_s).toBeCloseTo(90);
    expect(free.jobs.every(j => j.gpus === 2)).toBe(true);
    const costly = await solve(pair(10), budget);
    expect(costly.makespan_s).toBeCloseTo(100);
    expect(costly.jobs.every(j => j.gpus === 1)).toBe(true);
    const withStartup = pair(10);
    withStartup.jobs[0].options[0].startup_s = 3;
    const p = await solve(withStartup, budget);
    const a = p.jobs.find(j => j.id === 'a')!;
    expect(a.end_s - a.start_s).toBeCloseTo(a.gpus === 1 ? 103 : 55);
    expect(validatePlan(withStartup, p)).toEqual([]);
  });

  it('the lower bound counts them', () => {
    const one: Instance = {
      format: 'spase-instance/1',
      name: 'one',
      cluster: { nodes: [{ id: 'n0', gpus: 1 }] },
      jobs: [{ id: 'a', options: [{ parallelism: 'ddp', gpus: 1, runtime_s: 50, startup_s: 7 }] }]
    };
    expect(lowerBound(one)).toBeCloseTo(57);
    const without = clone(one);
    delete without.jobs[0].options[0].startup_s;
    expect(lowerBound(without)).toBeCloseTo(50);
  });

  it('the baselines count them', () => {
    const p = baseline(pair(10), 'current-practice');
    // current practice: each job on the whole node, one after another: 2 × (10 + 45)
    expect(p.makespan_s).toBeCloseTo(110);
    expect(validatePlan(pair(10), p)).toEqual([]);
  });

  it('the validator asks for them and names the field', () => {
    const inst = pair(10);
    const plan = {
      format: 'spase-plan/1',
      instance: 'pair',
      makespan_s: 90,
      jobs: [
        { id: 'a', parallelism: 'ddp', gpus: 2, node: 'n0', gpu_ids: [0, 1], start_s: 0, end_s: 45 },
        { id: 'b', parallelism: 'ddp', gpus: 2, node: 'n0', gpu_ids: [0, 1], start_s: 45, end_s: 90 }
      ],
      solver: { name: 'hand', status: 'heuristic', time_s: 0 }
    };
    const errs = validatePlan(inst, plan);
    expect(errs.some(e => /jobs\[0\]\.end_s: .*runtime 45 plus its start-up cost 10/.test(e))).toBe(true);
    plan.jobs[0].end_s = 55;
    plan.jobs[1].start_s = 55;
    plan.jobs[1].end_s = 110;
    plan.makespan_s = 110;
    expect(validatePlan(inst, plan)).toEqual([]);
    const bad = clone(inst) as any;
    bad.jobs[1].options[1].startup_s = -1;
    expect(validateInstance(bad)).toEqual([
      'jobs[1].options[1].startup_s: must be a finite number >= 0 (seconds from launch to the first step)'
    ]);
    expect(optionDuration({ runtime_s: 5 })).toBe(5);
  });

  it('the simulator replays realised training times after each start-up', async () => {
    const inst = pair(10);
    const plan = await solve(inst, budget); // a and b side by side on 1 GPU each (start-up 0)
    const twoGpu = { ...plan, jobs: [
      { id: 'a', parallelism: 'ddp', gpus: 2, node: 'n0', gpu_ids: [0, 1], start_s: 0, end_s: 55 },
      { id: 'b', parallelism: 'ddp', gpus: 2, node: 'n0', gpu_ids: [0, 1], start_s: 55, end_s: 110 }
    ] };
    const sim = simulate(inst, twoGpu, { a: 60, b: 45 });
    expect(sim.plan.jobs.find(j => j.id === 'a')!.end_s).toBeCloseTo(70); // 10 s start-up + 60 s training
    expect(sim.makespan_s).toBeCloseTo(70 + 55);
    expect(sim.delay_s.b).toBeCloseTo(15);
  });

  it('instance files without start-up costs still load and solve', async () => {
    const dir = path.resolve(__dirname, '../../../bench/instances');
    const fig4 = JSON.parse(fs.readFileSync(path.join(dir, 'paper-fig4.json'), 'utf8')) as Instance;
    expect(fig4.jobs.some(j => j.options.some(o => o.startup_s !== undefined))).toBe(false);
    expect(validateInstance(fig4)).toEqual([]);
    const p = await solve(fig4, budget);
    expect(validatePlan(fig4, p)).toEqual([]);
    expect(p.makespan_s).toBeGreaterThanOrEqual(lowerBound(fig4) - 1e-6);
  });
});
