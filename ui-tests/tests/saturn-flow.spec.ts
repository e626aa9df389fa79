/**
 * The main Saturn flow as a user sees it, against the real JupyterLab and the real bridge (SATURN_FAKE_GPUS=4):
 * register tasks from a notebook (toolbar button) → Profile → Optimize → edit the plan → pin + Re-optimize → reload.
 * The tests run in order and share the server's Saturn store. Screenshots of each step, light and dark.
 */
import * as os from 'os';
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { command, load, notebookWith, openPanel, openSaturnMenu, optimizeAndRun, reload, shoot, TASK_DEFS } from './helpers';

test.describe.configure({ mode: 'serial' });
// Keep the bridge and notebook kernels between tests: the flow lives in the server's Saturn store.
test.use({ autoGoto: false, kernels: null, sessions: null });

test.beforeEach(async ({ page, baseURL }) => {
  await load(page, baseURL);
});

test.afterEach(async ({ page }, testInfo) => {
  if (testInfo.status !== testInfo.expectedStatus) {
    await page.screenshot({ path: testInfo.outputPath('failure.png') }).catch(() => undefined);
  }
});

const TASKS = ['ui-a', 'ui-b', 'ui-c', 'ui-d'];

const DEFS = TASK_DEFS;

const TASK_CELL = `${DEFS}
ui_a = saturn.Task("ui-a", model=mlp(32), data=ui_data, batch_size=16, steps=3000, gpu_range=(1, 2),
                   hints={"techniques": ["ddp", "spilling"]})
ui_b = saturn.Task("ui-b", model=mlp(64, 2), data=ui_data, batch_size=16, steps=4000, gpu_range=(1, 2),
                   hints={"techniques": ["ddp", "fsdp"]})
ui_c = saturn.Task("ui-c", model=mlp(128), data=ui_data, batch_size=16, steps=2500, gpu_range=(1, 2),
                   hints={"techniques": ["ddp"]})
ui_d = saturn.Task("ui-d", model=mlp(96, 2), data=ui_data, batch_size=16, steps=3500, gpu_range=(1, 2),
                   hints={"techniques": ["ddp"]})
print("tasks defined")`;

function notebook(): string {
  return notebookWith(TASK_CELL);
}

interface IBlock {
  job: string;
  node: string;
  gpus: number[];
  lanes: number[];
  start: number;
  end: number;
  state: string;
  pinned: boolean;
}

async function readBlocks(page: IJupyterLabPageFixture): Promise<IBlock[]> {
  return page.locator('#jp-saturn-gantt [data-saturn-job]').evaluateAll(els =>
    els.map(e => ({
      job: e.getAttribute('data-saturn-job')!,
      node: e.getAttribute('data-saturn-node')!,
      gpus: e.getAttribute('data-saturn-gpus')!.split(',').map(Number),
      lanes: e.getAttribute('data-saturn-lanes')!.split(',').map(Number),
      start: Number(e.getAttribute('data-saturn-start')),
      end: Number(e.getAttribute('data-saturn-end')),
      state: e.getAttribute('data-saturn-state')!,
      pinned: e.getAttribute('data-saturn-pinned') === 'true'
    }))
  );
}

/** One entry per job: its blocks must together cover exactly its GPUs, and no two jobs may share a GPU in time. */
function checkPlanGeometry(blocks: IBlock[]): Map<string, IBlock> {
  const jobs = new Map<string, IBlock>();
  const lanesOf = new Map<string, number[]>();
  for (const b of blocks) {
    jobs.set(b.job, b);
    lanesOf.set(b.job, [...(lanesOf.get(b.job) ?? []), ...b.lanes]);
  }
  for (const [job, b] of jobs) {
    expect([...(lanesOf.get(job) ?? [])].sort((x, y) => x - y), `lanes of ${job}`).toEqual([...b.gpus].sort((x, y) => x - y));
  }
  const list = [...jobs.values()];
  for (let i = 0; i < list.length; i++) {
    for (let k = i + 1; k < list.length; k++) {
      const a = list[i];
      const c = list[k];
      const share = a.node === c.node && a.gpus.some(g => c.gpus.includes(g));
      const overlap = Math.min(a.end, c.end) - Math.max(a.start, c.start) > 1e-6;
      expect(share && overlap, `${a.job} and ${c.job} overlap`).toBe(false);
    }
  }
  return jobs;
}

