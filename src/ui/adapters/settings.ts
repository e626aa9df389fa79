/**
 * The settings registry (schema/settings/plugin.json) ↔ the model: the stored settings reach the model now and on
 * every change; a change made in the panel is stored (and the model updated at once).
 */
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { DEFAULT_SETTINGS, ISaturnSettings } from '../models/interfaces';
import type { SaturnModel } from '../models/saturn-model';
import { notifyError } from './notify';

/** Follow plugin `pluginId`'s settings; returns what the panel calls with a change. */
export function connectSettings(
  registry: ISettingRegistry | null,
  pluginId: string,
  model: SaturnModel
): (patch: Partial<ISaturnSettings>) => void {
  let settings: ISettingRegistry.ISettings | null = null;
  if (registry) {
    void registry
      .load(pluginId)
      .then(s => {
        settings = s;
        const read = (): void => model.setSettings({ ...DEFAULT_SETTINGS, ...(s.composite as Partial<ISaturnSettings>) });
        read();
        s.changed.connect(read);
      })
      .catch(err => notifyError('Saturn could not read its settings.', String(err)));
  }
  return patch => {
    model.setSettings(patch);
    if (settings) {
      for (const [k, v] of Object.entries(patch)) {
        void settings.set(k, v as any).catch(err => notifyError('Could not save the Saturn setting.', String(err)));
      }
    }
  };
}
