/**
 * The Gantt chart in hand-rolled SVG: one lane per GPU grouped by node, one block per job and contiguous run of its
 * GPU lanes, a time axis with zoom and pan, a now-line during a run, and drag & keyboard editing. Geometry comes from
 * ./geometry.ts, what a gesture means from ./chart-edits.ts, whether an edit is valid from PlanModel.
 */
import * as React from 'react';
import type { Plan, PlannedJob } from '../../../spase/types';
import type { IJobStatus } from '../../models/interfaces';
import { formatDelta, IEditResult, PlanEdit } from '../../models/plan-model';
import { dropEdit, IGrab, keyEdit } from './chart-edits';
import { AXIS, fitPlan, GUTTER, LANE_H, lastMoment } from './chart-layout';
import { DragGhost, IGhost } from './drag-ghost';
import { GanttBlock } from './gantt-block';
import { formatDuration, ILaneLayout, ITimeScale, laneAtY, layoutLanes, niceStep, panBy, timeToX, xToTime, zoomAt } from './geometry';
import { LaneGroups } from './lane-groups';
import { TimeAxis } from './time-axis';

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

interface IDrag extends IGrab {
  pointerId: number;
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

export function GanttChart(props: IGanttChartProps): JSX.Element {
  const { plan, nodes, statuses, now_s, width, selected } = props;
  const layout: ILaneLayout = React.useMemo(() => layoutLanes(nodes, LANE_H, 18, 6, AXIS), [nodes]);
  const scale = props.scale ?? fitPlan(plan, width, lastMoment(statuses, now_s));
  const height = AXIS + layout.height + 8;
  const plotW = Math.max(50, width - GUTTER);
  const svgRef = React.useRef<SVGSVGElement>(null);
  const drag = React.useRef<IDrag | null>(null);
  const pan = React.useRef<IPan | null>(null);
  const [ghost, setGhost] = React.useState<IGhost | null>(null);
  const colorIndex = React.useMemo(() => new Map(plan.jobs.map((j, i) => [j.id, i % 8])), [plan]);

  const point = (e: React.PointerEvent | React.WheelEvent): { x: number; y: number } => {
    const r = svgRef.current!.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };

  const step = niceStep(scale.pxPerS, 80) / 6;

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
      const edit = dropEdit(plan, layout, scale, step, d, x, y);
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
    const action = keyEdit(e.key, e.shiftKey, j, layout, step, props.isPinned(j.id));
    if (action === 'ignore') {
      return;
    }
    if (action === 'select') {
      props.onSelect(j.id);
      e.preventDefault();
      return;
    }
    e.preventDefault();
    if (action) {
      props.apply(action);
    }
  };

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
        <pattern id="jp-Saturn-stopHatch" width="7" height="7" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)">
          <line x1="0" y1="0" x2="0" y2="7" className="jp-Saturn-stopHatchLine" />
        </pattern>
      </defs>
      <rect className="jp-Saturn-ganttBg" x={GUTTER} y={AXIS} width={plotW} height={layout.height} onPointerDown={onBackgroundDown} />
      <LaneGroups layout={layout} plotW={plotW} onPointerDown={onBackgroundDown} />
      <TimeAxis scale={scale} width={width} plotW={plotW} lanesHeight={layout.height} clipId={clipId} />
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
        {plan.jobs.map(j => (
          <GanttBlock
            key={j.id}
            job={j}
            layout={layout}
            scale={scale}
            state={props.stateOf(j.id)}
            status={statuses.get(j.id)}
            pinned={props.isPinned(j.id)}
            selected={selected === j.id}
            color={colorIndex.get(j.id)}
            now_s={now_s}
            onPointerDown={onBlockDown}
            onKeyDown={onKey}
            onFocus={props.onSelect}
          />
        ))}
        {ghost ? <DragGhost plan={plan} ghost={ghost} layout={layout} scale={scale} width={width} /> : null}
        {now_s !== null ? (
          <line className="jp-Saturn-nowLine" data-saturn-now={now_s} x1={timeToX(scale, now_s)} x2={timeToX(scale, now_s)} y1={AXIS - 6} y2={AXIS + layout.height}>
            <title>Now: {formatDuration(now_s)} into the run</title>
          </line>
        ) : null}
      </g>
    </svg>
  );
}
