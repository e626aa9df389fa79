// Loads the JupyterLab page once before the specs, so that the first spec does not pay for a cold server
// (first workspace, first static reads, first kernelspec scan) inside its own time limit.
const { chromium } = require('playwright-core');
const config = require('./playwright.config.js');

module.exports = async () => {
  const { baseURL, launchOptions } = config.use;
  const browser = await chromium.launch(launchOptions);
  try {
    const page = await browser.newPage();
    const started = Date.now();
    await page.goto(`${baseURL}/lab`, { waitUntil: 'domcontentloaded', timeout: 180000 });
    await page.waitForFunction(() => typeof window.jupyterapp === 'object', null, { timeout: 180000 });
    await page.evaluate(() => window.jupyterapp.restored);
    console.log(`warm-up: JupyterLab ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await browser.close();
  }
};
