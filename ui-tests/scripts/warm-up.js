// Loads the JupyterLab page once before the UI tests, so that the first test does not pay for a
// cold server (first workspace, first static reads) inside galata's fixed 15 s start-up wait.
// Usage: node scripts/warm-up.js URL TOKEN
const { chromium } = require('playwright-core');

(async () => {
  const [url, token] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.SATURN_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update']
  });
  try {
    const page = await browser.newPage();
    const started = Date.now();
    await page.goto(`${url}/lab?token=${token}`, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => document.body.dataset.saturnHost === 'ready', null, { timeout: 180000 });
    await page.waitForTimeout(3000);
    console.log(`warm-up: JupyterLab ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await browser.close();
  }
})().catch(err => {
  console.error(`warm-up failed: ${err.message}`);
  process.exit(1);
});
