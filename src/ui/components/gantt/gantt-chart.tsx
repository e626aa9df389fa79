/**
 * The Gantt chart in hand-rolled SVG: one lane per GPU grouped by node, one block per job and contiguous run of its
 * GPU lanes, a time axis with zoom and pan, a now-line during a run, and drag & keyboard editing. Geometry comes from
 * ./geometry; what an edit means comes from PlanModel.
 */
import * as React from 'react';
import type { Plan, PlannedJob } from '../../../spase/types';
import type { IJobStatus } from '../../models/interfaces';
import { formatDelta, IEditResult, PlanEdit } from '../../models/plan-model';
import {
  blockRects,
  edgesOn,
  fitScale,
  formatDuration,
  gpusForDrop,
  ILaneLayout,
  ITimeScale,
  laneAtY,
  layoutLanes,
  niceStep,
  panBy,
  snapToEdges,
  timeTicks,
  timeToX,
  xToTime,
  zoomAt
} from './geometry';

export const GUTTER = 96;
export const AXIS = 26;
export const LANE_H = 30;

export interface IGanttChartProps {
  plan: Plan;
  nodes: { id: string; gpus: number }[];
  statuses: Map<string, IJobStatus>;
  stateOf: (job: string) => string;
  isPinned: (job: string) => boolean;
  /** Seconds since the plan's t = 0 while a run goes on; null otherwise. */
  now_s: number | null;
  width: number;
  scale: ITimeScale | null;
  onScale: (s: ITimeScale) => void;
  selected: string | null;
  onSelect: (job: string | null) => void;
  preview: (edit: PlanEdit) => IEditResult;
  apply: (edit: PlanEdit) => IEditResult;
  onPreview: (r: IEditResult | null) => void;
}

interface IDrag {
  job: PlannedJob;
  pointerId: number;
  grabDt: number;
  grabLane: number;
  startX: number;
  startY: number;
  moved: boolean;
  edit: PlanEdit | null;
  result: IEditResult | null;
}

interface IPan {
  pointerId: number;
  lastX: number;
}

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

function label(j: PlannedJob): string {
  return `${j.id} · ${j.parallelism} · ${j.gpus} GPU${j.gpus > 1 ? 's' : ''}`;
}

