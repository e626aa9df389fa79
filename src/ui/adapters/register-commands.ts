/**
 * The Saturn commands (ids in ../components/commands.ts): what they do, when they are enabled, and where they appear (palette,
 * the chart's context menu and key bindings). The main menu's items are in schema/settings/plugin.json.
 */
import { ILabShell, JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, ICommandPalette, showDialog } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import type { GanttWidget } from '../components/gantt/gantt-view';
import type { ResultsWidget } from '../components/results/results-view';
import { formatDuration } from '../components/gantt/geometry';
import { saturnIcon } from '../components/icons';
import type { SaturnModel } from '../models/saturn-model';
import { CommandIDs, saturnLabel } from '../components/commands';
import { notifyError } from './notify';
import { registerNotebookTasks } from './register-notebook';

export interface ICommandsOptions {
  model: SaturnModel;
  labShell: ILabShell;
  /** The side panel's widget id (for Open Saturn). */
  panelId: string;
  /** Show the plan view (created when needed), activating it unless `activate` is false. */
  openGantt(activate?: boolean): GanttWidget;
  /** The plan view now open, if any. */
  currentGantt(): GanttWidget | null;
  /** Show the Results view (created when needed), activating it unless `activate` is false. */
  openResults(activate?: boolean): ResultsWidget;
  palette: ICommandPalette | null;
  notebooks: INotebookTracker | null;
}

export function registerCommands(app: JupyterFrontEnd, options: ICommandsOptions): void {
  const { commands } = app;
  const { model, labShell, openGantt, palette, notebooks } = options;
  const idle = (): boolean => model.activity === 'idle' && model.bridgeState === 'connected';
  const hasProfile = (): boolean => !!model.instance && model.instance.jobs.some(j => j.options.length > 0);
  const hasPlan = (): boolean => model.planModel !== null;

  commands.addCommand(CommandIDs.open, {
    label: args => (args.isMenu ? 'Open Saturn Panel' : 'Open Saturn'),
    caption: 'Show the Saturn panel',
    icon: saturnIcon,
    execute: () => labShell.activateById(options.panelId)
  });
  commands.addCommand(CommandIDs.profile, {
    label: saturnLabel('Profile Tasks'),
    caption: 'Measure every registered task with every technique and GPU count',
    isEnabled: () => idle() && (model.tasks?.length ?? 0) > 0,
    execute: () => model.startProfile()
  });
  commands.addCommand(CommandIDs.optimize, {
    label: saturnLabel('Optimize'),
    caption: 'Find the plan with the shortest makespan',
    isEnabled: () => idle() && hasProfile(),
    execute: () => model.optimize()
  });
  commands.addCommand(CommandIDs.optimizeAndRun, {
    label: saturnLabel('Optimize & Run'),
    caption: 'Optimize, then run the plan on the devices',
    isEnabled: () => idle() && hasProfile() && model.canRun,
    execute: async () => {
      const plan = await model.optimize();
      if (!plan) {
        return;
      }
      if (model.settings.confirmBeforeRun) {
        const r = await showDialog({
          title: 'Run this plan?',
          body: `${plan.jobs.length} jobs, planned makespan ${formatDuration(plan.makespan_s)}. Each job runs in its own kernel session.`,
          buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Run' })]
        });
        if (!r.button.accept) {
          return;
        }
      }
      await model.startRun();
    }
  });
  commands.addCommand(CommandIDs.cancel, {
    label: saturnLabel('Cancel'),
    caption: 'Stop profiling, solving or the run',
    isEnabled: () => model.activity !== 'idle',
    execute: () => model.cancel()
  });
  commands.addCommand(CommandIDs.openGantt, {
    label: saturnLabel('Open Plan (Gantt Chart)'),
    icon: saturnIcon,
    execute: args => openGantt(args.activate !== false)
  });
  commands.addCommand(CommandIDs.toggleTable, {
    label: saturnLabel('Show the Plan as a Table'),
    caption: 'Switch the plan view between the Gantt chart and its text alternative, a table',
    isToggled: () => options.currentGantt()?.view === 'table',
    execute: () => {
      const w = openGantt();
      w.view = w.view === 'table' ? 'chart' : 'table';
    }
  });
  commands.addCommand(CommandIDs.openResults, {
    label: saturnLabel('Open Results'),
    caption: 'The latest run\'s leaderboard, learning curves and hyper-parameters, linked with the Gantt chart',
    icon: saturnIcon,
    execute: args => options.openResults(args.activate !== false)
  });
  commands.addCommand(CommandIDs.reoptimize, {
    label: saturnLabel('Re-optimize (Keep Pins)'),
    isEnabled: () => idle() && hasPlan(),
    execute: () => model.optimize(true)
  });
  commands.addCommand(CommandIDs.undo, {
    label: saturnLabel('Undo Plan Edit'),
    isEnabled: () => !!model.planModel?.canUndo,
    execute: () => model.planModel?.undo()
  });
  commands.addCommand(CommandIDs.redo, {
    label: saturnLabel('Redo Plan Edit'),
    isEnabled: () => !!model.planModel?.canRedo,
    execute: () => model.planModel?.redo()
  });
  commands.addCommand(CommandIDs.refresh, {
    label: saturnLabel('Reconnect to the Bridge'),
    execute: () => model.refresh()
  });
  commands.addCommand(CommandIDs.registerNotebook, {
    label: saturnLabel('Register This Notebook\'s Tasks'),
    caption: 'Register the saturn.Task objects of this notebook (inserts and runs a %saturn register cell)',
    icon: saturnIcon,
    isEnabled: () => !!notebooks?.currentWidget,
    execute: async () => {
      const nb = notebooks?.currentWidget;
      if (nb) {
        try {
          await registerNotebookTasks(nb);
        } catch (err) {
          notifyError('Saturn could not register this notebook\'s tasks.', String((err as Error).message ?? err));
        }
      }
    }
  });
  model.changed.connect(() => commands.notifyCommandChanged());

  for (const id of [
    CommandIDs.open,
    CommandIDs.profile,
    CommandIDs.optimize,
    CommandIDs.optimizeAndRun,
    CommandIDs.cancel,
    CommandIDs.openGantt,
    CommandIDs.toggleTable,
    CommandIDs.openResults,
    CommandIDs.reoptimize,
    CommandIDs.undo,
    CommandIDs.redo,
    CommandIDs.refresh,
    CommandIDs.registerNotebook
  ]) {
    palette?.addItem({ command: id, category: 'Saturn' });
  }
  app.contextMenu.addItem({ command: CommandIDs.undo, selector: '.jp-Saturn-gantt', rank: 1 });
  app.contextMenu.addItem({ command: CommandIDs.redo, selector: '.jp-Saturn-gantt', rank: 2 });
  app.contextMenu.addItem({ command: CommandIDs.reoptimize, selector: '.jp-Saturn-gantt', rank: 3 });
  commands.addKeyBinding({ command: CommandIDs.undo, keys: ['Accel Z'], selector: '.jp-Saturn-gantt' });
  commands.addKeyBinding({ command: CommandIDs.redo, keys: ['Accel Shift Z'], selector: '.jp-Saturn-gantt' });
}
