"""The SLURM backend of the runner: a job trains in a SLURM job on its planned node, its kernel stays the control point.

In the job's kernel (on the Jupyter host), ``run_on_slurm``:
1. claims the job and its leases on the planned node, taking the lowest free GPU indexes of that node (the ones
   SLURM's cons_tres will hand out too, so Saturn's leases and SLURM's allocation name the same GPUs);
2. submits ``python -m saturn.runner --slurm-worker JOB`` with ``sbatch -w NODE --gres=gpu:K --no-requeue`` and records
   the SLURM job id;
3. watches it (``scontrol show job``) and the store: progress, checkpoints and the outcome are written by the worker
   into the shared store, exactly as a local run writes them;
4. when the SLURM job ends without the worker having recorded an outcome (node failure, killed by the scheduler, time
   limit), records what SLURM says: a failed node makes the job ``preempted`` with ``lost_node`` (it resumes from its
   last checkpoint wherever the re-plan puts it), anything else makes it ``failed`` (retried like a crash);
5. a cancel request cancels a pending SLURM job at once (a running worker stops at its next step);
6. always releases the leases.

The worker (``worker_main``) records where SLURM ran it (``SLURMD_NODENAME``, ``SLURM_JOB_ID``, the GPU indexes SLURM
gave it) and trains with ``runner.execute``. Checkpoints, logs, weights and the SQLite store must be on storage that
the Jupyter host and every node can read and write (SQLite needs working POSIX locks there).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from typing import Optional

from . import slurm
from ..core.jobs import ACTIVE_STATES, JobStore
from ..core.checkpoint import safe_name
from ..execution.runner import JobBusy, JobLog, claim_outcome, execute, log_path, saturn_dir
from ..core.store import Store, default_store

POLL_S = 1.0
#: how long a submission keeps its node's lock while SLURM has not started it yet
PLACE_WAIT_S = 15.0
#: a running worker that has not stopped this long after a cancel request is cancelled by SLURM
CANCEL_GRACE_S = 30.0


def _worker_command(job_id: str) -> list[str]:
    python = os.environ.get("SATURN_SLURM_PYTHON") or sys.executable
    return [python, "-m", "saturn.runner", "--slurm-worker", job_id]


def run_on_slurm(job_id: str, store: Optional[Store] = None, *, raise_errors: bool = True) -> dict:
    store = store or default_store()
    js = JobStore(store)
    job = js.get(job_id)
    prev = (job["info"].get("slurm") or {}).get("job_id")
    if prev and job["state"] in ACTIVE_STATES:
        seen = slurm.job(prev)
        if seen is not None and seen["state"] not in slurm.FINAL:
            raise JobBusy(f"job {job_id} is still running as SLURM job {prev} ({seen['state']} on {seen['node']})")
    assignment = job["info"].get("assignment") or {}
    node_id = str(assignment.get("node") or "")
    log = JobLog(log_path(store, job_id))
    try:
        node = slurm.node(node_id)
    except slurm.SlurmError as err:
        return _record_failure(js, job_id, log, f"cannot place it on SLURM node {node_id!r}: {err}", raise_errors)
    # One submission per node at a time, until SLURM has placed it: SLURM hands out a node's lowest free GPU
    # indexes in the order jobs start, so the lease taken here (the lowest free ids) is what SLURM gives.
    with _node_lock(store, node_id):
        outcome, job = js.claim(job_id, os.getpid(), lowest_free_of=node.gpus, detached=True, backend="slurm",
                                kernel_id=os.environ.get("SATURN_KERNEL_ID"))
        early = claim_outcome(job_id, outcome, job)
        if early is not None:
            return early
        try:
            if not node.usable:
                js.release(job_id)
                return _lost(js, job_id, log, node_id, f"SLURM node {node_id} is {node.state}")
            ids = [int(i) for i in job["info"]["assignment"]["gpu_ids"]]
            options = job["info"].get("slurm_options") or {}
            sid = slurm.submit(name=f"saturn-{job_id}", node_id=node_id, gpus=len(ids),
                               command=_worker_command(job_id), output=str(log.path),
                               env={"SATURN_DB": str(store.path)}, options=options)
            record = {"job_id": sid, "node": node_id, "state": "PENDING", "submitted_at": time.time(),
                      "lease_ids": ids}
            js.update_info(job_id, "job.slurm", slurm=record)
            log(f"submitted as SLURM job {sid} on {node_id} with {len(ids)} GPU(s) (leased ids {ids})")
            _wait_placed(sid, PLACE_WAIT_S)
        except slurm.SlurmError as err:
            js.release(job_id)
            return _record_failure(js, job_id, log, str(err), raise_errors)
        except BaseException:
            js.release(job_id)
            raise
    try:
        return _watch(js, job_id, sid, record, log, raise_errors)
    except slurm.SlurmError as err:
        return _record_failure(js, job_id, log, str(err), raise_errors)
    finally:
        js.release(job_id)


@contextlib.contextmanager
def _node_lock(store: Store, node_id: str):
    path = saturn_dir(store) / "locks" / f"slurm-{safe_name(node_id)}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _wait_placed(sid: str, limit_s: float) -> None:
    """Until SLURM has started (placed) job ``sid``, it has ended, or ``limit_s`` passed (it may pend for long)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        seen = slurm.job(sid)
        if seen is None or seen["state"] != "PENDING":
            return
        time.sleep(0.25)


