/**
 * The leaderboard: one row per task, sortable by any column (its header is a button; aria-sort says how), the best
 * row for the picked metric marked, the selected row highlighted. Rows are selected with a click or the keyboard
 * (Tab reaches the table, arrows move, Home/End jump, Enter or Space select).
 */
import * as React from 'react';
import type { ResultRow } from '../../../bridge/wire';
import { IJobRungs, stateWithRung } from '../../models/early-stopping';
import { formatDuration } from '../../models/format';
import { cellValue, formatValue, IColumn, ISort } from '../../models/leaderboard';

export interface ILeaderboardProps {
  /** Rows in display order (sorted already). */
  rows: ResultRow[];
  columns: IColumn[];
  sort: ISort;
  onSort: (col: IColumn) => void;
  /** The picked metric (its columns are emphasised). */
  metric: string;
  best: string | null;
  selected: string | null;
  onSelect: (task: string) => void;
  colorOf: (task: string) => number;
  /** Early stopping: a task's rungs (its state then says where it stopped or waits). */
  rungsOf?: (task: string) => IJobRungs | undefined;
}

function cellText(col: IColumn, v: string | number | null): string {
  if (col.kind === 'duration') {
    return typeof v === 'number' ? formatDuration(v) : '–';
  }
  return formatValue(v);
}

export function LeaderboardTable(props: ILeaderboardProps): JSX.Element {
  const { rows, columns, sort, metric, best, selected } = props;
  const body = React.useRef<HTMLTableSectionElement>(null);
  const rowOf = (task: string | null): HTMLElement | undefined =>
    Array.from(body.current?.querySelectorAll<HTMLElement>('tr[data-saturn-result-row]') ?? []).find(tr => tr.dataset.saturnResultRow === task);
  const focusRow = (task: string): void => rowOf(task)?.focus();
  // a job selected elsewhere (the Gantt chart, a curve) scrolls into view; the effect returns nothing (newer
  // browsers return a Promise from scrollIntoView, which React would take for a clean-up function)
  React.useEffect(() => {
    rowOf(selected)?.scrollIntoView?.({ block: 'nearest' });
  }, [selected]);
  const onKey = (e: React.KeyboardEvent, i: number): void => {
    const to = e.key === 'ArrowDown' ? i + 1 : e.key === 'ArrowUp' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? rows.length - 1 : null;
    if (to !== null) {
      e.preventDefault();
      const row = rows[Math.max(0, Math.min(rows.length - 1, to))];
      props.onSelect(row.task);
      focusRow(row.task);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      props.onSelect(rows[i].task);
    }
  };
  const tabStop = rows.some(r => r.task === selected) ? selected : rows[0]?.task;
  // a validation metric's two columns (last, best) go under one header with the metric's name
  const groups = [...new Set(columns.filter(c => c.short).map(c => c.metric!))];
  const grouped = groups.length > 0;
  const head = (c: IColumn, rowSpan?: number): JSX.Element => {
    const on = sort.key === c.key;
    return (
      <th
        key={c.key}
        scope="col"
        rowSpan={rowSpan}
        aria-sort={on ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
        className={c.metric === metric ? 'jp-Saturn-metricCol' : undefined}
        data-saturn-col={c.key}
      >
        <button className="jp-Saturn-sortButton" onClick={() => props.onSort(c)} title={`Sort by ${c.label}`} aria-label={c.short ? c.label : undefined}>
          {c.short ?? c.label}
          <span className="jp-Saturn-sortMark" aria-hidden="true">
            {on ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
          </span>
        </button>
      </th>
    );
  };
  return (
    <table className="jp-Saturn-table jp-Saturn-leaderboard" role="grid" aria-label="Leaderboard">
      <thead>
        <tr>
          {columns.filter(c => !c.short).map(c => head(c, grouped ? 2 : undefined))}
          {groups.map(m => (
            <th key={`group:${m}`} scope="colgroup" colSpan={2} className={m === metric ? 'jp-Saturn-metricCol jp-Saturn-metricGroup' : 'jp-Saturn-metricGroup'}>
              {m}
            </th>
          ))}
        </tr>
        {grouped ? <tr>{columns.filter(c => c.short).map(c => head(c))}</tr> : null}
      </thead>
      <tbody ref={body}>
        {rows.map((r, i) => {
          const on = r.task === selected;
          const isBest = r.task === best;
          const rungs = props.rungsOf?.(r.task);
          const stoppedAt = rungs?.stopped?.rung;
          return (
            <tr
              key={r.task}
              data-saturn-result-row={r.task}
              data-saturn-state={r.state}
              data-saturn-best={isBest ? 'true' : 'false'}
              data-saturn-selected={on ? 'true' : 'false'}
              data-saturn-stopped-rung={stoppedAt}
              aria-selected={on}
              tabIndex={r.task === tabStop ? 0 : -1}
              className={[on ? 'jp-mod-selected' : '', isBest ? 'jp-Saturn-bestRow' : '', r.state === 'stopped_early' ? 'jp-Saturn-stoppedRow' : ''].filter(Boolean).join(' ') || undefined}
              onClick={() => props.onSelect(r.task)}
              onKeyDown={e => onKey(e, i)}
            >
              {columns.map(c => {
                const v = cellValue(r, c.key);
                const cls = [c.metric === metric ? 'jp-Saturn-metricCol' : '', c.key === 'state' ? `jp-Saturn-stateCell jp-Saturn-state-${r.state}` : '']
                  .filter(Boolean)
                  .join(' ');
                if (c.key === 'task') {
                  return (
                    <th key={c.key} scope="row" data-saturn-cell="task">
                      <span className={`jp-Saturn-swatch jp-Saturn-series-${props.colorOf(r.task)}`} aria-hidden="true" />
                      {r.task}
                      {isBest ? (
                        <span className="jp-Saturn-bestMark" title={`Best by ${metric}`} aria-label={`best by ${metric}`}>
                          {' '}
                          ★ best
                        </span>
                      ) : null}
                    </th>
                  );
                }
                return (
                  <td key={c.key} className={cls || undefined} data-saturn-cell={c.key} data-saturn-value={v ?? ''}>
                    {c.key === 'state' ? stateWithRung(r.state, rungs) : cellText(c, v)}
                  </td>
                );
              })}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
