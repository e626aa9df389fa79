/**
 * The plugin: wires the bridge, the solver Worker and the executor to the model, and the model to the panel, the
 * plan view and the Results view (both restored with the layout), the commands and the settings. What each piece
 * does lives under src/ui/: models/ (state and logic), components/ (React), adapters/ (the connections to JupyterLab
 * and the executor).
 */
import { ILabShell, ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, WidgetTracker } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { BridgeClient } from './bridge/client';
import { SolverClient } from './solver/client';
import { CommandIDs } from './ui/components/commands';
import { ExecutorStarter } from './ui/adapters/executor-starter';
import { notifyError } from './ui/adapters/notify';
import { registerCommands } from './ui/adapters/register-commands';
import { addRegisterButtons } from './ui/adapters/register-notebook';
import { connectSettings } from './ui/adapters/settings';
import { WorkerSolver } from './ui/adapters/solver-adapter';
import { GanttWidget } from './ui/components/gantt/gantt-view';
import { SaturnPanel } from './ui/components/panel';
import { ResultsWidget } from './ui/components/results/results-view';
import { IRunController } from './ui/models/interfaces';
import { IRunContext, StoreRunController } from './ui/models/run-controller';
import { SaturnModel } from './ui/models/saturn-model';

export { CommandIDs } from './ui/components/commands';

const PLUGIN_ID = 'jupyterlab-saturn:plugin';

/**
 * Runs are watched through the store (so a reload or a CLI run shows the true state) and started and driven by the
 * executor of src/executor (its Dispatcher, one kernel session per job) while the page is open.
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
    const onSettings = connectSettings(settingRegistry, PLUGIN_ID, model);

    // -- panel and plan view --------------------------------------------------------------------------------------
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

    const results = new WidgetTracker<ResultsWidget>({ namespace: 'saturn-results' });
    const openResults = (activate = true): ResultsWidget => {
      let w = results.currentWidget;
      if (!w || w.isDisposed) {
        w = new ResultsWidget({ model, commands });
        void results.add(w);
        labShell.add(w, 'main');
      }
      if (activate) {
        labShell.activateById(w.id);
      }
      return w;
    };
    restorer?.restore(results, { command: CommandIDs.openResults, args: () => ({ activate: false }), name: () => 'saturn-results' });

    // -- commands and the notebook toolbar ------------------------------------------------------------------------
    registerCommands(app, {
      model,
      labShell,
      panelId: panel.id,
      openGantt,
      currentGantt: () => tracker.currentWidget,
      openResults,
      palette,
      notebooks
    });
    if (notebooks) {
      addRegisterButtons(notebooks, commands, CommandIDs.registerNotebook);
    }
  }
};

export default plugin;
