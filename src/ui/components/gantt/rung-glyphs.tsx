/**
 * Early stopping on a Gantt block, drawn: a rung on the planned block (a line across it, a glyph at its top) and the
 * stretches the job really held its GPUs (a bar each under the block, its rung's glyph at its end). Glyphs: ▲
 * promoted, ■ stopped early, ○ waiting for the decision, • reported; a dashed line is a rung not reached yet.
 * Positions come from ./rung-marks.ts.
 */
import * as React from 'react';
import type { RungOutcome } from '../../models/early-stopping';
import type { IRungMark, ISegmentBar } from './rung-marks';

/** The glyph of a rung's outcome centred on x, its top at y (size: its width in px). */
function Glyph(props: { outcome: RungOutcome; x: number; y: number; size?: number }): JSX.Element | null {
  const { outcome, x, y } = props;
  const h = (props.size ?? 9) / 2;
  switch (outcome) {
    case 'promoted':
      return <path className="jp-Saturn-rungGlyph" d={`M${x - h} ${y + 2 * h - 1} L${x} ${y} L${x + h} ${y + 2 * h - 1} Z`} />;
    case 'stopped':
      return <rect className="jp-Saturn-rungGlyph" x={x - h + 0.5} y={y} width={2 * h - 1} height={2 * h - 1} rx={1} />;
    case 'waiting':
    case 'reported':
      return <circle className="jp-Saturn-rungGlyph" cx={x} cy={y + h - 0.5} r={h - 1.2} />;
    default:
      return null;
  }
}

/** A rung on the planned block. */
export function RungMark(props: { mark: IRungMark; y: number; height: number }): JSX.Element {
  const { mark: m, y, height } = props;
  return (
    <g
      className={`jp-Saturn-rungMark jp-Saturn-rung-${m.outcome}`}
      data-saturn-rung={m.step}
      data-saturn-rung-outcome={m.outcome}
      data-saturn-rung-on="plan"
      data-saturn-promoted={m.outcome === 'promoted' ? 'true' : undefined}
    >
      <title>{m.title}</title>
      <line className="jp-Saturn-rungLine" x1={m.x} x2={m.x} y1={y + 1} y2={y + height - 1} />
      <Glyph outcome={m.outcome} x={m.x} y={y + 1.5} />
    </g>
  );
}

/** The stretches the job really held its GPUs, under its block (bottom `y`), each with its rung's mark. */
export function SegmentBars(props: { bars: ISegmentBar[]; bottom: number }): JSX.Element {
  const { bars, bottom } = props;
  return (
    <>
      {bars.map((b, i) => (
        <g key={i} className="jp-Saturn-segment" data-saturn-segment={i}>
          <rect
            className="jp-Saturn-actual"
            data-saturn-actual-start={b.start_s}
            data-saturn-actual-end={b.end_s ?? undefined}
            x={b.x}
            y={bottom - 6}
            width={b.width}
            height={5}
            rx={2}
          >
            <title>{b.title}</title>
          </rect>
          {b.rung ? (
            <g
              className={`jp-Saturn-rungMark jp-Saturn-rung-${b.rung.outcome}`}
              data-saturn-rung={b.rung.step}
              data-saturn-rung-outcome={b.rung.outcome}
              data-saturn-rung-on="real"
              data-saturn-promoted={b.rung.outcome === 'promoted' ? 'true' : undefined}
            >
              <title>{b.title}</title>
              <line className="jp-Saturn-rungLine" x1={b.x + b.width} x2={b.x + b.width} y1={bottom - 14} y2={bottom} />
              <Glyph outcome={b.rung.outcome} x={b.x + b.width} y={bottom - 15} size={8} />
            </g>
          ) : null}
        </g>
      ))}
    </>
  );
}
