/**
 * Geometry of the Gantt chart as pure functions: time ↔ pixel, lane layout, hit-testing, snapping and
 * contiguous GPU runs. No DOM, no React: the SVG components only render these. Whether jobs overlap on a GPU is plan
 * logic (../../models/conflicts.ts); durations are worded by ../../models/format.ts (re-exported here for the chart).
 */
import type { IPlacedJob } from '../../models/conflicts';

export type { IPlacedJob } from '../../models/conflicts';
export { formatDuration } from '../../models/format';

/** A linear time scale: x = x0 + (t - t0) * pxPerS. */
export interface ITimeScale {
  /** Time (s) at pixel x0. */
  t0: number;
  /** Pixels per second (> 0). */
  pxPerS: number;
  /** Pixel where t0 is drawn (left edge of the plotting area). */
  x0: number;
}

export const MIN_PX_PER_S = 1e-6;
export const MAX_PX_PER_S = 1e4;

export function timeToX(scale: ITimeScale, t: number): number {
  return scale.x0 + (t - scale.t0) * scale.pxPerS;
}

export function xToTime(scale: ITimeScale, x: number): number {
  return scale.t0 + (x - scale.x0) / scale.pxPerS;
}

/** A scale showing [t0, t1] in `width` pixels starting at x0 (a zero-length span shows 60 s). */
export function fitScale(t0: number, t1: number, width: number, x0 = 0): ITimeScale {
  const span = t1 > t0 ? t1 - t0 : 60;
  const pxPerS = clamp(Math.max(width, 1) / span, MIN_PX_PER_S, MAX_PX_PER_S);
  return { t0, pxPerS, x0 };
}

/** Zoom by `factor` (>1 zooms in) keeping the time under pixel `anchorX` fixed. */
export function zoomAt(scale: ITimeScale, factor: number, anchorX: number): ITimeScale {
  const anchorT = xToTime(scale, anchorX);
  const pxPerS = clamp(scale.pxPerS * factor, MIN_PX_PER_S, MAX_PX_PER_S);
  return { x0: scale.x0, pxPerS, t0: anchorT - (anchorX - scale.x0) / pxPerS };
}

/** Pan by dx pixels (positive moves the content right, i.e. shows earlier times). */
export function panBy(scale: ITimeScale, dx: number): ITimeScale {
  return { ...scale, t0: scale.t0 - dx / scale.pxPerS };
}

/** Keep the left edge at or after `minT` (e.g. a little before t = 0, so that zoom and pan never show much of the past). */
export function clampStart(scale: ITimeScale, minT: number): ITimeScale {
  return scale.t0 < minT ? { ...scale, t0: minT } : scale;
}

export function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

// -- ticks and snapping -------------------------------------------------------------------------------------------

const NICE_STEPS_S = [
  0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800,
  604800
];

/** The smallest "nice" step (s) whose ticks are at least minPx apart. */
export function niceStep(pxPerS: number, minPx = 80): number {
  for (const s of NICE_STEPS_S) {
    if (s * pxPerS >= minPx) {
      return s;
    }
  }
  const last = NICE_STEPS_S[NICE_STEPS_S.length - 1];
  return last * Math.ceil(minPx / (last * pxPerS));
}

/** Tick times inside [xToTime(x0), xToTime(x0 + width)]. */
export function timeTicks(scale: ITimeScale, width: number, minPx = 80): number[] {
  const step = niceStep(scale.pxPerS, minPx);
  const from = xToTime(scale, scale.x0);
  const to = xToTime(scale, scale.x0 + width);
  const ticks: number[] = [];
  for (let t = Math.ceil(from / step - 1e-9) * step; t <= to + 1e-9 && ticks.length < 1000; t += step) {
    ticks.push(round6(t));
  }
  return ticks;
}

/** Snap t to the nearest multiple of step (no snapping when step <= 0); never below `min`. */
export function snapTime(t: number, step: number, min = 0): number {
  const s = step > 0 ? Math.round(t / step) * step : t;
  return Math.max(min, round6(s));
}

/** Snap to the nearest of the given edges (e.g. other jobs' ends) when within `tolS`, else to the grid step. */
export function snapToEdges(t: number, edges: number[], tolS: number, step: number, min = 0): number {
  let best: number | null = null;
  for (const e of edges) {
    if (Math.abs(e - t) <= tolS && (best === null || Math.abs(e - t) < Math.abs(best - t))) {
      best = e;
    }
  }
  return best !== null ? Math.max(min, best) : snapTime(t, step, min);
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6 + 0;
}

// -- lanes --------------------------------------------------------------------------------------------------------

export interface INodeSpec {
  id: string;
  gpus: number;
}

