import * as React from 'react';
import type { Plan } from '../../../spase/types';
import { stateWithRung } from '../../models/early-stopping';
import type { IJobStatus } from '../../models/interfaces';
import { formatDuration } from './geometry';

export interface IPlanTableProps {
  plan: Plan;
  stateOf: (job: string) => string;
  isPinned: (job: string) => boolean;
  statuses: Map<string, IJobStatus>;
  selected: string | null;
  onSelect: (job: string) => void;
}

/** The plan as a table: the chart's text alternative, also the keyboard way to pick a job. */
export function PlanTable(props: IPlanTableProps): JSX.Element {
  const { plan, stateOf, isPinned, statuses, selected } = props;
  const jobs = [...plan.jobs].sort((a, b) => a.start_s - b.start_s || a.id.localeCompare(b.id));
  return (
    <table className="jp-Saturn-table jp-Saturn-planTable" aria-label="Plan as a table">
      <thead>
        <tr>
          <th scope="col">Job</th>
          <th scope="col">Technique</th>
          <th scope="col">GPUs</th>
          <th scope="col">Node</th>
          <th scope="col">GPU ids</th>
          <th scope="col">Start</th>
          <th scope="col">End</th>
          <th scope="col">Duration</th>
          <th scope="col">State</th>
        </tr>
      </thead>
      <tbody>
        {jobs.map(j => {
          const st = stateOf(j.id);
          const p = statuses.get(j.id)?.progress;
          const rungs = statuses.get(j.id)?.rungs;
          return (
            <tr key={j.id} data-saturn-row={j.id} className={selected === j.id ? 'jp-mod-selected' : ''}>
              <th scope="row">
                <button className="jp-Saturn-linkButton" onClick={() => props.onSelect(j.id)} aria-pressed={selected === j.id}>
                  {j.id}
                </button>
                {isPinned(j.id) ? <span className="jp-Saturn-pinTag"> (pinned)</span> : null}
              </th>
              <td>{j.parallelism}</td>
              <td>{j.gpus}</td>
              <td>{j.node}</td>
              <td>{[...j.gpu_ids].sort((a, b) => a - b).join(', ')}</td>
              <td>{formatDuration(j.start_s)}</td>
              <td>{formatDuration(j.end_s)}</td>
              <td>{formatDuration(j.end_s - j.start_s)}</td>
              <td className={`jp-Saturn-stateCell jp-Saturn-state-${st}`} data-saturn-state={st}>
                {stateWithRung(st, rungs)}
                {rungs?.promoted.length ? ` (promoted at ${rungs.promoted.map(x => x.rung).join(', ')})` : ''}
                {st === 'running' && p !== undefined ? ` (${Math.round(p * 100)}%)` : ''}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
