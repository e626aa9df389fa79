import * as fs from 'fs';
import * as path from 'path';
import { baseline } from '../baselines';
import { lowerBound } from '../bounds';
import { dominantOptions } from '../dominance';
import { simulate } from '../simulate';
import { solve } from '../solve';
import { InfeasibleError, Instance, Plan, STRATEGIES } from '../types';
import { validateInstance, validatePlan } from '../validate';

const DIR = process.env.SATURN_SPASE_INSTANCES ?? path.resolve(__dirname, '../../../bench/instances');
const load = (f: string): Instance => JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8'));
const fig4 = () => load('paper-fig4.json');
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

const tiny = (): Instance => ({
  format: 'spase-instance/1',
  name: 'tiny',
  cluster: { nodes: [{ id: 'n0', gpus: 2 }] },
  jobs: [
    { id: 'a', options: [{ parallelism: 'ddp', gpus: 1, runtime_s: 10 }, { parallelism: 'ddp', gpus: 2, runtime_s: 6 }] },
    { id: 'b', options: [{ parallelism: 'ddp', gpus: 1, runtime_s: 10 }, { parallelism: 'ddp', gpus: 2, runtime_s: 6 }] },
    { id: 'c', options: [{ parallelism: 'fsdp', gpus: 1, runtime_s: 4 }] }
  ]
});

const job = (p: Plan, id: string) => p.jobs.find(j => j.id === id)!;

describe('validation', () => {
  it('names the field path of instance errors', () => {
    const inst = clone(fig4()) as any;
    inst.jobs[1].options[2].gpus = 0;
    expect(validateInstance(inst)).toContain('jobs[1].options[2].gpus: must be a positive integer');
    inst.jobs[1].options[2].gpus = 3;
    inst.cluster.nodes[1].id = 'node0';
    expect(validateInstance(inst)[0]).toMatch(/^cluster\.nodes\[1\]\.id: duplicate/);
    expect(validateInstance({ format: 'x' })[0]).toMatch(/^format:/);
    const inst2 = clone(fig4()) as any;
    inst2.jobs[0].options[0].runtime_s = -1;
    expect(validateInstance(inst2)).toEqual(['jobs[0].options[0].runtime_s: must be a finite number > 0']);
    inst2.jobs[0].options[0].runtime_s = 1;
    inst2.pins = [{ job: 'Z' }];
    expect(validateInstance(inst2)).toEqual(['pins[0].job: unknown job "Z"']);
  });

  it('checks plans: options, GPU ids, overlaps, makespan', async () => {
    const inst = fig4();
    const plan = await solve(inst, { strategy: 'optimus-greedy' });
    expect(validatePlan(inst, plan)).toEqual([]);
    const bad = clone(plan);
    bad.jobs[0].gpu_ids = [0, 9];
    expect(validatePlan(inst, bad)[0]).toMatch(/^jobs\[0\]\.gpu_ids:/);
    const bad2 = clone(plan);
    bad2.makespan_s += 1;
    expect(validatePlan(inst, bad2)[0]).toMatch(/^makespan_s:/);
    const bad3 = clone(plan);
    const a = bad3.jobs.find(j => j.id === 'A')!;
    const b = bad3.jobs.find(j => j.id === 'B')!;
    a.node = b.node;
    a.gpu_ids = b.gpu_ids.slice(0, 2);
    a.start_s = b.start_s;
    a.end_s = a.start_s + 36000;
    expect(validatePlan(inst, bad3).join('\n')).toMatch(/overlaps job/);
    const bad4 = clone(plan);
    bad4.jobs.pop();
    expect(validatePlan(inst, bad4).join('\n')).toMatch(/missing from the plan/);
  });
});