export interface ILane {
  node: string;
  gpu: number;
  /** Index over all lanes, top to bottom. */
  index: number;
  y: number;
  height: number;
}

export interface ILaneGroup {
  node: string;
  y: number;
  height: number;
  lanes: ILane[];
}

export interface ILaneLayout {
  lanes: ILane[];
  groups: ILaneGroup[];
  /** Total height of all groups. */
  height: number;
  laneHeight: number;
}

/** One lane per GPU, grouped by node; each group starts with a header of `groupHeader` px. */
export function layoutLanes(nodes: INodeSpec[], laneHeight = 28, groupHeader = 18, groupGap = 6, top = 0): ILaneLayout {
  const lanes: ILane[] = [];
  const groups: ILaneGroup[] = [];
  let y = top;
  nodes.forEach((n, gi) => {
    if (gi > 0) {
      y += groupGap;
    }
    const gy = y;
    y += groupHeader;
    const gl: ILane[] = [];
    for (let g = 0; g < n.gpus; g++) {
      const lane = { node: n.id, gpu: g, index: lanes.length, y, height: laneHeight };
      lanes.push(lane);
      gl.push(lane);
      y += laneHeight;
    }
    groups.push({ node: n.id, y: gy, height: y - gy, lanes: gl });
  });
  return { lanes, groups, height: y - top, laneHeight };
}

export function findLane(layout: ILaneLayout, node: string, gpu: number): ILane | undefined {
  return layout.lanes.find(l => l.node === node && l.gpu === gpu);
}

/** The lane under pixel y, or null between groups/outside. */
export function laneAtY(layout: ILaneLayout, y: number): ILane | null {
  for (const l of layout.lanes) {
    if (y >= l.y && y < l.y + l.height) {
      return l;
    }
  }
  return null;
}

/** Sorted GPU ids split into runs of consecutive ids: [3,0,1] → [[0,1],[3]]. */
export function contiguousRuns(ids: number[]): number[][] {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const runs: number[][] = [];
  for (const g of sorted) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === g - 1) {
      last.push(g);
    } else {
      runs.push([g]);
    }
  }
  return runs;
}

export interface IRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface IBlockGeometry {
  job: string;
  /** One rectangle per contiguous run of GPU lanes. */
  rects: (IRect & { gpus: number[] })[];
}

/** Rectangles of a job: one per contiguous run of its GPU lanes (with `pad` px inset top and bottom). */
export function blockRects(job: IPlacedJob, layout: ILaneLayout, scale: ITimeScale, pad = 2): IBlockGeometry {
  const x = timeToX(scale, job.start_s);
  const width = Math.max(1, timeToX(scale, job.end_s) - x);
  const rects: IBlockGeometry['rects'] = [];
  for (const run of contiguousRuns(job.gpu_ids)) {
    const first = findLane(layout, job.node, run[0]);
    const last = findLane(layout, job.node, run[run.length - 1]);
    if (!first || !last) {
      continue;
    }
    rects.push({ x, y: first.y + pad, width, height: last.y + last.height - first.y - 2 * pad, gpus: run });
  }
  return { job: job.id, rects };
}

/** The job whose block contains (x, y), the topmost (last drawn) first. */
export function hitTestBlock(blocks: IBlockGeometry[], x: number, y: number): string | null {
  for (let i = blocks.length - 1; i >= 0; i--) {
    for (const r of blocks[i].rects) {
      if (x >= r.x && x <= r.x + r.width && y >= r.y && y <= r.y + r.height) {
        return blocks[i].job;
      }
    }
  }
  return null;
}

/**
 * GPU ids for a k-GPU job dropped on `lane`: the k consecutive ids starting at the lane, shifted up so they fit the
 * node. Null when the node has fewer than k GPUs.
 */
export function gpusForDrop(layout: ILaneLayout, node: string, gpu: number, k: number): number[] | null {
  const count = layout.lanes.filter(l => l.node === node).length;
  if (k > count || k < 1) {
    return null;
  }
  const first = clamp(gpu, 0, count - k);
  return Array.from({ length: k }, (_, i) => first + i);
}

// -- conflicts ----------------------------------------------------------------------------------------------------

/** Ends of the other jobs on the given node/GPUs: natural snapping targets for a dragged block. */
export function edgesOn(others: IPlacedJob[], node: string, gpuIds: number[], exclude: string): number[] {
  const edges = new Set<number>([0]);
  for (const o of others) {
    if (o.id === exclude || o.node !== node || !o.gpu_ids.some(g => gpuIds.includes(g))) {
      continue;
    }
    edges.add(o.end_s);
    edges.add(o.start_s);
  }
  return [...edges];
}
