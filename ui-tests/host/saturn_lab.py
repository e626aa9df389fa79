"""Serve the npm-assembled JupyterLab 4.6.4 page with Debian's jupyter_server 1.23.

This is the host we run and test Saturn in where the Python `jupyterlab` package cannot be
installed.  It is a `LabServerApp` plus the two small handlers that jupyter_server 1.x lacks
and JupyterLab 4 asks for.  Prebuilt extensions (Saturn's wheel payload) are found on the
usual `share/jupyter/labextensions` paths.
"""
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("JUPYTER_NO_CONFIG", "1")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

from jupyter_server.base.handlers import APIHandler, JupyterHandler  # noqa: E402
from jupyterlab_server import LabServerApp  # noqa: E402
from tornado import web, websocket  # noqa: E402

HERE = Path(__file__).resolve().parent
BUILD = HERE.parent / "build"
STATE = Path(os.environ.get("SATURN_LAB_STATE", HERE.parent / ".lab-state"))


class MeHandler(APIHandler):
    """`/api/me` (jupyter_server 2.x): who the user is, for the collaboration avatars."""

    @web.authenticated
    def get(self):
        name = getattr(self.current_user, "name", None) or "user"
        self.finish(json.dumps({
            "identity": {
                "username": name, "name": name, "display_name": name,
                "initials": name[:1].upper(), "avatar_url": None, "color": None,
            },
            "permissions": {},
        }))


class EventsStubHandler(JupyterHandler, websocket.WebSocketHandler):
    """`/api/events/subscribe` (jupyter_server 2.x): accept and stay silent, so the page stops retrying."""

    def get(self, *args, **kwargs):
        if self.current_user is None:
            raise web.HTTPError(403)
        return super().get(*args, **kwargs)

    def on_message(self, message):
        pass


def page_config_hook(handler, page_config):
    """jupyterlab_server 2.16 leaves `notFoundUrl` in the shared page config after one unknown
    URL, which turns every later page into "path not found"; only the not-found page keeps it."""
    config = dict(page_config)
    if type(handler).__name__ != "NotFoundHandler":
        config.pop("notFoundUrl", None)
    return config


class SaturnLabApp(LabServerApp):
    name = "saturn_lab"
    app_name = "JupyterLab"
    app_version = "4.6.4"
    extension_url = "/lab"
    default_url = "/lab"
    load_other_extensions = False
    static_dir = str(BUILD)
    templates_dir = str(HERE / "templates")
    schemas_dir = str(BUILD / "schemas")
    themes_dir = str(BUILD / "themes")
    app_settings_dir = str(HERE / "app_settings")
    user_settings_dir = str(STATE / "user-settings")
    workspaces_dir = str(STATE / "workspaces")

    def initialize_handlers(self):
        self.handlers.append((r"/api/me", MeHandler))
        self.handlers.append((r"/api/events/subscribe", EventsStubHandler))
        super().initialize_handlers()

    def initialize_settings(self):
        super().initialize_settings()
        self.serverapp.web_app.settings["page_config_hook"] = page_config_hook


def _jupyter_server_extension_points():
    return [{"module": __name__, "app": SaturnLabApp}]


main = launch_new_instance = SaturnLabApp.launch_instance

if __name__ == "__main__":
    if not BUILD.joinpath("bundle.js").exists():
        sys.exit(f"saturn_lab: {BUILD}/bundle.js is missing; build the page first (cd ui-tests && npx rspack).")
    main()
