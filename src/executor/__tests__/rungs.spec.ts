/**
 * SHA / ASHA decisions at rungs (`rungs.ts`): which jobs stop, in what order jobs are promoted, ties, jobs that fail;
 * and the judgement from job records against the shared conformance cases (`schema/conformance/rungs/*.json`), which
 * pytest runs against the Python autopilot's judge (`python_bridge/saturn/control/rungs.py`) too.
 */
import * as fs from 'fs';
import * as path from 'path';
import { decideRungs, IRungJob, judge, nextRung, rungComplete, rungSteps, survivors, verdictActions, warmQueues } from '../rungs';
import { IJobRecord } from '../types';

const CASES = path.join(__dirname, '../../../schema/conformance/rungs');
const caseFiles = fs.readdirSync(CASES).filter(f => f.endsWith('.json')).sort();

const job = (id: string, reports: Record<number, number>, waitingAt: number | null = null, settled = false): IRungJob => ({
  id,
  reports,
  waitingAt,
  settled
});
const ASHA = { kind: 'asha' as const, mode: 'min' as const, eta: 2 };

describe('rungs', () => {
  it('turns rungs in epochs or steps into the steps below a job\'s end', () => {
    expect(rungSteps({ rungs: [1, 3, 6], unit: 'epochs' }, 60, 10)).toEqual([10, 30]);
    expect(rungSteps({ rungs: [100, 300, 600], unit: 'steps' }, 1000)).toEqual([100, 300, 600]);
    expect(() => rungSteps({ rungs: [1], unit: 'epochs' }, 60, null)).toThrow(/steps per epoch/);
    expect(nextRung([10, 30], 0)).toBe(10);
    expect(nextRung([10, 30], 30)).toBeNull();
  });

  it('stops the bottom jobs of a complete rung and promotes the top 1/eta', () => {
    const jobs = [job('a', { 10: 0.9 }, 10), job('b', { 10: 0.2 }, 10), job('c', { 10: 0.5 }, 10), job('d', { 10: 0.7 }, 10)];
    expect(rungComplete(jobs, 10)).toBe(true);
    const d = decideRungs(jobs, ASHA);
    expect(d.promote).toEqual([{ job: 'b', rung: 10 }, { job: 'c', rung: 10 }]);
    expect(d.stop).toEqual([{ job: 'd', rung: 10 }, { job: 'a', rung: 10 }]);
    // max mode ranks the other way
    const up = decideRungs(jobs, { ...ASHA, mode: 'max' });
    expect(up.promote.map(p => p.job)).toEqual(['a', 'd']);
  });

  it('ASHA promotes a job as soon as it is in the top 1/eta of those that reported; SHA waits for the whole rung', () => {
    // a and b reported; c and d still run below the rung
    const jobs = [job('a', { 10: 0.3 }, 10), job('b', { 10: 0.6 }, 10), job('c', {}), job('d', {})];
    expect(decideRungs(jobs, ASHA)).toEqual({ promote: [{ job: 'a', rung: 10 }], stop: [] }); // b waits
    expect(decideRungs(jobs, { ...ASHA, kind: 'sha' })).toEqual({ promote: [], stop: [] });
  });

  it('counts promoted jobs among those that reported, and a job waiting at an earlier rung keeps a rung open', () => {
    const jobs = [
      job('a', { 10: 0.1, 30: 0.05 }, 30), // promoted at 10, now at 30
      job('b', { 10: 0.2, 30: 0.4 }, 30),
      job('c', { 10: 0.9 }, 10), // waits at 10: it may still be promoted and reach 30
      job('d', { 10: 0.8 }, null, true) // stopped at 10
    ];
    const d = decideRungs(jobs, ASHA);
    expect(d.promote).toEqual([{ job: 'a', rung: 30 }]);
    expect(d.stop).toEqual([{ job: 'c', rung: 10 }]); // rung 10 is complete: a, b promoted (top 2 of 4) and c, d not
    expect(rungComplete(jobs, 30)).toBe(false);
  });

  it('breaks ties by job id, and a NaN is the worst value', () => {
    const jobs = [job('b', { 5: 0.5 }, 5), job('a', { 5: 0.5 }, 5), job('c', { 5: NaN }, 5), job('d', { 5: 0.7 }, 5)];
    const d = decideRungs(jobs, ASHA);
    expect(d.promote.map(p => p.job)).toEqual(['a', 'b']);
    expect(d.stop.map(p => p.job)).toEqual(['d', 'c']);
  });

  it('leaves out a job that failed before a rung, keeps one that failed after reporting', () => {
    // e failed for good before rung 10; f reported at 10 and failed in its next segment (settled)
    const jobs = [job('a', { 10: 0.4 }, 10), job('b', { 10: 0.3 }, 10), job('e', {}, null, true), job('f', { 10: 0.1 }, null, true)];
    const d = decideRungs(jobs, ASHA);
    // 3 reported (a, b, f): top max(1, floor(3/2)) = 1 is f, which is gone; a and b stop
    expect(d.promote).toEqual([]);
    expect(d.stop.map(p => p.job)).toEqual(['b', 'a']);
  });

  it('always promotes at least one job of a complete rung, and refuses eta <= 1', () => {
    expect(decideRungs([job('a', { 10: 1 }, 10)], { ...ASHA, eta: 3 }).promote).toEqual([{ job: 'a', rung: 10 }]);
    expect(() => decideRungs([], { ...ASHA, eta: 1 })).toThrow(/eta must be greater than 1/);
  });
});

