/**
 * Search-quality guards. On paper-fig4 the first greedy candidate is already
 * optimal, so these use instances where the search has to work, and budgets
 * counted in iterations / branch-and-bound nodes (never seconds), so that the
 * figures are the same on any machine.
 */
import * as fs from 'fs';
import * as path from 'path';
import { problemLowerBound, energyLowerBound } from '../bounds';
import { getHighs, milpImprove } from '../milp';
import { compile } from '../problem';
import { firstCandidate, solve } from '../solve';
import { PortfolioMerger, portfolioVariant } from '../portfolio';
import { generate, GENERATED } from '../../cli/generate';
import { Instance, Plan } from '../types';
import { validatePlan } from '../validate';

const DIR = process.env.SATURN_SPASE_INSTANCES ?? path.resolve(__dirname, '../../../bench/instances');
const load = (f: string): Instance => JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8'));
const fixture = (f: string): Instance => JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', f), 'utf8'));

const firstMakespan = (inst: Instance) => firstCandidate(compile(inst)).sched.makespan;

async function streamed(inst: Instance, o: Parameters<typeof solve>[1]): Promise<{ final: Plan; plans: Plan[] }> {
  const plans: Plan[] = [];
  const final = await solve(inst, { ...o, onPlan: x => plans.push(x) });
  return { final, plans };
}

function expectStrictlyImprovingValidStream(inst: Instance, plans: Plan[], final: Plan): void {
  expect(plans.length).toBeGreaterThan(1);
  for (let k = 1; k < plans.length; k++) {
    expect(plans[k].makespan_s).toBeLessThan(plans[k - 1].makespan_s);
  }
  for (const pl of plans) {
    expect(validatePlan(inst, pl)).toEqual([]);
  }
  expect(validatePlan(inst, final)).toEqual([]);
  expect(final.makespan_s).toBe(plans[plans.length - 1].makespan_s);
}

