import { ILabShell, ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, ICommandPalette, Notification, showDialog, WidgetTracker } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ToolbarButton } from '@jupyterlab/ui-components';
import { BridgeClient } from './bridge/client';
import { SolverClient } from './solver/client';
import { CommandIDs, saturnLabel } from './ui/adapters/commands';
import { GanttWidget } from './ui/components/gantt/gantt-view';
import { saturnIcon } from './ui/components/icons';
import { DEFAULT_SETTINGS, IRunController, ISaturnSettings } from './ui/models/interfaces';
import { SaturnPanel } from './ui/components/panel';
import { registerNotebookTasks } from './ui/adapters/register-notebook';
import { IRunContext, StoreRunController } from './ui/models/run-controller';
import { ExecutorStarter } from './ui/adapters/executor-starter';
import { SaturnModel } from './ui/models/saturn-model';
import { WorkerSolver } from './ui/adapters/solver-adapter';
import { formatDuration } from './ui/components/gantt/geometry';

export { CommandIDs } from './ui/adapters/commands';

const PLUGIN_ID = 'jupyterlab-saturn:plugin';

/** An error notification with a "Show details" action that opens the full text. */
function notifyError(message: string, details?: string): void {
  Notification.error(message, {
    autoClose: false,
    actions: details
      ? [
          {
            label: 'Show details',
            callback: () =>
              void showDialog({
                title: message,
                body: details,
                buttons: [Dialog.okButton({ label: 'Close' })]
              })
          }
        ]
      : []
  });
}

/**
 * Runs are watched through the store (so a reload or a CLI run shows the true state) and started and driven by
 * helper-4's executor (its Dispatcher, one kernel session per job) while the page is open.
 */
function createRunController(
  app: JupyterFrontEnd,
  bridge: BridgeClient,
  solver: WorkerSolver,
  context: () => IRunContext
): IRunController {
  const starter = new ExecutorStarter(app.serviceManager.sessions, solver, m => console.debug(`saturn: ${m}`));
  return new StoreRunController(bridge, starter, context);
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Saturn: select parallelism, allocate GPUs and schedule many training jobs.',
  autoStart: true,
  requires: [ILabShell],
  optional: [ICommandPalette, ILayoutRestorer, ISettingRegistry, INotebookTracker],
  activate: (
    app: JupyterFrontEnd,
    labShell: ILabShell,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    notebooks: INotebookTracker | null
  ) => {
    const { commands } = app;
    const bridge = new BridgeClient(app.serviceManager);
    const solver = new WorkerSolver(() => new SolverClient());
    // eslint-disable-next-line prefer-const
    let model: SaturnModel;
    const runner = createRunController(app, bridge, solver, () => ({ instance: model.instance, settings: model.settings }));
    model = new SaturnModel(bridge, solver, runner);
    model.notice.connect((_, n) => notifyError(n.message, n.details));

    // -- settings -------------------------------------------------------------------------------------------------
    let settings: ISettingRegistry.ISettings | null = null;
    const onSettings = (patch: Partial<ISaturnSettings>): void => {
      model.setSettings(patch);
      if (settings) {
        for (const [k, v] of Object.entries(patch)) {
          void settings.set(k, v as any).catch(err => notifyError('Could not save the Saturn setting.', String(err)));
        }
      }
    };
    if (settingRegistry) {
      void settingRegistry
        .load(PLUGIN_ID)
        .then(s => {
          settings = s;
          const read = (): void => model.setSettings({ ...DEFAULT_SETTINGS, ...(s.composite as Partial<ISaturnSettings>) });
          read();
          s.changed.connect(read);
        })
        .catch(err => notifyError('Saturn could not read its settings.', String(err)));
    }

    // -- panel and chart ------------------------------------------------------------------------------------------
    const panel = new SaturnPanel({ model, commands, onSettings });
    labShell.add(panel, 'left', { rank: 600 });
    restorer?.add(panel, 'jupyterlab-saturn');
    void model.refresh();

    const tracker = new WidgetTracker<GanttWidget>({ namespace: 'saturn-gantt' });
    const openGantt = (activate = true): GanttWidget => {
      let w = tracker.currentWidget;
      if (!w || w.isDisposed) {
        w = new GanttWidget({ model, commands, onViewChange: () => commands.notifyCommandChanged(CommandIDs.toggleTable) });
        void tracker.add(w);
        labShell.add(w, 'main');
      }
      if (activate) {
        labShell.activateById(w.id);
      }
      return w;
    };
    restorer?.restore(tracker, { command: CommandIDs.openGantt, args: () => ({ activate: false }), name: () => 'saturn-gantt' });
    model.planReady.connect(() => openGantt());

    // -- commands -------------------------------------------------------------------------------------------------
    const idle = (): boolean => model.activity === 'idle' && model.bridgeState === 'connected';
    const hasProfile = (): boolean => !!model.instance && model.instance.jobs.some(j => j.options.length > 0);
    const hasPlan = (): boolean => model.planModel !== null;

    commands.addCommand(CommandIDs.open, {
      label: args => (args.isMenu ? 'Open Saturn Panel' : 'Open Saturn'),
      caption: 'Show the Saturn panel',
      icon: saturnIcon,
      execute: () => labShell.activateById(panel.id)
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
      isToggled: () => tracker.currentWidget?.view === 'table',
      execute: () => {
        const w = openGantt();
        w.view = w.view === 'table' ? 'chart' : 'table';
      }
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

    // -- notebook toolbar button ----------------------------------------------------------------------------------
    notebooks?.widgetAdded.connect((_, nb: NotebookPanel) => {
      const button = new ToolbarButton({
        icon: saturnIcon,
        label: 'Register',
        tooltip: 'Register this notebook\'s saturn.Task objects with Saturn',
        onClick: () => void commands.execute(CommandIDs.registerNotebook)
      });
      button.addClass('jp-Saturn-registerButton');
      nb.toolbar.insertAfter('cellType', 'saturn-register', button);
    });
  }
};

export default plugin;