async function waitSolved(page: IJupyterLabPageFixture): Promise<void> {
  const panel = page.locator('#jp-saturn-panel');
  await expect(panel.getByRole('button', { name: 'Cancel', exact: true })).toBeDisabled({ timeout: 120_000 });
}

test('register tasks from a notebook: they appear in the panel', async ({ page, tmpPath }, testInfo) => {
  const panel = await openPanel(page);
  await page.contents.uploadContent(notebook(), 'text', `${tmpPath}/ui-tasks.ipynb`);
  await command(page, 'docmanager:open', { path: `${tmpPath}/ui-tasks.ipynb` });
  await expect(page.locator('.jp-NotebookPanel .jp-Notebook-cell').first()).toBeVisible({ timeout: 60_000 });
  await page.notebook.activate('ui-tasks.ipynb');
  await page.notebook.run();
  await expect(page.locator('.jp-OutputArea-output').first()).toContainText('tasks defined', { timeout: 120_000 });
  // The toolbar button inserts and runs `%saturn register …` in this notebook, only because we click it.
  await page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Saturn-registerButton').click();
  await expect(page.locator('.jp-Cell').nth(1)).toContainText('%saturn register ui_a ui_b ui_c ui_d', { timeout: 30_000 });
  for (const name of TASKS) {
    await expect(panel.locator(`[data-saturn-task="${name}"]`)).toBeVisible({ timeout: 180_000 });
  }
  await shoot(page, testInfo, '1-registered');
});

test('Profile fills the profile table, infeasible options greyed with their reason', async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  const panel = await openPanel(page);
  for (const name of TASKS) {
    await expect(panel.locator(`[data-saturn-task="${name}"]`)).toBeVisible({ timeout: 60_000 });
  }
  await panel.getByRole('button', { name: 'Profile', exact: true }).click();
  // With cached measurements profiling can end at once; otherwise the bar shows progress and the ETA.
  const bar = panel.getByRole('progressbar', { name: 'Profiling progress' });
  if (await bar.isVisible({ timeout: 5_000 }).catch(() => false)) {
    await page.screenshot({ path: testInfo.outputPath('2-profiling-light.png') });
  }
  for (const name of TASKS) {
    await expect(panel.locator(`[data-saturn-profile-job="${name}"] .jp-Saturn-cell-feasible`).first()).toBeVisible({ timeout: 240_000 });
  }
  await expect(panel.getByRole('button', { name: 'Profile', exact: true })).toBeEnabled({ timeout: 30_000 });
  // ui-a asked for spilling on 1-2 GPUs; spilling runs on one device only, so its 2-GPU option is infeasible: the
  // cell is greyed (the theme's faint text on the muted background, unlike a measured cell) and carries the reason.
  const table = panel.locator('[data-saturn-profile-job="ui-a"]');
  const infeasible = table.locator('[data-saturn-option="spilling/2"]');
  await expect(infeasible).toHaveClass(/jp-Saturn-cell-infeasible/);
  await expect(infeasible).toHaveText('infeasible');
  const reason = (await infeasible.getAttribute('title')) ?? '';
  expect(reason).toMatch(/spilling .*1 device/);
  await expect(infeasible.locator('span')).toHaveAttribute('aria-label', `infeasible: ${reason}`);
  const colours = await infeasible.evaluate(cell => {
    const probe = document.createElement('span');
    probe.style.color = 'var(--jp-ui-font-color3)';
    probe.style.background = 'var(--jp-layout-color2)';
    cell.appendChild(probe);
    const want = getComputedStyle(probe);
    const got = getComputedStyle(cell);
    const measured = getComputedStyle(cell.closest('table')!.querySelector('.jp-Saturn-cell-feasible')!);
    const out = { color: got.color, background: got.backgroundColor, greyText: want.color, greyBackground: want.backgroundColor,
      measuredColor: measured.color };
    probe.remove();
    return out;
  });
  expect(colours.color).toBe(colours.greyText);
  expect(colours.background).toBe(colours.greyBackground);
  expect(colours.color).not.toBe(colours.measuredColor);
  // The measured 1-GPU spilling option is a runtime, and the list under the table gives the reason in words.
  await expect(table.locator('[data-saturn-option="spilling/1"]')).toHaveClass(/jp-Saturn-cell-feasible/);
  const reasons = table.locator('details.jp-Saturn-reasons');
  await reasons.locator('summary').click();
  await expect(reasons.locator('li').filter({ hasText: 'spilling on 2 GPU(s)' })).toContainText(reason.split('\n')[0].slice(0, 60));
  await expect(panel.locator('[data-saturn-task="ui-a"]')).toHaveAttribute('data-saturn-profile-state', 'profiled');
  await panel.locator('[data-saturn-profile-job="ui-a"]').scrollIntoViewIfNeeded();
  await shoot(page, testInfo, '2-profiled');
});