function truncate(text: string, px: number): string {
  const max = Math.floor(px / 6.6);
  if (max < 2) {
    return '';
  }
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

export function GanttChart(props: IGanttChartProps): JSX.Element {
  const { plan, nodes, statuses, now_s, width, selected } = props;
  const layout: ILaneLayout = React.useMemo(() => layoutLanes(nodes, LANE_H, 18, 6, AXIS), [nodes]);
  const scale = props.scale ?? fitPlan(plan, width, lastMoment(statuses, now_s));
  const height = AXIS + layout.height + 8;
  const plotW = Math.max(50, width - GUTTER);
  const svgRef = React.useRef<SVGSVGElement>(null);
  const drag = React.useRef<IDrag | null>(null);
  const pan = React.useRef<IPan | null>(null);
  const [ghost, setGhost] = React.useState<{ edit: PlanEdit & { kind: 'move' }; ok: boolean; note: string } | null>(null);
  const colorIndex = React.useMemo(() => new Map(plan.jobs.map((j, i) => [j.id, i % 8])), [plan]);

  const point = (e: React.PointerEvent | React.WheelEvent): { x: number; y: number } => {
    const r = svgRef.current!.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };

  const step = niceStep(scale.pxPerS, 80) / 6;

  const candidate = (d: IDrag, x: number, y: number): PlanEdit & { kind: 'move' } => {
    const raw = xToTime(scale, x) - d.grabDt;
    const lane = laneAtY(layout, y);
    let node = d.job.node;
    let ids = d.job.gpu_ids;
    if (lane) {
      const first = lane.gpu - d.grabLane;
      const g = gpusForDrop(layout, lane.node, first, d.job.gpus);
      if (g) {
        node = lane.node;
        ids = g;
      }
    }
    const others = plan.jobs.filter(o => o.id !== d.job.id);
    const edges = edgesOn(others, node, ids, d.job.id);
    const start = snapToEdges(raw, edges, 8 / scale.pxPerS, step, 0);
    return { kind: 'move', job: d.job.id, start_s: start, node, gpu_ids: ids };
  };

  const onBlockDown = (e: React.PointerEvent, j: PlannedJob, runFirstGpu: number): void => {
    if (e.button !== 0) {
      return;
    }
    e.stopPropagation();
    const { x, y } = point(e);
    const lane = laneAtY(layout, y);
    const sorted = [...j.gpu_ids].sort((a, b) => a - b);
    const grabLane = lane && lane.node === j.node ? Math.max(0, sorted.indexOf(lane.gpu)) : sorted.indexOf(runFirstGpu);
    drag.current = {
      job: j,
      pointerId: e.pointerId,
      grabDt: xToTime(scale, x) - j.start_s,
      grabLane: Math.max(0, grabLane),
      startX: x,
      startY: y,
      moved: false,
      edit: null,
      result: null
    };
    (e.target as Element).setPointerCapture?.(e.pointerId);
    props.onSelect(j.id);
  };

  const onMove = (e: React.PointerEvent): void => {
    const d = drag.current;
    if (d && d.pointerId === e.pointerId) {
      const { x, y } = point(e);
      if (!d.moved && Math.abs(x - d.startX) + Math.abs(y - d.startY) < 4) {
        return;
      }
      d.moved = true;
      const edit = candidate(d, x, y);
      const res = props.preview(edit);
      d.edit = edit;
      d.result = res;
      setGhost({ edit, ok: res.ok, note: res.ok ? `makespan ${formatDelta(res.delta_s)}` : `✕ ${res.reasons[0] ?? 'invalid'}` });
      props.onPreview(res);
      return;
    }
    const p = pan.current;
    if (p && p.pointerId === e.pointerId) {
      const { x } = point(e);
      props.onScale(panBy(scale, x - p.lastX));
      p.lastX = x;
    }
  };

  const onUp = (e: React.PointerEvent): void => {
    const d = drag.current;
    if (d && d.pointerId === e.pointerId) {
      drag.current = null;
      setGhost(null);
      if (d.moved && d.edit) {
        props.apply(d.edit);
      }
      props.onPreview(null);
      return;
    }
    if (pan.current && pan.current.pointerId === e.pointerId) {
      pan.current = null;
    }
  };

  const onBackgroundDown = (e: React.PointerEvent): void => {
    if (e.button !== 0) {
      return;
    }
    pan.current = { pointerId: e.pointerId, lastX: point(e).x };
    (e.target as Element).setPointerCapture?.(e.pointerId);
    props.onSelect(null);
  };

  const onWheel = (e: React.WheelEvent): void => {
    const { x } = point(e);
    if (e.ctrlKey || e.metaKey) {
      e.preventDefault();
      props.onScale(zoomAt(scale, e.deltaY < 0 ? 1.2 : 1 / 1.2, Math.max(GUTTER, x)));
    } else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      props.onScale(panBy(scale, -(e.deltaX || e.deltaY)));
    }
  };

  const onKey = (e: React.KeyboardEvent, j: PlannedJob): void => {
    const sorted = [...j.gpu_ids].sort((a, b) => a - b);
    let edit: PlanEdit | null = null;
    const dt = e.shiftKey ? step * 6 : step;
    switch (e.key) {
      case 'ArrowLeft':
        edit = { kind: 'move', job: j.id, start_s: Math.max(0, j.start_s - dt) };
        break;
      case 'ArrowRight':
        edit = { kind: 'move', job: j.id, start_s: j.start_s + dt };
        break;
      case 'ArrowUp':
      case 'ArrowDown': {
        const g = gpusForDrop(layout, j.node, sorted[0] + (e.key === 'ArrowUp' ? -1 : 1), j.gpus);
        if (g && g.join() !== sorted.join()) {
          edit = { kind: 'move', job: j.id, start_s: j.start_s, gpu_ids: g };
        }
        break;
      }
      case 'p':
      case 'P':
        edit = { kind: props.isPinned(j.id) ? 'unpin' : 'pin', job: j.id };
        break;
      case 'Enter':
      case ' ':
        props.onSelect(j.id);
        e.preventDefault();
        return;
      default:
        return;
    }
    e.preventDefault();
    if (edit) {
      props.apply(edit);
    }
  };

  const ticks = timeTicks({ ...scale }, plotW, 80).filter(t => timeToX(scale, t) >= GUTTER - 0.5 && timeToX(scale, t) <= width - 36);
  const clipId = 'jp-Saturn-ganttClip';

  return (
    <svg
      ref={svgRef}
      className="jp-Saturn-ganttSvg"
      width={width}
      height={height}
      role="img"
      aria-label={`Gantt chart of plan ${plan.instance}: ${plan.jobs.length} jobs, makespan ${formatDuration(plan.makespan_s)}. The table view lists the same plan as text.`}
      onPointerMove={onMove}
      onPointerUp={onUp}
      onPointerCancel={onUp}
      onWheel={onWheel}
    >
      <defs>
        <clipPath id={clipId}>
          <rect x={GUTTER} y={0} width={plotW} height={height} />
        </clipPath>
        <pattern id="jp-Saturn-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
          <line x1="0" y1="0" x2="0" y2="6" className="jp-Saturn-hatchLine" />
        </pattern>
      </defs>
      <rect className="jp-Saturn-ganttBg" x={GUTTER} y={AXIS} width={plotW} height={layout.height} onPointerDown={onBackgroundDown} />
      {layout.groups.map(g => (
        <g key={g.node} className="jp-Saturn-laneGroup">
          <text className="jp-Saturn-nodeLabel" x={6} y={g.y + 13}>
            {g.node}
          </text>
          {g.lanes.map(l => (
            <g key={l.gpu} data-saturn-lane={`${l.node}/${l.gpu}`}>
              <rect
                className={`jp-Saturn-lane jp-Saturn-lane-${l.gpu % 2 ? 'odd' : 'even'}`}
                x={GUTTER}
                y={l.y}
                width={plotW}
                height={l.height}
                onPointerDown={onBackgroundDown}
              />
              <text className="jp-Saturn-laneLabel" x={GUTTER - 8} y={l.y + l.height / 2 + 4} textAnchor="end">
                GPU {l.gpu}
              </text>
            </g>
          ))}
        </g>
      ))}
      <g className="jp-Saturn-axis" clipPath={`url(#${clipId})`}>
        {ticks.map(t => {
          const x = timeToX(scale, t);
          return (
            <g key={t}>
              <line className="jp-Saturn-grid" x1={x} x2={x} y1={AXIS - 4} y2={AXIS + layout.height} />
              <text className="jp-Saturn-tick" x={x + 3} y={AXIS - 9}>
                {formatDuration(t)}
              </text>
            </g>
          );
        })}
      </g>
      <g clipPath={`url(#${clipId})`}>
        <line
          className="jp-Saturn-makespanLine"
          x1={timeToX(scale, plan.makespan_s)}
          x2={timeToX(scale, plan.makespan_s)}
          y1={AXIS}
          y2={AXIS + layout.height}
        >
          <title>Makespan {formatDuration(plan.makespan_s)}</title>
        </line>
        {plan.jobs.map(j => {
          const geo = blockRects(j, layout, scale);
          const st = props.stateOf(j.id);
          const status = statuses.get(j.id);
          const pinned = props.isPinned(j.id);
          const progress = st === 'done' ? 1 : Math.max(0, Math.min(1, status?.progress ?? 0));
          const sortedIds = [...j.gpu_ids].sort((a, b) => a - b);
          const desc = `${label(j)} on ${j.node} GPU ${sortedIds.join(', ')}, ${formatDuration(j.start_s)} to ${formatDuration(j.end_s)}, ${st}${pinned ? ', pinned' : ''}${
            st === 'running' ? `, ${Math.round(progress * 100)}% done` : ''
          }`;
          return geo.rects.map((r, i) => (
            <g
              key={`${j.id}-${i}`}
              className={`jp-Saturn-block jp-Saturn-color-${colorIndex.get(j.id)} jp-Saturn-state-${st}${selected === j.id ? ' jp-mod-selected' : ''}${pinned ? ' jp-Saturn-pinned' : ''}`}
              data-saturn-job={j.id}
              data-saturn-node={j.node}
              data-saturn-gpus={sortedIds.join(',')}
              data-saturn-lanes={r.gpus.join(',')}
              data-saturn-state={st}
              data-saturn-start={j.start_s}
              data-saturn-end={j.end_s}
              data-saturn-technique={j.parallelism}
              data-saturn-pinned={pinned ? 'true' : 'false'}
              tabIndex={i === 0 ? 0 : -1}
              role="button"
              aria-label={desc}
              aria-pressed={selected === j.id}
              onPointerDown={e => onBlockDown(e, j, r.gpus[0])}
              onKeyDown={e => onKey(e, j)}
              onFocus={() => props.onSelect(j.id)}
            >
              <title>{desc}</title>
              <rect className="jp-Saturn-blockRect" x={r.x} y={r.y} width={r.width} height={r.height} rx={3} />
              {progress > 0 && st !== 'done' ? (
                <rect className="jp-Saturn-blockProgress" x={r.x} y={r.y} width={r.width * progress} height={r.height} rx={3} />
              ) : null}
              {st === 'failed' ? <rect className="jp-Saturn-blockFailed" x={r.x} y={r.y} width={r.width} height={r.height} rx={3} /> : null}
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
              {status?.actual_start_s !== undefined ? (
                <rect
                  className="jp-Saturn-actual"
                  data-saturn-actual-start={status.actual_start_s}
                  data-saturn-actual-end={status.actual_end_s}
                  x={timeToX(scale, status.actual_start_s)}
                  y={r.y + r.height - 6}
                  width={Math.max(
                    1,
                    timeToX(scale, status.actual_end_s ?? (now_s ?? status.actual_start_s)) - timeToX(scale, status.actual_start_s)
                  )}
                  height={5}
                  rx={2}
                >
                  <title>
                    {realisedText(j, status.actual_launch_s ?? status.actual_start_s, status.actual_end_s)}
                  </title>
                </rect>
              ) : null}
              <text className="jp-Saturn-blockLabel" x={r.x + 5} y={r.y + Math.min(r.height / 2 + 4, 16)}>
                {truncate(`${st === 'failed' ? '✕ ' : st === 'done' ? '✓ ' : ''}${label(j)}`, r.width - (pinned ? 20 : 8))}
              </text>
              {pinned && r.width > 14 ? (
                <g className="jp-Saturn-pinMark" transform={`translate(${r.x + r.width - 11}, ${r.y + 3})`} aria-hidden="true">
                  <circle cx={4} cy={4} r={3.2} />
                  <line x1={4} y1={7} x2={4} y2={12} />
                </g>
              ) : null}
            </g>
          ));
        })}
        {ghost
          ? (() => {
              const j = plan.jobs.find(x => x.id === ghost.edit.job)!;
              const moved = { ...j, node: ghost.edit.node ?? j.node, gpu_ids: ghost.edit.gpu_ids ?? j.gpu_ids, start_s: ghost.edit.start_s, end_s: ghost.edit.start_s + (j.end_s - j.start_s) };
              return blockRects(moved, layout, scale).rects.map((r, i) => (
                <rect
                  key={`ghost-${i}`}
                  className={`jp-Saturn-ghost ${ghost.ok ? 'jp-mod-ok' : 'jp-mod-conflict'}`}
                  data-saturn-ghost={ghost.ok ? 'ok' : 'conflict'}
                  x={r.x}
                  y={r.y}
                  width={r.width}
                  height={r.height}
                  rx={3}
                  pointerEvents="none"
                />
              )).concat(
                (() => {
                  const r0 = blockRects(moved, layout, scale).rects[0];
                  if (!r0) {
                    return [];
                  }
                  const tx = Math.min(r0.x + r0.width + 6, width - 8);
                  return [
                    <text
                      key="ghost-note"
                      className={`jp-Saturn-ghostNote ${ghost.ok ? 'jp-mod-ok' : 'jp-mod-conflict'}`}
                      x={tx}
                      y={r0.y + 14}
                      textAnchor={tx >= width - 8 ? 'end' : 'start'}
                      pointerEvents="none"
                    >
                      {ghost.note.length > 70 ? `${ghost.note.slice(0, 69)}…` : ghost.note}
                    </text>
                  ];
                })()
              );
            })()
          : null}
        {now_s !== null ? (
          <line className="jp-Saturn-nowLine" data-saturn-now={now_s} x1={timeToX(scale, now_s)} x2={timeToX(scale, now_s)} y1={AXIS - 6} y2={AXIS + layout.height}>
            <title>Now: {formatDuration(now_s)} into the run</title>
          </line>
        ) : null}
      </g>
    </svg>
  );
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
