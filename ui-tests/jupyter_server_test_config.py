"""`jupyter lab` for Saturn's Galata specs (Playwright starts it: playwright.config.js `webServer`).

Galata's own test configuration (no token, no XSRF check, its helper extension, a fresh workspace folder), then:
the port from SATURN_UI_PORT (8888), no news or update checks (this machine reaches no outside host), and the
Jupyter root from JUPYTERLAB_GALATA_ROOT_DIR, which scripts/test.sh also gives as SATURN_ROOT.
"""
import os

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821 - `c` is the config object jupyter_server passes in

c.ServerApp.port = int(os.environ.get("SATURN_UI_PORT", "8888"))  # noqa: F821
c.ServerApp.ip = "127.0.0.1"  # noqa: F821
c.ServerApp.allow_root = True  # noqa: F821
c.LabApp.news_url = None  # noqa: F821
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"  # noqa: F821
