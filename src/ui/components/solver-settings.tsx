import * as React from 'react';
import { STRATEGIES, Strategy } from '../../spase/types';
import { ISaturnSettings } from '../models/interfaces';

export interface ISolverSettingsProps {
  settings: ISaturnSettings;
  onChange: (patch: Partial<ISaturnSettings>) => void;
}

/** The solver settings most often changed, at hand in the panel (all of them are in the Settings Editor). */
export function SolverSettings(props: ISolverSettingsProps): JSX.Element {
  const { settings, onChange } = props;
  const [limit, setLimit] = React.useState(String(settings.solverTimeLimitS));
  React.useEffect(() => setLimit(String(settings.solverTimeLimitS)), [settings.solverTimeLimitS]);
  const commit = (): void => {
    const v = Number(limit);
    if (Number.isFinite(v) && v >= 0.2 && v <= 300) {
      onChange({ solverTimeLimitS: v });
    } else {
      setLimit(String(settings.solverTimeLimitS));
    }
  };
  return (
    <div className="jp-Saturn-settings">
      <label className="jp-Saturn-field">
        <span>Solver time limit (s)</span>
        <input
          className="jp-mod-styled"
          type="number"
          min={0.2}
          max={300}
          step={0.5}
          value={limit}
          onChange={e => setLimit(e.target.value)}
          onBlur={commit}
          onKeyDown={e => e.key === 'Enter' && commit()}
        />
      </label>
      <label className="jp-Saturn-field">
        <span>Strategy</span>
        <select
          className="jp-mod-styled"
          value={settings.solverStrategy}
          onChange={e => onChange({ solverStrategy: e.target.value as Strategy })}
        >
          {STRATEGIES.map(s => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label className="jp-Saturn-check">
        <input type="checkbox" checked={settings.confirmBeforeRun} onChange={e => onChange({ confirmBeforeRun: e.target.checked })} />
        <span>Confirm before running a plan</span>
      </label>
    </div>
  );
}