test('Optimize shows every job on the right number of lanes with no overlap', async ({ page }, testInfo) => {
  const panel = await openPanel(page);
  await expect(panel.getByRole('button', { name: 'Optimize', exact: true })).toBeEnabled({ timeout: 60_000 });
  await panel.getByRole('button', { name: 'Optimize', exact: true }).click();
  const chart = page.locator('#jp-saturn-gantt');
  await expect(chart).toBeVisible({ timeout: 60_000 });
  await waitSolved(page);
  await expect(chart.locator('[data-saturn-job]').first()).toBeVisible();
  const jobs = checkPlanGeometry(await readBlocks(page));
  for (const name of TASKS) {
    expect(jobs.has(name), `${name} is in the chart`).toBe(true);
    expect(jobs.get(name)!.state).toBe('planned');
  }
  // The table view (text alternative), switched on from the Saturn menu, lists the same GPU counts.
  let menu = await openSaturnMenu(page);
  await menu.getByRole('menuitem', { name: 'Show the Plan as a Table', exact: true }).click();
  const table = chart.getByRole('table', { name: 'Plan as a table' });
  await expect(table).toBeVisible();
  menu = await openSaturnMenu(page);
  await expect(menu.getByRole('menuitemcheckbox', { name: 'Show the Plan as a Table', exact: true })).toHaveAttribute('aria-checked', 'true');
  await page.keyboard.press('Escape');
  await expect(menu).toBeHidden();
  for (const [name, b] of jobs) {
    const row = table.locator(`[data-saturn-row="${name}"]`);
    await expect(row.locator('td').nth(1)).toHaveText(String(b.gpus.length));
  }
  await shoot(page, testInfo, '3-table', false);
  await chart.getByRole('button', { name: 'Chart view' }).click();
  await expect(chart.locator('dd[data-saturn-makespan]')).toBeVisible();
  await shoot(page, testInfo, '3-optimized');
});

