/** The frame of an x/y plot: grid lines, ticks with their labels, and the two axis titles. */
import * as React from 'react';
import type { IPlotBox } from './curve-geometry';
import { IScale, tickLabel, toPx } from './scales';

export interface IPlotAxesProps {
  box: IPlotBox;
  x: IScale;
  y: IScale;
  xTicks: number[];
  yTicks: number[];
  xTitle: string;
  yTitle: string;
}

export function PlotAxes(props: IPlotAxesProps): JSX.Element {
  const { box, x, y, xTicks, yTicks } = props;
  return (
    <g className="jp-Saturn-plotAxes" aria-hidden="true">
      <rect className="jp-Saturn-plotBg" x={box.left} y={box.top} width={box.right - box.left} height={box.bottom - box.top} />
      {yTicks.map(v => {
        const py = toPx(y, v);
        return (
          <g key={`y${v}`}>
            <line className="jp-Saturn-plotGrid" x1={box.left} x2={box.right} y1={py} y2={py} />
            <text className="jp-Saturn-plotTick" x={box.left - 6} y={py + 4} textAnchor="end">
              {tickLabel(v)}
            </text>
          </g>
        );
      })}
      {xTicks.map(v => {
        const px = toPx(x, v);
        return (
          <g key={`x${v}`}>
            <line className="jp-Saturn-plotGrid" x1={px} x2={px} y1={box.top} y2={box.bottom} />
            <text className="jp-Saturn-plotTick" x={px} y={box.bottom + 14} textAnchor="middle">
              {tickLabel(v)}
            </text>
          </g>
        );
      })}
      <line className="jp-Saturn-plotAxis" x1={box.left} x2={box.right} y1={box.bottom} y2={box.bottom} />
      <line className="jp-Saturn-plotAxis" x1={box.left} x2={box.left} y1={box.top} y2={box.bottom} />
      <text className="jp-Saturn-plotTitle" x={(box.left + box.right) / 2} y={box.bottom + 30} textAnchor="middle">
        {props.xTitle}
      </text>
      <text
        className="jp-Saturn-plotTitle"
        transform={`translate(${box.left - 44}, ${(box.top + box.bottom) / 2}) rotate(-90)`}
        textAnchor="middle"
      >
        {props.yTitle}
      </text>
    </g>
  );
}
