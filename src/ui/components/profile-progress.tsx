import * as React from 'react';
import { formatDuration } from './gantt/geometry';
import { IProfileState } from '../models/interfaces';

/** Progress of the profiling run: a bar, trials done / total, and the ETA. */
export function ProfileProgress(props: { profile: IProfileState | null }): JSX.Element | null {
  const p = props.profile;
  if (!p || (!p.running && !p.error && !p.cancelled)) {
    return null;
  }
  if (p.error) {
    return (
      <div className="jp-Saturn-progress jp-Saturn-progress-error" role="alert">
        Profiling failed: {p.error}
      </div>
    );
  }
  if (!p.running && p.cancelled) {
    return <div className="jp-Saturn-progress jp-Saturn-muted">Profiling was cancelled; measured options are kept.</div>;
  }
  const pct = p.total > 0 ? Math.round((100 * p.done) / p.total) : 0;
  const eta = p.eta_s === null ? 'estimating…' : `about ${formatDuration(p.eta_s)} left`;
  return (
    <div className="jp-Saturn-progress" aria-live="polite">
      <div className="jp-Saturn-progressLabel">
        Profiling: {p.done} / {p.total || '?'} trials{p.cached ? ` (${p.cached} cached)` : ''} · {eta}
      </div>
      <div
        className="jp-Saturn-bar"
        role="progressbar"
        aria-label="Profiling progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
      >
        <div className="jp-Saturn-barFill" style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}
