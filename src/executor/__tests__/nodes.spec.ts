/**
 * Several nodes (the SLURM backend): GPU ids are per node, a node the cluster reports unusable gets no new job, and
 * its jobs are re-planned onto the other nodes (the failed node is left out of the re-solve).
 */
import { solve } from '../../spase/solve';
import { IPlanLike, jobsOnLostNodes, unusableNodes } from '../dispatcher';
import { IInstanceLike, Introspector, projectCurrent, remainingInstance } from '../introspection';
import { JobState } from '../job-state';
import { decide } from '../rules';
import { IJobRecord, ISnapshot } from '../types';

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

/** The jobs the dispatch rules would start now. */
const starts = (snap: ISnapshot): string[] => decide(snap).actions.filter(a => a.kind === 'start' || a.kind === 'resume').map(a => (a as { job: string }).job);

describe('several nodes', () => {
  it('treats GPU 0 of one node and GPU 0 of another as different GPUs', () => {
    const a = rec('a', 'n1', [0], JobState.Running);
    const b = rec('b', 'n2', [0], JobState.Pending, 1);
    const snap: ISnapshot = { jobs: [a, b], leases: [{ node: 'n1', device: 0, holder: a.id, pid: 1, acquired_at: 0 }], now: 0 };
    expect(starts(snap)).toEqual([b.id]);
    const c = rec('c', 'n1', [0], JobState.Pending, 2);
    expect(starts({ ...snap, jobs: [a, c] })).toEqual([]);
  });

  it('ignores a lease whose job is over (its kernel died before releasing it)', () => {
    const a = rec('a', 'n1', [0], JobState.Done);
    const b = rec('b', 'n1', [0], JobState.Pending, 1);
    const snap: ISnapshot = { jobs: [a, b], leases: [{ node: 'n1', device: 0, holder: a.id, pid: null, acquired_at: 0 }], now: 0 };
    expect(starts(snap)).toEqual([b.id]);
  });

  it('starts nothing on a node the cluster reports unusable, and names the jobs to re-plan', () => {
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
    expect(starts(snap)).toEqual(['r-b']); // a (on n1) stays preempted; b (on n2) starts
    expect(decide(snap).actions).toContainEqual({ kind: 'replan', cause: 'lost_node', jobs: ['r-a'] });
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
