/**
 * Several nodes (the SLURM backend): GPU ids are per node, a node the cluster reports unusable gets no new job, and
 * its jobs are re-planned onto the other nodes (the failed node is left out of the re-solve).
 */
import { solve } from '../../spase/solve';
import { Dispatcher, IPlanLike, jobsOnLostNodes, unusableNodes } from '../dispatcher';
import { IInstanceLike, Introspector, projectCurrent, remainingInstance } from '../introspection';
import { JobState } from '../job-state';
import { IJobRecord, ISnapshot } from '../types';
import { MemoryJobStore, SimClock, SimWorld } from './sim';

const rec = (id: string, node: string, gpu_ids: number[], state: JobState, order = 0): IJobRecord => ({
  id: `r-${id}`,
  task: id,
  state,
  info: { order, total_steps: 100, assignment: { parallelism: 'ddp', gpus: gpu_ids.length, node, gpu_ids } }
});

const instance: IInstanceLike = {
  format: 'spase-instance/1',
  name: 'two-nodes',
  cluster: { nodes: [{ id: 'n1', gpus: 2 }, { id: 'n2', gpus: 2 }] },
  jobs: ['a', 'b', 'c'].map(id => ({ id, total_steps: 100, options: [{ parallelism: 'ddp', gpus: 1, runtime_s: 100 }] }))
};

function dispatcher() {
  const clock = new SimClock();
  const store = new MemoryJobStore(clock);
  const world = new SimWorld(store, clock, () => 1, {});
  return new Dispatcher(store, world, 'r', { clock });
}

describe('several nodes', () => {
  it('treats GPU 0 of one node and GPU 0 of another as different GPUs', () => {
    const d = dispatcher();
    const a = rec('a', 'n1', [0], JobState.Running);
    const b = rec('b', 'n2', [0], JobState.Pending, 1);
    const snap: ISnapshot = { jobs: [a, b], leases: [{ node: 'n1', device: 0, holder: a.id, pid: 1, acquired_at: 0 }], now: 0 };
    expect(d.canStart(b, snap.jobs, snap, new Set())).toBe(true);
    const c = rec('c', 'n1', [0], JobState.Pending, 2);
    expect(d.canStart(c, [a, c], { ...snap, jobs: [a, c] }, new Set())).toBe(false);
  });

  it('ignores a lease whose job is over (its kernel died before releasing it)', () => {
    const d = dispatcher();
    const a = rec('a', 'n1', [0], JobState.Done);
    const b = rec('b', 'n1', [0], JobState.Pending, 1);
    const snap: ISnapshot = { jobs: [a, b], leases: [{ node: 'n1', device: 0, holder: a.id, pid: null, acquired_at: 0 }], now: 0 };
    expect(d.canStart(b, snap.jobs, snap, new Set())).toBe(true);
  });

  it('starts nothing on a node the cluster reports unusable, and names the jobs to re-plan', () => {
    const d = dispatcher();
    const jobs = [rec('a', 'n1', [0], JobState.Preempted), rec('b', 'n2', [0], JobState.Pending, 1), rec('c', 'n1', [1], JobState.Done)];
    const snap: ISnapshot = {
      jobs,
      leases: [],
      now: 0,
      nodes: [
        { id: 'n1', gpus: 2, state: 'down+not_responding', usable: false },
        { id: 'n2', gpus: 2, state: 'mixed', usable: true }
      ]
    };
    expect([...unusableNodes(snap)]).toEqual(['n1']);
    expect(d.canStart(jobs[0], jobs, snap, new Set())).toBe(false);
    expect(d.canStart(jobs[1], jobs, snap, new Set())).toBe(true);
    expect(jobsOnLostNodes(snap)).toEqual(['r-a']); // the finished job stays where it ran
    expect(jobsOnLostNodes({ ...snap, nodes: undefined })).toEqual([]);
  });

  it('re-plans the jobs of a failed node onto the others, from their checkpoints', async () => {
    const a = { ...rec('a', 'n1', [0], JobState.Running), checkpoint_step: 50 };
    a.info.progress = { step: 50, total_steps: 100, step_time_s: 1 };
    const jobs = [a, rec('b', 'n1', [1], JobState.Pending, 1), rec('c', 'n2', [0], JobState.Running, 2)];
    const snap: ISnapshot = {
      jobs,
      leases: [],
      now: 0,
      nodes: [
        { id: 'n1', gpus: 2, state: 'allocated+not_responding', usable: false },
        { id: 'n2', gpus: 2, state: 'mixed', usable: true }
      ]
    };
    const rem = remainingInstance(instance, snap);
    expect(rem.cluster.nodes.map(n => n.id)).toEqual(['n2']);
    // the running job on the failed node is no constraint any more; the one on n2 is
    expect(rem.running!.map(r => r.job)).toEqual(['c']);
    expect(projectCurrent(instance, snap)).toBe(Infinity);
    const intro = new Introspector(instance, { solve: (i, o) => solve(i as any, o) as unknown as Promise<IPlanLike>, solveTimeLimitS: 0.5 });
    const decision = await intro.check(snap, 0);
    expect(decision.switched).toBe(true);
    expect(decision.plan!.jobs.every(j => j.node === 'n2')).toBe(true);
    expect(decision.changed.sort()).toEqual(['a', 'b']);
  });
});
