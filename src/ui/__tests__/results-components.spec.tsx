jest.mock('../../solver/create-worker', () => ({ createSolverWorker: jest.fn() }));
import * as React from 'react';
import { Signal } from '@lumino/signaling';
import { GanttView } from '../components/gantt/gantt-view';
import { ResultsView } from '../components/results/results-view';
import { PlanModel } from '../models/plan-model';
import { SaturnModel } from '../models/saturn-model';
import { JobSelection } from '../models/selection';
import { FakeBridge } from './fake-bridge';
import { smallInstance, smallPlan } from './fixtures';
import { act, click, render } from './render';
import { GRID, gridHistory, historyReply, metricsEvent, point, resultsReply, row } from './results-fixtures';

const commands = { execute: async () => undefined, isEnabled: () => true };

async function loadedModel(): Promise<{ b: FakeBridge; m: SaturnModel }> {
  const b = new FakeBridge();
  b.replies.results = () => resultsReply(GRID.map(t => row(t)));
  b.replies.history = () => historyReply(gridHistory());
  const m = new SaturnModel(b);
  await m.refresh();
  return { b, m };
}

async function settle(m: SaturnModel): Promise<void> {
  await act(async () => {
    await m.results.whenIdle();
  });
}

const rowsOf = (c: HTMLElement): HTMLElement[] => Array.from(c.querySelectorAll<HTMLElement>('tr[data-saturn-result-row]'));
const taskOrder = (c: HTMLElement): string[] => rowsOf(c).map(r => r.dataset.saturnResultRow!);
const rowEl = (c: HTMLElement, task: string): HTMLElement => rowsOf(c).find(r => r.dataset.saturnResultRow === task)!;
const curve = (c: HTMLElement, task: string): Element =>
  Array.from(c.querySelectorAll('[data-saturn-curve]')).find(e => e.getAttribute('data-saturn-curve') === task)!;

