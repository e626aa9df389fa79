import * as React from 'react';
import type { Job } from '../../spase/types';
import { IInfeasible } from '../models/interfaces';
import { formatDuration } from './gantt/geometry';

interface ICell {
  runtime?: number;
  reason?: string;
}

/** technique → GPU count → cell, for one profiled job. */
export function profileGrid(job: Job): { techniques: string[]; gpus: number[]; cells: Map<string, ICell> } {
  const cells = new Map<string, ICell>();
  const infeasible = ((job.infeasible as IInfeasible[]) ?? []).filter(x => x && typeof x.gpus === 'number');
  for (const i of infeasible) {
    cells.set(`${i.parallelism}/${i.gpus}`, { reason: i.reason });
  }
  for (const o of job.options) {
    cells.set(`${o.parallelism}/${o.gpus}`, { runtime: o.runtime_s });
  }
  const techniques = [...new Set([...job.options.map(o => o.parallelism), ...infeasible.map(i => i.parallelism)])].sort();
  const gpus = [...new Set([...job.options.map(o => o.gpus), ...infeasible.map(i => i.gpus)])].sort((a, b) => a - b);
  return { techniques, gpus, cells };
}

function shortReason(reason: string): string {
  const first = reason.split('\n')[0];
  return first.length > 90 ? `${first.slice(0, 87)}…` : first;
}

/** One profiled task: technique × GPU count → total runtime, infeasible options greyed, and why. */
export function JobTable(props: { job: Job }): JSX.Element {
  const { job } = props;
  const { techniques, gpus, cells } = profileGrid(job);
  const best = job.options.length ? Math.min(...job.options.map(o => o.runtime_s)) : null;
  return (
    <div className="jp-Saturn-profileJob" data-saturn-profile-job={job.id}>
      <table className="jp-Saturn-table jp-Saturn-profileTable">
        <caption>{job.id}</caption>
        <thead>
          <tr>
            <th scope="col">Technique</th>
            {gpus.map(g => (
              <th scope="col" key={g}>
                {g} GPU{g > 1 ? 's' : ''}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {techniques.map(t => (
            <tr key={t}>
              <th scope="row">{t}</th>
              {gpus.map(g => {
                const c = cells.get(`${t}/${g}`);
                if (!c) {
                  return (
                    <td key={g} className="jp-Saturn-cell-none">
                      –
                    </td>
                  );
                }
                if (c.runtime === undefined) {
                  return (
                    <td key={g} className="jp-Saturn-cell-infeasible" title={c.reason} data-saturn-option={`${t}/${g}`}>
                      <span aria-label={`infeasible: ${c.reason}`}>infeasible</span>
                    </td>
                  );
                }
                return (
                  <td
                    key={g}
                    className={`jp-Saturn-cell-feasible${c.runtime === best ? ' jp-Saturn-cell-best' : ''}`}
                    data-saturn-option={`${t}/${g}`}
                  >
                    {formatDuration(c.runtime)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      {[...cells.entries()].some(([, c]) => c.reason) ? (
        <details className="jp-Saturn-reasons">
          <summary>Why some options are infeasible</summary>
          <ul>
            {[...cells.entries()]
              .filter(([, c]) => c.reason)
              .map(([k, c]) => (
                <li key={k}>
                  <strong>{k.replace('/', ' on ')} GPU(s)</strong>: {shortReason(c.reason!)}
                </li>
              ))}
          </ul>
        </details>
      ) : null}
    </div>
  );
}