test('dragging a block onto busy GPUs shows the conflict and applies nothing', async ({ page }, testInfo) => {
  await openPanel(page);
  await command(page, 'saturn:open-gantt');
  const chart = page.locator('#jp-saturn-gantt');
  await expect(chart.locator('[data-saturn-job]').first()).toBeVisible({ timeout: 60_000 });
  const before = await readBlocks(page);
  const jobs = checkPlanGeometry(before);
  // A pair of jobs that overlap in time on different GPUs: drop the first onto the second.
  let pair: [IBlock, IBlock] | null = null;
  for (const a of jobs.values()) {
    for (const b of jobs.values()) {
      if (a.job !== b.job && Math.min(a.end, b.end) - Math.max(a.start, b.start) > 0 && !b.gpus.some(g => a.gpus.includes(g))) {
        pair = pair ?? [a, b];
      }
    }
  }
  expect(pair, 'two jobs run side by side').not.toBeNull();
  const [moving, target] = pair!;
  const from = (await chart.locator(`[data-saturn-job="${moving.job}"] .jp-Saturn-blockRect`).first().boundingBox())!;
  const to = (await chart.locator(`[data-saturn-job="${target.job}"] .jp-Saturn-blockRect`).first().boundingBox())!;
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 12 });
  const status = chart.locator('.jp-Saturn-editStatus');
  await expect(status).toHaveAttribute('data-saturn-edit', 'rejected');
  await expect(status).toContainText('busy with');
  await expect(chart.locator('[data-saturn-ghost="conflict"]').first()).toBeVisible();
  await shoot(page, testInfo, '4-conflict-preview', false);
  await page.mouse.up();
  await expect(status).toContainText('Not applied');
  expect(await readBlocks(page)).toEqual(before);
  await expect(chart.getByRole('button', { name: 'Undo' })).toBeDisabled();
  await shoot(page, testInfo, '4-conflict');
});

test('a pinned block stays where it is when the plan is re-optimized; the layout survives a reload', async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  await openPanel(page);
  await command(page, 'saturn:open-gantt');
  const chart = page.locator('#jp-saturn-gantt');
  await expect(chart.locator('[data-saturn-job]').first()).toBeVisible({ timeout: 60_000 });
  const jobs = checkPlanGeometry(await readBlocks(page));
  const makespan = Math.max(...[...jobs.values()].map(b => b.end));
  // Move the job that starts first to the end of the plan: valid (nothing there), and not where a solver would put it.
  const first = [...jobs.values()].sort((a, b) => a.start - b.start)[0];
  await chart.getByRole('button', { name: 'Zoom out' }).click();
  await chart.getByRole('button', { name: 'Zoom out' }).click();
  const rect = chart.locator(`[data-saturn-job="${first.job}"] .jp-Saturn-blockRect`).first();
  const box = (await rect.boundingBox())!;
  const pxPerS = box.width / (first.end - first.start);
  const dx = (makespan - first.start) * pxPerS + 20;
  await page.mouse.move(box.x + 4, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + 4 + dx, box.y + box.height / 2, { steps: 12 });
  await page.mouse.up();
  const status = chart.locator('.jp-Saturn-editStatus');
  await expect(status).toHaveAttribute('data-saturn-edit', 'ok');
  await expect(status).toContainText('makespan +');
  const moved = (await readBlocks(page)).find(b => b.job === first.job)!;
  // The drop snaps (to other blocks' edges or the time grid), so it lands near the end, not exactly past it.
  expect(moved.start).toBeGreaterThan(first.start + 0.5 * (makespan - first.start));
  // Pin it from the job details, then Re-optimize.
  await chart.locator(`[data-saturn-job="${first.job}"]`).first().focus();
  await chart.getByRole('region', { name: `Job ${first.job}` }).getByRole('button', { name: 'Pin' }).click();
  await expect(chart.locator(`[data-saturn-job="${first.job}"]`).first()).toHaveAttribute('data-saturn-pinned', 'true');
  await chart.getByRole('button', { name: 'Re-optimize' }).click();
  await waitSolved(page);
  await expect(chart.getByRole('button', { name: 'Re-optimize' })).toBeEnabled({ timeout: 60_000 });
  const after = checkPlanGeometry(await readBlocks(page));
  const pinned = after.get(first.job)!;
  expect(pinned.pinned).toBe(true);
  expect(pinned.start).toBeCloseTo(moved.start, 5);
  expect(pinned.gpus).toEqual(moved.gpus);
  expect(pinned.node).toEqual(moved.node);
  await shoot(page, testInfo, '5-pinned-reoptimized');

  // Reload: the chart comes back (layout restorer) with the plan saved in the store.
  await reload(page);
  const again = page.locator('#jp-saturn-gantt');
  await expect(again.locator('[data-saturn-job]').first()).toBeVisible({ timeout: 90_000 });
  const restored = checkPlanGeometry(await readBlocks(page));
  expect(restored.get(first.job)!.start).toBeCloseTo(moved.start, 5);
  expect([...restored.keys()].sort()).toEqual([...after.keys()].sort());
  await shoot(page, testInfo, '6-reloaded', false);
});