describe('the survivors a re-plan places first', () => {
  const rec = (task: string, state: string, info: Record<string, unknown>, checkpoint_step?: number): IJobRecord =>
    ({ id: `r-${task}`, task, state, checkpoint_step, info: { assignment: { parallelism: 'ddp', gpus: 1, node: 'n', gpu_ids: [0] }, ...info } }) as unknown as IJobRecord;
  const cfg = { metric: 'val_loss', mode: 'min' as const, eta: 2 };
  const promoted = (rungs: number[], values: number[], order: number) => ({
    order,
    promotions: rungs.map((rung, i) => ({ rung, at: i })),
    rung_reports: Object.fromEntries(rungs.map((r, i) => [r, { val_loss: values[i] }]))
  });

  it('takes the jobs promoted at a rung that have not trained past it, more rungs first, then the better value, then job order', () => {
    const jobs = [
      rec('a', 'preempted', promoted([10], [0.5], 1), 10), // paused at 10, promoted
      rec('b', 'running', { ...promoted([10], [0.3], 2), progress: { step: 10 } }), // on its GPUs at 10, promoted
      rec('c', 'preempted', promoted([10, 30], [0.9, 0.8], 3), 30), // promoted twice: first despite its value
      rec('d', 'running', { ...promoted([10], [0.1], 4), progress: { step: 14 } }), // under way past 10: only with move_survivors
      rec('e', 'pending', { order: 5 }), // a new trial
      rec('f', 'stopped_early', promoted([10], [0.2], 6), 10), // settled
      rec('g', 'preempted', { ...promoted([10], [0.5], 0) }, 10) // the same value as a, earlier in job order
    ];
    expect(survivors(jobs, cfg)).toEqual([
      { job: 'c', weight: 4 },
      { job: 'b', weight: 2 },
      { job: 'g', weight: 2 },
      { job: 'a', weight: 2 }
    ]);
    // max mode ranks the values the other way
    expect(survivors(jobs, { ...cfg, mode: 'max' }).map(x => x.job)).toEqual(['c', 'g', 'a', 'b']);
    // with move_survivors the one under way is placed again too, in the same order
    expect(survivors(jobs, { ...cfg, move_survivors: true }).map(x => x.job)).toEqual(['c', 'd', 'b', 'g', 'a']);
  });

  it('leaves out a survivor under way on its next segment (its kernel resuming, or training), unless move_survivors; never a job not judged yet', () => {
    // promoted at 10 (at t = 0) while paused there, then launched again at t = 5: its kernel is resuming
    const resumed = rec('h', 'resumed', { ...promoted([10], [0.2], 1), launched_at: 5 }, 10);
    // promoted at 10 while it held its GPUs there (launched before the promotion): it may carry on or move
    const holding = rec('i', 'running', { ...promoted([10], [0.4], 2), launched_at: -3, progress: { step: 10 } });
    // promoted while paused, not launched since
    const paused = rec('j', 'preempted', { ...promoted([10], [0.3], 3), launched_at: -3 }, 10);
    // moved by a re-plan after its promotion: paused past its rung
    const moved = rec('k', 'preempted', { ...promoted([10], [0.5], 4), stopped: { reason: 'replan', step: 17 } }, 17);
    // in its first segment, and paused at its first rung waiting for its verdict: not survivors (yet)
    const first = rec('l', 'running', { order: 5, progress: { step: 4 } });
    const waiting = rec('m', 'preempted', { order: 6, stopped: { reason: 'rung', step: 10 }, rung_reports: { 10: { val_loss: 0.1 } } }, 10);
    const all = [resumed, holding, paused, moved, first, waiting];
    expect(survivors(all, cfg).map(x => x.job)).toEqual(['j', 'i']);
    expect(survivors(all, { ...cfg, move_survivors: true }).map(x => x.job)).toEqual(['h', 'j', 'i', 'k']);
  });
});

