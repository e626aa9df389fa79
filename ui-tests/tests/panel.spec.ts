import { expect, test } from '@jupyterlab/galata';

test.use({ autoGoto: true });

test('the Saturn panel opens from the left bar and says whether the bridge answers', async ({ page }, testInfo) => {
  const tab = page.locator('.jp-SideBar.jp-mod-left [data-id="jp-saturn-panel"]');
  await expect(tab).toBeVisible();
  await tab.click();
  const panel = page.locator('#jp-saturn-panel');
  await expect(panel).toBeVisible();
  await expect(panel.getByRole('heading', { name: 'Saturn' })).toBeVisible();
  await expect(panel.getByRole('status')).toContainText('Bridge connected', { timeout: 60000 });
  await expect(panel.locator('[data-saturn-device]')).toHaveCount(4);
  await page.screenshot({ path: testInfo.outputPath('saturn-panel.png') });
});