describe('dominance and lower bound', () => {
  it('keeps the fastest technique per GPU count, then drops slower larger counts', () => {
    const r = dominantOptions([
      { parallelism: 'spilling', gpus: 1, runtime_s: 100 },
      { parallelism: 'ddp', gpus: 2, runtime_s: 60 },
      { parallelism: 'fsdp', gpus: 2, runtime_s: 50 },
      { parallelism: 'pipeline', gpus: 4, runtime_s: 55 },
      { parallelism: 'fsdp', gpus: 8, runtime_s: 20 }
    ]);
    expect(r.map(x => [x.index, x.option.parallelism, x.option.gpus])).toEqual([
      [0, 'spilling', 1],
      [2, 'fsdp', 2],
      [4, 'fsdp', 8]
    ]);
  });

  it('computes the bound of docs/spase-format.md (paper-fig4: 25 h)', () => {
    expect(lowerBound(fig4())).toBe(90000);
    // energy: a 10 (min energy 10) + b 10 + c 4 = 24 / 2 GPUs = 12 > max job 6
    expect(lowerBound(tiny())).toBe(12);
  });

  it('counts unavailable GPUs and running jobs in the bound', () => {
    const inst = tiny();
    inst.unavailable = [{ node: 'n0', gpu_ids: [0], until_s: 8 }];
    expect(lowerBound(inst)).toBe(16);
  });
});

describe('baselines (paper-fig4, hand-computed)', () => {
  it('current practice: whole nodes, longest first -> B, C, then A after C', () => {
    const p = baseline(fig4(), 'current-practice');
    expect(p.makespan_s).toBe(86400 + 25200);
    expect(job(p, 'A').gpus).toBe(4);
    expect(validatePlan(fig4(), p)).toEqual([]);
  });
  it('Min-heuristic: one GPU (spilling) where possible', () => {
    const p = baseline(fig4(), 'min-heuristic');
    expect(job(p, 'B').parallelism).toBe('spilling');
    expect(p.makespan_s).toBe(144000);
  });
  it('Optimus*-greedy: B gets the extra GPU (largest gain)', () => {
    const p = baseline(fig4(), 'optimus-greedy');
    expect([job(p, 'A').gpus, job(p, 'B').gpus, job(p, 'C').gpus]).toEqual([2, 2, 4]);
    expect(p.makespan_s).toBe(108000);
  });
  it('randomized is seeded and valid', () => {
    const a = baseline(fig4(), 'randomized', 7);
    const b = baseline(fig4(), 'randomized', 7);
    expect(a.jobs).toEqual(b.jobs);
    expect(validatePlan(fig4(), a)).toEqual([]);
  });
  it('tiny: current practice runs everything in sequence', () => {
    expect(baseline(tiny(), 'current-practice').makespan_s).toBe(16);
  });
});

