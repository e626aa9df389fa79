/**
 * Parallel coordinates in SVG: the grid's hyper-parameters and the picked metric as vertical axes, one line per task
 * in its series colour, the best task's line marked, the selected one on top. Clicking a line selects its job.
 * Geometry comes from ./parallel-geometry.ts.
 */
import * as React from 'react';
import { formatValue } from '../../models/leaderboard';
import type { MetricMode } from '../../models/results-state';
import { metricTitle } from './learning-curves';
import { parallelLayout } from './parallel-geometry';

export interface IParallelCoordsProps {
  rows: { task: string; hparams: Record<string, unknown>; value: number | null }[];
  hparams: string[];
  metric: string;
  mode: MetricMode;
  colorOf: (task: string) => number;
  selected: string | null;
  best: string | null;
  onSelect: (task: string) => void;
  width: number;
  height?: number;
}

export function ParallelCoords(props: IParallelCoordsProps): JSX.Element {
  const { rows, hparams, metric, mode, selected, best, width } = props;
  const height = props.height ?? 260;
  const layout = React.useMemo(() => parallelLayout({ rows, hparams, metric, mode }, width, height), [rows, hparams, metric, mode, width, height]);
  const byTask = new Map(rows.map(r => [r.task, r.hparams]));
  const lines = [...layout.lines].sort((a, b) => Number(a.task === selected) - Number(b.task === selected) || Number(a.task === best) - Number(b.task === best));
  return (
    <figure className="jp-Saturn-plot jp-Saturn-parallel">
      <figcaption>
        <span>
          Hyper-parameters against <strong>{metricTitle(metric)}</strong>
        </span>
      </figcaption>
      <svg
        className="jp-Saturn-plotSvg"
        width={width}
        height={height}
        role="img"
        aria-label={`Parallel coordinates: ${hparams.join(', ')} and ${metricTitle(metric)} of ${rows.length} tasks. The leaderboard lists the same values.`}
      >
        {lines.map(l => {
          const on = l.task === selected;
          const cls = [
            'jp-Saturn-pcLine',
            `jp-Saturn-series-${props.colorOf(l.task)}`,
            on ? 'jp-mod-selected' : '',
            selected && !on ? 'jp-mod-faded' : '',
            l.task === best ? 'jp-Saturn-bestCurve' : ''
          ].filter(Boolean);
          return (
            <g
              key={l.task}
              className={cls.join(' ')}
              data-saturn-pc-line={l.task}
              data-saturn-highlighted={on ? 'true' : 'false'}
              onClick={() => props.onSelect(l.task)}
            >
              <title>{`${l.task}: ${hparams.map(h => `${h} ${formatValue(byTask.get(l.task)?.[h] as any)}`).join(', ')}, ${metricTitle(metric)} ${formatValue(l.value)}`}</title>
              <path className="jp-Saturn-curveHit" d={l.d} />
              <path className="jp-Saturn-curveLine" d={l.d} />
              {l.points.map((p, i) => (
                <circle key={i} className="jp-Saturn-curveDot" cx={p.x} cy={p.y} r={on ? 3.5 : 2.5} />
              ))}
            </g>
          );
        })}
        {layout.axes.map((a, i) => (
          // ticks left of a hyper-parameter's axis, right of the metric's (the last): clear of the lines
          <g key={a.name} className="jp-Saturn-pcAxis" data-saturn-axis={a.name} data-saturn-axis-kind={a.kind} aria-hidden="true">
            <line className="jp-Saturn-plotAxis" x1={a.x} x2={a.x} y1={layout.top} y2={layout.bottom} />
            <text className="jp-Saturn-plotTitle" x={a.x} y={layout.top - 14} textAnchor="middle">
              {a.label}
              {a.kind === 'log' ? ' (log)' : ''}
            </text>
            {a.ticks.map(t => (
              <g key={`${t.label}-${t.y}`}>
                <line className="jp-Saturn-plotAxis" x1={a.x - 3} x2={a.x + 3} y1={t.y} y2={t.y} />
                <text
                  className="jp-Saturn-plotTick jp-Saturn-pcTick"
                  x={i === layout.axes.length - 1 ? a.x + 6 : a.x - 6}
                  y={t.y + 4}
                  textAnchor={i === layout.axes.length - 1 ? 'start' : 'end'}
                >
                  {t.label}
                </text>
              </g>
            ))}
          </g>
        ))}
      </svg>
    </figure>
  );
}
