/**
 * The demo notebook, as the README's start command gives it to a new user: demo/saturn-demo.ipynb (the file that
 * scripts/start.sh copies into the Jupyter root) is opened and run with Run ▸ Run All Cells, unchanged. Its tasks
 * (four tiny models and a three-point learning-rate grid with validation) appear in the panel; Profile, then
 * Optimize & Run, and the run completes; the lines the notebook suggests for afterwards (`saturn.results()`,
 * `saturn.best("val_loss")`, `saturn.load_model(...)`) work in a cell added to it; the Results view marks the same
 * best task. Screenshots light and dark.
 *
 * Every task registered earlier is unregistered first (a fresh server has none; this one is shared with the other
 * specs), and the demo's tasks are unregistered at the end.
 */
import * as fs from 'fs';
import * as path from 'path';
import { expect, test } from '@jupyterlab/galata';
import { command, load, openPanel, optimizeAndRun, profileTasks, python, runCell, shoot } from './helpers';

test.use({ autoGoto: false, kernels: null, sessions: null });

const DEMO = 'saturn-demo.ipynb';
const TASKS = ['small-mlp', 'wide-mlp', 'tiny-conv', 'tiny-transformer', 'mlp-lr0.01', 'mlp-lr0.05', 'mlp-lr0.2'];

test.afterAll(() => {
  python(`import saturn\nfor n in ${JSON.stringify(TASKS)}:\n    n in saturn.tasks().names() and saturn.unregister(n)`);
});

test('the demo notebook, run as it ships: Run All, Profile, Optimize & Run, then the best model back in it', async ({
  page,
  baseURL,
  tmpPath
}, testInfo) => {
  test.setTimeout(1_500_000);
  await load(page, baseURL);
  // the file as the repository ships it (scripts/start.sh copies the same one into a user's root)
  const demo = `${tmpPath}/${DEMO}`;
  await page.contents.uploadContent(fs.readFileSync(path.join(__dirname, '..', '..', 'demo', DEMO), 'utf-8'), 'text', demo);
  const panel = await openPanel(page);
  await runCell(
    page,
    tmpPath,
    'clear.ipynb',
    'import saturn\nfor n in saturn.tasks().names():\n    saturn.unregister(n)\nprint("store cleared")',
    'store cleared'
  );
  await expect(panel.locator('[data-saturn-task]')).toHaveCount(0, { timeout: 60_000 });

  // the notebook as it ships, every cell run
  await command(page, 'docmanager:open', { path: demo });
  const nb = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden)');
  await expect(nb.locator('.jp-Notebook-cell').first()).toBeVisible({ timeout: 60_000 });
  await page.notebook.activate(DEMO);
  await command(page, 'notebook:run-all-cells');
  // done when the last code cell (saturn.results(), empty before any run) shows its execution count, not [*]
  await expect(nb.locator('.jp-CodeCell').last().locator('.jp-InputArea-prompt')).toHaveText(/\[\d+\]/, { timeout: 300_000 });
  // no traceback, nothing on stderr
  await expect(nb.locator('[data-mime-type="application/vnd.jupyter.error"]')).toHaveCount(0);
  await expect(nb.locator('[data-mime-type="application/vnd.jupyter.stderr"]')).toHaveCount(0);
  for (const name of TASKS) {
    await expect(panel.locator(`[data-saturn-task="${name}"]`)).toBeVisible({ timeout: 60_000 });
  }
  await expect(panel.locator('[data-saturn-task]')).toHaveCount(TASKS.length);

  // 54 trials: about 4 minutes with 4 declared GPUs on 2 cores
  await profileTasks(panel, TASKS, 600_000);
  await optimizeAndRun(page, panel, 120_000);
  await expect(page.locator('#jp-saturn-gantt')).toBeVisible({ timeout: 60_000 });
  await expect(panel.locator('[data-saturn-run="done"]')).toContainText(`Run complete: ${TASKS.length} of ${TASKS.length} jobs done.`, {
    timeout: 600_000
  });
  await shoot(page, testInfo, 'demo-run-complete');

  // what the notebook says to do once the run has finished, in a cell added to it
  await page.notebook.activate(DEMO);
  await page.notebook.addCell(
    'code',
    [
      'table = saturn.results()',
      'best = saturn.best("val_loss")',
      'model = saturn.load_model(best["task"])',
      'kept = saturn.load_model(best["task"], which="best")',
      'print("rows", len(table), "done", int((table["state"] == "done").sum()))',
      'print("best", best["task"], type(model).__name__, type(kept).__name__)'
    ].join('\n')
  );
  const index = (await page.notebook.getCellCount()) - 1;
  await page.notebook.runCell(index); // (running it may add an empty cell below, as Shift+Enter does)
  const added = nb.locator('.jp-Notebook-cell').nth(index).locator('.jp-OutputArea-output');
  await expect(added).toContainText(`rows ${TASKS.length} done ${TASKS.length}`, { timeout: 120_000 });
  const bestLine = (await added.innerText()).split('\n').find(l => l.startsWith('best '))!;
  const [, bestTask, modelType, keptType] = bestLine.trim().split(/\s+/);
  expect(TASKS.filter(t => t.startsWith('mlp-lr'))).toContain(bestTask);
  expect([modelType, keptType]).toEqual(['Sequential', 'Sequential']);

  // the Results view marks the same task
  await panel.getByRole('button', { name: 'Results', exact: true }).click();
  const view = page.locator('#jp-saturn-results');
  await expect(view).toBeVisible({ timeout: 60_000 });
  await expect(view.locator('[data-saturn-result-row]')).toHaveCount(TASKS.length, { timeout: 60_000 });
  await view.getByLabel('Metric').selectOption('val_loss');
  await expect(view.locator(`[data-saturn-result-row="${bestTask}"]`)).toHaveAttribute('data-saturn-best', 'true', { timeout: 30_000 });
  await shoot(page, testInfo, 'demo-results');
});