describe('hybrid solver', () => {
  it('finds the proven optimum 108000 s on paper-fig4', async () => {
    const plans: Plan[] = [];
    const p = await solve(fig4(), { timeLimitS: 2, onPlan: x => plans.push(x) });
    expect(p.makespan_s).toBe(108000);
    expect(plans.length).toBeGreaterThan(0);
    expect(validatePlan(fig4(), p)).toEqual([]);
    expect(job(p, 'C').start_s).toBe(0);
    expect(job(p, 'C').node).not.toBe(job(p, 'B').node);
    expect(job(p, 'B').gpus).toBe(2);
    expect(job(p, 'A').gpus).toBe(2);
  });

  it('every strategy gives a valid plan on every public instance', async () => {
    const files = fs.readdirSync(DIR).filter(f => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const inst = load(f);
      for (const s of STRATEGIES) {
        const p = await solve(inst, { strategy: s, timeLimitS: 0.15 });
        expect([f, s, validatePlan(inst, p)]).toEqual([f, s, []]);
        expect(p.makespan_s).toBeGreaterThanOrEqual(lowerBound(inst) * (1 - 1e-9));
      }
    }
  });

  it('honours pins (option, node, GPU ids, start)', async () => {
    const inst = fig4();
    inst.pins = [{ job: 'A', parallelism: 'fsdp', gpus: 4, node: 'node1', gpu_ids: [0, 1, 2, 3], start_s: 1000 }];
    const p = await solve(inst, { timeLimitS: 0.3 });
    expect(validatePlan(inst, p)).toEqual([]);
    const a = job(p, 'A');
    expect([a.node, a.gpu_ids, a.start_s, a.gpus, a.pinned]).toEqual(['node1', [0, 1, 2, 3], 1000, 4, true]);
    const inst2 = fig4();
    inst2.pins = [{ job: 'B', parallelism: 'spilling' }];
    const p2 = await solve(inst2, { timeLimitS: 0.3 });
    expect(job(p2, 'B').parallelism).toBe('spilling');
    expect(validatePlan(inst2, p2)).toEqual([]);
  });

  it('honours running jobs, unavailable GPUs and precedence', async () => {
    const inst = fig4();
    inst.running = [{ job: 'C', parallelism: 'fsdp', gpus: 4, node: 'node1', gpu_ids: [0, 1, 2, 3], remaining_s: 5000 }];
    inst.unavailable = [{ node: 'node0', gpu_ids: [0], until_s: 20000 }];
    inst.precedence = [{ before: 'A', after: 'B' }];
    for (const s of STRATEGIES) {
      const p = await solve(inst, { strategy: s, timeLimitS: 0.3 });
      expect([s, validatePlan(inst, p)]).toEqual([s, []]);
      const c = job(p, 'C');
      expect([c.node, c.start_s, c.end_s, c.running]).toEqual(['node1', 0, 5000, true]);
      expect(job(p, 'B').start_s).toBeGreaterThanOrEqual(job(p, 'A').end_s);
      for (const j of p.jobs) {
        if (j.node === 'node0' && j.gpu_ids.includes(0)) {
          expect(j.start_s).toBeGreaterThanOrEqual(20000);
        }
      }
    }
    // the validator catches a moved running job
    const p = await solve(inst, { strategy: 'min-heuristic' });
    const moved = clone(p);
    job(moved, 'C').start_s = 10;
    job(moved, 'C').end_s = 5010;
    expect(validatePlan(inst, moved).join('\n')).toMatch(/running job "C"/);
  });

  it('reports infeasible pins by name', async () => {
    const inst = fig4();
    inst.pins = [
      { job: 'A', node: 'node0', gpu_ids: [0, 1], start_s: 0, parallelism: 'fsdp', gpus: 2 },
      { job: 'B', node: 'node0', gpu_ids: [1, 2], start_s: 100, parallelism: 'pipeline', gpus: 2 }
    ];
    await expect(solve(inst, { timeLimitS: 0.2 })).rejects.toThrow(/pins\[0\] \(job A\) and pins\[1\] \(job B\)/);
    try {
      await solve(inst, { timeLimitS: 0.2 });
    } catch (e) {
      expect(e).toBeInstanceOf(InfeasibleError);
      expect((e as InfeasibleError).conflicts.join(' ')).toMatch(/pins\[0\].*pins\[1\]/);
    }
    const inst2 = fig4();
    inst2.pins = [{ job: 'C', parallelism: 'ddp' }];
    await expect(solve(inst2, { timeLimitS: 0.2 })).rejects.toThrow(/pins\[0\] \(job C\): job C has no option with parallelism ddp/);
    const inst3 = fig4();
    inst3.pins = [{ job: 'A', node: 'node0', gpu_ids: [3, 4] }];
    await expect(solve(inst3, { timeLimitS: 0.2 })).rejects.toThrow(/pins\[0\]\.gpu_ids: GPU id 4 is outside node "node0"/);
  });
});

describe('simulator', () => {
  it('replays a plan with actual runtimes, keeping the order per GPU', () => {
    const inst = tiny();
    const plan: Plan = {
      format: 'spase-plan/1',
      instance: 'tiny',
      makespan_s: 16,
      jobs: [
        { id: 'a', parallelism: 'ddp', gpus: 1, node: 'n0', gpu_ids: [0], start_s: 0, end_s: 10 },
        { id: 'c', parallelism: 'fsdp', gpus: 1, node: 'n0', gpu_ids: [1], start_s: 0, end_s: 4 },
        { id: 'b', parallelism: 'ddp', gpus: 2, node: 'n0', gpu_ids: [0, 1], start_s: 10, end_s: 16 }
      ],
      solver: { name: 'hand', status: 'heuristic', time_s: 0 }
    };
    expect(validatePlan(inst, plan)).toEqual([]);
    // a finishes early (7 s), c late (9 s): b starts at max(7, 9) = 9 and runs 6 s
    const r = simulate(inst, plan, { a: 7, c: 9 });
    expect(r.makespan_s).toBe(15);
    expect(r.plan.jobs.find(j => j.id === 'b')!.start_s).toBe(9);
    expect(r.delay_s.b).toBe(-1);
    // b runs longer than planned
    expect(simulate(inst, plan, { b: 8 }).makespan_s).toBe(18);
  });
});
