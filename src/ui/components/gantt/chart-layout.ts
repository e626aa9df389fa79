/** The Gantt chart's fixed sizes and the scale that fits a plan, as pure functions of the plan and the run. */
import type { Plan } from '../../../spase/types';
import type { IJobStatus } from '../../models/interfaces';
import { fitScale, ITimeScale } from './geometry';

/** Width of the lane labels left of the plot (px). */
export const GUTTER = 96;
/** Height of the time axis above the lanes (px). */
export const AXIS = 26;
/** Height of one GPU lane (px). */
export const LANE_H = 30;

/** A scale that fits the plan (and the now-line) into the plotting width. */
export function fitPlan(plan: Plan, width: number, now_s: number | null = null): ITimeScale {
  const end = Math.max(plan.makespan_s, now_s ?? 0, 1) * 1.04;
  return fitScale(0, end, Math.max(50, width - GUTTER - 12), GUTTER);
}

/**
 * The latest moment the chart has to show besides the plan: the now-line during a run, or when the last job really
 * ended (a run slower than its plan would otherwise draw its actual bars past the right edge).
 */
export function lastMoment(statuses: ReadonlyMap<string, IJobStatus>, now_s: number | null): number | null {
  let t = now_s;
  for (const s of statuses.values()) {
    const end = s.actual_end_s ?? null;
    if (end !== null && (t === null || end > t)) {
      t = end;
    }
  }
  return t;
}
