/**
 * The learning curves in SVG: the picked metric over steps, one line per job in its series colour; the selected job's
 * line on top and thicker, the others faded while one is selected. Clicking a line selects its job. Geometry comes
 * from ./curve-geometry.ts.
 */
import * as React from 'react';
import { formatValue, TRAIN_LOSS } from '../../models/leaderboard';
import { curveLayout, ISeries, rungLines } from './curve-geometry';
import { PlotAxes } from './plot-axes';

export interface ILearningCurvesProps {
  series: ISeries[];
  metric: string;
  colorOf: (task: string) => number;
  selected: string | null;
  best: string | null;
  onSelect: (task: string) => void;
  log: boolean;
  onLog: (log: boolean) => void;
  width: number;
  height?: number;
  /** Early stopping: the rung steps (a vertical line each). */
  rungs?: number[];
  /** Early stopping: task → the rung it was stopped at (its curve ends there with a square). */
  stopped?: ReadonlyMap<string, number>;
}

/** Markers on every point while a line has this many points or fewer (validations); beyond, only its last one. */
const MARKERS_UP_TO = 40;

export function metricTitle(metric: string): string {
  return metric === TRAIN_LOSS ? 'training loss' : metric;
}

export function LearningCurves(props: ILearningCurvesProps): JSX.Element {
  const { series, metric, selected, best, width } = props;
  const height = props.height ?? 260;
  const layout = React.useMemo(() => curveLayout(series, width, height, props.log), [series, width, height, props.log]);
  // the selected line is drawn last (on top)
  const curves = [...layout.curves].sort((a, b) => Number(a.task === selected) - Number(b.task === selected));
  const total = layout.curves.reduce((n, c) => n + c.points.length, 0);
  const rungs = rungLines(layout, props.rungs ?? []);
  const stopped = props.stopped ?? new Map<string, number>();
  return (
    <figure className="jp-Saturn-plot jp-Saturn-curves" data-saturn-metric={metric}>
      <figcaption>
        <span>
          Learning curves: <strong>{metricTitle(metric)}</strong> over steps
        </span>
        <label className="jp-Saturn-plotOption" title={props.log && !layout.log && !layout.empty ? 'Some values are ≤ 0: shown on a linear scale' : undefined}>
          <input type="checkbox" checked={props.log} onChange={e => props.onLog(e.target.checked)} /> Log scale
        </label>
      </figcaption>
      <svg
        className="jp-Saturn-plotSvg"
        width={width}
        height={height}
        role="img"
        aria-label={`Learning curves of ${metricTitle(metric)}: ${layout.curves.length} jobs, ${total} points. The leaderboard lists the same values.`}
      >
        <PlotAxes box={layout.box} x={layout.x} y={layout.y} xTicks={layout.xTicks} yTicks={layout.yTicks} xTitle="step" yTitle={metricTitle(metric)} />
        {layout.empty ? (
          <text className="jp-Saturn-plotEmpty" x={(layout.box.left + layout.box.right) / 2} y={(layout.box.top + layout.box.bottom) / 2} textAnchor="middle">
            {metric === TRAIN_LOSS ? 'No training loss yet' : `No ${metric} yet: validations appear as the jobs run`}
          </text>
        ) : null}
        {rungs.map(r => (
          <g key={r.step} className="jp-Saturn-curveRung" data-saturn-rung-line={r.step}>
            <title>Rung at step {r.step}: jobs are judged here (early stopping)</title>
            <line x1={r.x} x2={r.x} y1={layout.box.top} y2={layout.box.bottom} />
            <text x={r.x} y={layout.box.top - 2} textAnchor="middle">
              rung {r.step}
            </text>
          </g>
        ))}
        {curves.map(c => {
          const last = c.points[c.points.length - 1];
          const on = selected === c.task;
          const stopRung = stopped.get(c.task);
          const cls = [
            'jp-Saturn-curve',
            `jp-Saturn-series-${props.colorOf(c.task)}`,
            on ? 'jp-mod-selected' : '',
            selected && !on ? 'jp-mod-faded' : '',
            best === c.task ? 'jp-Saturn-bestCurve' : ''
          ].filter(Boolean);
          return (
            <g
              key={c.task}
              className={cls.join(' ')}
              data-saturn-curve={c.task}
              data-saturn-points={c.points.length}
              data-saturn-highlighted={on ? 'true' : 'false'}
              data-saturn-stopped-rung={stopRung}
              onClick={() => props.onSelect(c.task)}
            >
              <title>
                {last ? `${c.task}: ${metricTitle(metric)} ${formatValue(last.value)} at step ${last.step}` : `${c.task}: no points yet`}
                {stopRung !== undefined ? ` (stopped early at step ${stopRung})` : ''}
              </title>
              {c.points.length > 1 ? <path className="jp-Saturn-curveHit" d={c.d} /> : null}
              {c.points.length > 1 ? <path className="jp-Saturn-curveLine" d={c.d} /> : null}
              {(c.points.length <= MARKERS_UP_TO ? c.points : last ? [last] : []).map(p =>
                stopRung !== undefined && p === last ? (
                  <rect key={p.step} className="jp-Saturn-curveStop" x={p.x - 4} y={p.y - 4} width={8} height={8} data-saturn-curve-stop={stopRung} />
                ) : (
                  <circle key={p.step} className="jp-Saturn-curveDot" cx={p.x} cy={p.y} r={on ? 3.5 : 2.5} />
                )
              )}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
