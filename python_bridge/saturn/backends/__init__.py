"""Where a job trains: one small interface and a registry (``local``, ``slurm``).

A backend answers five questions for the layers above it (control: dispatch rules, autopilot, reconcile; bridge:
the panel's requests; the ``saturn.runner`` entry module):

- ``run_job(job_id, store, raise_errors)``: run (or resume) a dispatched job to its end, here or elsewhere;
- ``alive(jobs)``: for active jobs whose runner process on this host is gone, whether their training lives on
  elsewhere (a SLURM job whose kernel went with a server restart goes on);
- ``node_states()``: the cluster's nodes with their state for the dispatcher (``None``: one machine, no nodes);
- ``describe(options)``: what the panel shows as the backend's devices or nodes;
- ``profiler(store, options, **profiler_options)``: the profiler to use on this backend.

The backend of a job is its ``info.backend``, else ``SATURN_BACKEND``, else ``local`` (``backend_name``). A new
backend is one class registered with ``register_backend``; nothing else in the package needs to change.
"""
from __future__ import annotations

import os
from typing import Optional

from ..core.store import Store


class Backend:
    name = ""

    def run_job(self, job_id: str, store: Store, *, raise_errors: bool = True) -> dict:
        raise NotImplementedError

    def alive(self, jobs: list[dict]) -> dict[str, bool]:
        """Job id -> its training lives on elsewhere; only asked about active jobs whose own process is gone."""
        return {j["id"]: False for j in jobs}

    def node_states(self) -> Optional[list[dict]]:
        return None

    def describe(self, options: Optional[dict] = None) -> dict:
        raise NotImplementedError

    def profiler(self, store: Store, options: Optional[dict] = None, **profiler_options):
        raise NotImplementedError


_REGISTRY: dict[str, Backend] = {}


def register_backend(backend: Backend) -> Backend:
    _REGISTRY[backend.name] = backend
    return backend


def backend_names() -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY)


def backend_name(info: Optional[dict] = None) -> str:
    """The backend of a job (its ``info.backend``), else ``SATURN_BACKEND``, else ``local``."""
    chosen = ((info or {}).get("backend") or os.environ.get("SATURN_BACKEND") or "local").strip().lower()
    if chosen not in backend_names():
        raise ValueError(f"unknown backend {chosen!r}: use {' or '.join(backend_names())} (SATURN_BACKEND)")
    return chosen


def get_backend(name_or_info=None) -> Backend:
    """The backend by name, or the one a job's info (or the environment) chooses."""
    _load_builtins()
    name = name_or_info if isinstance(name_or_info, str) else backend_name(name_or_info)
    return _REGISTRY[backend_name({"backend": name})]


def _load_builtins() -> None:
    if "local" not in _REGISTRY:
        from .local import LocalBackend
        from .slurm_backend import SlurmBackend
        register_backend(LocalBackend())
        register_backend(SlurmBackend())
