import * as React from 'react';
import type { Activity } from '../models/saturn-model';

export interface IActionBarProps {
  activity: Activity;
  hasTasks: boolean;
  hasProfile: boolean;
  canRun: boolean;
  onProfile: () => void;
  onOptimize: () => void;
  onOptimizeAndRun: () => void;
  onCancel: () => void;
  /** Open the Results view (absent: no button). */
  onResults?: () => void;
}

/** The primary buttons; their accessible names are exactly Profile, Optimize, Optimize & Run, Cancel and Results. */
export function ActionBar(props: IActionBarProps): JSX.Element {
  const { activity, hasTasks, hasProfile, canRun } = props;
  const idle = activity === 'idle';
  const why = !hasTasks ? 'Register a task first' : !hasProfile ? 'Profile the tasks first' : undefined;
  return (
    <div className="jp-Saturn-actions" role="toolbar" aria-label="Saturn actions">
      <button
        className="jp-mod-styled jp-mod-accept jp-Saturn-button"
        disabled={!idle || !hasTasks}
        title={hasTasks ? 'Measure every task with every technique and GPU count' : 'Register a task first'}
        onClick={props.onProfile}
      >
        Profile
      </button>
      <button
        className="jp-mod-styled jp-mod-accept jp-Saturn-button"
        disabled={!idle || !hasProfile}
        title={why ?? 'Find the plan with the shortest makespan'}
        onClick={props.onOptimize}
      >
        Optimize
      </button>
      <button
        className="jp-mod-styled jp-mod-accept jp-Saturn-button"
        disabled={!idle || !hasProfile || !canRun}
        title={!canRun ? 'The executor is not available' : why ?? 'Optimize, then run the plan on the devices'}
        onClick={props.onOptimizeAndRun}
      >
        Optimize &amp; Run
      </button>
      <button className="jp-mod-styled jp-mod-warn jp-Saturn-button" disabled={idle} title="Stop profiling, solving or the run" onClick={props.onCancel}>
        Cancel
      </button>
      {props.onResults ? (
        <button className="jp-mod-styled jp-Saturn-button jp-Saturn-resultsButton" title="Leaderboard and learning curves of the latest run" onClick={props.onResults}>
          Results
        </button>
      ) : null}
    </div>
  );
}
