/** One job on the Gantt chart: a block per contiguous run of its GPU lanes, with its state, progress and real times. */
import * as React from 'react';
import type { PlannedJob } from '../../../spase/types';
import { segmentProgress } from '../../models/early-stopping';
import type { IJobStatus } from '../../models/interfaces';
import { blockRects, formatDuration, ILaneLayout, ITimeScale, timeToX } from './geometry';
import { RungMark, SegmentBars } from './rung-glyphs';
import { rungMarks, rungSummary, segmentBars } from './rung-marks';

export interface IGanttBlockProps {
  job: PlannedJob;
  layout: ILaneLayout;
  scale: ITimeScale;
  /** The job's state (planned, running, done, …). */
  state: string;
  status: IJobStatus | undefined;
  pinned: boolean;
  selected: boolean;
  /** Colour class index (0–7). */
  color: number | undefined;
  /** Seconds since the plan's t = 0 while a run goes on; null otherwise. */
  now_s: number | null;
  /** A pointer went down on the block drawn on the lanes starting at GPU `firstGpu`. */
  onPointerDown: (e: React.PointerEvent, job: PlannedJob, firstGpu: number) => void;
  onKeyDown: (e: React.KeyboardEvent, job: PlannedJob) => void;
  onFocus: (job: string) => void;
}

export function label(j: PlannedJob): string {
  return `${j.id} · ${j.parallelism} · ${j.gpus} GPU${j.gpus > 1 ? 's' : ''}`;
}

