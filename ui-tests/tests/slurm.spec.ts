/**
 * The SLURM backend in the page: with Settings → Saturn → Backend = slurm, the panel shows the cluster's nodes as
 * node groups and Optimize plans over both nodes, the Gantt chart grouping its lanes by node. scripts/test.sh starts
 * a real 2-node SLURM cluster (scripts/fakecluster.sh) for the UI server and sets SATURN_UI_SLURM=1; where SLURM
 * cannot run, this spec is skipped with that reason. Its tasks are five equal one-GPU jobs: a node has four GPUs, so
 * on one node the fifth would wait for a whole job; a plan that does not use both nodes takes twice as long. They
 * reuse the measurement of saturn-flow.spec.ts's ui-a when that spec ran first.
 */
import { expect, test } from '@jupyterlab/galata';
import { command, load, openPanel, registerOnly, reload, shoot } from './helpers';

test.use({ autoGoto: false, kernels: null, sessions: null });

const PLUGIN = 'jupyterlab-saturn:plugin';
const TASKS: [string, number][] = ['slurm-1', 'slurm-2', 'slurm-3', 'slurm-4', 'slurm-5'].map(n => [n, 3000]);

async function setBackend(page: any, backend: string | null): Promise<void> {
  await page.evaluate(
    async ([id, b]: [string, string | null]) => {
      const settings = (window as any).jupyterapp.serviceManager.settings;
      await settings.save(id, JSON.stringify(b ? { backend: b } : {}));
    },
    [PLUGIN, backend]
  );
}

test('on SLURM the panel shows the nodes as node groups and Optimize plans on the two-node cluster', async ({ page, baseURL, tmpPath }, testInfo) => {
  test.skip(!process.env.SATURN_UI_SLURM, `SLURM is not available for the UI server: ${process.env.SATURN_UI_SLURM_WHY ?? 'not started'}`);
  test.setTimeout(420_000);
  await load(page, baseURL);
  await registerOnly(page, tmpPath, 'slurm-tasks.ipynb', TASKS);
  await setBackend(page, 'slurm');
  try {
    await reload(page);
    const panel = await openPanel(page);
    const nodes = panel.getByLabel('SLURM nodes');
    await expect(nodes).toContainText('SLURM: 2 nodes, 8 usable GPUs', { timeout: 60_000 });
    for (const n of ['n1', 'n2']) {
      const group = nodes.locator(`[data-saturn-node="${n}"]`);
      await expect(group).toHaveAttribute('data-saturn-node-usable', 'true');
      await expect(group.locator('[data-saturn-device]')).toHaveCount(4);
    }
    await nodes.scrollIntoViewIfNeeded();
    await shoot(page, testInfo, 'slurm-nodes');

    // Profile on the cluster (trials run as srun steps; profiles measured earlier on these CPU devices are reused)
    const profile = panel.getByRole('button', { name: 'Profile', exact: true });
    // The button is disabled while profiling; with every trial cached that may last less than one poll of
    // toBeDisabled, so the page records whether it ever was
    await profile.evaluate((b: HTMLButtonElement) => {
      const w = window as any;
      w.saturnProfileDisabled = false;
      new MutationObserver(() => {
        w.saturnProfileDisabled ||= b.disabled;
      }).observe(b, { attributes: true, attributeFilter: ['disabled'] });
    });
    await profile.click();
    await expect.poll(() => page.evaluate(() => (window as any).saturnProfileDisabled), { timeout: 30_000 }).toBe(true); // profiling started
    await expect(profile).toBeEnabled({ timeout: 240_000 });
    await expect(panel.locator('.jp-Saturn-cell-feasible').first()).toBeVisible();
    await panel.getByRole('button', { name: 'Optimize', exact: true }).click();
    await command(page, 'saturn:open-gantt');
    const chart = page.locator('#jp-saturn-gantt');
    for (const n of ['n1', 'n2']) {
      await expect(chart.locator(`[data-saturn-lane^="${n}/"]`)).toHaveCount(4, { timeout: 120_000 });
    }
    await expect(chart.locator('[data-saturn-job]')).toHaveCount(TASKS.length, { timeout: 120_000 });
    await expect(panel.getByRole('button', { name: 'Cancel', exact: true })).toBeDisabled({ timeout: 120_000 }); // solved
    const placed = await chart.locator('[data-saturn-job]').evaluateAll(els =>
      els.map(e => ({ job: e.getAttribute('data-saturn-job')!, node: e.getAttribute('data-saturn-node')! }))
    );
    expect(placed.map(p => p.job).sort()).toEqual(TASKS.map(([n]) => n));
    for (const p of placed) {
      expect(['n1', 'n2']).toContain(p.node);
    }
    expect([...new Set(placed.map(p => p.node))].sort(), 'the plan uses both nodes').toEqual(['n1', 'n2']);
    await expect(chart.locator('.jp-Saturn-nodeLabel')).toHaveText(['n1', 'n2']);
    await shoot(page, testInfo, 'slurm-plan');
  } finally {
    await setBackend(page, null);
  }
});
