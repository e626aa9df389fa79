import * as React from 'react';
import { GUTTER } from './chart-layout';
import type { ILaneLayout } from './geometry';

/** The chart's lanes, one per GPU grouped by node, with their labels; pressing on them starts a pan. */
export function LaneGroups(props: { layout: ILaneLayout; plotW: number; onPointerDown: (e: React.PointerEvent) => void }): JSX.Element {
  const { layout, plotW } = props;
  return (
    <>
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
                onPointerDown={props.onPointerDown}
              />
              <text className="jp-Saturn-laneLabel" x={GUTTER - 8} y={l.y + l.height / 2 + 4} textAnchor="end">
                GPU {l.gpu}
              </text>
            </g>
          ))}
        </g>
      ))}
    </>
  );
}
