import * as React from 'react';
import type { Plan } from '../../spase/types';
import { formatDuration } from './gantt/geometry';
import { IRunSnapshot } from '../models/interfaces';
import type { IYardsticks } from '../models/saturn-model';

/** "1.42× faster than current practice (−3m 10s)" */
export function gainText(makespan: number, currentPractice: number | null): string | null {
  if (currentPractice === null || !(makespan > 0)) {
    return null;
  }
  const ratio = currentPractice / makespan;
  const saved = currentPractice - makespan;
  if (Math.abs(saved) < 0.05) {
    return 'same as current practice';
  }
  return `${ratio.toFixed(2)}× ${saved > 0 ? 'faster' : 'slower'} than current practice (${formatDuration(currentPractice)})`;
}

export interface IPlanSummaryProps {
  plan: Plan | null;
  yardsticks: IYardsticks;
  run: IRunSnapshot | null;
  solving: boolean;
  onOpenGantt: () => void;
}

/** Makespan, lower bound, gain vs current practice; the run's state; a button to the chart. */
export function PlanSummary(props: IPlanSummaryProps): JSX.Element {
  const { plan, yardsticks, run, solving } = props;
  if (!plan) {
    return <p className="jp-Saturn-muted">{solving ? 'Solving… the first plan appears in a moment.' : 'No plan yet. Press Optimize once the tasks are profiled.'}</p>;
  }
  const gain = gainText(plan.makespan_s, yardsticks.currentPractice);
  const done = run ? run.jobs.filter(j => j.state === 'done').length : 0;
  const failed = run ? run.jobs.filter(j => j.state === 'failed').length : 0;
  const stopped = run ? run.jobs.filter(j => j.state === 'stopped_early').length : 0;
  const more = `${stopped ? `, ${stopped} stopped early` : ''}${failed ? `, ${failed} failed` : ''}`;
  return (
    <div className="jp-Saturn-summary">
      <dl className="jp-Saturn-figures">
        <dt>Makespan</dt>
        <dd data-saturn-makespan={plan.makespan_s}>{formatDuration(plan.makespan_s)}</dd>
        {yardsticks.lowerBound !== null ? (
          <>
            <dt>Lower bound</dt>
            <dd>{formatDuration(yardsticks.lowerBound)}</dd>
          </>
        ) : null}
        {gain ? (
          <>
            <dt>Gain</dt>
            <dd>{gain}</dd>
          </>
        ) : null}
        <dt>Solver</dt>
        <dd>
          {plan.solver.name} ({solving ? 'improving…' : plan.solver.status})
        </dd>
      </dl>
      {run ? (
        <p className={`jp-Saturn-runStatus jp-Saturn-run-${run.phase}`} role="status" data-saturn-run={run.phase}>
          {run.phase === 'done'
            ? `Run complete: ${done} of ${run.jobs.length} jobs done${more}.`
            : run.phase === 'running' || run.phase === 'starting'
              ? `Running: ${done} of ${run.jobs.length} jobs done${more}.`
              : `Run ${run.phase}${run.message ? `: ${run.message}` : '.'}`}
        </p>
      ) : null}
      <button className="jp-mod-styled jp-Saturn-button" onClick={props.onOpenGantt}>
        Open Gantt chart
      </button>
    </div>
  );
}
