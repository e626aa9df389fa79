"""`python -m jupyterlab.browser_check` with Debian's Chromium instead of a browser Playwright downloads.

JupyterLab's check starts a server, loads the page in a browser and fails on any console error, page error or
error logged by the server (a missing or broken extension among them). Its own browser step runs
`npx playwright install chromium`, which needs a download this machine cannot make. Here that one step is
replaced: the same `browser-test.js` from the installed jupyterlab package runs with a `playwright` module whose
`chromium.launch` starts /usr/bin/chromium (or $SATURN_CHROMIUM). Everything else is JupyterLab's own code.

Usage: python scripts/browser_check.py   (needs ui-tests/node_modules: playwright-core)
"""
import asyncio
import os
import shutil
import tempfile
from pathlib import Path

import jupyterlab
import jupyterlab.browser_check as check

REPO = Path(__file__).resolve().parent.parent
SHIM = """
const core = require('playwright-core');
const executablePath = process.env.SATURN_CHROMIUM || '/usr/bin/chromium';
const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
module.exports = { chromium: { launch: options => core.chromium.launch({ ...options, executablePath, args }) } };
"""


async def run_browser_with_debian_chromium(url):
    node_modules = REPO / "ui-tests" / "node_modules"
    if not (node_modules / "playwright-core").is_dir():
        raise RuntimeError(f"{node_modules}/playwright-core is missing: run scripts/setup.sh first")
    work = Path(tempfile.mkdtemp(prefix="saturn-browser-check-"))
    try:
        (work / "node_modules" / "playwright").mkdir(parents=True)
        (work / "node_modules" / "playwright" / "index.js").write_text(SHIM)
        shutil.copy(Path(jupyterlab.__file__).parent / "browser-test.js", work / "browser-test.js")
        env = dict(os.environ, NODE_PATH=str(node_modules))
        proc = await asyncio.create_subprocess_exec("node", "browser-test.js", url, cwd=work, env=env)
        if await proc.wait() != 0:
            raise RuntimeError(f"the browser check of {url} failed (exit {proc.returncode})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


class BrowserApp(check.BrowserApp):
    """JupyterLab's check app, registered as an extension of this script (jupyter_server finds it by module)."""

    name = __name__


def _jupyter_server_extension_points():
    return [{"module": __name__, "app": BrowserApp}]


if __name__ == "__main__":
    check.run_browser = run_browser_with_debian_chromium
    BrowserApp.launch_instance()
