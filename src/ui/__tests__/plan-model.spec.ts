import { validatePlan } from '../../spase/validate';
import { PlanModel } from '../models/plan-model';
import { smallInstance, smallPlan } from './fixtures';

describe('PlanModel', () => {
  it('moves a job in time and to other GPUs, with the makespan delta', () => {
    const m = new PlanModel(smallInstance(), smallPlan());
    const r = m.apply({ kind: 'move', job: 'C', start_s: 120, gpu_ids: [3] });
    expect(r.ok).toBe(true);
    expect(r.delta_s).toBe(20);
    expect(m.plan.makespan_s).toBe(170);
    expect(m.plan.jobs.find(j => j.id === 'C')).toMatchObject({ gpu_ids: [3], start_s: 120, end_s: 170 });
    expect(validatePlan(smallInstance(), m.plan)).toEqual([]);
    expect(m.history).toEqual([{ label: 'Move "C" to node0 GPU 3 at 2m 00s', delta_s: 20 }]);
  });

  it('rejects a move onto busy GPUs with the reason and applies nothing', () => {
    const m = new PlanModel(smallInstance(), smallPlan());
    const before = m.plan;
    const r = m.apply({ kind: 'move', job: 'C', start_s: 10, gpu_ids: [2] });
    expect(r.ok).toBe(false);
    expect(r.reasons[0]).toContain('busy with "B"');
    expect(m.plan).toBe(before);
    expect(m.canUndo).toBe(false);
    expect(m.lastResult?.ok).toBe(false);
  });

  it('previews without applying', () => {
    const m = new PlanModel(smallInstance(), smallPlan());
    const r = m.preview({ kind: 'move', job: 'C', start_s: 0, gpu_ids: [2] });
    expect(r.ok).toBe(false);
    expect(m.plan.jobs.find(j => j.id === 'C')!.start_s).toBe(100);
  });

  it('changes a job option among the profiled ones', () => {
    const m = new PlanModel(smallInstance(), smallPlan());
    const r = m.apply({ kind: 'option', job: 'A', parallelism: 'ddp', gpus: 1 });
    expect(r.ok).toBe(false); // C starts at 100 on GPU 0, A would now end at 180
    expect(r.reasons[0]).toContain('busy with "C"');
    const ok = m.apply({ kind: 'option', job: 'C', parallelism: 'ddp', gpus: 2 });
    expect(ok.ok).toBe(true);
    expect(m.plan.jobs.find(j => j.id === 'C')).toMatchObject({ gpus: 2, gpu_ids: [0, 1], end_s: 130 });
    expect(ok.delta_s).toBe(-20);
    const bad = m.apply({ kind: 'option', job: 'C', parallelism: 'fsdp', gpus: 3 });
    expect(bad.ok).toBe(false);
    expect(bad.reasons[0]).toContain('not profiled');
  });

  it('undoes and redoes edits', () => {
    const m = new PlanModel(smallInstance(), smallPlan());
    m.apply({ kind: 'move', job: 'C', start_s: 120, gpu_ids: [3] });
    m.apply({ kind: 'pin', job: 'C' });
    expect(m.isPinned('C')).toBe(true);
    expect(m.undo()).toBe(true);
    expect(m.isPinned('C')).toBe(false);
    expect(m.undo()).toBe(true);
    expect(m.plan.makespan_s).toBe(150);
    expect(m.undo()).toBe(false);
    expect(m.redo()).toBe(true);
    expect(m.plan.makespan_s).toBe(170);
    expect(m.canRedo).toBe(true);
    expect(m.apply({ kind: 'move', job: 'C', start_s: 120, gpu_ids: [1] }).ok).toBe(true);
    expect(m.canRedo).toBe(false);
  });

  it('passes pins to the solver and keeps pinned jobs pinned when moved', () => {
    const m = new PlanModel(smallInstance(), smallPlan());
    expect(m.instanceForSolve().pins).toBeUndefined();
    m.apply({ kind: 'pin', job: 'B' });
    expect(m.plan.jobs.find(j => j.id === 'B')!.pinned).toBe(true);
    expect(m.instanceForSolve().pins).toEqual([
      { job: 'B', parallelism: 'ddp', gpus: 2, node: 'node0', gpu_ids: [2, 3], start_s: 0 }
    ]);
    m.apply({ kind: 'move', job: 'B', start_s: 30 });
    expect(m.instanceForSolve().pins![0].start_s).toBe(30);
    m.apply({ kind: 'unpin', job: 'B' });
    expect(m.instanceForSolve().pins).toBeUndefined();
  });

  it('accepts a re-optimized plan only when it honours the pins', () => {
    const m = new PlanModel(smallInstance(), smallPlan());
    m.apply({ kind: 'pin', job: 'B' });
    const moved = smallPlan();
    moved.jobs[1] = { ...moved.jobs[1], start_s: 10, end_s: 130 };
    moved.makespan_s = 150;
    expect(m.replacePlan(moved).ok).toBe(false);
    const better = smallPlan();
    better.jobs[2] = { ...better.jobs[2], gpu_ids: [1] };
    const r = m.replacePlan(better);
    expect(r.ok).toBe(true);
    expect(m.plan.jobs.find(j => j.id === 'B')!.pinned).toBe(true);
    expect(m.canUndo).toBe(true);
  });

  it('refuses to change jobs that already started', () => {
    const m = new PlanModel(smallInstance(), smallPlan());
    m.setStates(new Map([['A', 'running']]));
    const r = m.apply({ kind: 'move', job: 'A', start_s: 5 });
    expect(r.ok).toBe(false);
    expect(r.reasons[0]).toContain('running');
  });
});

