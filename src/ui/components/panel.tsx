import * as React from 'react';
import { ReactWidget } from '@jupyterlab/apputils';
import { ActionBar } from './action-bar';
import { BridgeStatus } from './bridge-status';
import { BridgeUnavailable } from './bridge-unavailable';
import { CommandIDs, ICommandRunner } from './commands';
import { DeviceList } from './device-list';
import { saturnIcon } from './icons';
import { ISaturnSettings } from '../models/interfaces';
import { PlanSummary } from './plan-summary';
import { ProfileProgress } from './profile-progress';
import { ProfileTable } from './profile-table';
import { Section } from './section';
import type { SaturnModel } from '../models/saturn-model';
import { SolverSettings } from './solver-settings';
import { TaskList } from './task-list';
import { useSignal } from './use-signal';

export interface IPanelViewProps {
  model: SaturnModel;
  commands: ICommandRunner;
  /** Persist a settings change (the settings registry); the model is updated by the registry's signal. */
  onSettings: (patch: Partial<ISaturnSettings>) => void;
}

/** The Saturn side panel. */
export function PanelView(props: IPanelViewProps): JSX.Element {
  const { model, commands } = props;
  useSignal(model.changed);
  useSignal(model.planModel?.changed);
  const run = (id: string) => () => void commands.execute(id);
  const state = model.bridgeState;
  const retry = (): void => void model.refresh();
  const error = model.bridge.lastError;

  if (state === 'unavailable') {
    return (
      <div className="jp-Saturn-panelBody">
        <header className="jp-Saturn-header">
          <h2>Saturn</h2>
        </header>
        <BridgeStatus state={state} onRetry={retry} />
        <BridgeUnavailable state={state} error={error} onRetry={retry} />
      </div>
    );
  }

  const tasks = model.tasks;
  const instance = model.instance;
  const plan = model.planModel?.plan ?? null;
  const busy = new Map<number, string>();
  for (const j of model.run?.jobs ?? []) {
    if (j.state === 'running' && j.gpu_ids) {
      j.gpu_ids.forEach(g => busy.set(g, j.job));
    }
  }
  return (
    <div className="jp-Saturn-panelBody">
      <header className="jp-Saturn-header">
        <h2>Saturn</h2>
      </header>
      <BridgeStatus state={state} version={model.bridge.hello?.saturn_version} error={error} onRetry={retry} />
      <ActionBar
        activity={model.activity}
        hasTasks={!!tasks && tasks.length > 0}
        hasProfile={!!instance && instance.jobs.some(j => j.options.length > 0)}
        canRun={model.canRun}
        onProfile={run(CommandIDs.profile)}
        onOptimize={run(CommandIDs.optimize)}
        onOptimizeAndRun={run(CommandIDs.optimizeAndRun)}
        onCancel={run(CommandIDs.cancel)}
        onResults={run(CommandIDs.openResults)}
      />
      <ProfileProgress profile={model.profile} />
      <Section title="Plan">
        <PlanSummary
          plan={plan}
          yardsticks={model.yardsticks}
          run={model.run}
          solving={model.solving}
          onOpenGantt={run(CommandIDs.openGantt)}
        />
      </Section>
      <Section title="Tasks">
        <TaskList tasks={tasks} profile={model.profile} instance={instance} />
      </Section>
      <Section title="Profile">
        <ProfileTable instance={instance} profiling={model.profile?.running} />
      </Section>
      <Section title="Solver">
        <SolverSettings settings={model.settings} onChange={props.onSettings} />
      </Section>
      <Section title="Devices">
        <DeviceList devices={model.devices} busy={busy} nodes={model.nodes} notices={model.deviceNotices} />
      </Section>
    </div>
  );
}

/** The left-sidebar panel. */
export class SaturnPanel extends ReactWidget {
  constructor(private readonly props: IPanelViewProps) {
    super();
    this.id = 'jp-saturn-panel';
    this.title.icon = saturnIcon;
    this.title.caption = 'Saturn';
    this.addClass('jp-Saturn-panel');
  }

  render(): JSX.Element {
    return <PanelView {...this.props} />;
  }
}
