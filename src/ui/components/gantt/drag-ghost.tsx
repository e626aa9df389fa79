import * as React from 'react';
import type { Plan } from '../../../spase/types';
import type { MoveEdit } from './chart-edits';
import { blockRects, ILaneLayout, ITimeScale } from './geometry';

export interface IGhost {
  edit: MoveEdit;
  /** Whether the move is valid. */
  ok: boolean;
  /** The makespan change, or why the move is refused. */
  note: string;
}

/** Where a dragged block would land: its outline (valid or conflicting) and a note beside it. */
export function DragGhost(props: { plan: Plan; ghost: IGhost; layout: ILaneLayout; scale: ITimeScale; width: number }): JSX.Element {
  const { plan, ghost, layout, scale, width } = props;
  const j = plan.jobs.find(x => x.id === ghost.edit.job)!;
  const moved = { ...j, node: ghost.edit.node ?? j.node, gpu_ids: ghost.edit.gpu_ids ?? j.gpu_ids, start_s: ghost.edit.start_s, end_s: ghost.edit.start_s + (j.end_s - j.start_s) };
  const rects = blockRects(moved, layout, scale).rects;
  const r0 = rects[0];
  const tx = r0 ? Math.min(r0.x + r0.width + 6, width - 8) : 0;
  return (
    <>
      {rects.map((r, i) => (
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
      ))}
      {r0 ? (
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
      ) : null}
    </>
  );
}
