import { curveLayout, CURVE_MARGIN, pathOf } from '../components/results/curve-geometry';
import { axisKind, parallelLayout } from '../components/results/parallel-geometry';
import { plotWidths } from '../components/results/results-view';
import { extent, fromPx, makeScale, niceDomain, tickLabel, tickStep, toPx } from '../components/results/scales';

describe('scales', () => {
  it('maps values to pixels and back, linear and log', () => {
    const lin = makeScale([0, 100], [50, 250]);
    expect(toPx(lin, 0)).toBe(50);
    expect(toPx(lin, 50)).toBe(150);
    expect(fromPx(lin, 250)).toBe(100);
    const up = makeScale([0, 1], [200, 0]); // a y axis grows upwards
    expect(toPx(up, 1)).toBe(0);
    const log = makeScale([0.001, 1], [0, 300], true);
    expect(toPx(log, 0.01)).toBeCloseTo(100);
    expect(fromPx(log, 200)).toBeCloseTo(0.1);
    expect(toPx(makeScale([3, 3], [0, 10]), 3)).toBe(5);
  });

  it('picks 1-2-5 steps and domains that end on ticks', () => {
    expect(tickStep(1, 5)).toBeCloseTo(0.2);
    expect(tickStep(1000, 5)).toBe(200);
    expect(tickStep(7, 5)).toBe(1);
    expect(tickStep(2400, 4)).toBe(500);
    expect(niceDomain(0.23, 1.87, 4)).toEqual({ domain: [0, 2], ticks: [0, 0.5, 1, 1.5, 2] });
    expect(niceDomain(0, 2400, 4).ticks).toEqual([0, 500, 1000, 1500, 2000, 2500]);
    // one value gets room around it; a log domain ends on decades
    const one = niceDomain(2, 2, 4);
    expect(one.domain[0]).toBeLessThan(2);
    expect(one.domain[1]).toBeGreaterThan(2);
    expect(niceDomain(0.02, 3, 5, true)).toEqual({ domain: [0.01, 10], ticks: [0.01, 0.1, 1, 10] });
    // values ≤ 0 cannot go on a log scale: linear
    expect(niceDomain(-1, 1, 2, true).domain).toEqual([-1, 1]);
    expect(extent([3, NaN, -1, 7])).toEqual([-1, 7]);
    expect(extent([])).toBeNull();
  });

  it('labels ticks without float noise', () => {
    expect(tickLabel(0.30000000000000004)).toBe('0.3');
    expect(tickLabel(2500)).toBe('2500');
    expect(tickLabel(25000)).toBe('25k');
    expect(tickLabel(3e6)).toBe('3M');
    expect(tickLabel(0.0001)).toBe('1e-4');
  });
});

describe('learning curve geometry', () => {
  const series = [
    { task: 'a', points: [{ step: 0, value: 2 }, { step: 100, value: 1 }, { step: 200, value: 0.5 }] },
    { task: 'b', points: [{ step: 100, value: 1.5 }] },
    { task: 'c', points: [] }
  ];

  it('puts every job on one step scale and one metric scale inside the margins', () => {
    const l = curveLayout(series, 600, 260);
    expect(l.box).toEqual({ left: CURVE_MARGIN.left, top: CURVE_MARGIN.top, right: 600 - CURVE_MARGIN.right, bottom: 260 - CURVE_MARGIN.bottom });
    expect(l.curves.map(c => c.points.length)).toEqual([3, 1, 0]);
    const [a] = l.curves;
    expect(a.points[0].x).toBe(l.box.left); // step 0 at the left edge
    expect(a.points[2].x).toBeLessThanOrEqual(l.box.right);
    // a larger value is higher up (a smaller y)
    expect(a.points[0].y).toBeLessThan(a.points[1].y);
    for (const p of l.curves.flatMap(c => c.points)) {
      expect(p.y).toBeGreaterThanOrEqual(l.box.top);
      expect(p.y).toBeLessThanOrEqual(l.box.bottom);
    }
    expect(a.d.startsWith(`M${l.box.left.toFixed(1)} `)).toBe(true);
    expect(a.d.split('L')).toHaveLength(3);
    expect(l.curves[2].d).toBe('');
    expect(l.yTicks[0]).toBeLessThanOrEqual(0.5);
    expect(l.yTicks[l.yTicks.length - 1]).toBeGreaterThanOrEqual(2);
    expect(l.empty).toBe(false);
  });

  it('uses a log scale only when asked and every value is positive', () => {
    expect(curveLayout(series, 600, 260, true).log).toBe(true);
    const withZero = [{ task: 'z', points: [{ step: 1, value: 0 }, { step: 2, value: 1 }] }];
    expect(curveLayout(withZero, 600, 260, true).log).toBe(false);
    const none = curveLayout([{ task: 'x', points: [] }], 600, 260);
    expect(none.empty).toBe(true);
    expect(pathOf([{ x: 1, y: 2 }, { x: 3.25, y: 4 }])).toBe('M1.0 2.0 L3.3 4.0');
  });
});

