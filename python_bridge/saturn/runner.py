"""Entry module: run one job of a dispatched plan.

- ``saturn.runner.run_job('<job id>')`` (what a job's kernel session executes) runs the job on its backend (the job's
  ``info.backend``, else ``SATURN_BACKEND``, else local; ``saturn.backends``);
- ``python -m saturn.runner JOB_ID``: the same in a plain process (the autopilot's detached runners);
- ``python -m saturn.runner --slurm-worker JOB_ID``: the training task of a job that its kernel submitted to SLURM.

The training itself is ``saturn.execution.runner``; the names scripts and tests use are re-exported here.
"""
from __future__ import annotations

import json
import sys
import threading
from typing import Optional

from .backends import get_backend
from .core.jobs import JobStore
from .core.store import Store, default_store
from .execution.runner import (Control, DataCursor, JobBusy, JobLog, JobStopped, LeaseUnavailable,  # noqa: F401
                               Loop, claim_outcome, execute, log_path, make_scheduler, run_local, saturn_dir,
                               weights_path)


def run_job(job_id: str, store: Optional[Store] = None, *, raise_errors: bool = True) -> dict:
    """Run (or resume) ``job_id`` to its end, a stop request, or an error, on its backend. Returns
    ``{"job", "state", ...}``."""
    store = store or default_store()
    backend = get_backend(JobStore(store).get(job_id)["info"])
    return backend.run_job(job_id, store, raise_errors=raise_errors)


def run_job_in_thread(job_id: str, store: Optional[Store] = None) -> threading.Thread:
    """Start ``run_job`` in a daemon thread (the kernel stays responsive); errors go to the store and the log."""
    t = threading.Thread(target=run_job, args=(job_id, store), kwargs={"raise_errors": False},
                         name=f"saturn-job-{job_id}", daemon=True)
    t.start()
    return t


def main(argv: Optional[list] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 2 and args[0] == "--slurm-worker":
        from .backends.slurm_runner import worker_main
        return worker_main(args[1])
    if len(args) != 1:
        print("usage: python -m saturn.runner [--slurm-worker] JOB_ID", file=sys.stderr)
        return 2
    res = run_job(args[0], raise_errors=False)
    print(json.dumps(res, default=str))
    return 0 if res.get("state") in ("done", "preempted", "cancelled") else 1


if __name__ == "__main__":
    raise SystemExit(main())
