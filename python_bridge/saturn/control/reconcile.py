"""After a restart (Jupyter server, browser, CLI): make the store tell the truth again.

For every job: is the process the store names still alive (pid + start time, on this host)? A job the store says is
``running``/``checkpointing`` whose process is gone was interrupted: it becomes ``preempted`` (resumable), and it will
continue from its newest checkpoint (``checkpoint_step``; ``None`` means from scratch). Leases held by dead processes
are broken. Finished jobs (``done``) are never touched, so nothing finished is redone.
"""
from __future__ import annotations

import time
from typing import Optional

from ..core.checkpoint import CheckpointDir
from ..core.jobs import ACTIVE_STATES, JobStore
from .snapshot import runners_alive
from ..core.store import Store, default_store


def reconcile(store: Optional[Store] = None, run_id: Optional[str] = None) -> dict:
    store = store or default_store()
    js = JobStore(store)
    report: dict = {"alive": [], "interrupted": [], "finished": [], "failed": [], "waiting": [], "checkpoints": {},
                    "stale_leases": []}
    jobs = js.list(run_id)
    alive = runners_alive([j for j in jobs if j["state"] in ACTIVE_STATES])
    for job in jobs:
        jid, state, info = job["id"], job["state"], job["info"]
        report["checkpoints"][jid] = CheckpointDir.for_job(store, jid).latest_step()
        if state == "done":
            report["finished"].append(jid)
        elif state == "failed":
            report["failed"].append(jid)
        elif state in ACTIVE_STATES:
            if alive[jid]:
                report["alive"].append(jid)
            else:
                try:
                    js.set_state(jid, "preempted", expect=ACTIVE_STATES, interrupted={
                        "at": time.time(), "pid": info.get("pid"), "reason": "its process is gone",
                        "checkpoint_step": report["checkpoints"][jid]})
                    report["interrupted"].append(jid)
                except Exception:  # noqa: BLE001 - it changed under us (a runner finished): leave it
                    pass
        elif state in ("waiting", "resumed", "preempted", "pending"):
            report["waiting"].append(jid)
    held = js.leases()
    states = {j["id"]: j["state"] for j in js.list()}
    over = {h["holder"] for h in held if h["holder"] in states and states[h["holder"]] not in ACTIVE_STATES}
    for holder in sorted(over):
        js.release(holder)  # a job that is not running holds nothing (e.g. a SLURM job that ended without its kernel)
        report["stale_leases"].append({"holder": holder, "state": states[holder]})
    held = [h for h in held if h["pid"] is not None and h["holder"] not in over]
    if held:
        def write(conn):
            broken = []
            for node in sorted({h["node"] for h in held}):
                broken += JobStore._break_stale(conn, [h["device"] for h in held if h["node"] == node], node)
            return broken
        report["stale_leases"] += store._write(write)
    store.emit("jobs.reconciled", {k: v for k, v in report.items() if k != "checkpoints"})
    return report
