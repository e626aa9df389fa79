import { allConflicts, describeConflicts, findConflicts } from '../models/conflicts';

describe('conflicts', () => {
  const jobs = [
    { id: 'A', node: 'n0', gpu_ids: [0, 1], start_s: 0, end_s: 100 },
    { id: 'B', node: 'n0', gpu_ids: [2], start_s: 50, end_s: 80 },
    { id: 'C', node: 'n1', gpu_ids: [0], start_s: 0, end_s: 100 }
  ];

  it('finds overlaps on shared GPUs only', () => {
    const c = findConflicts({ id: 'X', node: 'n0', gpu_ids: [1, 2], start_s: 60, end_s: 70 }, jobs);
    expect(c).toEqual([
      { job: 'A', node: 'n0', gpu: 1, from_s: 60, to_s: 70 },
      { job: 'B', node: 'n0', gpu: 2, from_s: 60, to_s: 70 }
    ]);
    expect(findConflicts({ id: 'X', node: 'n0', gpu_ids: [0], start_s: 100, end_s: 120 }, jobs)).toEqual([]);
    expect(findConflicts({ id: 'X', node: 'n0', gpu_ids: [3], start_s: 0, end_s: 100 }, jobs)).toEqual([]);
  });

  it('checks whole plans and explains conflicts in words', () => {
    expect(allConflicts(jobs)).toEqual([]);
    const c = allConflicts([...jobs, { id: 'D', node: 'n0', gpu_ids: [0, 1], start_s: 90, end_s: 95 }]);
    expect(describeConflicts(c)).toEqual(['GPU 0, 1 of n0 are busy with "D" from 1m 30s to 1m 35s']);
  });
});