describe('PlanModel during a run', () => {
  it('refuses undo, redo and solver plans that would change started jobs', () => {
    const m = new PlanModel(smallInstance(), smallPlan());
    expect(m.apply({ kind: 'move', job: 'B', start_s: 10 }).ok).toBe(true);
    m.setStates(new Map([['B', 'done']]));
    expect(m.undo()).toBe(false);
    expect(m.lastResult!.reasons[0]).toContain('"B" is done');
    expect(m.plan.jobs.find(j => j.id === 'B')!.start_s).toBe(10);
    const moved = { ...m.plan, jobs: m.plan.jobs.map(j => (j.id === 'B' ? { ...j, start_s: 0, end_s: 120 } : j)) };
    expect(m.replacePlan(moved).ok).toBe(false);
    // the run's own plan is the truth
    expect(m.replacePlan(moved, 'Re-planned during the run', 'run').ok).toBe(true);
    // undoing it would move the done job again
    expect(m.undo()).toBe(false);
    m.setStates(new Map([['A', 'running']]));
    const gpus = { ...m.plan, jobs: m.plan.jobs.map(j => (j.id === 'A' ? { ...j, gpu_ids: [1, 2] } : j)) };
    expect(m.lockedChanges(gpus)[0]).toContain('"A" is running: it can only keep its GPUs');
    const later = { ...m.plan, jobs: m.plan.jobs.map(j => (j.id === 'A' ? { ...j, start_s: 5, end_s: 105 } : j)) };
    expect(m.lockedChanges(later)).toEqual([]);
  });
});

describe('PlanModel: the run\'s own plan', () => {
  it('takes blocks re-planned over a started job that is ahead of its block, and refuses work still to start that overlaps', () => {
    const m = new PlanModel(smallInstance(), smallPlan());
    // A runs on GPUs 0-1 (planned 0-100) and will end at 80: the run re-planned C on GPU 0 from 80
    m.setStates(new Map([['A', 'running']]));
    const early = { ...m.plan, makespan_s: 130, jobs: m.plan.jobs.map(j => (j.id === 'C' ? { ...j, start_s: 80, end_s: 130 } : j)) };
    const r = m.replacePlan(early, 'Re-planned during the run', 'run');
    expect(r.reasons).toEqual([]);
    expect(m.plan.jobs.find(j => j.id === 'C')).toMatchObject({ start_s: 80, end_s: 130 });
    // the same overlap between two jobs that have not started is refused, and says so
    m.setStates(new Map());
    const clash = { ...m.plan, makespan_s: 120, jobs: m.plan.jobs.map(j => (j.id === 'C' ? { ...j, start_s: 70, end_s: 120 } : j)) };
    const bad = m.replacePlan(clash, 'Re-planned during the run', 'run');
    expect(bad.ok).toBe(false);
    expect(bad.reasons.join('; ')).toContain('overlaps');
    expect(m.plan.jobs.find(j => j.id === 'C')).toMatchObject({ start_s: 80 });
  });
});

describe('PlanModel re-optimize during and after a run', () => {
  it('hands the solver every started or finished job as a pin at its place, besides the user pins', () => {
    const m = new PlanModel(smallInstance(), smallPlan());
    expect(m.instanceForSolve().pins).toBeUndefined();
    const b = m.plan.jobs.find(j => j.id === 'B')!;
    m.setStates(new Map([['B', 'done']]));
    const pins = m.instanceForSolve().pins!;
    expect(pins).toEqual([expect.objectContaining({ job: 'B', node: b.node, gpu_ids: b.gpu_ids, start_s: b.start_s })]);
    // the run's own plan is checked against the user's pins only
    expect(m.instanceForSolve(false).pins).toBeUndefined();
  });
});