def _watch(js: JobStore, job_id: str, sid: str, record: dict, log: JobLog, raise_errors: bool) -> dict:
    cancel_at: Optional[float] = None
    seen: Optional[dict] = None
    unreachable_since: Optional[float] = None
    while True:
        time.sleep(POLL_S)
        try:
            seen = slurm.job(sid)
            unreachable_since = None
        except slurm.SlurmError as err:
            unreachable_since = unreachable_since or time.monotonic()
            if time.monotonic() - unreachable_since > 300:
                return _record_failure(js, job_id, log, f"SLURM did not answer for 5 minutes: {err}", raise_errors)
            continue
        if seen is not None and (seen["state"] != record.get("state") or
                                 (seen["gpu_ids"] and seen["gpu_ids"] != record.get("gpu_ids"))):
            record.update(state=seen["state"], reason=seen["reason"])
            if seen["gpu_ids"]:
                record.update(gpu_ids=seen["gpu_ids"], ran_on=seen["node"], started=seen["start"])
            js.update_info(job_id, "job.slurm", slurm=dict(record))
            log(f"SLURM job {sid}: {seen['state']}" + (f" on {seen['node']} GPUs {seen['gpu_ids']}"
                                                         if seen["gpu_ids"] else ""))
        if seen is None or seen["state"] in slurm.FINAL:
            break
        if seen["state"] == "PENDING" and not _usable(record["node"]):
            # it waits for a node that is down: not yet placed, or requeued by SLURM after the node failed under it
            # (seen on a node crash during the batch launch, --no-requeue notwithstanding); it would wait there for
            # good. Saturn places it again from its checkpoint instead.
            slurm.cancel(sid)
            record.update(state="CANCELLED", ended_at=time.time())
            js.update_info(job_id, "job.slurm", slurm=dict(record))
            return _lost(js, job_id, log, record["node"], f"SLURM job {sid} waits on node {record['node']}, which failed")
        if js.stop_request(job_id) == "cancel":
            if seen["state"] == "PENDING":
                slurm.cancel(sid)
                js.set_state(job_id, "cancelled", stopped={"reason": "cancel", "at": time.time(), "step": 0})
                log(f"cancelled SLURM job {sid} before it started")
                return {"job": job_id, "state": "cancelled", "reason": "cancel"}
            cancel_at = cancel_at or time.monotonic()
            if time.monotonic() - cancel_at > CANCEL_GRACE_S:
                slurm.cancel(sid)
    return _after(js, job_id, sid, record, seen, log, raise_errors)


