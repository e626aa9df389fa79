import {
  blockRects,
  contiguousRuns,
  fitScale,
  formatDuration,
  gpusForDrop,
  hitTestBlock,
  laneAtY,
  layoutLanes,
  niceStep,
  panBy,
  snapTime,
  snapToEdges,
  timeTicks,
  timeToX,
  xToTime,
  zoomAt
} from '../components/gantt/geometry';

describe('time scale', () => {
  it('maps time to pixels and back', () => {
    const s = fitScale(0, 100, 500, 40);
    expect(timeToX(s, 0)).toBe(40);
    expect(timeToX(s, 100)).toBe(540);
    expect(xToTime(s, 290)).toBeCloseTo(50);
  });

  it('zooms around the anchor and pans', () => {
    const s = fitScale(0, 100, 500, 0);
    const z = zoomAt(s, 2, 250);
    expect(z.pxPerS).toBe(10);
    expect(xToTime(z, 250)).toBeCloseTo(50);
    const p = panBy(z, 100);
    expect(xToTime(p, 250)).toBeCloseTo(40);
  });

  it('shows a minute for an empty span', () => {
    expect(fitScale(5, 5, 600).pxPerS).toBe(10);
  });

  it('picks nice tick steps at least minPx apart', () => {
    expect(niceStep(1, 80)).toBe(120);
    expect(niceStep(10, 80)).toBe(10);
    const ticks = timeTicks(fitScale(0, 100, 500), 500, 80);
    expect(ticks[0]).toBe(0);
    expect(ticks[1] - ticks[0]).toBe(30);
    expect(ticks[ticks.length - 1]).toBeLessThanOrEqual(100);
  });

  it('snaps to the grid or to nearby edges, never below zero', () => {
    expect(snapTime(13, 5)).toBe(15);
    expect(snapTime(-3, 5)).toBe(0);
    expect(snapTime(7.3, 0)).toBe(7.3);
    expect(snapToEdges(98, [100, 150], 5, 10)).toBe(100);
    expect(snapToEdges(120, [100, 150], 5, 10)).toBe(120);
  });

  it('formats durations', () => {
    expect(formatDuration(42)).toBe('42s');
    expect(formatDuration(185)).toBe('3m 05s');
    expect(formatDuration(3720)).toBe('1h 02m');
    expect(formatDuration(0.5)).toBe('0.5s');
    expect(formatDuration(-65)).toBe('-1m 05s');
  });
});

describe('lanes', () => {
  const layout = layoutLanes(
    [
      { id: 'n0', gpus: 2 },
      { id: 'n1', gpus: 3 }
    ],
    20,
    10,
    5
  );

  it('lays out one lane per GPU grouped by node', () => {
    expect(layout.lanes).toHaveLength(5);
    expect(layout.groups.map(g => g.node)).toEqual(['n0', 'n1']);
    expect(layout.lanes[0]).toMatchObject({ node: 'n0', gpu: 0, y: 10 });
    expect(layout.lanes[2]).toMatchObject({ node: 'n1', gpu: 0, y: 10 + 40 + 5 + 10 });
    expect(layout.height).toBe(10 + 40 + 5 + 10 + 60);
  });

  it('hit-tests lanes, with nothing in headers', () => {
    expect(laneAtY(layout, 12)).toMatchObject({ node: 'n0', gpu: 0 });
    expect(laneAtY(layout, 31)).toMatchObject({ node: 'n0', gpu: 1 });
    expect(laneAtY(layout, 5)).toBeNull();
    expect(laneAtY(layout, 1000)).toBeNull();
  });

  it('splits GPU ids into contiguous runs', () => {
    expect(contiguousRuns([3, 0, 1])).toEqual([[0, 1], [3]]);
    expect(contiguousRuns([2])).toEqual([[2]]);
    expect(contiguousRuns([])).toEqual([]);
  });

  it('draws a k-GPU job as one rect per contiguous run of lanes', () => {
    const scale = fitScale(0, 100, 100, 0);
    const contiguous = blockRects({ id: 'a', node: 'n1', gpu_ids: [0, 1, 2], start_s: 10, end_s: 30 }, layout, scale, 0);
    expect(contiguous.rects).toHaveLength(1);
    expect(contiguous.rects[0]).toMatchObject({ x: 10, width: 20, height: 60, gpus: [0, 1, 2] });
    const split = blockRects({ id: 'b', node: 'n1', gpu_ids: [2, 0], start_s: 0, end_s: 50 }, layout, scale, 0);
    expect(split.rects.map(r => r.gpus)).toEqual([[0], [2]]);
    expect(hitTestBlock([contiguous, split], 20, layout.lanes[3].y + 1)).toBe('a');
    expect(hitTestBlock([contiguous], 50, layout.lanes[3].y + 1)).toBeNull();
  });

  it('places a dropped k-GPU job on k consecutive GPUs of the node', () => {
    expect(gpusForDrop(layout, 'n1', 0, 2)).toEqual([0, 1]);
    expect(gpusForDrop(layout, 'n1', 2, 2)).toEqual([1, 2]);
    expect(gpusForDrop(layout, 'n0', 0, 3)).toBeNull();
  });
});
