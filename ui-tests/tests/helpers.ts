/**
 * Shared helpers of the Saturn UI specs. The machine running them may be busy (galata's own page-load wait gives
 * up after 15 s), so specs load the page themselves with longer timeouts and do not insist on the Launcher tab (a
 * restored Gantt chart may be the active one).
 */
import { execFileSync } from 'child_process';
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

/** Data and model loaders for the tasks of these specs (a task cell starts with it). */
export const TASK_DEFS = `import saturn, torch
from torch import nn

def ui_data(batch_size):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(128, 16, generator=g), torch.randint(0, 4, (128,), generator=g)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch_size)

def mlp(width, depth=1):
    def build():
        layers, d = [], 16
        for _ in range(depth):
            layers += [nn.Linear(d, width), nn.ReLU()]
            d = width
        return nn.Sequential(*layers, nn.Linear(d, 4))
    return build
`;

/** A one-cell notebook (Python 3) with this source. */
export function notebookWith(source: string): string {
  return JSON.stringify({
    cells: [{ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source, id: 'define-tasks' }],
    metadata: { kernelspec: { display_name: 'Python 3 (ipykernel)', language: 'python', name: 'python3' } },
    nbformat: 4,
    nbformat_minor: 5
  });
}

/**
 * Upload a one-cell notebook with this source as `file`, open it, run it, and wait until its output contains
 * `printed`; returns the cell's output.
 */
export async function runCell(page: IJupyterLabPageFixture, tmpPath: string, file: string, source: string, printed: string): Promise<Locator> {
  await page.contents.uploadContent(notebookWith(source), 'text', `${tmpPath}/${file}`);
  await command(page, 'docmanager:open', { path: `${tmpPath}/${file}` });
  const nb = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden)');
  await expect(nb.locator('.jp-Notebook-cell').first()).toBeVisible({ timeout: 60_000 });
  await page.notebook.activate(file);
  await page.notebook.run();
  const output = nb.locator('.jp-OutputArea-output').first();
  await expect(output).toContainText(printed, { timeout: 180_000 });
  return output;
}

/** Press Profile in the panel and wait (up to `timeoutMs`) until every one of these tasks has a feasible option. */
export async function profileTasks(panel: Locator, names: readonly string[], timeoutMs = 180_000): Promise<void> {
  await panel.getByRole('button', { name: 'Profile', exact: true }).click();
  for (const name of names) {
    await expect(panel.locator(`[data-saturn-profile-job="${name}"] .jp-Saturn-cell-feasible`).first()).toBeVisible({ timeout: timeoutMs });
  }
}

/** Press Optimize & Run and confirm the run ("Confirm before running a plan" is on by default). */
export async function optimizeAndRun(page: IJupyterLabPageFixture, panel: Locator, enabledWithinMs = 60_000): Promise<void> {
  const run = panel.getByRole('button', { name: 'Optimize & Run', exact: true });
  await expect(run).toBeEnabled({ timeout: enabledWithinMs });
  await run.click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toBeVisible({ timeout: 60_000 });
  await dialog.getByRole('button', { name: 'Run', exact: true }).click();
}

/**
 * Only these tasks are registered: every other one is unregistered, then one per (name, steps), each on one GPU
 * with DDP. The model, batch size and data are those of saturn-flow's ui-a, so Profile reuses its measurement.
 */
export async function registerOnly(page: IJupyterLabPageFixture, tmpPath: string, file: string, tasks: [string, number][]): Promise<void> {
  const source = `${TASK_DEFS}
for name in saturn.tasks().names():
    saturn.unregister(name)
for name, steps in ${JSON.stringify(tasks)}:
    saturn.register(saturn.Task(name, model=mlp(32), data=ui_data, batch_size=16, steps=steps, gpu_range=(1, 1),
                                hints={"techniques": ["ddp"]}))
print("only these tasks are registered")`;
  await runCell(page, tmpPath, file, source, 'only these tasks are registered');
  const panel = await openPanel(page);
  for (const [name] of tasks) {
    await expect(panel.locator(`[data-saturn-task="${name}"]`)).toBeVisible({ timeout: 60_000 });
  }
  await expect(panel.locator('[data-saturn-task]')).toHaveCount(tasks.length, { timeout: 60_000 });
}

/**
 * A notebook cell that registers a 2 × 2 grid (learning rate × batch size) with validation: labels are a fixed
 * projection of the inputs, so the models learn and the learning rates differ. `extra` runs after it.
 */
export function gridCell(prefix: string, steps: number, extra = ''): string {
  return `import saturn, torch
from torch import nn
import torch.nn.functional as F

W = torch.randn(16, 4, generator=torch.Generator().manual_seed(3))

def grid_data(batch_size):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(512, 16, generator=g)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, (x @ W).argmax(1)), batch_size=batch_size)

def grid_model():
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))

def validate(model):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(256, 16, generator=g)
    y = (x @ W).argmax(1)
    out = model(x)
    return {"val_loss": float(F.cross_entropy(out, y)), "val_acc": float((out.argmax(1) == y).float().mean())}

for name in saturn.tasks().names():
    saturn.unregister(name)
saturn.grid("${prefix}", model=grid_model, data=grid_data, steps=${steps}, lr=[0.01, 0.1], batch_size=[8, 16],
            validate=validate, eval_every=100, gpu_range=(1, 1), hints={"techniques": ["ddp"]})
${extra}print("grid registered:", ", ".join(saturn.tasks().names()))`;
}

/** Saturn's Python on the server's store (SATURN_ROOT), or null when the root is not known here. */
export function python(code: string): string | null {
  if (!process.env.SATURN_ROOT) {
    return null;
  }
  return execFileSync('python', ['-c', code], { env: process.env, encoding: 'utf-8', timeout: 60_000 }).trim();
}
