import { expect, test as base } from '@jupyterlab/galata';

/**
 * Galata's own readiness check waits 15 s for a Launcher tab. On a fresh server with mocked
 * workspace state there may be none, and on a loaded 2-core machine the first page load can take
 * longer; the host page says when JupyterLab has started and restored (body[data-saturn-host]).
 */
export const test = base.extend({
  waitForApplication: async ({}, use) => {
    await use(async page => {
      await page.locator('#jupyterlab-splash').waitFor({ state: 'detached', timeout: 90000 });
      await page.waitForFunction(() => document.body.dataset.saturnHost === 'ready', null, { timeout: 90000 });
    });
  }
});

export { expect };
