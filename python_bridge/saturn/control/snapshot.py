"""What a dispatcher sees of a run in one read: the jobs (with whether each runner lives and its newest checkpoint),
the leases, the cluster's nodes (a backend with nodes: SLURM), the store's clock and its newest event id. The
TypeScript dispatcher asks for it every tick (bridge request ``jobs_snapshot``); the autopilot reads the same."""
from __future__ import annotations

import time
from typing import Optional

from ..backends import backend_name, get_backend
from ..core.checkpoint import CheckpointDir
from ..core.jobs import ACTIVE_STATES, JobStore, pid_alive


def runners_alive(jobs: list) -> dict:
    """Job id -> its runner is alive: its process on this host, or (an active job whose process is gone) its
    training elsewhere, as its backend tells (one question per backend for all such jobs)."""
    alive, orphans = {}, {}
    for job in jobs:
        info = job["info"]
        alive[job["id"]] = bool(info.get("pid")) and pid_alive(info["pid"], info.get("pid_start"))
        if not alive[job["id"]] and job["state"] in ACTIVE_STATES:
            orphans.setdefault(backend_name(info), []).append(job)
    for name, group in orphans.items():
        alive.update(get_backend(name).alive(group))
    return alive


def snapshot(js: JobStore, run_id: Optional[str] = None, *, brief: bool = False) -> dict:
    jobs = js.list(run_id)
    alive = runners_alive(jobs)
    for j in jobs:
        if brief:
            j["info"].pop("history", None)
        j["alive"] = alive[j["id"]]
        j["checkpoint_step"] = CheckpointDir.for_job(js.store, j["id"]).latest_step()
    out = {"jobs": jobs, "leases": js.leases(), "now": time.time(), "last_event_id": js.store.last_event_id()}
    names = {backend_name(j["info"]) for j in jobs} | {backend_name(None)}  # the jobs' backends and the default
    nodes = [n for name in sorted(names) for n in (get_backend(name).node_states() or [])]
    if nodes:
        out["nodes"] = nodes
    return out
