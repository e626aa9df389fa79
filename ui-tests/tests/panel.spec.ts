import { expect, test } from '@jupyterlab/galata';
import { load, openPanel, openSaturnMenu, setTheme, shoot } from './helpers';

test.use({ autoGoto: false });

test('the Saturn panel opens from the left bar and says whether the bridge answers', async ({ page, baseURL }, testInfo) => {
  await load(page, baseURL);
  const tab = page.locator('.jp-SideBar.jp-mod-left [data-id="jp-saturn-panel"]');
  await expect(tab).toBeVisible();
  const panel = await openPanel(page);
  await expect(panel.getByRole('heading', { name: 'Saturn' })).toBeVisible();
  await expect(panel.locator('[data-saturn-device]')).toHaveCount(4);
  for (const name of ['Profile', 'Optimize', 'Optimize & Run', 'Cancel', 'Results']) {
    await expect(panel.getByRole('button', { name, exact: true })).toBeVisible();
  }
  await shoot(page, testInfo, 'saturn-panel');
});

test('every Saturn command is registered with a label', async ({ page, baseURL }) => {
  await load(page, baseURL);
  const ids = await page.evaluate(() => (window as any).jupyterapp.commands.listCommands().filter((c: string) => c.startsWith('saturn:')));
  expect(ids.sort()).toEqual(
    [
      'saturn:cancel',
      'saturn:open',
      'saturn:open-gantt',
      'saturn:open-results',
      'saturn:optimize',
      'saturn:optimize-and-run',
      'saturn:profile',
      'saturn:redo',
      'saturn:refresh',
      'saturn:register-notebook',
      'saturn:reoptimize',
      'saturn:toggle-table',
      'saturn:undo'
    ].sort()
  );
  const labels = await page.evaluate(
    list => list.map((id: string) => (window as any).jupyterapp.commands.label(id)),
    ids
  );
  expect(labels.every((l: string) => l.length > 0)).toBe(true);
  expect(labels).toContain('Saturn: Optimize & Run');
});

/** The Saturn main menu's entries, in order; '---' is a separator. */
const MENU = [
  'Open Saturn Panel',
  'Open Plan (Gantt Chart)',
  'Show the Plan as a Table',
  'Open Results',
  '---',
  'Profile Tasks',
  'Optimize',
  'Optimize & Run',
  'Cancel',
  '---',
  'Re-optimize (Keep Pins)',
  'Undo Plan Edit',
  'Redo Plan Edit',
  '---',
  "Register This Notebook's Tasks",
  'Reconnect to the Bridge'
];

test('the Saturn menu in the menu bar lists the Saturn commands and runs them', async ({ page, baseURL }, testInfo) => {
  await load(page, baseURL);
  await openPanel(page);
  let menu = await openSaturnMenu(page);
  const entries = await menu.locator(':scope > .lm-Menu-content > .lm-Menu-item').evaluateAll(els =>
    els.map(e => (e.getAttribute('data-type') === 'separator' ? '---' : e.querySelector('.lm-Menu-itemLabel')!.textContent))
  );
  expect(entries).toEqual(MENU);
  const TABLE = 'Show the Plan as a Table';
  for (const name of MENU.filter(m => m !== '---' && m !== TABLE)) {
    await expect(menu.getByRole('menuitem', { name, exact: true })).toBeVisible();
  }
  // The table view is a toggle, unchecked for now (JupyterLab 4.6's menus give a toggle the role menuitemcheckbox
  // only while it is checked).
  const table = menu.locator(':scope > .lm-Menu-content > .lm-Menu-item').filter({ hasText: TABLE });
  await expect(table).toHaveCount(1);
  await expect(table).not.toHaveClass(/lm-mod-toggled/);
  await expect(table).not.toHaveAttribute('aria-checked', 'true');
  // No task is registered on this fresh server: Profile cannot run yet, and there is nothing to cancel.
  await expect(menu.getByRole('menuitem', { name: 'Profile Tasks', exact: true })).toHaveAttribute('aria-disabled', 'true');
  await expect(menu.getByRole('menuitem', { name: 'Cancel', exact: true })).toHaveAttribute('aria-disabled', 'true');
  await expect(menu.getByRole('menuitem', { name: 'Open Plan (Gantt Chart)', exact: true })).not.toHaveAttribute('aria-disabled', 'true');
  await page.screenshot({ path: testInfo.outputPath('saturn-menu-light.png') });
  await menu.press('Escape'); // on the menu itself: the keyboard focus may have moved meanwhile
  await expect(menu).toBeHidden();
  await setTheme(page, 'JupyterLab Dark');
  menu = await openSaturnMenu(page);
  await page.screenshot({ path: testInfo.outputPath('saturn-menu-dark.png') });
  await menu.press('Escape');
  await expect(menu).toBeHidden();
  await setTheme(page, 'JupyterLab Light');

  // "Open Plan (Gantt Chart)" opens the plan's tab, which says how to get a plan.
  menu = await openSaturnMenu(page);
  await menu.getByRole('menuitem', { name: 'Open Plan (Gantt Chart)', exact: true }).click();
  await expect(menu).toBeHidden();
  const chart = page.locator('#jp-saturn-gantt');
  await expect(chart).toBeVisible();
  await expect(page.locator('#jp-main-dock-panel .lm-TabBar-tab[data-id="jp-saturn-gantt"]')).toHaveClass(/lm-mod-current/);
  await expect(chart.getByRole('heading', { name: 'No plan yet' })).toBeVisible();

  // "Open Saturn Panel" shows the side panel again after it was collapsed.
  await page.locator('.jp-SideBar.jp-mod-left [data-id="jp-saturn-panel"]').click();
  await expect(page.locator('#jp-saturn-panel')).toBeHidden();
  menu = await openSaturnMenu(page);
  await menu.getByRole('menuitem', { name: 'Open Saturn Panel', exact: true }).click();
  await expect(page.locator('#jp-saturn-panel')).toBeVisible();
  await expect(page.locator('#jp-saturn-panel').getByRole('button', { name: 'Optimize & Run', exact: true })).toBeVisible();
});