test('the main flows work with the keyboard alone: palette commands, moving and pinning a block, the table view', async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  /** Run a command the way a keyboard user does: the command palette, its label, Enter. */
  const palette = async (label: string): Promise<void> => {
    const input = page.locator('#command-palette .lm-CommandPalette-input');
    // On a freshly loaded page the first key press only moves the focus into the app: press again if needed.
    for (let i = 0; i < 3 && !(await input.evaluate(e => e === document.activeElement)); i++) {
      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+Shift+C');
      await page.waitForTimeout(500);
    }
    await expect(input).toBeFocused();
    await input.fill(label);
    await expect(page.locator('#command-palette .lm-CommandPalette-item.lm-mod-active')).toContainText(label);
    await page.keyboard.press('Enter');
  };
  await palette('Open Saturn');
  await openPanel(page);
  await palette('Saturn: Optimize');
  await waitSolved(page);
  await palette('Saturn: Open Plan (Gantt Chart)');
  const chart = page.locator('#jp-saturn-gantt');
  await expect(chart.locator('[data-saturn-job]').first()).toBeVisible({ timeout: 60_000 });

  // Tab into the chart: the keyboard reaches a job block.
  const focusedJob = (): Promise<string | null> =>
    page.evaluate(() => document.activeElement?.closest('[data-saturn-job]')?.getAttribute('data-saturn-job') ?? null);
  let job: string | null = null;
  for (let i = 0; i < 80 && !job; i++) {
    await page.keyboard.press('Tab');
    job = await focusedJob();
  }
  expect(job, 'Tab reaches a job block').not.toBeNull();
  const block = chart.locator(`[data-saturn-job="${job}"]`).first();
  const status = chart.locator('.jp-Saturn-editStatus');

  // P pins it, P again unpins it.
  await page.keyboard.press('p');
  await expect(block).toHaveAttribute('data-saturn-pinned', 'true');
  await expect(status).toContainText(`Pin "${job}"`);
  await page.keyboard.press('p');
  await expect(block).toHaveAttribute('data-saturn-pinned', 'false');

  // Shift+Right moves it later by one grid step: applied when its GPUs are free then, refused with the reason when
  // not. Which one it must be follows from the chart: the grid step (in px, over the block's px per second) and the
  // jobs on its GPUs.
  const blocks = checkPlanGeometry(await readBlocks(page));
  const me = blocks.get(job!)!;
  const grid = await chart.locator('line.jp-Saturn-grid').evaluateAll(ls => ls.map(l => Number(l.getAttribute('x1'))));
  expect(grid.length, 'the time axis has grid lines').toBeGreaterThan(1);
  const rectWidth = Number(await block.locator('.jp-Saturn-blockRect').first().getAttribute('width'));
  const dt = (grid[1] - grid[0]) / (rectWidth / (me.end - me.start));
  const blockers = [...blocks.values()].filter(
    b => b.job !== me.job && b.node === me.node && b.gpus.some(g => me.gpus.includes(g)) &&
      Math.min(b.end, me.end + dt) - Math.max(b.start, me.start + dt) > 1e-6
  );
  test.info().annotations.push({
    type: 'Shift+Right',
    description: `${job} by ${dt} s: ${blockers.length ? `refused, busy with ${blockers.map(b => b.job).join(', ')}` : 'applied'}`
  });
  expect(await focusedJob(), 'the block keeps the focus after an edit').toBe(job);
  await page.keyboard.press('Shift+ArrowRight');
  await expect(status).toHaveAttribute('data-saturn-edit', blockers.length ? 'rejected' : 'ok');
  const after = Number(await block.getAttribute('data-saturn-start'));
  if (blockers.length) {
    expect(after).toBe(me.start);
    await expect(status).toContainText(`Not applied (Move "${job}"`);
    await expect(status).toContainText(new RegExp(`busy with "(${blockers.map(b => b.job).join('|')})"`));
  } else {
    expect(after).toBeCloseTo(me.start + dt, 3);
    await expect(status).toContainText(`Move "${job}"`);
    checkPlanGeometry(await readBlocks(page));
  }
  // Enter opens the job's details (option and pin controls, reachable with Tab).
  expect(await focusedJob()).toBe(job);
  await page.keyboard.press('Enter');
  await expect(chart.getByRole('region', { name: `Job ${job}` })).toBeVisible();

  // The plan as a table (the chart's text alternative), from the palette, and back.
  await palette('Saturn: Show the Plan as a Table');
  const table = chart.getByRole('table', { name: 'Plan as a table' });
  await expect(table).toBeVisible();
  await expect(table.locator('tbody tr')).toHaveCount(TASKS.length);
  await shoot(page, testInfo, '6b-keyboard-table');
  await palette('Saturn: Show the Plan as a Table');
  await expect(table).toBeHidden();
  await expect(chart.locator('[data-saturn-job]').first()).toBeVisible();
});