function truncate(text: string, px: number): string {
  const max = Math.floor(px / 6.6);
  if (max < 2) {
    return '';
  }
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

/** Planned vs realised for a block's tooltip: when it was planned, when it really held its GPUs, how late it was. */
export function realisedText(planned: { start_s: number; end_s: number }, startS: number, endS: number | undefined): string {
  const late = startS - planned.start_s;
  const lateText = Math.abs(late) < 0.05 ? 'on time' : late > 0 ? `${formatDuration(late)} late` : `${formatDuration(-late)} early`;
  const ran = endS === undefined ? 'still running' : `took ${formatDuration(endS - startS)} (planned ${formatDuration(planned.end_s - planned.start_s)})`;
  return `Planned ${formatDuration(planned.start_s)} to ${formatDuration(planned.end_s)}; really ${formatDuration(startS)} to ${
    endS === undefined ? 'now' : formatDuration(endS)
  }: started ${lateText}, ${ran}`;
}

export function GanttBlock(props: IGanttBlockProps): JSX.Element {
  const { job: j, layout, scale, state: st, status, pinned, selected, now_s } = props;
  const geo = blockRects(j, layout, scale);
  const rungs = status?.rungs;
  const over = st === 'done' || st === 'stopped_early';
  // under early stopping a block is one segment (to the next rung): its progress is the segment's
  const progress = over ? 1 : rungs ? segmentProgress(rungs, status?.step) : Math.max(0, Math.min(1, status?.progress ?? 0));
  const sortedIds = [...j.gpu_ids].sort((a, b) => a - b);
  const early = rungs ? rungSummary(rungs) : '';
  const desc = `${label(j)} on ${j.node} GPU ${sortedIds.join(', ')}, ${formatDuration(j.start_s)} to ${formatDuration(j.end_s)}, ${
    st === 'stopped_early' ? 'stopped early' : st
  }${pinned ? ', pinned' : ''}${st === 'running' ? `, ${Math.round(progress * 100)}% ${rungs ? 'of its segment ' : ''}done` : ''}${early ? `; ${early}` : ''}`;
  const mark = st === 'failed' ? '✕ ' : st === 'done' ? '✓ ' : st === 'stopped_early' ? '■ ' : '';
  return (
    <>
      {geo.rects.map((r, i) => (
        <g
          key={`${j.id}-${i}`}
          className={`jp-Saturn-block jp-Saturn-color-${props.color} jp-Saturn-state-${st}${selected ? ' jp-mod-selected' : ''}${pinned ? ' jp-Saturn-pinned' : ''}`}
          data-saturn-job={j.id}
          data-saturn-node={j.node}
          data-saturn-gpus={sortedIds.join(',')}
          data-saturn-lanes={r.gpus.join(',')}
          data-saturn-state={st}
          data-saturn-start={j.start_s}
          data-saturn-end={j.end_s}
          data-saturn-technique={j.parallelism}
          data-saturn-pinned={pinned ? 'true' : 'false'}
          data-saturn-selected={selected ? 'true' : 'false'}
          data-saturn-rungs={rungs ? rungs.steps.join(',') : undefined}
          data-saturn-stopped-rung={rungs?.stopped ? rungs.stopped.rung : undefined}
          data-saturn-promoted={rungs && rungs.promoted.length ? rungs.promoted.map(p => p.rung).join(',') : undefined}
          tabIndex={i === 0 ? 0 : -1}
          role="button"
          aria-label={desc}
          aria-pressed={selected}
          onPointerDown={e => props.onPointerDown(e, j, r.gpus[0])}
          onKeyDown={e => props.onKeyDown(e, j)}
          onFocus={() => props.onFocus(j.id)}
        >
          <title>{desc}</title>
          <rect className="jp-Saturn-blockRect" x={r.x} y={r.y} width={r.width} height={r.height} rx={3} />
          {progress > 0 && !over ? (
            <rect className="jp-Saturn-blockProgress" x={r.x} y={r.y} width={r.width * progress} height={r.height} rx={3} />
          ) : null}
          {st === 'failed' ? <rect className="jp-Saturn-blockFailed" x={r.x} y={r.y} width={r.width} height={r.height} rx={3} /> : null}
          {st === 'stopped_early' ? <rect className="jp-Saturn-blockStopped" x={r.x} y={r.y} width={r.width} height={r.height} rx={3} /> : null}
          {rungs ? rungMarks(r, rungs).map(m => <RungMark key={m.step} mark={m} y={r.y} height={r.height} />) : null}
          {status?.actual_start_s !== undefined && status.actual_launch_s !== undefined && status.actual_launch_s < status.actual_start_s ? (
            <rect
              className="jp-Saturn-actualStartup"
              data-saturn-actual-launch={status.actual_launch_s}
              x={timeToX(scale, status.actual_launch_s)}
              y={r.y + r.height - 6}
              width={Math.max(1, timeToX(scale, status.actual_start_s) - timeToX(scale, status.actual_launch_s))}
              height={5}
              rx={2}
            >
              <title>
                Start-up: launched at {formatDuration(status.actual_launch_s)}, first step at {formatDuration(status.actual_start_s)} (
                {formatDuration(status.actual_start_s - status.actual_launch_s)})
              </title>
            </rect>
          ) : null}
          {rungs && rungs.segments.length ? (
            <SegmentBars bars={segmentBars(scale, rungs, now_s)} bottom={r.y + r.height} />
          ) : status?.actual_start_s !== undefined ? (
            <rect
              className="jp-Saturn-actual"
              data-saturn-actual-start={status.actual_start_s}
              data-saturn-actual-end={status.actual_end_s}
              x={timeToX(scale, status.actual_start_s)}
              y={r.y + r.height - 6}
              width={Math.max(1, timeToX(scale, status.actual_end_s ?? (now_s ?? status.actual_start_s)) - timeToX(scale, status.actual_start_s))}
              height={5}
              rx={2}
            >
              <title>{realisedText(j, status.actual_launch_s ?? status.actual_start_s, status.actual_end_s)}</title>
            </rect>
          ) : null}
          <text className="jp-Saturn-blockLabel" x={r.x + 5} y={r.y + Math.min(r.height / 2 + 4, 16)}>
            {truncate(`${mark}${label(j)}`, r.width - (pinned ? 20 : 8))}
          </text>
          {pinned && r.width > 14 ? (
            <g className="jp-Saturn-pinMark" transform={`translate(${r.x + r.width - 11}, ${r.y + 3})`} aria-hidden="true">
              <circle cx={4} cy={4} r={3.2} />
              <line x1={4} y1={7} x2={4} y2={12} />
            </g>
          ) : null}
        </g>
      ))}
    </>
  );
}
