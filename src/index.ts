import { ILabShell, ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { BridgeClient } from './bridge/client';
import { SaturnPanel } from './ui/panel';
import { saturnIcon } from './ui/icons';

export namespace CommandIDs {
  export const open = 'saturn:open';
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-saturn:plugin',
  description: 'Saturn: select parallelism, allocate GPUs and schedule many training jobs.',
  autoStart: true,
  requires: [ILabShell],
  optional: [ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    labShell: ILabShell,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ) => {
    const bridge = new BridgeClient(app.serviceManager);
    const panel = new SaturnPanel(bridge);
    labShell.add(panel, 'left', { rank: 600 });
    if (restorer) {
      restorer.add(panel, 'jupyterlab-saturn');
    }

    app.commands.addCommand(CommandIDs.open, {
      label: 'Open Saturn',
      caption: 'Show the Saturn panel',
      icon: saturnIcon,
      execute: () => labShell.activateById(panel.id)
    });
    palette?.addItem({ command: CommandIDs.open, category: 'Saturn' });
  }
};

export default plugin;