test('Optimize & Run: blocks turn running then done, the panel shows completion; a reload mid-run shows the true state', async ({ page }, testInfo) => {
  test.setTimeout(360_000);
  const panel = await openPanel(page);
  await optimizeAndRun(page, panel, 120_000);
  const chart = page.locator('#jp-saturn-gantt');
  await expect(chart.locator('[data-saturn-state="running"]').first()).toBeVisible({ timeout: 180_000 });
  checkPlanGeometry(await readBlocks(page));
  await expect(chart.locator('.jp-Saturn-nowLine')).toHaveCount(1);
  await shoot(page, testInfo, '7-running');

  // Reload while jobs run: the chart comes back with the store's state, not a fresh plan.
  const before = await readBlocks(page);
  await reload(page);
  const again = page.locator('#jp-saturn-gantt');
  await expect(again.locator('[data-saturn-job]').first()).toBeVisible({ timeout: 90_000 });
  await expect(again.locator('[data-saturn-state="planned"]')).toHaveCount(0, { timeout: 60_000 });
  const restored = checkPlanGeometry(await readBlocks(page));
  for (const b of before) {
    const r = restored.get(b.job)!;
    expect(r.gpus).toEqual(b.gpus);
    expect(['pending', 'waiting', 'running', 'checkpointing', 'done', 'preempted']).toContain(r.state);
  }
  await page.screenshot({ path: testInfo.outputPath('8-reloaded-mid-run-light.png') });

  // Every job finishes; the panel says so.
  await expect(again.locator('[data-saturn-job]:not([data-saturn-state="done"])')).toHaveCount(0, { timeout: 240_000 });
  const p = await openPanel(page);
  await expect(p.locator('[data-saturn-run="done"]')).toContainText(`Run complete: ${TASKS.length} of ${TASKS.length} jobs done.`, { timeout: 30_000 });
  // The server declares 4 CPU "GPUs" (SATURN_FAKE_GPUS=4): on a machine with fewer cores the jobs that run at once
  // share them and train longer than profiled, and the chart, where planned and real bars meet, says so.
  const notice = again.locator('[role="note"][aria-label="Device notice"]');
  if (os.cpus().length < 4) {
    await expect(notice).toContainText(`4 CPU devices are declared`);
    await expect(notice).toContainText(`on a machine with ${os.cpus().length} cores`);
  } else {
    await expect(notice).toHaveCount(0);
  }
  await shoot(page, testInfo, '9-run-complete');
});

