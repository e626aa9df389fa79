/**
 * "Register with Saturn" for the current notebook: only when the user clicks it (the command, or the button this
 * file adds to every notebook's toolbar), find the `saturn.Task` objects in the notebook's kernel and insert + run a
 * visible `%saturn register …` cell below the active cell.
 */
import { Notification } from '@jupyterlab/apputils';
import { KernelMessage } from '@jupyterlab/services';
import { INotebookTracker, NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import { ToolbarButton } from '@jupyterlab/ui-components';
import { saturnIcon } from '../components/icons';
import type { ICommandRunner } from '../components/commands';

const LIST_TASKS = `
import json as _saturn_json
try:
    import saturn as _saturn_mod
    print(_saturn_json.dumps({
        "vars": sorted(k for k, v in dict(globals()).items() if isinstance(v, _saturn_mod.Task) and not k.startswith('_')),
        "loaded": get_ipython().find_line_magic('saturn') is not None}))
except ImportError:
    print('null')
`;

/**
 * Names of the variables holding saturn.Task objects in the notebook's kernel and whether the %saturn magic is
 * loaded (null when saturn does not import there).
 */
export async function taskVariables(panel: NotebookPanel): Promise<{ vars: string[]; loaded: boolean } | null> {
  const kernel = panel.sessionContext.session?.kernel;
  if (!kernel) {
    throw new Error('This notebook has no running kernel. Start one and run the cells that define your tasks.');
  }
  let out = '';
  const future = kernel.requestExecute({ code: LIST_TASKS, silent: false, store_history: false });
  future.onIOPub = (msg: KernelMessage.IIOPubMessage) => {
    if (msg.header.msg_type === 'stream') {
      out += (msg.content as any).text ?? '';
    }
  };
  await future.done;
  const line = out.trim().split('\n').pop() ?? 'null';
  return JSON.parse(line) as { vars: string[]; loaded: boolean } | null;
}

/** The cell text that registers these variables. */
export function registerCellSource(vars: string[], loaded: boolean): string {
  return `${loaded ? '' : '%load_ext saturn\n'}%saturn register ${vars.join(' ')}`;
}

export async function registerNotebookTasks(panel: NotebookPanel): Promise<void> {
  const found = await taskVariables(panel);
  if (found === null) {
    Notification.warning('The saturn package does not import in this notebook\'s kernel. Use a kernel of the environment where Saturn is installed.', { autoClose: 8000 });
    return;
  }
  const vars = found.vars;
  if (vars.length === 0) {
    Notification.info(
      'No saturn.Task found in this notebook. Define one, e.g. task = saturn.Task("name", model=..., data=..., batch_size=32, epochs=1), run that cell, then click again.',
      { autoClose: 10000 }
    );
    return;
  }
  const nb = panel.content;
  NotebookActions.insertBelow(nb);
  const cell = nb.activeCell;
  if (!cell) {
    return;
  }
  cell.model.sharedModel.setSource(registerCellSource(vars, found.loaded));
  await NotebookActions.run(nb, panel.sessionContext);
}

/** A "Register" button in every notebook's toolbar (after the cell type) that runs `command`. */
export function addRegisterButtons(notebooks: INotebookTracker, commands: Pick<ICommandRunner, 'execute'>, command: string): void {
  notebooks.widgetAdded.connect((_, nb: NotebookPanel) => {
    const button = new ToolbarButton({
      icon: saturnIcon,
      label: 'Register',
      tooltip: 'Register this notebook\'s saturn.Task objects with Saturn',
      onClick: () => void commands.execute(command)
    });
    button.addClass('jp-Saturn-registerButton');
    nb.toolbar.insertAfter('cellType', 'saturn-register', button);
  });
}
