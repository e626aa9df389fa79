import { expect, test } from '@jupyterlab/galata';
import { load, openPanel, shoot } from './helpers';

test.use({ autoGoto: false });

test('the Saturn panel opens from the left bar and says whether the bridge answers', async ({ page, baseURL }, testInfo) => {
  await load(page, baseURL);
  const tab = page.locator('.jp-SideBar.jp-mod-left [data-id="jp-saturn-panel"]');
  await expect(tab).toBeVisible();
  const panel = await openPanel(page);
  await expect(panel.getByRole('heading', { name: 'Saturn' })).toBeVisible();
  await expect(panel.locator('[data-saturn-device]')).toHaveCount(4);
  for (const name of ['Profile', 'Optimize', 'Optimize & Run', 'Cancel']) {
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
      'saturn:optimize',
      'saturn:optimize-and-run',
      'saturn:profile',
      'saturn:redo',
      'saturn:refresh',
      'saturn:register-notebook',
      'saturn:reoptimize',
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
