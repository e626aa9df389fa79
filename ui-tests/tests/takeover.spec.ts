/**
 * The tab is closed during a run: the page's dispatcher stops with it, Saturn's Python autopilot (in the control
 * kernel) sees its heartbeat go stale and launches the jobs that had not started; a page opened afterwards shows
 * the store's truth, every job done. Six equal one-GPU jobs on four GPUs, so two of them can only start after the
 * tab is gone. The store is read from this process with Saturn's own Python (SATURN_ROOT is the server's root).
 */
import { execFileSync } from 'child_process';
import { expect, test } from '@jupyterlab/galata';
import { command, load, openPanel, optimizeAndRun, profileTasks, registerOnly } from './helpers';

test.use({ autoGoto: false, kernels: null, sessions: null });

const TASKS: [string, number][] = ['tk-1', 'tk-2', 'tk-3', 'tk-4', 'tk-5', 'tk-6'].map(n => [n, 6000]);

interface IStoredJob {
  task: string;
  state: string;
  launched_by: string;
}

/** The jobs of the newest run of these tasks, as the store has them. */
function storedJobs(): IStoredJob[] {
  const code = `
import json, sys
from saturn.core.jobs import JobStore
names = set(json.loads(sys.argv[1]))
jobs = [j for j in JobStore().list() if j["task"] in names]
run = max(jobs, key=lambda j: j["created_at"])["info"].get("run_id") if jobs else None
print(json.dumps([{"task": j["task"], "state": j["state"], "launched_by": j["info"].get("launched_by", "dispatcher")}
                  for j in jobs if j["info"].get("run_id") == run]))`;
  const out = execFileSync('python', ['-c', code, JSON.stringify(TASKS.map(([n]) => n))], {
    env: process.env,
    encoding: 'utf-8',
    timeout: 60_000
  });
  return JSON.parse(out);
}

test('a run goes on when its tab is closed: the autopilot finishes it and a reopened page shows every job done', async ({
  page,
  context,
  baseURL,
  tmpPath
}) => {
  test.skip(!process.env.SATURN_ROOT, 'SATURN_ROOT (the server root, where the store is) is not set for this run');
  test.setTimeout(480_000);
  await load(page, baseURL);
  await registerOnly(page, tmpPath, 'takeover-tasks.ipynb', TASKS);
  const panel = await openPanel(page);
  await profileTasks(panel, TASKS.map(([n]) => n));
  await optimizeAndRun(page, panel);

  // Close the tab as soon as a job runs; at most four can have started (four GPUs), the others wait.
  const chart = page.locator('#jp-saturn-gantt');
  await expect(chart.locator('[data-saturn-state="running"]').first()).toBeVisible({ timeout: 180_000 });
  await page.close();
  const atClose = storedJobs();
  expect(atClose.map(j => j.task).sort()).toEqual(TASKS.map(([n]) => n));
  const waiting = atClose.filter(j => j.state === 'pending').map(j => j.task);
  expect(waiting.length, `jobs not started when the tab closed: ${JSON.stringify(atClose)}`).toBeGreaterThan(0);

  // With no page open, the store reaches the end of the run.
  await expect
    .poll(() => storedJobs().filter(j => j.state !== 'done').map(j => `${j.task}=${j.state}`), { timeout: 360_000, intervals: [2_000] })
    .toEqual([]);
  const after = storedJobs();
  for (const task of waiting) {
    expect(after.find(j => j.task === task)!.launched_by, `${task} was started by the autopilot`).toBe('autopilot');
  }

  // A page opened now shows it: every block done, the panel says the run is complete.
  const again = await context.newPage();
  await load(again as any, baseURL);
  const p = await openPanel(again as any);
  await command(again as any, 'saturn:open-gantt');
  const chart2 = again.locator('#jp-saturn-gantt');
  await expect(chart2.locator('[data-saturn-job]')).toHaveCount(TASKS.length, { timeout: 90_000 });
  await expect(chart2.locator('[data-saturn-job]:not([data-saturn-state="done"])')).toHaveCount(0, { timeout: 60_000 });
  await expect(p.locator('[data-saturn-run="done"]')).toContainText(`Run complete: ${TASKS.length} of ${TASKS.length} jobs done.`, {
    timeout: 30_000
  });
  await again.close();
});