describe('parallel coordinates geometry', () => {
  const rows = [
    { task: 'lr0.001-bs8', hparams: { lr: 0.001, batch_size: 8, opt: 'sgd' }, value: 0.9 },
    { task: 'lr0.01-bs8', hparams: { lr: 0.01, batch_size: 8, opt: 'adam' }, value: 0.5 },
    { task: 'lr0.1-bs16', hparams: { lr: 0.1, batch_size: 16, opt: 'sgd' }, value: null }
  ];

  it('chooses an axis kind per hyper-parameter', () => {
    expect(axisKind([0.001, 0.01, 0.1])).toBe('log');
    expect(axisKind([8, 16])).toBe('linear');
    expect(axisKind(['sgd', 'adam'])).toBe('category');
  });

  it('lays the axes out left to right, the metric last with the better values on top', () => {
    const l = parallelLayout({ rows, hparams: ['lr', 'batch_size', 'opt'], metric: 'val_loss', mode: 'min' }, 640, 260);
    expect(l.axes.map(a => a.name)).toEqual(['lr', 'batch_size', 'opt', 'val_loss']);
    expect(l.axes.map(a => a.kind)).toEqual(['log', 'linear', 'category', 'linear']);
    const xs = l.axes.map(a => a.x);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    // a grid's settings are the ticks; the log axis spaces 0.001, 0.01, 0.1 evenly
    const lr = l.axes[0];
    expect(lr.ticks.map(t => t.label)).toEqual(['0.001', '0.01', '0.1']);
    expect(lr.ticks[0].y - lr.ticks[1].y).toBeCloseTo(lr.ticks[1].y - lr.ticks[2].y);
    expect(lr.y(0.1)).toBe(l.top);
    // val_loss is better when lower: 0.5 is above 0.9
    const metric = l.axes[3];
    expect(metric.y(0.5)!).toBeLessThan(metric.y(0.9)!);
    expect(metric.label).toContain('better ↑');
    // a task without a value yet stops at the last hyper-parameter axis
    expect(l.lines.map(line => line.points.length)).toEqual([4, 4, 3]);
  });

  it('puts a metric where higher is better the other way up', () => {
    const l = parallelLayout({ rows, hparams: ['lr'], metric: 'val_acc', mode: 'max' }, 400, 200);
    const m = l.axes[1];
    expect(m.y(0.9)!).toBeLessThan(m.y(0.5)!);
  });
});

describe('plot widths', () => {
  it('places the two plots side by side when both get 420 px, else one above the other', () => {
    expect(plotWidths(1200, true).curves + plotWidths(1200, true).parallel).toBeLessThanOrEqual(1200 - 26);
    expect(plotWidths(1200, true).parallel).toBeGreaterThanOrEqual(420);
    expect(plotWidths(700, true)).toEqual({ curves: 674, parallel: 674 });
    expect(plotWidths(700, false)).toEqual({ curves: 674, parallel: 0 });
  });
});
