import {
  bestTask,
  cellValue,
  columns,
  defaultSort,
  formatValue,
  metricChoices,
  modeOf,
  naturalCompare,
  nextSort,
  sortRows,
  varyingHparams
} from '../models/leaderboard';
import { EMPTY_FEED, reduceEvent } from '../models/event-reducer';
import { addPoints, EMPTY_RESULTS, fromReplies, metricMode, pointFromEvent, seriesOf, withRows } from '../models/results-state';
import { GRID, gridHistory, historyReply, metricsEvent, point, resultsReply, row } from './results-fixtures';

describe('results state', () => {
  it('builds each task\'s curves from the history, ordered by step, and the rows\' last and best values from them', () => {
    const s = fromReplies(resultsReply(GRID.map(t => row(t))), historyReply(gridHistory()));
    expect(s.runId).toBe('r1');
    expect(seriesOf(s, GRID[0], 'loss').map(p => p.step)).toEqual([5, 10, 15, 20]);
    const val = seriesOf(s, GRID[0], 'val_loss');
    expect(val.map(p => p.step)).toEqual([10, 20]);
    expect(val[0].value).toBeCloseTo(1.3);
    expect(val[1].value).toBeCloseTo(1.1);
    const r0 = s.rows.find(r => r.task === GRID[0])!;
    expect(r0.loss).toBeCloseTo(1.0);
    expect(r0.metrics.val_loss).toBeCloseTo(1.1);
    expect(r0.best.val_loss).toBeCloseTo(1.1);
    expect(r0.modes).toEqual({ val_loss: 'min', val_acc: 'max' });
    expect(s.lastPoint).toBe(gridHistory().length);
  });

  it('appends a pushed point live: the curve grows by one, the row\'s last value changes, its best only when better', () => {
    let s = fromReplies(resultsReply(GRID.map(t => row(t))), historyReply(gridHistory()));
    const t = GRID[1];
    const bestBefore = s.rows.find(r => r.task === t)!.best.val_loss;
    s = addPoints(s, [point(100, t, 30, 'val', { val_loss: 5, val_acc: 0.99 })]);
    expect(seriesOf(s, t, 'val_loss')).toHaveLength(3);
    const r = s.rows.find(x => x.task === t)!;
    expect(r.metrics.val_loss).toBe(5); // last
    expect(r.best.val_loss).toBe(bestBefore); // 5 is worse than the best for a loss (min)
    expect(r.best.val_acc).toBe(0.99); // better for an accuracy (max)
    // the same point again (pushed and polled) changes nothing
    expect(addPoints(s, [point(100, t, 30, 'val', { val_loss: 5, val_acc: 0.99 })])).toBe(s);
    // a training point updates the row's loss
    s = addPoints(s, [point(101, t, 31, 'train', { loss: 0.25 })]);
    expect(s.rows.find(x => x.task === t)!.loss).toBe(0.25);
    expect(s.lastPoint).toBe(101);
  });

  it('keeps a row\'s mode from the bridge (keep_best_mode) over the name\'s', () => {
    const s0 = fromReplies(resultsReply([row('a', { modes: { score_err: 'max' } })], 'r1', ['score_err']), historyReply([]));
    const s = addPoints(s0, [point(1, 'a', 1, 'val', { score_err: 1 }), point(2, 'a', 2, 'val', { score_err: 3 }), point(3, 'a', 3, 'val', { score_err: 2 })]);
    expect(s.rows[0].best.score_err).toBe(3);
    expect(metricMode('score_err')).toBe('min');
  });

  it('replaces the later points of a job resumed from a checkpoint (it computes those steps again)', () => {
    let s = addPoints({ ...EMPTY_RESULTS, rows: [row('a')] }, [5, 10, 15, 20].map((step, i) => point(i + 1, 'a', step, 'train', { loss: 1 })));
    s = addPoints(s, [point(9, 'a', 15, 'train', { loss: 0.5 })]);
    expect(seriesOf(s, 'a', 'loss')).toEqual([
      { step: 5, value: 1 },
      { step: 10, value: 1 },
      { step: 15, value: 0.5 }
    ]);
  });

  it('learns a metric it had not seen, and reads points from job.metrics events', () => {
    const p = pointFromEvent(metricsEvent(point(7, 'a', 3, 'val', { val_f1: 0.5 })));
    expect(p).toMatchObject({ point: 7, job: 'r1-a', task: 'a', step: 3, kind: 'val', metrics: { val_f1: 0.5 } });
    const s = addPoints({ ...EMPTY_RESULTS, rows: [row('a')], metrics: ['val_loss'] }, [p!]);
    expect(s.metrics).toEqual(['val_loss', 'val_f1']);
    expect(pointFromEvent({ task: 'a' })).toBeNull();
  });

  it('turns the store\'s job.metrics and job.state events into effects for the results', () => {
    const p = point(8, 'a', 4, 'train', { loss: 1.5 });
    const r = reduceEvent(EMPTY_FEED, { type: 'event', id: 3, kind: 'job.metrics', data: metricsEvent(p) } as any);
    expect(r.effects).toEqual([{ kind: 'metrics', point: { ...p, epoch: 0 } }]);
    expect(r.changed).toBe(false);
    expect(reduceEvent(r.state, { type: 'event', id: 4, kind: 'job.state', data: { id: 'r1-a', to: 'done' } } as any).effects).toEqual([{ kind: 'job-state' }]);
    // an event seen already (pushed, then polled) has no effect
    expect(reduceEvent(r.state, { type: 'event', id: 3, kind: 'job.metrics', data: metricsEvent(p) } as any).effects).toEqual([]);
  });

  it('new rows from the bridge keep the values of points that arrived while they were read', () => {
    let s = fromReplies(resultsReply([row('a')]), historyReply([point(1, 'a', 10, 'val', { val_loss: 2 })]));
    s = addPoints(s, [point(2, 'a', 20, 'val', { val_loss: 1 })]);
    const stale = resultsReply([row('a', { state: 'done', runtime_s: 12, metrics: { val_loss: 2 }, best: { val_loss: 2 }, modes: { val_loss: 'min' } })]);
    const next = withRows(s, stale);
    expect(next.rows[0]).toMatchObject({ state: 'done', runtime_s: 12, metrics: { val_loss: 1 }, best: { val_loss: 1 } });
  });
});

