import {
  EMPTY_FEED,
  emptyProfile,
  IFeedState,
  reduceEvent,
  reduceLoad,
  reduceProfileStarted,
  reduceStoredEvents
} from '../models/event-reducer';
import { smallInstance } from './fixtures';

const ev = (id: number, kind: string, data: any = {}): any => ({ type: 'event', id, kind, data });

/** Apply events in order, collecting the effects. */
function run(state: IFeedState, ...events: any[]): { state: IFeedState; effects: any[]; changed: number } {
  let effects: any[] = [];
  let changed = 0;
  for (const e of events) {
    const r = reduceEvent(state, e);
    state = r.state;
    effects = effects.concat(r.effects);
    changed += r.changed ? 1 : 0;
  }
  return { state, effects, changed };
}

describe('reduceEvent', () => {
  it('follows a profile from start to finish and hands its instance on', () => {
    const r = run(
      EMPTY_FEED,
      ev(1, 'profile.started', { run_id: 'r1', total: 4, tasks: ['A', 'B'] }),
      ev(2, 'profile.progress', { run_id: 'r1', done: 1, total: 4, eta_s: 30, trial: { task: 'A', parallelism: 'ddp', gpus: 1, feasible: true } }),
      ev(3, 'profile.progress', { run_id: 'r1', done: 2, total: 4, cached: 1, trial: { task: 'A', parallelism: 'ddp', gpus: 2, feasible: false, reason: 'OOM' } })
    );
    expect(r.state.profile).toMatchObject({ run_id: 'r1', running: true, done: 2, total: 4, cached: 1, eta_s: null, tasks: ['A', 'B'] });
    expect(r.state.profile!.trials.A.map(t => t.gpus)).toEqual([1, 2]);
    expect(r.state.lastEvent).toBe(3);
    expect(r.changed).toBe(3);
    expect(r.effects).toEqual([]);

    const done = reduceEvent(r.state, ev(4, 'profile.finished', { run_id: 'r1', instance: smallInstance() }));
    expect(done.state.profile).toMatchObject({ running: false, cancelled: false, eta_s: 0, done: 2 });
    expect(done.state.profile!.trials.A).toHaveLength(2); // the trials stay for the task list
    expect(done.effects).toEqual([{ kind: 'instance', instance: smallInstance() }]);
    expect(done.changed).toBe(true);
  });

  it('ignores events it has seen (same or lower id) and does not change the state they were given', () => {
    const s1 = reduceEvent(EMPTY_FEED, ev(10, 'profile.started', { run_id: 'r1', total: 4 })).state;
    const again = reduceEvent(s1, ev(10, 'profile.progress', { run_id: 'r1', done: 3, total: 4 }));
    expect(again).toEqual({ state: s1, changed: false, effects: [] });
    expect(reduceEvent(s1, ev(9, 'task.registered')).effects).toEqual([]);
    expect(EMPTY_FEED.profile).toBeNull();
    expect(EMPTY_FEED.lastEvent).toBe(0);
  });

  it('applies events without an id every time (pushed events of older bridges)', () => {
    const s = reduceEvent(EMPTY_FEED, { type: 'event', kind: 'task.updated' } as any);
    expect(s.effects).toEqual([{ kind: 'reload-tasks' }]);
    expect(s.state.lastEvent).toBe(0);
    expect(reduceEvent(s.state, { type: 'event', kind: 'task.updated' } as any).effects).toEqual([{ kind: 'reload-tasks' }]);
  });

  it('asks for the tasks again when they change and for the run again when jobs or leases change', () => {
    const r = run(EMPTY_FEED, ev(1, 'task.registered'), ev(2, 'task.unregistered'), ev(3, 'job.updated'), ev(4, 'lease.acquired'), ev(5, 'lease.released'));
    expect(r.effects.map(e => e.kind)).toEqual(['reload-tasks', 'reload-tasks', 'refresh-run', 'refresh-run', 'refresh-run']);
    expect(r.changed).toBe(0); // nothing on screen changes until the new state is read
    expect(r.state.lastEvent).toBe(5);
  });

  it('says when profiling failed and keeps the error; a cancelled profile says so', () => {
    const s = reduceEvent(EMPTY_FEED, ev(1, 'profile.started', { run_id: 'r1' })).state;
    const failed = reduceEvent(s, ev(2, 'profile.failed', { run_id: 'r1', error: 'kernel died' }));
    expect(failed.state.profile).toMatchObject({ running: false, error: 'kernel died' });
    expect(failed.effects).toEqual([{ kind: 'notice', message: 'Profiling failed.', details: 'kernel died' }]);
    const cancelled = reduceEvent(s, ev(2, 'profile.finished', { run_id: 'r1', cancelled: true }));
    expect(cancelled.state.profile).toMatchObject({ running: false, cancelled: true });
    expect(cancelled.effects).toEqual([]); // no instance: nothing to plan
  });

  it('follows a profile it did not see start (progress first)', () => {
    const r = reduceEvent(EMPTY_FEED, ev(7, 'profile.progress', { run_id: 'r9', done: 5, total: 8 }));
    expect(r.state.profile).toMatchObject({ run_id: 'r9', running: true, done: 5, total: 8, tasks: [] });
  });

  it('records unknown kinds as seen and changes nothing else', () => {
    const r = reduceEvent(EMPTY_FEED, ev(3, 'plan.saved'));
    expect(r).toEqual({ state: { ...EMPTY_FEED, lastEvent: 3 }, changed: false, effects: [] });
  });
});

