jest.mock('../../solver/create-worker', () => ({ createSolverWorker: jest.fn() }));
import { ResultsModel } from '../models/results-model';
import { seriesOf } from '../models/results-state';
import { SaturnModel } from '../models/saturn-model';
import { FakeBridge } from './fake-bridge';
import { GRID, gridHistory, historyReply, metricsEvent, point, resultsReply, row } from './results-fixtures';

/** A bridge that answers `results` and `history` for run r1 (and whatever `replies` says after). */
function gridBridge(): FakeBridge {
  const b = new FakeBridge();
  b.state = 'connected';
  b.replies.results = () => resultsReply(GRID.map(t => row(t)));
  b.replies.history = () => historyReply(gridHistory());
  return b;
}

const asked = (b: FakeBridge, type: string): any[] => b.requests.filter(r => r.type === type);

describe('ResultsModel', () => {
  it('asks nothing until a view follows; then reads the rows and the whole history once', async () => {
    const b = gridBridge();
    const m = new ResultsModel(b, { throttleMs: 0 });
    m.point(point(99, GRID[0], 30, 'train', { loss: 1 }));
    expect(b.requests).toEqual([]);
    m.follow();
    await m.whenIdle();
    expect(asked(b, 'results')).toHaveLength(1);
    expect(asked(b, 'history')).toEqual([{ type: 'history', run_id: 'r1', since: 0 }]);
    expect(m.loaded).toBe(true);
    expect(m.state.rows.map(r => r.task)).toEqual(GRID);
    expect(seriesOf(m.state, GRID[0], 'loss')).toHaveLength(4);
    m.follow(); // a second view: nothing read again
    await m.whenIdle();
    expect(asked(b, 'results')).toHaveLength(1);
    m.dispose();
  });

  it('keeps the points that arrive while the history is read', async () => {
    const b = gridBridge();
    let release: () => void = () => undefined;
    const gate = new Promise<void>(r => (release = r));
    const request = b.request.bind(b);
    b.request = (async (req: any) => {
      if (req.type === 'history') {
        await gate;
      }
      return request(req);
    }) as any;
    const m = new ResultsModel(b, { throttleMs: 0 });
    m.follow();
    await new Promise(r => setTimeout(r, 0));
    expect(m.loading).toBe(true);
    m.point(point(500, GRID[2], 30, 'val', { val_loss: 0.01, val_acc: 1 }));
    release();
    await m.whenIdle();
    expect(seriesOf(m.state, GRID[2], 'val_loss').map(p => p.step)).toEqual([10, 20, 30]);
    expect(m.state.rows.find(r => r.task === GRID[2])!.best.val_loss).toBe(0.01);
    m.dispose();
  });

  it('reads the rows again when a job changes state, and everything again for a new run', async () => {
    const b = gridBridge();
    const m = new ResultsModel(b, { throttleMs: 0 });
    m.follow();
    await m.whenIdle();
    b.replies.results = () => resultsReply(GRID.map(t => row(t, { state: 'done', runtime_s: 20 })));
    m.jobsChanged();
    m.jobsChanged(); // one read for both
    await m.whenIdle();
    expect(asked(b, 'results')).toHaveLength(2);
    expect(asked(b, 'history')).toHaveLength(1);
    expect(m.state.rows.every(r => r.state === 'done' && r.runtime_s === 20)).toBe(true);
    // the curves survived the new rows
    expect(seriesOf(m.state, GRID[0], 'val_loss')).toHaveLength(2);

    // a point of another run: the new run is read from scratch
    b.replies.results = () => resultsReply([row('h-1')], 'r2', ['val_loss']);
    b.replies.history = () => historyReply([point(900, 'h-1', 5, 'val', { val_loss: 3 }, 'r2')], 'r2');
    m.point(point(901, 'h-1', 10, 'val', { val_loss: 2 }, 'r2'));
    await m.whenIdle();
    expect(m.state.runId).toBe('r2');
    expect(asked(b, 'history').pop()).toEqual({ type: 'history', run_id: 'r2', since: 0 });
    expect(m.state.rows.map(r => r.task)).toEqual(['h-1']);
    expect(Object.keys(m.state.points)).toEqual(['h-1']);
    expect(seriesOf(m.state, 'h-1', 'val_loss').map(p => p.value)).toEqual([3, 2]);
    m.dispose();
  });

  it('says why it could not read, and tries again on Refresh', async () => {
    const b = gridBridge();
    b.replies.results = () => {
      throw new Error('the bridge is busy');
    };
    const m = new ResultsModel(b, { throttleMs: 0 });
    m.follow();
    await m.whenIdle();
    expect(m.error).toBe('the bridge is busy');
    expect(m.loaded).toBe(false);
    b.replies.results = () => resultsReply(GRID.map(t => row(t)));
    await m.refresh();
    expect(m.error).toBeNull();
    expect(m.state.rows).toHaveLength(4);
    m.dispose();
  });
});

describe('SaturnModel and the results', () => {
  it('feeds pushed job.metrics events to the results: the curve grows, the best row follows', async () => {
    const b = gridBridge();
    const m = new SaturnModel(b);
    await m.refresh();
    m.results.follow();
    await m.results.whenIdle();
    const before = seriesOf(m.results.state, GRID[3], 'val_loss').length;
    let changes = 0;
    m.results.changed.connect(() => changes++);
    b.push('job.metrics', metricsEvent(point(1000, GRID[3], 30, 'val', { val_loss: 0.001, val_acc: 0.5 })), 50);
    b.push('job.metrics', metricsEvent(point(1000, GRID[3], 30, 'val', { val_loss: 0.001, val_acc: 0.5 })), 50); // seen: ignored
    expect(seriesOf(m.results.state, GRID[3], 'val_loss')).toHaveLength(before + 1);
    expect(changes).toBe(1);
    const r = m.results.state.rows.find(x => x.task === GRID[3])!;
    expect(r.metrics.val_loss).toBe(0.001);
    m.dispose();
  });

  it('reads everything again when the bridge comes back', async () => {
    const b = gridBridge();
    const m = new SaturnModel(b);
    await m.refresh();
    m.results.follow();
    await m.results.whenIdle();
    b.state = 'disconnected';
    b.stateChanged.emit('disconnected');
    b.state = 'connected';
    b.stateChanged.emit('connected');
    await m.results.whenIdle();
    expect(asked(b, 'history')).toHaveLength(2);
    m.dispose();
  });

  it('shares one job selection between views, saying which view made each change', () => {
    const m = new SaturnModel(new FakeBridge());
    const seen: string[] = [];
    m.selection.changed.connect((_, c) => seen.push(`${c.source}:${c.job}`));
    m.selection.select('A', 'gantt');
    m.selection.select('A', 'results'); // already selected: no signal
    m.selection.select('B', 'results');
    m.selection.select(null, 'gantt');
    expect(seen).toEqual(['gantt:A', 'results:B', 'gantt:null']);
    expect(m.selection.job).toBeNull();
    m.dispose();
  });
});
