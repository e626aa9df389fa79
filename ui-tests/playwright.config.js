// Galata specs against `jupyter lab` (JupyterLab 4.6.6 from PyPI) in Debian's Chromium, as the JupyterLab
// extension template runs them: Playwright starts the server (jupyter_server_test_config.py) and stops it.
// scripts/test.sh sets SATURN_UI_PORT, the Jupyter root (JUPYTERLAB_GALATA_ROOT_DIR = SATURN_ROOT) and the
// declared GPUs; `jupyter` must be the one of Saturn's .venv (test.sh puts it first on PATH).
const base = require('@jupyterlab/galata/lib/playwright-config');

const port = process.env.SATURN_UI_PORT || '8888';
const url = `http://127.0.0.1:${port}`;
const serverLog = process.env.SATURN_UI_SERVER_LOG || '/tmp/saturn-ui-server.log';

// A second server for the fidelity spec: as many declared CPU GPUs as the demo gets on a 2-core machine (one per
// core), its own Jupyter root and store, so that the jobs that run at once do not share cores and the plan can
// come true. scripts/test.sh gives it a free port and a root; the fallbacks serve a run by hand.
const fidelityPort = process.env.SATURN_UI_FIDELITY_PORT || String(Number(port) + 1);
const fidelityURL = `http://127.0.0.1:${fidelityPort}`;
const fidelityRoot = process.env.SATURN_UI_FIDELITY_ROOT || require('path').join(require('os').tmpdir(), `saturn-ui-fidelity-${fidelityPort}`);
require('fs').mkdirSync(fidelityRoot, { recursive: true });
const fidelityEnv = {
  ...process.env,
  SATURN_UI_PORT: fidelityPort,
  JUPYTERLAB_GALATA_ROOT_DIR: fidelityRoot,
  SATURN_ROOT: fidelityRoot,
  SATURN_FAKE_GPUS: '2'
};

module.exports = {
  ...base,
  testDir: './tests',
  globalSetup: require.resolve('./global-setup.js'),
  outputDir: './test-results',
  workers: 1,
  retries: 0,
  timeout: 120000,
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    ...base.use,
    baseURL: url,
    browserName: 'chromium',
    video: 'off',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.SATURN_CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync']
    }
  },
  // The server (and its store) is shared by every spec. The panel spec checks what a fresh server shows (no task,
  // no plan), so it runs first; the other specs make and run their own tasks, each on a store with earlier runs.
  // The fidelity spec has its own server (2 declared GPUs) and runs alone, before the others load the machine.
  projects: [
    { name: 'fidelity', testMatch: /fidelity\.spec\.ts$/, use: { baseURL: fidelityURL } },
    { name: 'fresh-server', testMatch: /panel\.spec\.ts$/ },
    { name: 'flows', testIgnore: /(panel|fidelity)\.spec\.ts$/, dependencies: ['fresh-server'] }
  ],
  webServer: [
    {
      command: `jupyter lab --config jupyter_server_test_config.py >>'${serverLog}' 2>&1`,
      url: `${url}/lab`,
      timeout: 180000,
      reuseExistingServer: false
    },
    {
      command: `jupyter lab --config jupyter_server_test_config.py >>'${fidelityRoot}/server.log' 2>&1`,
      url: `${fidelityURL}/lab`,
      env: fidelityEnv,
      timeout: 180000,
      reuseExistingServer: false
    }
  ]
};
