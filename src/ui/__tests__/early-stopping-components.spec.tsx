/**
 * Early stopping in the views: the Gantt chart draws rung marks on the blocks, a job stopped early as such (hatched,
 * its rung and metric in its title) and promotions; the Results view lists stopped jobs with their rung, draws the
 * rungs on the learning curves and still marks the best row among all tasks.
 */
jest.mock('../../solver/create-worker', () => ({ createSolverWorker: jest.fn() }));
import * as React from 'react';
import { GanttChart } from '../components/gantt/gantt-chart';
import { ResultsView } from '../components/results/results-view';
import { IJobStatus } from '../models/interfaces';
import { PlanModel } from '../models/plan-model';
import { snapshotFromJobs, StoreRunController } from '../models/run-controller';
import { instanceForPlan } from '../models/run-mirror';
import { SaturnModel } from '../models/saturn-model';
import { ashaJobs, asFirstPlan } from './es-fixtures';
import { FakeBridge } from './fake-bridge';
import { chartProps } from './fixtures';
import { act, render } from './render';
import { historyReply, point, resultsReply, row } from './results-fixtures';

const commands = { execute: async () => undefined, isEnabled: () => true };

describe('the Gantt chart under early stopping', () => {
  it('marks the rungs on the blocks, draws a job stopped early as such, and shows promotions', () => {
    const snap = snapshotFromJobs(ashaJobs())!;
    const pm = new PlanModel(instanceForPlan(snap.plan!, null, null), snap.plan!);
    pm.setStates(new Map(snap.jobs.map(j => [j.job, j.state])));
    const statuses = new Map<string, IJobStatus>(snap.jobs.map(j => [j.job, j]));
    const r = render(<GanttChart {...chartProps(pm, { statuses })} />);
    const block = (t: string) => r.container.querySelector(`[data-saturn-job="${t}"]`)!;

    const stopped = block('g-lr0.1-bs8');
    expect(stopped.getAttribute('data-saturn-state')).toBe('stopped_early');
    expect(stopped.getAttribute('data-saturn-stopped-rung')).toBe('30');
    expect(stopped.getAttribute('data-saturn-promoted')).toBe('10');
    expect(stopped.querySelector('.jp-Saturn-blockStopped')).not.toBeNull();
    expect(stopped.querySelector('title')!.textContent).toContain('stopped early at step 30 (val_loss 0.41)');
    expect(stopped.querySelector('.jp-Saturn-blockLabel')!.textContent!.startsWith('■ ')).toBe(true);
    // its block is the segment 10..30: promoted at its start, stopped at its end
    const marks = Array.from(stopped.querySelectorAll('[data-saturn-rung-on="plan"]'));
    expect(marks.map(m => [m.getAttribute('data-saturn-rung'), m.getAttribute('data-saturn-rung-outcome')])).toEqual([
      ['10', 'promoted'],
      ['30', 'stopped']
    ]);
    const rect = stopped.querySelector('.jp-Saturn-blockRect')!;
    const lineX = (m: Element) => Number(m.querySelector('line')!.getAttribute('x1'));
    expect(lineX(marks[0])).toBeCloseTo(Number(rect.getAttribute('x')));
    expect(lineX(marks[1])).toBeCloseTo(Number(rect.getAttribute('x')) + Number(rect.getAttribute('width')));
    expect(marks[0].getAttribute('data-saturn-promoted')).toBe('true');
    expect(marks[1].querySelector('title')!.textContent).toBe('stopped early at step 30 (val_loss 0.41)');
    // under it, the two stretches it really held its GPU: ended by its promotion at 10, then its stop at 30
    const real = Array.from(stopped.querySelectorAll('[data-saturn-segment]'));
    expect(real.map(g => g.querySelector('.jp-Saturn-actual')!.getAttribute('data-saturn-actual-start'))).toEqual(['1', '14']);
    expect(real.map(g => g.querySelector('[data-saturn-rung-on="real"]')?.getAttribute('data-saturn-rung-outcome'))).toEqual(['promoted', 'stopped']);
    expect(real[1].querySelector('.jp-Saturn-actual title')!.textContent).toBe('Held its GPUs 14s to 36s: stopped early at step 30 (val_loss 0.41)');

    // the survivor's last segment starts at the rung it was promoted at last
    const done = block('g-lr0.1-bs16');
    expect(done.getAttribute('data-saturn-state')).toBe('done');
    expect(done.getAttribute('data-saturn-promoted')).toBe('10,30');
    expect(Array.from(done.querySelectorAll('[data-saturn-rung-on="plan"][data-saturn-promoted="true"]')).map(m => m.getAttribute('data-saturn-rung'))).toEqual(['30']);
    expect(Array.from(done.querySelectorAll('[data-saturn-rung-on="real"]')).map(m => `${m.getAttribute('data-saturn-rung')} ${m.getAttribute('data-saturn-rung-outcome')}`)).toEqual([
      '10 promoted',
      '30 promoted'
    ]);
    expect(done.querySelectorAll('[data-saturn-segment]')).toHaveLength(3);
    expect(block('g-lr0.01-bs8').querySelector('[data-saturn-rung="10"]')!.getAttribute('data-saturn-rung-outcome')).toBe('stopped');
    expect(r.container.querySelectorAll('[data-saturn-state="stopped_early"]')).toHaveLength(3);
    r.unmount();
  });
});

