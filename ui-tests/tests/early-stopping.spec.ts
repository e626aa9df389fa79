/**
 * Early stopping from the page: a notebook cell registers a 2 × 2 grid with validation and keeps ASHA from Python
 * (`saturn.set_early_stopping("asha", metric="val_loss", rungs=[100, 300], eta=2)`; Settings → Saturn → Early
 * stopping is "As set from Python" by default); Profile → Optimize & Run. Every job trains to its first rung, the
 * bottom half stops early there, the rest goes on to the next rung and the last survivor to its end. The Gantt chart
 * shows the stopped jobs (hatched, their rung in their title), the rung marks and the promotions; the Results view
 * lists the stopped jobs with their rung, draws the rungs on the curves and marks the best row among all tasks.
 * Screenshots light and dark of both. Its tasks and the early stopping are removed afterwards.
 */
import { expect, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import { command, gridCell, load, openPanel, optimizeAndRun, profileTasks, python, runCell, shoot } from './helpers';

test.use({ autoGoto: false, kernels: null, sessions: null });

const TASKS = ['es-lr0.01-bs8', 'es-lr0.01-bs16', 'es-lr0.1-bs8', 'es-lr0.1-bs16'];
const RUNGS = [100, 300];

/** The grid of results.spec.ts (the learning rates differ in how fast the models learn), 600 steps, ASHA from Python. */
const CELL = gridCell(
  'es',
  600,
  `print("early stopping:", saturn.set_early_stopping("asha", metric="val_loss", rungs=${JSON.stringify(RUNGS)}, eta=2))\n`
);

test.afterAll(() => {
  python(`import saturn\nsaturn.set_early_stopping(None)\nfor n in saturn.tasks().names():\n    n.startswith("es-") and saturn.unregister(n)`);
});

interface IBlock {
  job: string;
  state: string;
  rungs: string | null;
  stoppedRung: number | null;
  promoted: number[];
  title: string;
  marks: Array<{ rung: number; outcome: string; promoted: boolean; on: string }>;
  /** The stretches it really held its GPUs (bars under the block). */
  segments: number;
  /** Its planned block's start (s from the run's start) and the stretches' starts and ends. */
  start: number;
  stretches: Array<[number, number]>;
}

function readBlocks(chart: Locator): Promise<IBlock[]> {
  return chart.locator('[data-saturn-job]').evaluateAll(els =>
    els.map(e => ({
      job: e.getAttribute('data-saturn-job')!,
      state: e.getAttribute('data-saturn-state')!,
      rungs: e.getAttribute('data-saturn-rungs'),
      stoppedRung: e.hasAttribute('data-saturn-stopped-rung') ? Number(e.getAttribute('data-saturn-stopped-rung')) : null,
      promoted: (e.getAttribute('data-saturn-promoted') ?? '').split(',').filter(Boolean).map(Number),
      title: e.querySelector(':scope > title')?.textContent ?? '',
      marks: Array.from(e.querySelectorAll('[data-saturn-rung]')).map(m => ({
        rung: Number(m.getAttribute('data-saturn-rung')),
        outcome: m.getAttribute('data-saturn-rung-outcome')!,
        promoted: m.getAttribute('data-saturn-promoted') === 'true',
        on: m.getAttribute('data-saturn-rung-on')!
      })),
      segments: e.querySelectorAll('[data-saturn-segment]').length,
      start: Number(e.getAttribute('data-saturn-start')),
      stretches: Array.from(e.querySelectorAll('[data-saturn-segment] [data-saturn-actual-start]')).map(
        r => [Number(r.getAttribute('data-saturn-actual-start')), Number(r.getAttribute('data-saturn-actual-end'))] as [number, number]
      )
    }))
  );
}

interface IRow {
  task: string;
  state: string;
  stateText: string;
  stoppedRung: number | null;
  best: boolean;
  bestLoss: number;
}

function readRows(view: Locator): Promise<IRow[]> {
  return view.locator('[data-saturn-result-row]').evaluateAll(els =>
    els.map(e => ({
      task: e.getAttribute('data-saturn-result-row')!,
      state: e.getAttribute('data-saturn-state')!,
      stateText: e.querySelector('[data-saturn-cell="state"]')?.textContent ?? '',
      stoppedRung: e.hasAttribute('data-saturn-stopped-rung') ? Number(e.getAttribute('data-saturn-stopped-rung')) : null,
      best: e.getAttribute('data-saturn-best') === 'true',
      bestLoss: Number(e.querySelector('[data-saturn-cell="best:val_loss"]')?.getAttribute('data-saturn-value') || NaN)
    }))
  );
}

test('ASHA from the page: jobs stop early at their rungs, the survivors finish, both views show it', async ({ page, baseURL, tmpPath }, testInfo) => {
  test.setTimeout(540_000);
  const t0 = Date.now();
  const mark = (what: string): void => {
    testInfo.annotations.push({ type: 'timing', description: `${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s` });
  };
  await load(page, baseURL);
  const panel = await openPanel(page);
  const output = await runCell(page, tmpPath, 'asha.ipynb', CELL, 'grid registered');
  await expect(output).toContainText("'kind': 'asha'");
  for (const name of TASKS) {
    await expect(panel.locator(`[data-saturn-task="${name}"]`)).toBeVisible({ timeout: 60_000 });
  }
  mark('grid registered');

  // Profile, then Optimize & Run (the page asks Python for the early stopping: the default setting)
  await profileTasks(panel, TASKS);
  mark('profiled');
  await optimizeAndRun(page, panel);

  // The Gantt chart of the run: the first plan is each job's work to its first rung, every block carries the rungs
  await command(page, 'saturn:open-gantt');
  const chart = page.locator('#jp-saturn-gantt');
  await expect(chart.locator('[data-saturn-job][data-saturn-rungs]')).toHaveCount(TASKS.length, { timeout: 120_000 });
  mark('run started');
  for (const b of await readBlocks(chart)) {
    expect(b.rungs, `${b.job}'s rung steps`).toBe(RUNGS.join(','));
  }
  // some jobs stop early, then the run is over: the survivors finished
  await expect(chart.locator('[data-saturn-job][data-saturn-state="stopped_early"]').first()).toBeVisible({ timeout: 300_000 });
  mark('first job stopped early');
  await expect(chart.locator('[data-saturn-run="done"]')).toBeVisible({ timeout: 400_000 });
  mark('run done');

  const blocks = await readBlocks(chart);
  const stopped = blocks.filter(b => b.state === 'stopped_early');
  const done = blocks.filter(b => b.state === 'done');
  testInfo.annotations.push({ type: 'outcome', description: blocks.map(b => `${b.job}: ${b.state}${b.stoppedRung ? ` at ${b.stoppedRung}` : ''}, promoted at [${b.promoted}]`).join('; ') });
  // eta 2 over 4 jobs: at least half stop at the first rung or the second; at least one finishes
  expect(stopped.length).toBeGreaterThanOrEqual(2);
  expect(done.length).toBeGreaterThanOrEqual(1);
  expect(stopped.length + done.length).toBe(TASKS.length);
  for (const b of stopped) {
    expect(RUNGS).toContain(b.stoppedRung);
    expect(b.title).toMatch(new RegExp(`stopped early at step ${b.stoppedRung} \\(val_loss [0-9.e-]+\\)`));
    // its last stretch on its GPU ends with the stop mark; one stretch per rung it reached
    expect(b.marks.find(m => m.on === 'real' && m.rung === b.stoppedRung)?.outcome, `${b.job}'s stop mark`).toBe('stopped');
    expect(b.segments).toBeGreaterThanOrEqual(RUNGS.indexOf(b.stoppedRung!) + 1);
  }
  for (const b of done) {
    // a survivor was promoted at every rung, and its block shows the promotion it started from
    expect(b.promoted).toEqual(RUNGS);
    expect(b.marks.some(m => m.promoted), `${b.job}'s promotion mark`).toBe(true);
    expect(b.marks.every(m => m.outcome === 'promoted')).toBe(true);
    expect(b.marks.filter(m => m.on === 'real').map(m => m.rung)).toEqual(RUNGS);
    expect(b.segments).toBeGreaterThanOrEqual(RUNGS.length + 1);
    // its planned block is its last segment, planned after its last promotion: it starts after its first stretch
    expect(b.start, `${b.job}'s block starts after its first stretch ${JSON.stringify(b.stretches)}`).toBeGreaterThanOrEqual(b.stretches[0][1] - 0.5);
  }
  // a job stopped at the second rung was promoted at the first
  for (const b of stopped.filter(x => x.stoppedRung === RUNGS[1])) {
    expect(b.promoted).toEqual([RUNGS[0]]);
  }
  await expect(chart.locator('.jp-Saturn-blockStopped')).toHaveCount(stopped.length);
  await expect(chart.locator('[data-saturn-run="done"]')).toContainText(`${stopped.length} stopped early`);
  // the store agrees (the states the Results view reads)
  const states = python(
    'import saturn, json\nr = saturn.results()\nrows = r.to_dict("records") if hasattr(r, "to_dict") else list(r)\nprint(json.dumps({x["task"]: x["state"] for x in rows}))'
  );
  if (states) {
    expect(JSON.parse(states)).toEqual(Object.fromEntries(blocks.map(b => [b.job, b.state])));
  }

  // Screenshots of the chart with the side panel folded away, light and dark
  await page.locator('.jp-SideBar.jp-mod-left [data-id="jp-saturn-panel"]').click();
  await expect(page.locator('#jp-saturn-panel')).toBeHidden();
  await chart.getByRole('button', { name: 'Fit', exact: true }).click();
  await shoot(page, testInfo, 'es-gantt');

  // The Results view: the stopped jobs with their rung, rung lines on the curves, the best row among all tasks
  await chart.getByRole('button', { name: 'Results', exact: true }).click();
  const view = page.locator('#jp-saturn-results');
  await expect(view.locator('[data-saturn-result-row]')).toHaveCount(TASKS.length, { timeout: 120_000 });
  await expect(view.locator('[data-saturn-result-row][data-saturn-state="stopped_early"]')).toHaveCount(stopped.length, { timeout: 60_000 });
  await expect.poll(async () => (await readRows(view)).filter(r => r.stoppedRung !== null).length, { timeout: 60_000 }).toBe(stopped.length);
  const rows = await readRows(view);
  for (const r of rows.filter(x => x.state === 'stopped_early')) {
    const b = stopped.find(x => x.job === r.task)!;
    expect(r.stateText).toBe(`stopped early at step ${b.stoppedRung}`);
    expect(r.stoppedRung).toBe(b.stoppedRung);
  }
  expect(rows.filter(r => r.state === 'done').map(r => r.stateText)).toEqual(done.map(() => 'done'));
  await expect(view.locator('[data-saturn-results-stopped]')).toHaveAttribute('data-saturn-results-stopped', String(stopped.length));
  await expect(view.locator('[data-saturn-rung-line]')).toHaveCount(RUNGS.length);
  await expect(view.locator('[data-saturn-curve-stop]')).toHaveCount(stopped.length);
  // the best row: the lowest best val_loss among every task, stopped ones included
  const lowest = [...rows].sort((a, b) => a.bestLoss - b.bestLoss)[0];
  expect(rows.filter(r => r.best).map(r => r.task)).toEqual([lowest.task]);
  await expect(view.locator('[data-saturn-results-best]')).toHaveAttribute('data-saturn-results-best', lowest.task);
  await expect(view.locator('[data-saturn-results-best]')).toHaveAttribute('title', /best val_loss each task reached, tasks stopped early included/);
  await expect(view.locator('.jp-Saturn-resultsNote')).toContainText(`${stopped.length} tasks stopped early`);
  await shoot(page, testInfo, 'es-results');
  mark('checked');
  console.log(testInfo.annotations.map(a => `${a.type}: ${a.description}`).join('\n'));
});
