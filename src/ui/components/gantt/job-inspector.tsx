import * as React from 'react';
import type { Instance } from '../../../spase/types';
import { formatDelta, LOCKED_STATES, PlanModel } from '../../models/plan-model';
import { formatDuration } from './geometry';

/** The selected job: its option (from the profiled ones, each with its makespan delta), pin, and start. */
export function JobInspector(props: { model: PlanModel; instance: Instance; job: string; onClose: () => void }): JSX.Element | null {
  const { model, instance, job } = props;
  const pj = model.plan.jobs.find(j => j.id === job);
  const spec = instance.jobs.find(j => j.id === job);
  if (!pj || !spec) {
    return null;
  }
  const state = model.stateOf(job);
  const locked = LOCKED_STATES.has(state);
  const pinned = model.isPinned(job);
  const current = `${pj.parallelism}/${pj.gpus}`;
  const options = [...spec.options].sort((a, b) => a.gpus - b.gpus || a.parallelism.localeCompare(b.parallelism));
  return (
    <div className="jp-Saturn-inspector" role="region" aria-label={`Job ${job}`}>
      <div className="jp-Saturn-inspectorHead">
        <strong>{job}</strong>
        <span className={`jp-Saturn-badge jp-Saturn-state-${state}`}>{state}</span>
        <span className="jp-Saturn-muted">
          {pj.node} GPU {[...pj.gpu_ids].sort((a, b) => a - b).join(', ')} · {formatDuration(pj.start_s)}–{formatDuration(pj.end_s)}
        </span>
        <button className="jp-mod-styled jp-Saturn-close" aria-label="Close job details" onClick={props.onClose}>
          ×
        </button>
      </div>
      <label className="jp-Saturn-field">
        <span>Option</span>
        <select
          className="jp-mod-styled"
          aria-label="Technique and GPU count"
          value={current}
          disabled={locked}
          onChange={e => {
            const [parallelism, gpus] = e.target.value.split('/');
            model.apply({ kind: 'option', job, parallelism, gpus: Number(gpus) });
          }}
        >
          {options.map(o => {
            const key = `${o.parallelism}/${o.gpus}`;
            const r = key === current ? null : model.preview({ kind: 'option', job, parallelism: o.parallelism, gpus: o.gpus });
            const note = r === null ? 'current' : r.ok ? `makespan ${formatDelta(r.delta_s)}` : 'conflicts';
            return (
              <option key={key} value={key}>
                {o.parallelism} × {o.gpus} GPU{o.gpus > 1 ? 's' : ''} — {formatDuration(o.runtime_s)} ({note})
              </option>
            );
          })}
        </select>
      </label>
      <button
        className="jp-mod-styled jp-Saturn-button"
        aria-pressed={pinned}
        onClick={() => model.apply({ kind: pinned ? 'unpin' : 'pin', job })}
      >
        {pinned ? 'Unpin' : 'Pin'}
      </button>
      <span className="jp-Saturn-hint">
        {locked ? 'This job has started; it can no longer be changed.' : 'Drag the block, or focus it and use the arrow keys; P pins.'}
      </span>
    </div>
  );
}