describe('leaderboard', () => {
  const rows = [
    row('b', { loss: 0.5, best: { val_loss: 0.9, val_acc: 0.7 }, metrics: { val_loss: 1, val_acc: 0.7 }, runtime_s: 30 }),
    row('a', { loss: 0.4, best: { val_loss: 0.8, val_acc: 0.6 }, metrics: { val_loss: 0.8, val_acc: 0.6 }, runtime_s: null }),
    row('c', { loss: null, best: {}, metrics: {}, state: 'pending' }),
    row('d', { loss: 0.6, best: { val_loss: 1.2, val_acc: 0.9 }, metrics: { val_loss: 1.3, val_acc: 0.9 }, runtime_s: 10 })
  ];

  it('has a column per hyper-parameter and two per metric (last, best)', () => {
    const keys = columns(['lr', 'batch_size'], ['val_loss']).map(c => c.key);
    expect(keys).toEqual(['task', 'hp:lr', 'hp:batch_size', 'state', 'parallelism', 'gpus', 'runtime_s', 'loss', 'last:val_loss', 'best:val_loss']);
    expect(cellValue(rows[0], 'best:val_acc')).toBe(0.7);
    expect(cellValue(rows[2], 'loss')).toBeNull();
  });

  it('sorts by any column, empty cells last in both directions, ties by task', () => {
    const by = (key: string, dir: 'asc' | 'desc'): string[] => sortRows(rows, { key, dir }).map(r => r.task);
    expect(by('best:val_loss', 'asc')).toEqual(['a', 'b', 'd', 'c']);
    expect(by('best:val_loss', 'desc')).toEqual(['d', 'b', 'a', 'c']);
    expect(by('runtime_s', 'asc')).toEqual(['d', 'b', 'a', 'c']);
    expect(by('task', 'desc')).toEqual(['d', 'c', 'b', 'a']);
    expect(by('state', 'asc')).toEqual(['c', 'a', 'b', 'd']);
    const names = ['g-lr0.1-bs8', 'g-lr0.01-bs16', 'g-lr1e-3-bs8', 'g-lr0.01-bs8'];
    expect([...names].sort(naturalCompare)).toEqual(['g-lr1e-3-bs8', 'g-lr0.01-bs8', 'g-lr0.01-bs16', 'g-lr0.1-bs8']);
  });

  it('sorts a metric best-first on the first click, then flips', () => {
    const cols = columns([], ['val_acc']);
    const acc = cols.find(c => c.key === 'best:val_acc')!;
    const first = nextSort({ key: 'task', dir: 'asc' }, acc, m => modeOf(rows, m));
    expect(first).toEqual({ key: 'best:val_acc', dir: 'desc' });
    expect(nextSort(first, acc, m => modeOf(rows, m))).toEqual({ key: 'best:val_acc', dir: 'asc' });
    expect(defaultSort(rows, 'val_loss')).toEqual({ key: 'best:val_loss', dir: 'asc' });
  });

  it('marks the best row by the picked metric and its mode; the training loss by the last loss', () => {
    expect(bestTask(rows, 'val_loss')).toBe('a');
    expect(bestTask(rows, 'val_acc')).toBe('d');
    expect(bestTask(rows, 'loss')).toBe('a');
    const flipped = rows.map(r => ({ ...r, modes: { val_loss: 'max' as const } }));
    expect(bestTask(flipped, 'val_loss')).toBe('d');
    expect(bestTask([row('x')], 'val_loss')).toBeNull();
    expect(metricChoices(['val_loss', 'val_acc'])).toEqual(['val_loss', 'val_acc', 'loss']);
  });

  it('finds the hyper-parameters that vary, and writes numbers short', () => {
    const grid = GRID.map(t => row(t));
    expect(varyingHparams(grid, ['lr', 'batch_size'])).toEqual(['lr', 'batch_size']);
    expect(varyingHparams(grid.filter(r => r.task.includes('bs8')), ['lr', 'batch_size'])).toEqual(['lr']);
    expect(formatValue(0.123456)).toBe('0.1235');
    expect(formatValue(0.0001)).toBe('1e-4');
    expect(formatValue(12)).toBe('12');
    expect(formatValue(null)).toBe('–');
    expect(formatValue('adam')).toBe('adam');
  });
});
