"""The local backend: a job trains in the process that runs it (its kernel, or a detached runner process) and its
data-parallel children, on this machine's devices."""
from __future__ import annotations

from typing import Optional

from ..core import devices as devices_mod
from ..core.store import Store
from ..execution.runner import run_local
from ..profiling.profiler import Profiler
from . import Backend


class LocalBackend(Backend):
    name = "local"

    def run_job(self, job_id: str, store: Store, *, raise_errors: bool = True) -> dict:
        return run_local(job_id, store, raise_errors=raise_errors)

    def describe(self, options: Optional[dict] = None) -> dict:
        found = (options or {}).get("found")
        found = devices_mod.detect() if found is None else found
        reply = {"devices": devices_mod.to_dicts(found), "backend": "local"}
        if devices_mod.notices(found):
            reply["notices"] = devices_mod.notices(found)
        return reply

    def profiler(self, store: Store, options: Optional[dict] = None, **profiler_options):
        return Profiler(store=store, **profiler_options)
