import { BridgeFeed } from '../models/bridge-feed';
import { DEFAULT_SETTINGS } from '../models/interfaces';
import { Loader } from '../models/loader';
import { PlanStore } from '../models/plan-store';
import { RunMirror } from '../models/run-mirror';
import { FakeBridge } from './fake-bridge';
import { smallInstance } from './fixtures';

function loader(b: FakeBridge): { loader: Loader; plans: PlanStore; log: string[] } {
  const log: string[] = [];
  const base = { changed: () => log.push('changed'), say: (m: string) => log.push(`say ${m}`), settings: () => DEFAULT_SETTINGS };
  const feed = new BridgeFeed(b, { ...base, instance: () => undefined, jobs: () => undefined });
  const plans = new PlanStore(b, null, { ...base, planReady: () => undefined, beforeNewPlan: () => undefined, planChanged: () => undefined });
  const runs = new RunMirror(null, plans, { ...base, devices: () => null });
  return { loader: new Loader(b, feed, plans, runs, base), plans, log };
}

describe('Loader', () => {
  it('loads once at a time, restores the store\'s plan on the first load only', async () => {
    const b = new FakeBridge();
    b.replies.profile_status = () => ({ running: false, instance: smallInstance() });
    const { loader: l, plans } = loader(b);
    await Promise.all([l.refresh(), l.refresh()]);
    expect(b.requests.filter(r => r.type === 'devices')).toHaveLength(1);
    expect(l.loaded).toBe(true);
    expect(plans.instance!.name).toBe('small'); // from profile_status when the store's history has none
    await l.refresh();
    expect(b.requests.filter(r => r.type === 'devices')).toHaveLength(2);
    expect(b.requests.filter(r => r.type === 'plans')).toHaveLength(1);
    l.dispose();
  });

  it('reports a bridge that does not answer without a notice (the poll tries again), and a failed load with one', async () => {
    const b = new FakeBridge();
    b.failConnect = true;
    const { loader: l, log } = loader(b);
    await l.refresh();
    expect(l.loaded).toBe(false);
    expect(log).toEqual(['changed']);
    b.failConnect = false;
    b.replies.tasks = () => {
      throw new Error('busy');
    };
    await l.refresh();
    expect(l.loaded).toBe(false);
    expect(log[log.length - 1]).toBe('say Saturn could not load its state from the bridge.');
    l.dispose();
  });
  it('shows the bridge\'s latest profile even when the store\'s plans cannot be read, and restores them on the next refresh', async () => {
    const b = new FakeBridge();
    b.replies.profile_status = () => ({ running: false, instance: smallInstance() });
    b.replies.plans = () => {
      throw new Error('The Saturn bridge did not answer "plans" within 60 s.');
    };
    const { loader: l, plans, log } = loader(b);
    await l.refresh();
    expect(plans.instance!.name).toBe('small'); // Profile done: Optimize is possible
    expect(l.loaded).toBe(false); // the restore is tried again
    expect(log).toContain('say Saturn could not load its state from the bridge.');
    b.replies.plans = () => ({ plans: [{ id: 3, name: 'small', created_at: 1, doc: { instance: 'small', makespan_s: 1, jobs: [], saturn_after_run: 'run-7' } }] });
    await l.refresh();
    expect(l.loaded).toBe(true);
    expect(plans.afterRun).toBe('run-7');
    l.dispose();
  });
});