/**
 * Five one-GPU jobs on four GPUs: four start at once, one waits for a GPU. The waiting job can still be moved, and
 * the move must reach the executor (its job record in the store), not only the chart. The model, batch size and data
 * function are ui-a's, so Profile reuses ui-a's cached measurement; the earlier tasks are unregistered so that the
 * run has only these (about 40 s on two cores, most of it kernels starting).
 */
const EDIT_TASKS: [string, number][] = [
  ['edit-1', 12000],
  ['edit-2', 8000],
  ['edit-3', 8000],
  ['edit-4', 8000],
  ['edit-5', 4000]
];

const EDIT_CELL = `${DEFS}
for name in ${JSON.stringify(TASKS)}:
    saturn.unregister(name)
for name, steps in ${JSON.stringify(EDIT_TASKS)}:
    saturn.register(saturn.Task(name, model=mlp(32), data=ui_data, batch_size=16, steps=steps, gpu_range=(1, 1),
                                hints={"techniques": ["ddp"]}))
print("edit tasks registered")`;

test('a job that has not started yet, moved to other GPUs during the run, runs there', async ({ page, tmpPath }, testInfo) => {
  test.setTimeout(420_000);
  const panel = await openPanel(page);
  const nb = JSON.parse(notebook());
  nb.cells[0].source = EDIT_CELL;
  await page.contents.uploadContent(JSON.stringify(nb), 'text', `${tmpPath}/ui-edit-tasks.ipynb`);
  await command(page, 'docmanager:open', { path: `${tmpPath}/ui-edit-tasks.ipynb` });
  const nbPanel = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden)');
  await expect(nbPanel.locator('.jp-Notebook-cell').first()).toBeVisible({ timeout: 60_000 });
  await page.notebook.activate('ui-edit-tasks.ipynb');
  await page.notebook.run();
  await expect(nbPanel.locator('.jp-OutputArea-output').first()).toContainText('edit tasks registered', { timeout: 180_000 });
  for (const [name] of EDIT_TASKS) {
    await expect(panel.locator(`[data-saturn-task="${name}"]`)).toBeVisible({ timeout: 60_000 });
  }
  await expect(panel.locator('[data-saturn-task]')).toHaveCount(EDIT_TASKS.length, { timeout: 60_000 });

  await panel.getByRole('button', { name: 'Profile', exact: true }).click();
  for (const [name] of EDIT_TASKS) {
    await expect(panel.locator(`[data-saturn-profile-job="${name}"] .jp-Saturn-cell-feasible`).first()).toBeVisible({ timeout: 180_000 });
  }
  const run = panel.getByRole('button', { name: 'Optimize & Run', exact: true });
  await expect(run).toBeEnabled({ timeout: 60_000 });
  await run.click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toBeVisible({ timeout: 60_000 });
  await dialog.getByRole('button', { name: 'Run', exact: true }).click();

  // The run has started when the store says a job was launched; the one behind another job is still pending.
  const chart = page.locator('#jp-saturn-gantt');
  await expect(chart.locator('[data-saturn-state="waiting"], [data-saturn-state="running"]').first()).toBeVisible({ timeout: 120_000 });
  const blocks = checkPlanGeometry(await readBlocks(page));
  expect([...blocks.keys()].sort()).toEqual(EDIT_TASKS.map(([n]) => n).sort());
  const waiting = [...blocks.values()].filter(b => b.state === 'pending').sort((a, b) => b.start - a.start);
  expect(waiting.length, 'a job waits for a GPU').toBeGreaterThan(0);
  const job = waiting[0];
  expect(job.start).toBeGreaterThan(0);

  // Target: another GPU of its node, right after the last job planned there (free from then on).
  const lanes = await chart.locator(`[data-saturn-lane^="${job.node}/"]`).evaluateAll(els =>
    els.map(e => Number(e.getAttribute('data-saturn-lane')!.split('/')[1]))
  );
  const endOn = (g: number): number =>
    Math.max(0, ...[...blocks.values()].filter(b => b.job !== job.job && b.node === job.node && b.gpus.includes(g)).map(b => b.end));
  const target = lanes.filter(g => !job.gpus.includes(g)).sort((a, b) => endOn(a) - endOn(b) || a - b)[0];
  const targetStart = endOn(target);

  const rect = chart.locator(`[data-saturn-job="${job.job}"] .jp-Saturn-blockRect`).first();
  const box = (await rect.boundingBox())!;
  const lane = (await chart.locator(`[data-saturn-lane="${job.node}/${target}"] .jp-Saturn-lane`).boundingBox())!;
  const pxPerS = box.width / (job.end - job.start);
  await page.mouse.move(box.x + 4, box.y + box.height / 2);
  await page.mouse.down();
  // 2 px past the last job's end on the target GPU: the drop snaps onto that edge.
  await page.mouse.move(box.x + 4 + (targetStart - job.start) * pxPerS + 2, lane.y + lane.height / 2, { steps: 12 });
  const status = chart.locator('.jp-Saturn-editStatus');
  await expect(status).toHaveAttribute('data-saturn-edit', 'ok');
  await page.mouse.up();
  await expect(status).toHaveAttribute('data-saturn-edit-pending', 'false');
  await expect(status).toHaveAttribute('data-saturn-edit', 'ok');
  // The edit's own line, unless the run's next snapshot (which now carries the edit) has already replaced it.
  await expect(status).toContainText(new RegExp(`GPU ${target}|Re-planned during the run`));

  // (a) The chart shows the move.
  const moved = chart.locator(`[data-saturn-job="${job.job}"]`);
  await expect(moved).toHaveAttribute('data-saturn-gpus', String(target));
  await expect(moved).toHaveAttribute('data-saturn-lanes', String(target));
  // Not before the job it now follows (a plan handed over during a run starts nothing in the past: it may be later).
  expect(Number(await moved.getAttribute('data-saturn-start'))).toBeGreaterThanOrEqual(targetStart - 1e-3);
  expect(['pending', 'waiting']).toContain(await moved.getAttribute('data-saturn-state'));
  await shoot(page, testInfo, '10-moved-during-run');

  // (b) The executor took it: a reload rebuilds the chart from the job records in the store.
  await reload(page);
  const again = page.locator('#jp-saturn-gantt');
  await expect(again.locator('[data-saturn-job]').first()).toBeVisible({ timeout: 90_000 });
  await expect(again.locator('[data-saturn-state="planned"]')).toHaveCount(0, { timeout: 60_000 });
  const restored = checkPlanGeometry(await readBlocks(page));
  expect(restored.get(job.job)!.gpus).toEqual([target]);
  expect(restored.get(job.job)!.start).toBeGreaterThanOrEqual(targetStart - 1e-3);

  // It runs and finishes there.
  const after = again.locator(`[data-saturn-job="${job.job}"]`);
  await expect(after).toHaveAttribute('data-saturn-state', 'done', { timeout: 180_000 });
  await expect(after).toHaveAttribute('data-saturn-gpus', String(target));
  await expect(again.locator('[data-saturn-job]:not([data-saturn-state="done"])')).toHaveCount(0, { timeout: 120_000 });
  const p = await openPanel(page);
  await expect(p.locator('[data-saturn-run="done"]')).toContainText(`Run complete: ${EDIT_TASKS.length} of ${EDIT_TASKS.length} jobs done.`, {
    timeout: 30_000
  });
  await shoot(page, testInfo, '11-moved-job-done');
});
