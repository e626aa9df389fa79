import * as React from 'react';
import type { Instance, Job } from '../../spase/types';
import { JobTable } from './job-table';

/** The profile: one table per task, technique × GPU count → total runtime; infeasible options greyed with the reason. */
export function ProfileTable(props: { instance: Instance | null; profiling?: boolean }): JSX.Element {
  const { instance, profiling } = props;
  if (!instance) {
    return (
      <p className="jp-Saturn-muted">
        {profiling ? 'Measuring… the table fills in when profiling finishes.' : 'No profile yet. Press Profile to measure every task with every technique and GPU count.'}
      </p>
    );
  }
  const jobs = [...instance.jobs, ...(((instance.unschedulable as Job[]) ?? []).map(j => ({ ...j, options: j.options ?? [] })))];
  if (jobs.length === 0) {
    return <p className="jp-Saturn-muted">The last profile has no task.</p>;
  }
  return (
    <div className="jp-Saturn-profile" aria-label="Profile table">
      {jobs.map(j => (
        <JobTable key={j.id} job={j} />
      ))}
    </div>
  );
}
