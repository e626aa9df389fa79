/**
 * Model selection on the real page: a notebook cell registers a 2 × 2 grid (learning rate × batch size) with a
 * validation function; Profile → Optimize & Run; the Results view, opened from the panel, shows the four tasks with
 * their validation metrics, learning curves that grow while the jobs run, and the best row marked (the one whose best
 * val_loss is lowest, as saturn.best says too); selecting a row selects its block in the Gantt chart, selecting a
 * block selects its row; the view comes back after a reload. Screenshots light and dark. Its tasks are unregistered
 * at the end, so the specs after it find the store as they expect.
 */
import { expect, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import { gridCell, load, openPanel, optimizeAndRun, profileTasks, python, runCell, reload, shoot } from './helpers';

test.use({ autoGoto: false, kernels: null, sessions: null });

const TASKS = ['g-lr0.01-bs8', 'g-lr0.01-bs16', 'g-lr0.1-bs8', 'g-lr0.1-bs16'];

const GRID_CELL = gridCell('g', 1500);

test.afterAll(() => {
  python(`import saturn\nfor n in saturn.tasks().names():\n    n.startswith("g-lr") and saturn.unregister(n)`);
});

interface IRow {
  task: string;
  state: string;
  best: boolean;
  selected: boolean;
  values: Record<string, number>;
}

async function readRows(view: Locator): Promise<IRow[]> {
  return view.locator('[data-saturn-result-row]').evaluateAll(els =>
    els.map(e => ({
      task: e.getAttribute('data-saturn-result-row')!,
      state: e.getAttribute('data-saturn-state')!,
      best: e.getAttribute('data-saturn-best') === 'true',
      selected: e.getAttribute('data-saturn-selected') === 'true',
      values: Object.fromEntries(
        Array.from(e.querySelectorAll('[data-saturn-value]'))
          .filter(c => c.getAttribute('data-saturn-value') !== '')
          .map(c => [c.getAttribute('data-saturn-cell')!, Number(c.getAttribute('data-saturn-value'))])
      )
    }))
  );
}

/** All points of the curves on show. */
function curvePoints(view: Locator): Promise<number> {
  return view.locator('[data-saturn-curve]').evaluateAll(els => els.reduce((n, e) => n + Number(e.getAttribute('data-saturn-points')), 0));
}


test('a grid with validation: the Results view ranks it live, marks the best, and is linked with the Gantt chart', async ({
  page,
  baseURL,
  tmpPath
}, testInfo) => {
  test.setTimeout(540_000);
  await load(page, baseURL);
  const panel = await openPanel(page);
  await runCell(page, tmpPath, 'grid.ipynb', GRID_CELL, 'grid registered');
  for (const name of TASKS) {
    await expect(panel.locator(`[data-saturn-task="${name}"]`)).toBeVisible({ timeout: 60_000 });
  }
  await profileTasks(panel, TASKS);
  await optimizeAndRun(page, panel);

  // The Results view, from the panel's button: a row per task of the run.
  await panel.getByRole('button', { name: 'Results', exact: true }).click();
  const view = page.locator('#jp-saturn-results');
  const rows = view.locator('[data-saturn-result-row]');
  // An earlier run's rows may show until this run's jobs are in the store: wait for this run's tasks.
  await expect
    .poll(async () => (await readRows(view)).map(r => r.task).sort(), { timeout: 120_000 })
    .toEqual([...TASKS].sort());
  await expect(rows).toHaveCount(TASKS.length);

  // The curves grow while the jobs run: read the points twice, the first time while a job is training.
  await expect.poll(() => curvePoints(view), { timeout: 180_000 }).toBeGreaterThan(0);
  const first = await curvePoints(view);
  const running = (await readRows(view)).filter(r => r.state === 'running').length;
  await expect.poll(() => curvePoints(view), { timeout: 120_000 }).toBeGreaterThan(first);
  const second = await curvePoints(view);
  testInfo.annotations.push({ type: 'curve points', description: `${first} then ${second} (${running} jobs running at the first read)` });
  expect(running, 'a job was training at the first read').toBeGreaterThan(0);

  // Every job finishes; each row has its validation metrics, each curve all its validations.
  await expect(view.locator('[data-saturn-result-row][data-saturn-state="done"]')).toHaveCount(TASKS.length, { timeout: 300_000 });
  for (const m of ['val_loss', 'val_acc', 'last val_loss', 'best val_loss', 'last val_acc', 'best val_acc']) {
    await expect(view.getByRole('columnheader', { name: new RegExp(`^${m}( [▲▼])?$`) })).toBeVisible();
  }
  await expect.poll(async () => (await readRows(view)).every(r => Number.isFinite(r.values['best:val_loss']) && Number.isFinite(r.values['last:val_acc'])), {
    timeout: 30_000
  }).toBe(true);
  await expect(view.locator('[data-saturn-curve]')).toHaveCount(TASKS.length);
  for (const t of TASKS) {
    // 15 validations (every 100 of 1500 steps)
    await expect(view.locator(`[data-saturn-curve="${t}"]`)).toHaveAttribute('data-saturn-points', '15', { timeout: 30_000 });
  }
  expect(await curvePoints(view)).toBeGreaterThan(first);

  // The best row by val_loss (lower is better) is the one with the lowest best val_loss, as saturn.best says.
  let table = await readRows(view);
  const byLoss = [...table].sort((a, b) => a.values['best:val_loss'] - b.values['best:val_loss'])[0];
  expect(table.filter(r => r.best).map(r => r.task)).toEqual([byLoss.task]);
  expect(table[0].task, 'the leaderboard starts with the best').toBe(byLoss.task);
  await expect(view.locator('[data-saturn-results-best]')).toHaveAttribute('data-saturn-results-best', byLoss.task);
  const fromPython = python('import saturn; print(saturn.best("val_loss")["task"])');
  if (fromPython !== null) {
    expect(fromPython).toBe(byLoss.task);
  }
  // By val_acc (higher is better): the highest best val_acc.
  await view.getByLabel('Metric').selectOption('val_acc');
  await expect(view.locator('.jp-Saturn-curves')).toHaveAttribute('data-saturn-metric', 'val_acc');
  table = await readRows(view);
  const top = Math.max(...table.map(r => r.values['best:val_acc']));
  const bestAcc = table.filter(r => r.best);
  expect(bestAcc).toHaveLength(1);
  expect(bestAcc[0].values['best:val_acc']).toBe(top);
  await view.getByLabel('Metric').selectOption('val_loss');

  // A row selected (click) selects its block in the Gantt chart and highlights its curve.
  const pick = TASKS.find(t => t !== byLoss.task)!;
  await view.locator(`[data-saturn-result-row="${pick}"]`).click();
  await expect(view.locator(`[data-saturn-result-row="${pick}"]`)).toHaveAttribute('aria-selected', 'true');
  await expect(view.locator(`[data-saturn-curve="${pick}"]`)).toHaveAttribute('data-saturn-highlighted', 'true');
  await view.getByRole('button', { name: 'Gantt chart', exact: true }).click();
  const chart = page.locator('#jp-saturn-gantt');
  const block = (t: string): Locator => chart.locator(`[data-saturn-job="${t}"]`).first();
  await expect(block(pick)).toHaveAttribute('data-saturn-selected', 'true');
  await expect(block(pick)).toHaveAttribute('aria-pressed', 'true');
  await expect(block(byLoss.task)).toHaveAttribute('data-saturn-selected', 'false');

  // A block selected in the chart selects its row (and its curve) in the Results view, opened from the chart.
  await block(byLoss.task).locator('.jp-Saturn-blockRect').first().click();
  await expect(block(byLoss.task)).toHaveAttribute('data-saturn-selected', 'true');
  await chart.getByRole('button', { name: 'Results', exact: true }).click();
  await expect(view.locator(`[data-saturn-result-row="${byLoss.task}"]`)).toHaveAttribute('aria-selected', 'true');
  await expect(view.locator(`[data-saturn-curve="${byLoss.task}"]`)).toHaveAttribute('data-saturn-highlighted', 'true');
  await expect(view.locator('[data-saturn-result-row][aria-selected="true"]')).toHaveCount(1);

  // With the keyboard: the selected row has the focus stop; ArrowDown selects the next row, and its block.
  await view.locator(`[data-saturn-result-row="${byLoss.task}"]`).focus();
  await page.keyboard.press('ArrowDown');
  const next = (await readRows(view))[1].task;
  await expect(view.locator(`[data-saturn-result-row="${next}"]`)).toHaveAttribute('aria-selected', 'true');
  await expect(view.locator(`[data-saturn-result-row="${next}"]`)).toBeFocused();
  await expect(chart.locator(`[data-saturn-job="${next}"]`).first()).toHaveAttribute('data-saturn-selected', 'true');

  // Screenshots with the side panel folded away (the plots side by side), light and dark.
  await page.locator('.jp-SideBar.jp-mod-left [data-id="jp-saturn-panel"]').click();
  await expect(page.locator('#jp-saturn-panel')).toBeHidden();
  await expect(view.locator('[data-saturn-pc-line]')).toHaveCount(TASKS.length);
  await shoot(page, testInfo, 'results');

  // The view is part of the layout: a reload brings it back with the run's rows.
  await reload(page);
  await expect(page.locator('#jp-saturn-results [data-saturn-result-row]')).toHaveCount(TASKS.length, { timeout: 90_000 });
});
