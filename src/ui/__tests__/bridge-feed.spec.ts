import { BridgeFeed, IFeedHooks } from '../models/bridge-feed';
import { DEFAULT_SETTINGS } from '../models/interfaces';
import { FakeBridge } from './fake-bridge';
import { smallInstance } from './fixtures';

function hooks(): IFeedHooks & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    changed: () => log.push('changed'),
    say: (m: string, err?: unknown) => log.push(`say ${m} ${err ?? ''}`.trim()),
    instance: i => log.push(`instance ${i.name}`),
    jobs: () => log.push('jobs')
  };
}

const flush = (): Promise<void> => new Promise(r => setTimeout(r, 0));

describe('BridgeFeed', () => {
  it('loads devices as declared in the settings, tasks and a running profile', async () => {
    const b = new FakeBridge();
    b.replies.profile_status = () => ({ running: true, run_id: 'r1', progress: { done: 1, total: 2 } });
    const f = new BridgeFeed(b, hooks());
    expect(await f.connect()).toBe(true);
    await f.load({ ...DEFAULT_SETTINGS, declaredGpus: 3, backend: 'slurm', slurmPartition: 'gpu' });
    expect(b.requests.find(r => r.type === 'devices')).toMatchObject({ declared: 3, backend: 'slurm', slurm: { partition: 'gpu' } });
    expect(f.state.devices).toHaveLength(2);
    expect(f.state.tasks!.map(t => t.name)).toEqual(['A']);
    expect(f.state.profile).toMatchObject({ run_id: 'r1', running: true, done: 1, total: 2 });
  });

  it('says false when the bridge does not answer', async () => {
    const b = new FakeBridge();
    b.failConnect = true;
    expect(await new BridgeFeed(b, hooks()).connect()).toBe(false);
  });

  it('carries out what events ask for: the instance, the run, the tasks, the user\'s notice', async () => {
    const b = new FakeBridge();
    const h = hooks();
    const f = new BridgeFeed(b, h);
    f.apply({ type: 'event', id: 1, kind: 'profile.finished', data: { run_id: 'r1', instance: smallInstance() } });
    f.apply({ type: 'event', id: 2, kind: 'job.updated', data: {} });
    f.apply({ type: 'event', id: 3, kind: 'profile.failed', data: { error: 'boom' } });
    expect(h.log).toEqual(['instance small', 'changed', 'jobs', 'say Profiling failed. boom', 'changed']);
    b.replies.tasks = () => ({ tasks: [{ name: 'A', batch_size: 8 }, { name: 'B', batch_size: 4 }] });
    f.apply({ type: 'event', id: 4, kind: 'task.registered', data: {} });
    await flush();
    expect(f.state.tasks!.map(t => t.name)).toEqual(['A', 'B']);
    expect(h.log[h.log.length - 1]).toBe('changed');
  });

  it('reads the events since the last one seen', async () => {
    const b = new FakeBridge();
    b.replies.events_since = req => ({ events: req.since === 0 ? [{ id: 4, kind: 'profile.started', data: { run_id: 'r1', total: 2 } }] : [] });
    const f = new BridgeFeed(b, hooks());
    await f.readEvents();
    await f.readEvents();
    expect(b.requests.filter(r => r.type === 'events_since').map(r => r.since)).toEqual([0, 4]);
    expect(f.state.profile).toMatchObject({ running: true, total: 2 });
  });

  it('reads the latest profiled instance where the store keeps it, without replaying the history', async () => {
    const b = new FakeBridge();
    b.replies.instance = () => ({ instance: { ...smallInstance(), saturn: { run_id: 'r7' } }, last_event_id: 9000 });
    const f = new BridgeFeed(b, hooks());
    expect((await f.latestProfiled())!.name).toBe('small');
    expect(b.requests.filter(r => r.type === 'events_since')).toEqual([]);
    expect(f.state.lastEvent).toBe(9000); // the events before it count as seen after a page load
    expect(f.state.profile!.run_id).toBe('r7');
    const again = new BridgeFeed(b, hooks());
    await again.latestProfiled(false); // a later look leaves the events to be applied
    expect(again.state.lastEvent).toBe(0);
  });

  it('finds the latest profiled instance across pages of the history of a store that keeps none', async () => {
    const b = new FakeBridge();
    const page = (from: number, n: number): any[] => Array.from({ length: n }, (_, i) => ({ id: from + i, kind: 'task.registered', data: {} }));
    b.replies.events_since = req => {
      if (req.since === 0) {
        return { events: [...page(1, 499), { id: 500, kind: 'profile.finished', data: { run_id: 'r1', instance: smallInstance() } }] };
      }
      return { events: req.since === 500 ? page(501, 3) : [] };
    };
    const f = new BridgeFeed(b, hooks());
    expect((await f.latestProfiled())!.name).toBe('small');
    expect(b.requests.filter(r => r.type === 'events_since').map(r => r.since)).toEqual([0, 500]);
    expect(f.state.lastEvent).toBe(503);
    b.replies.events_since = () => ({ events: [] });
    expect(await f.latestProfiled()).toBeNull();
  });

  it('a later look for a profile leaves the events it read to be applied: a task registered meanwhile is listed', async () => {
    const b = new FakeBridge();
    const f = new BridgeFeed(b, hooks());
    f.apply({ type: 'event', id: 1, kind: 'task.registered', data: { name: 'A' } });
    await flush();
    // task B is registered; the look reads its event before the bridge pushes it (or the poll reads it)
    b.replies.events_since = req => ({ events: [{ id: 1, kind: 'task.registered', data: {} }, { id: 2, kind: 'task.registered', data: {} }].filter(e => e.id > req.since) });
    b.replies.tasks = () => ({ tasks: [{ name: 'A', batch_size: 8 }, { name: 'B', batch_size: 8 }] });
    expect(await f.latestProfiled(false)).toBeNull();
    expect(f.state.lastEvent).toBe(1);
    await f.readEvents();
    await flush();
    expect(f.state.tasks!.map(t => t.name)).toEqual(['A', 'B']);
  });

  it('starts profiling with the settings\' steps and cache, and cancels it', async () => {
    const b = new FakeBridge();
    const h = hooks();
    const f = new BridgeFeed(b, h);
    await f.load(DEFAULT_SETTINGS);
    await f.startProfile({ ...DEFAULT_SETTINGS, profileMeasureSteps: 5, profileUseCache: false }, ['A']);
    expect(b.requests.find(r => r.type === 'profile')).toMatchObject({ names: ['A'], warmup: 2, measure: 5, use_cache: false });
    expect(f.state.profile).toMatchObject({ run_id: 'r1', running: true, tasks: ['A'] });
    await f.cancelProfile();
    expect(b.requests.find(r => r.type === 'cancel_profile')).toEqual({ type: 'cancel_profile', run_id: 'r1' });
    b.replies.profile = () => {
      throw new Error('busy');
    };
    await f.startProfile(DEFAULT_SETTINGS);
    expect(h.log[h.log.length - 1]).toBe('say Profiling could not start. Error: busy');
  });
});