describe('ResultsView', () => {
  it('shows the leaderboard (best first, the best row marked), the curves and, for a grid, parallel coordinates', async () => {
    const { m } = await loadedModel();
    const r = render(<ResultsView model={m} commands={commands} />);
    await settle(m);
    // val_loss is picked first; lower is better, so the leaderboard starts with the lowest best val_loss
    expect(taskOrder(r.container)).toEqual([...GRID].reverse());
    const best = r.container.querySelectorAll('[data-saturn-best="true"]');
    expect(best).toHaveLength(1);
    expect(best[0].getAttribute('data-saturn-result-row')).toBe(GRID[3]);
    expect(best[0].textContent).toContain('★ best');
    const heads = Array.from(r.container.querySelectorAll('thead th')).map(h => h.textContent);
    // a metric's last and best values under one header with its name
    expect(heads).toEqual(['Task', 'lr', 'batch_size', 'State', 'Parallelism', 'GPUs', 'Runtime', 'Loss', 'val_loss', 'val_acc', 'last', 'best ▲', 'last', 'best']);
    const named = Array.from(r.container.querySelectorAll('thead button')).map(b => b.getAttribute('aria-label') ?? b.textContent);
    expect(named.slice(-4)).toEqual(['last val_loss', 'best val_loss', 'last val_acc', 'best val_acc']);
    expect(GRID.map(t => curve(r.container, t).getAttribute('data-saturn-points'))).toEqual(['2', '2', '2', '2']);
    expect(r.container.querySelectorAll('[data-saturn-pc-line]')).toHaveLength(4);
    expect(Array.from(r.container.querySelectorAll('[data-saturn-axis]')).map(a => a.getAttribute('data-saturn-axis'))).toEqual(['lr', 'batch_size', 'val_loss']);
    r.unmount();
    m.dispose();
  });

  it('sorts by the column whose header is clicked, and says so with aria-sort', async () => {
    const { m } = await loadedModel();
    const r = render(<ResultsView model={m} commands={commands} />);
    await settle(m);
    const head = (key: string): HTMLElement => r.container.querySelector<HTMLElement>(`th[data-saturn-col="${key}"]`)!;
    click(head('task').querySelector('button'));
    expect(head('task').getAttribute('aria-sort')).toBe('ascending');
    expect(taskOrder(r.container)).toEqual(GRID); // numbers in names compare as numbers: bs8 before bs16
    click(head('task').querySelector('button'));
    expect(head('task').getAttribute('aria-sort')).toBe('descending');
    expect(head('best:val_loss').getAttribute('aria-sort')).toBe('none');
    // a metric's first click puts its best first: for val_acc, the highest
    click(head('best:val_acc').querySelector('button'));
    expect(head('best:val_acc').getAttribute('aria-sort')).toBe('descending');
    expect(taskOrder(r.container)[0]).toBe(GRID[3]);
    r.unmount();
    m.dispose();
  });

  it('grows the curves and moves the best mark live as job.metrics events arrive', async () => {
    const { b, m } = await loadedModel();
    const r = render(<ResultsView model={m} commands={commands} />);
    await settle(m);
    act(() => {
      b.push('job.metrics', metricsEvent(point(200, GRID[0], 30, 'val', { val_loss: 0.1, val_acc: 0.95 })), 80);
    });
    expect(curve(r.container, GRID[0]).getAttribute('data-saturn-points')).toBe('3');
    expect(r.container.querySelector('[data-saturn-best="true"]')!.getAttribute('data-saturn-result-row')).toBe(GRID[0]);
    // the picker: the training loss ranks by the last loss (GRID[3]'s is lowest)
    const picker = r.container.querySelector<HTMLSelectElement>('select[aria-label="Metric"]')!;
    expect(Array.from(picker.options).map(o => o.value)).toEqual(['val_loss', 'val_acc', 'loss']);
    act(() => {
      picker.value = 'loss';
      picker.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(r.container.querySelector('[data-saturn-best="true"]')!.getAttribute('data-saturn-result-row')).toBe(GRID[3]);
    expect(curve(r.container, GRID[0]).getAttribute('data-saturn-points')).toBe('4');
    r.unmount();
    m.dispose();
  });

  it('selects a job with a click or the keyboard, in every view; a job selected elsewhere selects its row and curve', async () => {
    // as in Chromium 156, where scrollIntoView returns a Promise (an effect must not hand it to React as its clean-up)
    const scrolled: string[] = [];
    (HTMLElement.prototype as any).scrollIntoView = function (this: HTMLElement) {
      scrolled.push(this.dataset.saturnResultRow ?? '');
      return Promise.resolve();
    };
    const { m } = await loadedModel();
    const r = render(<ResultsView model={m} commands={commands} />);
    await settle(m);
    click(rowEl(r.container, GRID[1]));
    expect(m.selection.job).toBe(GRID[1]);
    expect(rowEl(r.container, GRID[1]).getAttribute('aria-selected')).toBe('true');
    expect(curve(r.container, GRID[1]).getAttribute('data-saturn-highlighted')).toBe('true');
    expect(curve(r.container, GRID[0]).getAttribute('class')).toContain('jp-mod-faded');
    // arrows move the selection along the rows as shown (best first: GRID[3], [2], [1], [0])
    act(() => {
      rowEl(r.container, GRID[1]).dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
    });
    expect(m.selection.job).toBe(GRID[0]);
    expect(rowEl(r.container, GRID[0]).tabIndex).toBe(0);
    expect(rowEl(r.container, GRID[1]).tabIndex).toBe(-1);
    // the Gantt chart selects a block
    act(() => m.selection.select(GRID[2], 'gantt'));
    expect(rowEl(r.container, GRID[2]).getAttribute('data-saturn-selected')).toBe('true');
    expect(curve(r.container, GRID[2]).getAttribute('data-saturn-highlighted')).toBe('true');
    // a click on a line of the parallel coordinates
    const pc = Array.from(r.container.querySelectorAll('[data-saturn-pc-line]')).find(e => e.getAttribute('data-saturn-pc-line') === GRID[3])!;
    click(pc);
    expect(m.selection.job).toBe(GRID[3]);
    expect(scrolled).toEqual([GRID[1], GRID[0], GRID[2], GRID[3]]);
    r.unmount();
    m.dispose();
    delete (HTMLElement.prototype as any).scrollIntoView;
  });

  it('explains what to do when there is no run yet', async () => {
    const b = new FakeBridge();
    b.replies.results = () => ({ run_id: null, metrics: [], hparams: [], rows: [] });
    const m = new SaturnModel(b);
    await m.refresh();
    const r = render(<ResultsView model={m} commands={commands} />);
    await settle(m);
    expect(r.container.textContent).toContain('No results yet');
    expect(r.container.textContent).toContain('validate=');
    r.unmount();
    m.dispose();
  });
});

describe('GanttView and the shared selection', () => {
  it('marks the block of the job selected elsewhere, and a focused block selects its job', () => {
    const pm = new PlanModel(smallInstance(), smallPlan());
    const selection = new JobSelection();
    const model: any = {
      changed: new Signal<any, void>({}),
      planModel: pm,
      instance: pm.instance,
      yardsticks: { lowerBound: 100, currentPractice: 300 },
      run: null,
      solving: false,
      activity: 'idle',
      selection,
      deviceNotices: []
    };
    const r = render(<GanttView model={model} commands={commands} />);
    act(() => selection.select('B', 'results'));
    const block = (job: string): Element => r.container.querySelector(`[data-saturn-job="${job}"]`)!;
    expect(block('B').getAttribute('data-saturn-selected')).toBe('true');
    expect(block('B').getAttribute('aria-pressed')).toBe('true');
    expect(block('A').getAttribute('data-saturn-selected')).toBe('false');
    act(() => {
      block('C').dispatchEvent(new FocusEvent('focusin', { bubbles: true }));
    });
    expect(selection.job).toBe('C');
    expect(block('C').getAttribute('class')).toContain('jp-mod-selected');
    r.unmount();
  });
});
