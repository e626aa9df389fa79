// Starts JupyterLab with the core extensions bundled here plus the prebuilt (federated) ones.
import { JupyterLab } from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';
import '../build/style.js';

const coreExtensions = require('../build/extensions.js');

// We ship no language server: its plugins would only log connection errors.
const SKIPPED = /:language-server/;

function pluginsOf(mod) {
  const value = mod && mod.__esModule ? mod.default : mod;
  return Array.isArray(value) ? value : [value];
}

async function federatedModule(ext, key) {
  const container = window._JUPYTERLAB[ext.name];
  const factory = await container.get(ext[key]);
  return factory();
}

export async function main(federated) {
  const plugins = [];
  const mimeExtensions = [];
  const enabled = plugin => !PageConfig.Extension.isDisabled(plugin.id) && !SKIPPED.test(plugin.id);

  for (const [, load] of coreExtensions) {
    plugins.push(...pluginsOf(load()).filter(enabled));
  }
  for (const ext of federated) {
    try {
      if (ext.extension) {
        plugins.push(...pluginsOf(await federatedModule(ext, 'extension')).filter(enabled));
      }
      if (ext.mimeExtension) {
        mimeExtensions.push(...pluginsOf(await federatedModule(ext, 'mimeExtension')));
      }
      if (ext.style) {
        await federatedModule(ext, 'style');
      }
    } catch (err) {
      console.error(`Extension ${ext.name} failed to load`, err);
    }
  }

  const lab = new JupyterLab({ mimeExtensions });
  lab.registerPlugins(plugins);
  window.jupyterapp = lab;
  await lab.start({ bubblingKeydown: true });
  await lab.restored;
  document.body.dataset.saturnHost = 'ready';
}
