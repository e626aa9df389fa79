// UI tests run against the real JupyterLab page served by host/saturn_lab.py (scripts/test.sh
// starts it) in Debian's Chromium. SATURN_UI_URL and SATURN_UI_TOKEN say where it runs.
const base = require('@jupyterlab/galata/lib/playwright-config');

const url = process.env.SATURN_UI_URL || 'http://127.0.0.1:8899';
const token = process.env.SATURN_UI_TOKEN || '';

module.exports = {
  ...base,
  testDir: './tests',
  outputDir: './test-results',
  workers: 1,
  retries: 0,
  timeout: 120000,
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    ...base.use,
    baseURL: url,
    browserName: 'chromium',
    extraHTTPHeaders: token ? { Authorization: `token ${token}` } : {},
    video: 'off',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.SATURN_CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync']
    }
  }
};
