/**
 * Where a job's rungs go on the Gantt chart, as pure functions. On its planned block: the block covers the steps of
 * its planned segment (`from`, the rung it was promoted at or 0, to `to`, its next rung or its end; see
 * ../../models/early-stopping.ts), so a rung at step s sits at x + (s − from) / (to − from) × width. Under it, the
 * stretches it really held its GPUs, each ended by its rung's mark (promoted, stopped, waiting). The SVG
 * (./rung-glyphs.tsx) only draws them.
 */
import { IJobRungs, rungOutcome, RungOutcome, rungText } from '../../models/early-stopping';
import { formatDuration, ITimeScale, timeToX } from './geometry';

export interface IRungMark {
  step: number;
  x: number;
  outcome: RungOutcome;
  /** E.g. "stopped early at step 30 (val_loss 0.41)". */
  title: string;
}

/** The marks of the rungs inside a block drawn from `rect.x` over `rect.width` pixels. */
export function rungMarks(rect: { x: number; width: number }, r: IJobRungs): IRungMark[] {
  const span = r.to - r.from;
  if (!(span > 0)) {
    return [];
  }
  return r.steps
    .filter(s => s > 0 && s >= r.from && s <= r.to)
    .map(step => ({ step, x: rect.x + ((step - r.from) / span) * rect.width, outcome: rungOutcome(r, step), title: rungText(r, step) }));
}

/** What the block's description adds under early stopping: stopped, waiting, promotions (empty when nothing). */
export function rungSummary(r: IJobRungs): string {
  const parts: string[] = [];
  if (r.stopped) {
    parts.push(rungText(r, r.stopped.rung));
  } else if (r.waitingAt !== null) {
    parts.push(rungText(r, r.waitingAt));
  }
  if (r.promoted.length) {
    parts.push(r.promoted.map(p => rungText(r, p.rung)).join(', '));
  }
  if (!r.stopped && r.waitingAt === null) {
    parts.push(r.next !== null ? `next rung at step ${r.next}` : r.steps.length ? 'past its last rung: runs to its end' : '');
  }
  return parts.filter(Boolean).join('; ');
}

/** A stretch a job really held its GPUs, as drawn under its block, and the rung that ended it. */
export interface ISegmentBar {
  start_s: number;
  end_s: number | null;
  x: number;
  width: number;
  /** The rung that ended it (its mark at the bar's end), null when none did. */
  rung: { step: number; outcome: RungOutcome } | null;
  title: string;
}

/** The job's real segments on the time scale (`now_s`: the end of the one still running). */
export function segmentBars(scale: ITimeScale, r: IJobRungs, now_s: number | null): ISegmentBar[] {
  return r.segments.map(seg => {
    const x = timeToX(scale, seg.start_s);
    const end = seg.end_s ?? now_s ?? seg.start_s;
    const rung = seg.endStep !== null && (seg.ended === 'promoted' || seg.ended === 'stopped' || seg.ended === 'waiting') ? { step: seg.endStep, outcome: seg.ended } : null;
    const how = rung
      ? rungText(r, rung.step)
      : seg.ended === 'done'
        ? 'ran to its end'
        : seg.end_s === null
          ? 'still running'
          : seg.ended ?? 'stopped';
    return {
      start_s: seg.start_s,
      end_s: seg.end_s,
      x,
      width: Math.max(1, timeToX(scale, end) - x),
      rung,
      title: `Held its GPUs ${formatDuration(seg.start_s)} to ${seg.end_s === null ? 'now' : formatDuration(seg.end_s)}: ${how}`
    };
  });
}
