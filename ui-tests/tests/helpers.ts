/**
 * Shared helpers of the Saturn UI specs. The machine running them may be busy (galata's own page-load wait gives
 * up after 15 s), so specs load the page themselves with longer timeouts and do not insist on the Launcher tab (a
 * restored Gantt chart may be the active one).
 */
import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator, TestInfo } from '@playwright/test';

export async function load(page: IJupyterLabPageFixture, baseURL: string | undefined): Promise<void> {
  await page.mainFrame().goto(`${baseURL}/lab?reset`, { waitUntil: 'domcontentloaded', timeout: 120_000 });
  await waitReady(page);
}

export async function reload(page: IJupyterLabPageFixture): Promise<void> {
  await page.mainFrame().goto(page.url(), { waitUntil: 'domcontentloaded', timeout: 120_000 });
  await waitReady(page);
}

export async function waitReady(page: IJupyterLabPageFixture): Promise<void> {
  await page.waitForFunction(() => typeof (window as any).jupyterapp === 'object', undefined, { timeout: 120_000 });
  await page.evaluate(() => (window as any).jupyterapp.started);
  await page.evaluate(() => (window as any).jupyterapp.restored);
  await page.locator('#jupyterlab-splash').waitFor({ state: 'detached', timeout: 120_000 });
}

/** Run a JupyterLab command (its result is not sent back: widgets do not serialize). */
export async function command(page: IJupyterLabPageFixture, id: string, args: Record<string, unknown> = {}): Promise<void> {
  await page.evaluate(
    async ([i, a]) => {
      await (window as any).jupyterapp.commands.execute(i, a);
    },
    [id, args] as [string, Record<string, unknown>]
  );
}

export async function setTheme(page: IJupyterLabPageFixture, theme: string): Promise<void> {
  await command(page, 'apputils:change-theme', { theme });
  await page.waitForFunction(t => document.body.dataset.jpThemeName === t, theme, { timeout: 30_000 });
  await page.waitForTimeout(400);
}

/** A screenshot in the light theme and, unless `both` is false, one in the dark theme. */
export async function shoot(page: IJupyterLabPageFixture, testInfo: TestInfo, name: string, both = true): Promise<void> {
  await page.screenshot({ path: testInfo.outputPath(`${name}-light.png`) });
  if (both) {
    await setTheme(page, 'JupyterLab Dark');
    await page.screenshot({ path: testInfo.outputPath(`${name}-dark.png`) });
    await setTheme(page, 'JupyterLab Light');
  }
}

/** Open the Saturn side panel and wait until the bridge answers. */
export async function openPanel(page: IJupyterLabPageFixture): Promise<Locator> {
  const panel = page.locator('#jp-saturn-panel');
  if (!(await panel.isVisible())) {
    await page.locator('.jp-SideBar.jp-mod-left [data-id="jp-saturn-panel"]').click();
  }
  await expect(panel.getByRole('status', { name: 'Bridge status' })).toContainText('Bridge connected', { timeout: 120_000 });
  return panel;
}

/** Open the Saturn menu of the menu bar; returns the open menu. */
export async function openSaturnMenu(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.locator('#jp-MainMenu').getByRole('menuitem', { name: 'Saturn', exact: true }).click();
  const menu = page.locator('.lm-Menu#jp-mainmenu-saturn');
  await expect(menu).toBeVisible();
  return menu;
}