describe('the judgement from job records (shared conformance cases)', () => {
  it('has a case for each part of the rule', () => {
    expect(caseFiles.length).toBeGreaterThanOrEqual(8);
  });

  it.each(caseFiles)('%s', file => {
    const c = JSON.parse(fs.readFileSync(path.join(CASES, file), 'utf8'));
    expect(judge(c.jobs, c.early_stopping)).toEqual(c.expect);
  });
});

describe('what the verdicts do to the jobs (shared conformance cases)', () => {
  const dir = path.join(__dirname, '../../../schema/conformance/verdicts');
  const files = fs.readdirSync(dir).filter(f => f.endsWith('.json')).sort();

  it('has a case for each action', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it.each(files)('%s', file => {
    const c = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    expect(verdictActions(c.jobs, c.early_stopping)).toEqual(c.expect);
  });
});

describe('which waiting jobs get warm kernels first', () => {
  const es = { kind: 'asha', metric: 'val_loss', mode: 'min', rungs: [10, 30], eta: 2, unit: 'steps' };
  const rec = (task: string, state: string, info: Record<string, unknown>): IJobRecord =>
    ({ id: `r-${task}`, task, state, info: { assignment: { parallelism: 'ddp', gpus: 1, node: 'n', gpu_ids: [0] }, early_stopping: es, ...info } }) as unknown as IJobRecord;
  const atRung = (task: string, order: number, value: number | null) =>
    rec(task, 'preempted', { order, stopped: { reason: 'rung', step: 10, at: 1 }, rung_reports: value === null ? {} : { 10: { val_loss: value } } });

  it('those that will run whatever the verdicts in plan order; apart, the jobs paused at their rung, the best value first', () => {
    const jobs = [
      atRung('worse', 1, 0.9),
      atRung('better', 2, 0.2),
      atRung('unknown', 0, null), // no value recorded: last
      rec('new-late', 'pending', { order: 6 }),
      rec('new', 'pending', { order: 4 }),
      // promoted at its rung, waiting for GPUs: it runs again for sure
      rec('promoted', 'preempted', { order: 5, stopped: { reason: 'rung', step: 10, at: 1 }, promotions: [{ rung: 10, at: 2 }], rung_reports: { 10: { val_loss: 0.5 } } }),
      // moved by a re-plan (no rung): it runs again too
      rec('moved', 'preempted', { order: 3, stopped: { reason: 'replan', step: 7, at: 1 } })
    ];
    const q = warmQueues(jobs);
    expect(q.sure.map(j => j.task)).toEqual(['moved', 'new', 'promoted', 'new-late']);
    expect(q.atRung.map(j => j.task)).toEqual(['better', 'worse', 'unknown']);
  });

  it('a maximised metric ranks the larger value first', () => {
    const max = (task: string, v: number) => ({ ...atRung(task, 0, v), info: { ...atRung(task, 0, v).info, early_stopping: { ...es, metric: 'val_loss', mode: 'max' } } }) as IJobRecord;
    expect(warmQueues([max('low', 0.1), max('high', 0.7)]).atRung.map(j => j.task)).toEqual(['high', 'low']);
  });
});