describe('reduceLoad and reduceProfileStarted', () => {
  it('takes devices, nodes, notices and tasks from the replies, and a running profile from the status', () => {
    const s = reduceLoad(
      EMPTY_FEED,
      { devices: [{ id: 0, name: 'cpu0', kind: 'cpu' }], nodes: [{ id: 'n1', gpus: 4, state: 'idle', usable: true }], notices: ['2 cores'] },
      { tasks: [{ name: 'A', batch_size: 8 }] },
      { running: true, run_id: 'r2', progress: { done: 3, total: 6 } }
    );
    expect(s.devices!.map(d => d.name)).toEqual(['cpu0']);
    expect(s.nodes![0].id).toBe('n1');
    expect(s.deviceNotices).toEqual(['2 cores']);
    expect(s.tasks!.map(t => t.name)).toEqual(['A']);
    expect(s.profile).toMatchObject({ run_id: 'r2', running: true, done: 3, total: 6 });

    const idle = reduceLoad(s, { devices: [] }, { tasks: [] }, { running: false });
    expect(idle.nodes).toBeNull();
    expect(idle.deviceNotices).toEqual([]);
    expect(idle.profile).toBe(s.profile); // a finished profile stays on screen
  });

  it('starts a profile of the named tasks, or of every registered one', () => {
    const s = { ...EMPTY_FEED, tasks: [{ name: 'A', batch_size: 8 }, { name: 'B', batch_size: 8 }] };
    expect(reduceProfileStarted(s, 'r1').profile).toEqual({ ...emptyProfile('r1'), running: true, tasks: ['A', 'B'] });
    expect(reduceProfileStarted(s, 'r1', ['B']).profile!.tasks).toEqual(['B']);
  });
});

describe('reduceStoredEvents', () => {
  it('finds the latest finished profile\'s instance and the last event id', () => {
    const older = { ...smallInstance(), name: 'older' };
    const r = reduceStoredEvents(EMPTY_FEED, [
      ev(1, 'profile.finished', { run_id: 'r1', instance: older }),
      ev(2, 'task.registered'),
      ev(3, 'profile.finished', { run_id: 'r2', instance: smallInstance() }),
      ev(4, 'profile.finished', { run_id: 'r3', cancelled: true })
    ]);
    expect(r.instance!.name).toBe('small');
    expect(r.state.lastEvent).toBe(4);
    expect(r.state.profile).toEqual(emptyProfile('r2'));
  });

  it('leaves a running profile alone and never moves the last event id back', () => {
    const running = { ...EMPTY_FEED, lastEvent: 9, profile: { ...emptyProfile('r5'), running: true } };
    const r = reduceStoredEvents(running, [ev(3, 'profile.finished', { run_id: 'r2', instance: smallInstance() })]);
    expect(r.instance!.name).toBe('small');
    expect(r.state.profile).toBe(running.profile);
    expect(r.state.lastEvent).toBe(9);
    expect(reduceStoredEvents(running, [])).toEqual({ state: running, instance: null });
  });
});
