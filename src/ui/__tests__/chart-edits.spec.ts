import { dropEdit, keyEdit } from '../components/gantt/chart-edits';
import { fitScale, layoutLanes, timeToX } from '../components/gantt/geometry';
import { smallPlan } from './fixtures';

const layout = layoutLanes([{ id: 'node0', gpus: 4 }], 30, 18, 6, 26);
const scale = fitScale(0, 200, 800, 96);
const [A, , C] = smallPlan().jobs;

describe('keyEdit', () => {
  it('moves by the grid step (six with Shift), never before 0, up and down the lanes; P pins', () => {
    expect(keyEdit('ArrowRight', false, C, layout, 10, false)).toEqual({ kind: 'move', job: 'C', start_s: 110 });
    expect(keyEdit('ArrowLeft', true, C, layout, 10, false)).toEqual({ kind: 'move', job: 'C', start_s: 40 });
    expect(keyEdit('ArrowLeft', false, A, layout, 10, false)).toEqual({ kind: 'move', job: 'A', start_s: 0 });
    expect(keyEdit('ArrowDown', false, C, layout, 10, false)).toEqual({ kind: 'move', job: 'C', start_s: 100, gpu_ids: [1] });
    expect(keyEdit('p', false, C, layout, 10, false)).toEqual({ kind: 'pin', job: 'C' });
    expect(keyEdit('P', false, C, layout, 10, true)).toEqual({ kind: 'unpin', job: 'C' });
  });

  it('selects on Enter and Space, does nothing at the edge of the node, leaves other keys alone', () => {
    expect(keyEdit('Enter', false, C, layout, 10, false)).toBe('select');
    expect(keyEdit(' ', false, C, layout, 10, false)).toBe('select');
    expect(keyEdit('ArrowUp', false, C, layout, 10, false)).toBeNull(); // C is on GPU 0 already
    expect(keyEdit('x', false, C, layout, 10, false)).toBe('ignore');
  });
});

describe('dropEdit', () => {
  it('lands on the lanes under the pointer, snapped to another job\'s end', () => {
    const lane1 = layout.groups[0].lanes[1];
    // grabbed at its start, dropped 2 px after B's end (120 s) on GPU 1: snaps to 120 s there
    const e = dropEdit(smallPlan(), layout, scale, 10, { job: C, grabDt: 0, grabLane: 0 }, timeToX(scale, 120) + 2, lane1.y + 5);
    expect(e).toEqual({ kind: 'move', job: 'C', start_s: 120, node: 'node0', gpu_ids: [1] });
  });

  it('keeps the job\'s GPUs outside the lanes and snaps to the grid away from edges', () => {
    const e = dropEdit(smallPlan(), layout, scale, 10, { job: C, grabDt: 0, grabLane: 0 }, timeToX(scale, 163), 2);
    expect(e).toEqual({ kind: 'move', job: 'C', start_s: 160, node: 'node0', gpu_ids: [0] });
  });
});
