import * as React from 'react';
import type { Instance } from '../../spase/types';
import { IProfileState, ITaskInfo } from '../models/interfaces';
import { REGISTER_SNIPPET, Snippet } from './snippet';

export type TaskProfileState = 'not profiled' | 'queued' | 'profiling' | 'profiled' | 'no feasible option' | 'cancelled';

/** Where profiling stands for one task. */
export function taskProfileState(name: string, profile: IProfileState | null, instance: Instance | null): TaskProfileState {
  if (profile?.running && (profile.tasks.length === 0 || profile.tasks.includes(name))) {
    return (profile.trials[name]?.length ?? 0) > 0 ? 'profiling' : 'queued';
  }
  const job = instance?.jobs.find(j => j.id === name);
  if (job) {
    return job.options.length ? 'profiled' : 'no feasible option';
  }
  if (((instance?.unschedulable as any[]) ?? []).some(j => j.id === name)) {
    return 'no feasible option';
  }
  return 'not profiled';
}

export interface ITaskListProps {
  tasks: ITaskInfo[] | null;
  profile: IProfileState | null;
  instance: Instance | null;
}

/** The registered tasks of every kernel, with their profiling state; an empty state says how to register one. */
export function TaskList(props: ITaskListProps): JSX.Element {
  const { tasks, profile, instance } = props;
  if (tasks === null) {
    return <p className="jp-Saturn-muted">Tasks: loading…</p>;
  }
  if (tasks.length === 0) {
    return (
      <div className="jp-Saturn-empty">
        <p>
          No task registered yet. In a notebook, describe each training job as a <code>saturn.Task</code> and register
          it, for example:
        </p>
        <Snippet code={REGISTER_SNIPPET} label="Snippet to register a task" />
        <p className="jp-Saturn-hint">
          Or open <code>saturn-demo.ipynb</code> and run it. Then press <strong>Profile</strong>.
        </p>
      </div>
    );
  }
  return (
    <ul className="jp-Saturn-tasks" aria-label="Registered tasks">
      {tasks.map(t => {
        const state = taskProfileState(t.name, profile, instance);
        const trials = profile?.trials[t.name]?.length ?? 0;
        const opts = instance?.jobs.find(j => j.id === t.name)?.options.length ?? 0;
        const detail =
          state === 'profiling' ? `${trials} trial${trials === 1 ? '' : 's'} measured` : state === 'profiled' ? `${opts} feasible option${opts === 1 ? '' : 's'}` : '';
        return (
          <li key={t.name} className="jp-Saturn-task" data-saturn-task={t.name} data-saturn-profile-state={state}>
            <span className="jp-Saturn-taskName">{t.name}</span>
            <span className="jp-Saturn-taskMeta">
              batch {t.batch_size}
              {t.total_steps ? ` · ${t.total_steps} steps` : ''}
              {t.param_count ? ` · ${formatCount(t.param_count)} params` : ''}
            </span>
            <span className={`jp-Saturn-badge jp-Saturn-badge-${state.replace(/ /g, '-')}`}>{state}</span>
            {detail ? <span className="jp-Saturn-taskDetail">{detail}</span> : null}
          </li>
        );
      })}
    </ul>
  );
}

export function formatCount(n: number): string {
  if (n >= 1e9) {
    return `${(n / 1e9).toFixed(1)}B`;
  }
  if (n >= 1e6) {
    return `${(n / 1e6).toFixed(1)}M`;
  }
  if (n >= 1e3) {
    return `${(n / 1e3).toFixed(1)}k`;
  }
  return String(n);
}