describe('search quality (deterministic budgets)', () => {
  // 'list': the annealer over job order and options through the whole-plan decoder, which the solver
  // uses wherever pins, running jobs, unavailable GPUs or precedence couple the nodes
  it('list annealing beats the first candidate on img-like-8+4 by at least 7%', async () => {
    const inst = load('img-like-8+4.json');
    const first = firstMakespan(inst);
    expect(first).toBeCloseTo(172145.3, 1);
    const { final, plans } = await streamed(inst, { iterations: 20000, seed: 1, noMilp: true, search: 'list' });
    expect(plans[0].makespan_s).toBeCloseTo(first, 6);
    expectStrictlyImprovingValidStream(inst, plans, final);
    expect(final.makespan_s).toBeLessThan(0.93 * first);
  });

  it.each(['nodal', 'list'] as const)('is deterministic for a seed and an iteration budget (%s search)', async search => {
    const inst = load('img-like-8+4.json');
    const a = await streamed(inst, { iterations: 5000, seed: 3, noMilp: true, search });
    const b = await streamed(inst, { iterations: 5000, seed: 3, noMilp: true, search });
    expect(b.plans.map(p => p.makespan_s)).toEqual(a.plans.map(p => p.makespan_s));
    expect(b.final.jobs).toEqual(a.final.jobs);
    const other = await streamed(inst, { iterations: 5000, seed: 4, noMilp: true, search });
    expect(other.plans.map(p => p.makespan_s)).not.toEqual(a.plans.map(p => p.makespan_s));
  });

  it('list annealing beats the first candidate on txt-like-2x8 by at least 2%; the list hybrid (more annealing, MILP windows) at least 4% more', async () => {
    const inst = load('txt-like-2x8.json');
    const first = firstMakespan(inst);
    expect(first).toBeCloseTo(116163.2, 1);
    const sa = await streamed(inst, { iterations: 20000, seed: 1, noMilp: true, search: 'list' });
    expectStrictlyImprovingValidStream(inst, sa.plans, sa.final);
    expect(sa.final.makespan_s).toBeLessThan(0.98 * first);
    const hy = await streamed(inst, { iterations: 20000, seed: 1, milpNodes: 300, search: 'list' });
    expectStrictlyImprovingValidStream(inst, hy.plans, hy.final);
    expect(hy.final.makespan_s).toBeLessThan(0.96 * sa.final.makespan_s);
  }, 60000);

  it('the MILP proves optimal a small instance that the greedy does not solve', async () => {
    const inst = fixture('gen-5-2x4-s7.json');
    const p = compile(inst);
    const first = firstCandidate(p);
    const lb = Math.max(problemLowerBound(p), energyLowerBound(p));
    const highs = await getHighs();
    const r = milpImprove(highs, p, first.sched, { timeLimitS: Infinity, lowerBound: lb, maxNodes: 5000 });
    expect(r.optimal && r.global).toBe(true);
    expect(r.sched).not.toBeNull();
    const opt = r.sched!.makespan;
    // the greedy is at least 4% off, and the lower bound alone cannot prove the optimum
    expect(first.sched.makespan).toBeGreaterThan(1.04 * opt);
    expect(lb).toBeLessThan(0.95 * opt);
    // through solve(): optimal status with bound = makespan, which only the MILP can give here
    const plan = await solve(inst, { iterations: 200, seed: 1 });
    expect(validatePlan(inst, plan)).toEqual([]);
    expect(plan.makespan_s).toBeCloseTo(opt, 3);
    expect(plan.solver.status).toBe('optimal');
    expect(plan.solver.bound_s).toBeCloseTo(opt, 3);
    const noMilp = await solve(inst, { iterations: 200, seed: 1, noMilp: true });
    expect(noMilp.solver.status).not.toBe('optimal');
  }, 60000);

  it('node-aware list annealing beats the first candidate on a 32-job, 4-node instance by at least 0.8%', async () => {
    const inst = generate(GENERATED.find(g => g.name === 'gen-32-4x8')!);
    const first = firstMakespan(inst);
    const { final, plans } = await streamed(inst, { iterations: 20000, seed: 1, noMilp: true, nodeMoves: true, search: 'list' });
    expectStrictlyImprovingValidStream(inst, plans, final);
    expect(final.makespan_s).toBeLessThan(0.992 * first);
  }, 120000);

  // the default search on these instances: every job's node explicit, only the touched nodes re-decoded
  it('the node-decomposed search beats the first candidate on many-64x4x8 (64 jobs, 4 nodes) by at least 1.9%', async () => {
    const inst = load('many-64x4x8.json');
    const first = firstMakespan(inst);
    expect(first).toBeCloseTo(167984.4, 1);
    const { final, plans } = await streamed(inst, { iterations: 50000, seed: 1, noMilp: true });
    expect(plans[0].makespan_s).toBeCloseTo(first, 6);
    expectStrictlyImprovingValidStream(inst, plans, final);
    expect(final.makespan_s).toBeLessThan(0.981 * first);
  }, 120000);

  it('the node-decomposed search beats the first candidate on txt-like-2x8 (2 nodes) by at least 4.5%, on gen-16-2+2+4+8 (nodes of 2, 2, 4, 8 GPUs) by 2%', async () => {
    for (const [inst, iterations, margin] of [
      [load('txt-like-2x8.json'), 20000, 0.955],
      [generate(GENERATED.find(g => g.name === 'gen-16-2+2+4+8')!), 100000, 0.98]
    ] as const) {
      const first = firstMakespan(inst);
      const { final, plans } = await streamed(inst, { iterations, seed: 1, noMilp: true });
      expectStrictlyImprovingValidStream(inst, plans, final);
      expect(final.makespan_s).toBeLessThan(margin * first);
      // every job on a node its option fits (the 2-GPU nodes take only 1- and 2-GPU options)
      for (const j of final.jobs) {
        expect(j.gpus).toBeLessThanOrEqual(inst.cluster.nodes.find(n => n.id === j.node)!.gpus);
      }
    }
  }, 60000);
});

describe('portfolio merge', () => {
  it('streams only strictly better valid plans, keeps the best bound, breaks ties by worker', async () => {
    const inst = load('txt-like-2x8.json');
    const a = await solve(inst, { ...portfolioVariant({ iterations: 3000, noMilp: true }, 0) });
    const b = await solve(inst, { ...portfolioVariant({ iterations: 3000, noMilp: true }, 1) });
    expect(portfolioVariant({ seed: 5 }, 1).seed).not.toBe(5);
    expect(portfolioVariant({ seed: 5 }, 1).nodeMoves).toBe(true);
    const streamedPlans: Plan[] = [];
    const m = new PortfolioMerger(inst, x => streamedPlans.push(x));
    const worse = a.makespan_s >= b.makespan_s ? a : b;
    const better = worse === a ? b : a;
    expect(m.offer(1, worse)).toBe(true);
    expect(m.offer(0, worse)).toBe(true); // a tie goes to the lower worker, silently
    expect(m.offer(1, worse)).toBe(false);
    const broken = JSON.parse(JSON.stringify(better)) as Plan;
    broken.jobs[0].start_s += 1;
    broken.makespan_s = 1;
    expect(m.offer(0, broken)).toBe(false); // invalid plans never pass
    m.offer(2, better);
    expect(streamedPlans.map(x => x.makespan_s)).toEqual(
      better.makespan_s < worse.makespan_s ? [worse.makespan_s, better.makespan_s] : [worse.makespan_s]
    );
    expect(m.result()!.makespan_s).toBe(Math.min(a.makespan_s, b.makespan_s));
    expect(m.result()!.solver.bound_s).toBe(Math.max(a.solver.bound_s!, b.solver.bound_s!));
  });
});