def _after(js: JobStore, job_id: str, sid: str, record: dict, seen: Optional[dict], log: JobLog,
           raise_errors: bool) -> dict:
    """The SLURM job is over: the worker's own outcome when it recorded one, else what SLURM says."""
    record.update(state=(seen or {}).get("state", "GONE"), exit_code=(seen or {}).get("exit_code"),
                  ended_at=time.time())
    state = js.update_info(job_id, "job.slurm", slurm=dict(record))["state"]
    if state not in ACTIVE_STATES:
        return {"job": job_id, "state": state, "slurm_job": sid}
    node_id = record["node"]
    slurm_state = record["state"]
    if slurm_state in ("NODE_FAIL", "BOOT_FAIL") or not _usable(node_id):
        return _lost(js, job_id, log, node_id, f"SLURM job {sid} ended {slurm_state}; node {node_id} failed")
    if js.stop_request(job_id) == "cancel":
        js.set_state(job_id, "cancelled", stopped={"reason": "cancel", "at": time.time()})
        return {"job": job_id, "state": "cancelled", "slurm_job": sid}
    return _record_failure(js, job_id, log, f"SLURM job {sid} ended {slurm_state} (exit {record.get('exit_code')}) "
                                            f"before the worker recorded an outcome; see {log.path}", raise_errors)


def _usable(node_id: str) -> bool:
    try:
        return slurm.node(node_id).usable
    except slurm.SlurmError:
        return False


def _lost(js: JobStore, job_id: str, log: JobLog, node_id: str, why: str) -> dict:
    """The node is gone: the job is interrupted, not at fault. It resumes from its checkpoint after a re-plan."""
    log(f"{why}: preempted, to be re-planned onto another node")
    js.set_state(job_id, "preempted", lost_node=node_id,
                 interrupted={"at": time.time(), "reason": why, "node": node_id})
    return {"job": job_id, "state": "preempted", "lost_node": node_id, "reason": why}


def _record_failure(js: JobStore, job_id: str, log: JobLog, message: str, raise_errors: bool) -> dict:
    log(f"failed: {message}")
    cur = js.get(job_id)
    if cur["state"] in ACTIVE_STATES or cur["state"] in ("pending", "waiting", "resumed", "preempted"):
        try:
            js.set_state(job_id, "failed", error=message, failed_at=time.time())
        except Exception as again:  # noqa: BLE001 - keep the first error
            log(f"could not record the failure: {again}")
    if raise_errors:
        raise slurm.SlurmError(message)
    return {"job": job_id, "state": "failed", "error": message}


def worker_main(job_id: str) -> int:
    """The SLURM task of a job: record where SLURM put it, then train (``runner.execute``)."""
    store = default_store()
    js = JobStore(store)
    job = js.get(job_id)
    if job["state"] not in ACTIVE_STATES:
        print(f"saturn worker: job {job_id} is {job['state']}, not claimed by its kernel: nothing to do",
              file=sys.stderr)
        return 1
    env = os.environ
    gpus = [int(x) for x in (env.get("SLURM_JOB_GPUS") or env.get("SLURM_STEP_GPUS") or "").split(",") if x.strip()]
    lease = [int(i) for i in job["info"]["assignment"].get("gpu_ids") or []]
    worker = {"pid": os.getpid(), "host": socket.gethostname(), "node": env.get("SLURMD_NODENAME"),
              "slurm_job_id": env.get("SLURM_JOB_ID"), "slurm_gpus": gpus,
              "cuda_visible_devices": env.get("CUDA_VISIBLE_DEVICES"), "started_at": time.time()}
    job = js.update_info(job_id, "job.worker", worker=worker)
    log = JobLog(log_path(store, job_id))
    if gpus and sorted(gpus) != sorted(lease):
        log(f"SLURM gave GPUs {gpus}, Saturn had leased {lease}: the lease follows SLURM")
        job = js.adopt_devices(job_id, gpus)
    try:
        res = execute(js, job_id, job, raise_errors=False, slurm_worker=True)
    finally:
        js.release(job_id)  # the kernel may be gone (shut down once the store says done): free the GPUs now
    print(json.dumps(res, default=str))
    return 0 if res.get("state") in ("done", "preempted", "cancelled") else 1
