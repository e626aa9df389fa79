/**
 * What the chart's gestures mean as plan edits, as pure functions: where a dragged block lands (snapped to the grid
 * and to the other jobs' edges on its GPUs) and what a key pressed on a block does. PlanModel decides whether an
 * edit is valid; the chart only renders.
 */
import type { Plan, PlannedJob } from '../../../spase/types';
import type { PlanEdit } from '../../models/plan-model';
import { edgesOn, gpusForDrop, ILaneLayout, ITimeScale, laneAtY, snapToEdges, xToTime } from './geometry';

export type MoveEdit = PlanEdit & { kind: 'move' };

/** A block being dragged: the job, where in it (time, lane) the pointer took hold. */
export interface IGrab {
  job: PlannedJob;
  /** Seconds between the job's start and the pointer at the grab. */
  grabDt: number;
  /** Which of the job's lanes (in GPU id order) the pointer took hold of. */
  grabLane: number;
}

/**
 * The move for a block dropped with the pointer at (x, y): onto the lanes under the pointer when the job fits there
 * (else its own GPUs), at a start snapped to the others' edges within 8 px, else to the grid `step`, never before 0.
 */
export function dropEdit(plan: Plan, layout: ILaneLayout, scale: ITimeScale, step: number, grab: IGrab, x: number, y: number): MoveEdit {
  const raw = xToTime(scale, x) - grab.grabDt;
  const lane = laneAtY(layout, y);
  let node = grab.job.node;
  let ids = grab.job.gpu_ids;
  if (lane) {
    const first = lane.gpu - grab.grabLane;
    const g = gpusForDrop(layout, lane.node, first, grab.job.gpus);
    if (g) {
      node = lane.node;
      ids = g;
    }
  }
  const others = plan.jobs.filter(o => o.id !== grab.job.id);
  const edges = edgesOn(others, node, ids, grab.job.id);
  const start = snapToEdges(raw, edges, 8 / scale.pxPerS, step, 0);
  return { kind: 'move', job: grab.job.id, start_s: start, node, gpu_ids: ids };
}

/**
 * A key pressed on job `j`'s block: the edit (arrows move by the grid `step`, six with Shift, up/down to the
 * neighbouring GPUs; P pins or unpins), 'select' (Enter, Space), null (handled, nothing to change) or 'ignore'
 * (not a key of the chart's).
 */
export function keyEdit(key: string, shift: boolean, j: PlannedJob, layout: ILaneLayout, step: number, pinned: boolean): PlanEdit | 'select' | 'ignore' | null {
  const sorted = [...j.gpu_ids].sort((a, b) => a - b);
  const dt = shift ? step * 6 : step;
  switch (key) {
    case 'ArrowLeft':
      return { kind: 'move', job: j.id, start_s: Math.max(0, j.start_s - dt) };
    case 'ArrowRight':
      return { kind: 'move', job: j.id, start_s: j.start_s + dt };
    case 'ArrowUp':
    case 'ArrowDown': {
      const g = gpusForDrop(layout, j.node, sorted[0] + (key === 'ArrowUp' ? -1 : 1), j.gpus);
      return g && g.join() !== sorted.join() ? { kind: 'move', job: j.id, start_s: j.start_s, gpu_ids: g } : null;
    }
    case 'p':
    case 'P':
      return { kind: pinned ? 'unpin' : 'pin', job: j.id };
    case 'Enter':
    case ' ':
      return 'select';
    default:
      return 'ignore';
  }
}
