"""Saturn for JupyterLab, Python side: register training tasks, a library of parallelisms, an empirical profiler.

    import saturn
    saturn.register(saturn.Task("mlp", model=make_mlp, data=make_data, batch_size=32, steps=1000))
    saturn.tasks(); saturn.profile()          # -> spase-instance/1 document

In IPython: ``%load_ext saturn`` (magics ``%saturn ...``, ``%%saturn task NAME`` and the ``saturn.bridge`` comm).
Environment: SATURN_ROOT / SATURN_DB (store, see ``saturn.core.paths``), SATURN_FAKE_GPUS (``saturn.core.devices``),
SATURN_TRIAL_TIMEOUT (``saturn.profiling.profiler``), SATURN_VERIFY_TIMEOUT (``saturn.bridge.api``), SATURN_TORCH_THREADS
(threads per worker process, default 1), SATURN_DIST_TIMEOUT (collective timeout of data-parallel workers).
"""
from __future__ import annotations

from ._version import __version__
from .bridge.api import get_task, grid, register, tasks, unregister
from .bridge.early_stopping import early_stopping, set_early_stopping
from .bridge.results import best, history, load_model, results
from .core.devices import detect as list_devices
from .core.task import Task, TaskError
from .techniques import (ExecResult, Infeasible, Technique, get_technique, list_techniques, register_technique,
                         unregister_technique)


def profile(names=None, **options):
    """Profile registered tasks; returns a ``spase-instance/1`` document (shows as a table in a notebook)."""
    from .bridge.api import profile as _profile
    from .bridge.display import ProfileReport
    return ProfileReport(_profile(names, **options))


def _jupyter_labextension_paths() -> list:
    """Where the prebuilt JupyterLab extension lies in this package (read by ``jupyter-builder develop``)."""
    return [{"src": "labextension", "dest": "jupyterlab-saturn"}]


def load_ipython_extension(ipython) -> None:
    from .bridge.comm_adapter import register_comm_target
    from .bridge.magics import SaturnMagics
    ipython.register_magics(SaturnMagics)
    register_comm_target(ipython)


def unload_ipython_extension(ipython) -> None:  # noqa: ARG001 - IPython's signature
    from .bridge.comm_adapter import unregister_comm_target
    unregister_comm_target()


__all__ = ["Task", "TaskError", "register", "grid", "results", "best", "history", "load_model", "set_early_stopping",
           "early_stopping", "tasks", "get_task", "unregister", "profile", "list_devices", "Technique",
           "Infeasible", "ExecResult", "register_technique", "unregister_technique", "list_techniques",
           "get_technique", "__version__"]
