/** Command ids (`saturn:verb-noun`), shared by the plugin and the components that trigger them. */
export namespace CommandIDs {
  export const open = 'saturn:open';
  export const profile = 'saturn:profile';
  export const optimize = 'saturn:optimize';
  export const optimizeAndRun = 'saturn:optimize-and-run';
  export const cancel = 'saturn:cancel';
  export const openGantt = 'saturn:open-gantt';
  export const toggleTable = 'saturn:toggle-table';
  export const openResults = 'saturn:open-results';
  export const reoptimize = 'saturn:reoptimize';
  export const undo = 'saturn:undo';
  export const redo = 'saturn:redo';
  export const registerNotebook = 'saturn:register-notebook';
  export const refresh = 'saturn:refresh';
}

/**
 * A command's label: `text` in the Saturn main menu (whose items pass `isMenu`, see schema/settings/plugin.json),
 * `Saturn: text` elsewhere (palette, context menus), where the prefix says whose command it is.
 */
export function saturnLabel(text: string): (args: { [key: string]: unknown }) => string {
  return args => (args && args.isMenu ? text : `Saturn: ${text}`);
}

/** What components need to run commands (a subset of Lumino's CommandRegistry). */
export interface ICommandRunner {
  execute(id: string, args?: any): Promise<unknown>;
  isEnabled(id: string, args?: any): boolean;
}
