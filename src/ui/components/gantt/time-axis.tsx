import * as React from 'react';
import { AXIS, GUTTER } from './chart-layout';
import { formatDuration, ITimeScale, timeTicks, timeToX } from './geometry';

/** The time axis: tick labels above the lanes and grid lines through them, clipped to the plotting area. */
export function TimeAxis(props: { scale: ITimeScale; width: number; plotW: number; lanesHeight: number; clipId: string }): JSX.Element {
  const { scale, width, plotW, lanesHeight } = props;
  const ticks = timeTicks({ ...scale }, plotW, 80).filter(t => timeToX(scale, t) >= GUTTER - 0.5 && timeToX(scale, t) <= width - 36);
  return (
    <g className="jp-Saturn-axis" clipPath={`url(#${props.clipId})`}>
      {ticks.map(t => {
        const x = timeToX(scale, t);
        return (
          <g key={t}>
            <line className="jp-Saturn-grid" x1={x} x2={x} y1={AXIS - 4} y2={AXIS + lanesHeight} />
            <text className="jp-Saturn-tick" x={x + 3} y={AXIS - 9}>
              {formatDuration(t)}
            </text>
          </g>
        );
      })}
    </g>
  );
}