describe('the Results view under early stopping', () => {
  async function model(firstPlanOnly = false): Promise<SaturnModel> {
    const b = new FakeBridge();
    // firstPlanOnly: every block as the run's first plan placed it (no time planned after a rung)
    const jobs = firstPlanOnly ? asFirstPlan(ashaJobs()) : ashaJobs();
    b.replies.jobs = () => ({ jobs });
    // g-lr0.1-bs8, stopped at 30, has the lowest val_loss so far; the survivor ended higher
    b.replies.results = () =>
      resultsReply(
        jobs.map(j => row(j.task, { state: j.state as any })),
        'r1',
        ['val_loss']
      );
    b.replies.history = () =>
      historyReply([
        point(1, 'g-lr0.1-bs16', 10, 'val', { val_loss: 0.5 }),
        point(2, 'g-lr0.1-bs16', 30, 'val', { val_loss: 0.3 }),
        point(3, 'g-lr0.1-bs16', 60, 'val', { val_loss: 0.35 }),
        point(4, 'g-lr0.1-bs8', 10, 'val', { val_loss: 0.55 }),
        point(5, 'g-lr0.1-bs8', 30, 'val', { val_loss: 0.25 }),
        point(6, 'g-lr0.01-bs16', 10, 'val', { val_loss: 0.9 }),
        point(7, 'g-lr0.01-bs8', 10, 'val', { val_loss: 0.8 })
      ]);
    const runner = new StoreRunController(b);
    const m = new SaturnModel(b, null, runner);
    await m.refresh();
    await runner.refresh();
    return m;
  }

  it('lists the stopped jobs with their rung, draws the rungs on the curves, and marks the best among all', async () => {
    const m = await model();
    const r = render(<ResultsView model={m} commands={commands} />);
    await act(async () => {
      await m.results.whenIdle();
    });
    const rowOf = (t: string) => r.container.querySelector(`tr[data-saturn-result-row="${t}"]`)!;
    expect(rowOf('g-lr0.1-bs8').querySelector('[data-saturn-cell="state"]')!.textContent).toBe('stopped early at step 30');
    expect(rowOf('g-lr0.1-bs8').getAttribute('data-saturn-stopped-rung')).toBe('30');
    expect(rowOf('g-lr0.01-bs16').querySelector('[data-saturn-cell="state"]')!.textContent).toBe('stopped early at step 10');
    expect(rowOf('g-lr0.1-bs16').querySelector('[data-saturn-cell="state"]')!.textContent).toBe('done');
    expect(r.container.querySelector('[data-saturn-results-stopped]')!.getAttribute('data-saturn-results-stopped')).toBe('3');
    // the best row: the lowest best val_loss of every task, a stopped one included
    expect(rowOf('g-lr0.1-bs8').getAttribute('data-saturn-best')).toBe('true');
    const best = r.container.querySelector('[data-saturn-results-best]')!;
    expect(best.getAttribute('data-saturn-results-best')).toBe('g-lr0.1-bs8');
    expect(best.textContent).toContain('stopped early at step 30');
    expect(best.getAttribute('title')).toBe('Ranked by the best val_loss each task reached, tasks stopped early included (up to the rung they stopped at)');
    expect(r.container.querySelector('.jp-Saturn-resultsNote')!.textContent).toContain('3 tasks stopped early');
    // the curves: a line per rung, a square where a curve stopped early
    expect(Array.from(r.container.querySelectorAll('[data-saturn-rung-line]')).map(l => l.getAttribute('data-saturn-rung-line'))).toEqual(['10', '30']);
    const stoppedCurve = r.container.querySelector('[data-saturn-curve="g-lr0.1-bs8"]')!;
    expect(stoppedCurve.getAttribute('data-saturn-stopped-rung')).toBe('30');
    expect(stoppedCurve.querySelector('[data-saturn-curve-stop="30"]')).not.toBeNull();
    expect(r.container.querySelector('[data-saturn-curve="g-lr0.1-bs16"] [data-saturn-curve-stop]')).toBeNull();
    // the blocks were planned at different moments (after each rung): no one instance's yardsticks describe them
    expect(m.run!.replanned).toBe(true);
    expect(m.yardsticks).toEqual({ lowerBound: null, currentPractice: null });
    r.unmount();
    m.dispose();
  });

  it('the chart\'s yardsticks of the first plan are those of the work it covers (segments), not of the whole jobs', async () => {
    const m = await model(true);
    expect(m.run!.replanned).toBeUndefined();
    expect(m.yardsticks.lowerBound).not.toBeNull();
    expect(m.yardsticks.lowerBound!).toBeLessThanOrEqual(m.planModel!.plan.makespan_s + 1e-9);
    expect(m.yardsticks.currentPractice).not.toBeNull();
    m.dispose();
  });
});
