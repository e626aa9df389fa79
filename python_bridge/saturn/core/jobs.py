"""Jobs of a dispatched plan: records in the store's ``jobs`` table and the one state machine they follow.

The states and the transition table are the wire schema's (``definitions.job_state``, ``job_transitions``); the
TypeScript side (``src/executor/job-state.ts``) is checked against the same schema by jest. ``JobStore.set_state`` is
the only place a job's state is written: it reads the current state, checks the transition and writes the new state
with its info in one ``BEGIN IMMEDIATE`` transaction, and emits a ``job.state`` event.

::

    pending ─▶ waiting ─▶ running ⇄ checkpointing ─▶ done
                 ▲           │  ╲         │
                 │ (retry)   │   ╲        ▼
               failed ◀──────┘    ─▶ preempted ─▶ resumed ─▶ running …
                                      preempted (at a rung) ─▶ stopped_early
    any non-final state ─▶ cancelled

Leases (table ``leases``): a job takes all its planned device ids or none, in one transaction. A lease whose holder
process is gone (dead pid, or a pid reused by another process) is broken by the next acquirer, so a killed kernel
never blocks its GPUs for ever. Single node: pids are checked on this host.
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from typing import Any, Optional

from .schema import wire_schema
from .store import Store, default_store

STATES: tuple[str, ...] = tuple(wire_schema()["definitions"]["job_state"]["enum"])
TRANSITIONS: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in wire_schema()["job_transitions"].items()}
FINAL_STATES = ("done", "cancelled", "stopped_early")
#: state changes kept per job (a checkpoint takes two; a job paused at several rungs takes more)
HISTORY = 400
ACTIVE_STATES = ("running", "checkpointing")


class IllegalTransition(ValueError):
    pass


class JobNotFound(KeyError):
    pass


def check_transition(current: str, target: str) -> str:
    """``target`` when a job in state ``current`` may move there; raises ``IllegalTransition`` otherwise."""
    if current not in TRANSITIONS:
        raise IllegalTransition(f"unknown job state {current!r}")
    if target not in TRANSITIONS:
        raise IllegalTransition(f"unknown job state {target!r}")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(TRANSITIONS[current]) or "nothing (final state)"
        raise IllegalTransition(f"a job cannot go from {current} to {target} (from {current}: {allowed})")
    return target


# -- processes ----------------------------------------------------------------------------------------------------
def process_start_time(pid: int) -> Optional[int]:
    """The kernel's start tick of ``pid`` (guards against pid reuse); None when unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("ascii", "replace")
        fields = data[data.rindex(")") + 2:].split()
        return int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(pid: Optional[int], start: Optional[int] = None) -> bool:
    """True when ``pid`` runs on this host (not a zombie) and, if given, started at tick ``start``."""
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("ascii", "replace")
        fields = data[data.rindex(")") + 2:].split()
        if fields[0] in ("Z", "X"):
            return False
        if start is not None and int(fields[19]) != int(start):
            return False
    except (OSError, ValueError, IndexError):
        pass
    return True


class JobStore:
    """Job records and leases on top of the shared ``Store`` (its connection, retries and transactions)."""

    def __init__(self, store: Optional[Store] = None):
        self.store = store or default_store()

    # -- reading -------------------------------------------------------------------------------------------------
    @staticmethod
    def _row(r: sqlite3.Row) -> dict:
        return {"id": r["id"], "task": r["task"], "state": r["state"], "info": json.loads(r["info"]),
                "created_at": r["created_at"], "updated_at": r["updated_at"]}

    def get(self, job_id: str) -> dict:
        rows = self.store._read("SELECT * FROM jobs WHERE id = ?", (job_id,))
        if not rows:
            raise JobNotFound(f"no job {job_id!r} in the store {self.store.path}")
        return self._row(rows[0])

    def list(self, run_id: Optional[str] = None) -> list[dict]:
        jobs = [self._row(r) for r in self.store._read("SELECT * FROM jobs ORDER BY created_at, id")]
        if run_id is not None:
            jobs = [j for j in jobs if j["info"].get("run_id") == run_id]
        return sorted(jobs, key=lambda j: (j["info"].get("run_id") or "", j["info"].get("order", 0), j["id"]))

    # -- writing -------------------------------------------------------------------------------------------------
    def create(self, job_id: str, task: str, assignment: dict, *, run_id: str = "", order: int = 0,
               total_steps: Optional[int] = None, settings: Optional[dict] = None) -> dict:
        """A new job in state ``pending``; an existing job with this id is left as it is (idempotent)."""
        info = {"run_id": run_id, "order": order, "assignment": dict(assignment), "total_steps": total_steps,
                "step": 0, "attempts": 0, "history": [], **(settings or {})}

        def write(conn):
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is not None:
                return self._row(row)
            now = time.time()
            conn.execute("INSERT INTO jobs (id, task, state, info, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                         (job_id, task, "pending", json.dumps(info), now, now))
            Store._emit(conn, "job.state", {"id": job_id, "task": task, "from": None, "to": "pending",
                                            "run_id": run_id})
            return {"id": job_id, "task": task, "state": "pending", "info": info, "created_at": now,
                    "updated_at": now}
        return self.store._write(write)

    def _update(self, conn, job_id: str, fn) -> dict:
        row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise JobNotFound(f"no job {job_id!r}")
        job = self._row(row)
        new_state, info = fn(job)
        now = time.time()
        conn.execute("UPDATE jobs SET state = ?, info = ?, updated_at = ? WHERE id = ?",
                     (new_state, json.dumps(info), now, job_id))
        job.update(state=new_state, info=info, updated_at=now)
        return job

    def set_state(self, job_id: str, target: str, *, expect: Optional[tuple] = None, **info_updates) -> dict:
        """Move ``job_id`` to ``target`` (checked), merging ``info_updates`` into its info, atomically."""
        def write(conn):
            def change(job):
                if expect is not None and job["state"] not in expect:
                    raise IllegalTransition(f"job {job_id} is {job['state']}, expected one of {', '.join(expect)}")
                check_transition(job["state"], target)
                info = {**job["info"], **info_updates}
                info["history"] = (info.get("history") or [])[-HISTORY:] + [[job["state"], target, round(time.time(), 3)]]
                return target, info
            before = conn.execute("SELECT state, task FROM jobs WHERE id = ?", (job_id,)).fetchone()
            job = self._update(conn, job_id, change)
            Store._emit(conn, "job.state", {"id": job_id, "task": job["task"], "from": before["state"] if before
                                            else None, "to": target, "run_id": job["info"].get("run_id")})
            return job
        return self.store._write(write)

    def update_info(self, job_id: str, event: Optional[str] = None, **info_updates) -> dict:
        """Merge ``info_updates`` into the job's info (no state change); optionally emit ``event`` with them."""
        def write(conn):
            job = self._update(conn, job_id, lambda j: (j["state"], {**j["info"], **info_updates}))
            if event:
                Store._emit(conn, event, {"id": job_id, **info_updates})
            return job
        return self.store._write(write)

    def request_stop(self, job_id: str, reason: str = "cancel") -> dict:
        """Ask the job's runner to stop at the next step boundary (``reason``: cancel | pause | replan | rung; rung:
        a job waiting on its GPUs at its rung is to free them and wait for the judgement there, paused)."""
        if reason not in ("cancel", "pause", "replan", "rung"):
            raise ValueError(f"stop reason must be cancel, pause, replan or rung, got {reason!r}")
        return self.update_info(job_id, "job.stop_requested", stop={"reason": reason, "at": time.time()})

    def clear_stop(self, job_id: str) -> dict:
        return self.update_info(job_id, stop=None)

    def stop_request(self, job_id: str) -> Optional[str]:
        rows = self.store._read("SELECT info FROM jobs WHERE id = ?", (job_id,))
        if not rows:
            return None
        stop = json.loads(rows[0]["info"]).get("stop")
        return stop.get("reason") if isinstance(stop, dict) else None

    # -- leases --------------------------------------------------------------------------------------------------
    @staticmethod
    def _break_stale(conn, devices: list[int], node: str) -> list[dict]:
        """Delete leases on ``devices`` of ``node`` whose holder process is gone; returns what was broken."""
        marks = ",".join("?" * len(devices))
        broken = []
        for r in conn.execute(f"SELECT l.device, l.holder, l.pid, j.state FROM leases l LEFT JOIN jobs j "
                              f"ON j.id = l.holder WHERE l.node = ? AND l.device IN ({marks})", (node, *devices)):
            over = r["state"] is not None and r["state"] not in ACTIVE_STATES  # its job is not running any more
            if over or (r["pid"] is not None and not pid_alive(r["pid"])):
                broken.append({"node": node, "device": r["device"], "holder": r["holder"], "pid": r["pid"]})
        for b in broken:
            conn.execute("DELETE FROM leases WHERE node = ? AND device = ? AND holder = ?",
                         (node, b["device"], b["holder"]))
        if broken:
            Store._emit(conn, "lease.broken", {"leases": broken})
        return broken

    @classmethod
    def _acquire(cls, conn, devices: list[int], holder: str, pid: Optional[int], node: str = "node0") -> bool:
        devices = sorted(set(int(d) for d in devices))
        if not devices:
            return True
        cls._break_stale(conn, devices, node)
        marks = ",".join("?" * len(devices))
        taken = conn.execute(f"SELECT device FROM leases WHERE node = ? AND device IN ({marks}) AND holder != ?",
                             (node, *devices, holder)).fetchall()
        if taken:
            return False
        now = time.time()
        conn.executemany("INSERT OR REPLACE INTO leases (node, device, holder, pid, acquired_at) VALUES (?, ?, ?, ?, ?)",
                         [(node, d, holder, pid, now) for d in devices])
        Store._emit(conn, "lease.acquired", {"holder": holder, "node": node, "devices": devices, "pid": pid})
        return True

    @staticmethod
    def _lowest_free(conn, node: str, count: int, holder: str, capacity: int) -> Optional[list[int]]:
        """The ``count`` lowest device ids of ``node`` (of ``capacity``) that nobody else leases, or None."""
        taken = {r["device"] for r in conn.execute("SELECT device FROM leases WHERE node = ? AND holder != ?",
                                                   (node, holder))}
        free = [d for d in range(capacity) if d not in taken]
        return free[:count] if len(free) >= count else None

    def adopt_devices(self, job_id: str, devices: list[int]) -> dict:
        """The job's scheduler (SLURM) placed it on ``devices`` of its node: its leases and assignment follow. The
        scheduler never gives one GPU to two jobs, so a lease another job holds on them is stale and moves here."""
        devices = sorted(set(int(d) for d in devices))

        def write(conn):
            job = self._row(conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())
            info = job["info"]
            a = dict(info.get("assignment") or {})
            node = str(a.get("node") or "node0")
            if sorted(int(i) for i in a.get("gpu_ids") or []) == devices:
                return job
            conn.execute("DELETE FROM leases WHERE holder = ?", (job_id,))
            Store._emit(conn, "lease.released", {"holder": job_id, "ts": time.time()})
            moved = [dict(r) for r in conn.execute(
                f"SELECT device, holder FROM leases WHERE node = ? AND device IN ({','.join('?' * len(devices))})",
                (node, *devices))]
            now = time.time()
            conn.executemany("INSERT OR REPLACE INTO leases (node, device, holder, pid, acquired_at) "
                             "VALUES (?, ?, ?, ?, ?)", [(node, d, job_id, None, now) for d in devices])
            Store._emit(conn, "lease.acquired", {"holder": job_id, "node": node, "devices": devices, "pid": None,
                                                 "adopted": True, "taken_from": moved})
            a.setdefault("planned_gpu_ids", a.get("gpu_ids"))
            a["gpu_ids"] = devices
            info["assignment"] = a
            conn.execute("UPDATE jobs SET info = ?, updated_at = ? WHERE id = ?", (json.dumps(info), now, job_id))
            job["info"] = info
            return job
        return self.store._write(write)

    def acquire(self, devices: list[int], holder: str, pid: Optional[int] = None, node: str = "node0") -> bool:
        """All of ``devices`` of ``node`` for ``holder`` or none; stale leases (dead holder process) are broken first."""
        return self.store._write(lambda conn: self._acquire(conn, devices, holder, pid, node))

    def release(self, holder: str) -> int:
        def write(conn):
            n = conn.execute("DELETE FROM leases WHERE holder = ?", (holder,)).rowcount
            if n:
                Store._emit(conn, "lease.released", {"holder": holder, "ts": time.time()})
            return n
        return self.store._write(write)

    def leases(self) -> list[dict]:
        return [dict(r) for r in self.store._read("SELECT * FROM leases ORDER BY node, device")]

    # -- the runner's claim: state + leases in one transaction ---------------------------------------------------
    def claim(self, job_id: str, pid: int, *, lowest_free_of: Optional[int] = None, detached: bool = False,
              **info_updates) -> tuple[str, dict]:
        """Take ``job_id`` for this process: returns (outcome, job) with outcome ``claimed`` (now running, leases
        held), ``finished`` (done/cancelled: nothing to do), ``busy`` (another live process runs it) or ``no_lease``
        (its planned devices are held by another job; state unchanged).

        ``lowest_free_of`` (the node's device count): lease the lowest free ids of the planned node instead of the
        planned ids (same count), and record them in the assignment. A SLURM cluster hands out GPU indexes this way,
        so Saturn's leases and SLURM's allocation name the same GPUs. ``detached``: the training runs elsewhere (a
        SLURM job) and outlives this process, so the leases carry no pid to be broken by; they are released by this
        process, or by ``reconcile`` once the job is no longer running."""
        start = process_start_time(pid)

        def write(conn):
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise JobNotFound(f"no job {job_id!r}")
            job = self._row(row)
            state, info = job["state"], dict(job["info"])
            if state in FINAL_STATES:
                return "finished", job
            path: list[str] = []
            if state in ACTIVE_STATES:
                if info.get("pid") and pid_alive(info["pid"], info.get("pid_start")) and info["pid"] != pid:
                    return "busy", job
                path = ["preempted", "resumed"]  # its process died: it resumes
            elif state == "pending":
                path = ["waiting"]
            elif state == "preempted":
                path = ["resumed"]
            elif state == "failed":
                path = ["waiting"]
            assignment = dict(info.get("assignment") or {})
            ids = [int(i) for i in assignment.get("gpu_ids") or []]
            node = str(assignment.get("node") or "node0")
            if lowest_free_of is not None and ids:
                picked = self._lowest_free(conn, node, len(ids), job_id, int(lowest_free_of))
                if picked is not None and picked != sorted(ids):
                    assignment.update(gpu_ids=picked, planned_gpu_ids=ids)
                    info["assignment"] = assignment
                    ids = picked
            if not self._acquire(conn, ids, job_id, None if detached else pid, node):
                held = conn.execute("SELECT node, device, holder FROM leases").fetchall()
                return "no_lease", {**job, "leases": [dict(h) for h in held]}
            cur = state
            history = list(info.get("history") or [])
            for target in path + ["running"]:
                check_transition(cur, target)
                history.append([cur, target, round(time.time(), 3)])
                Store._emit(conn, "job.state", {"id": job_id, "task": job["task"], "from": cur, "to": target,
                                                "run_id": info.get("run_id")})
                cur = target
            info.update(info_updates)
            info.update(pid=pid, pid_start=start, host=socket.gethostname(), history=history[-HISTORY:],
                        attempts=int(info.get("attempts") or 0) + 1, claimed_at=time.time(), stop=None,
                        holding=None)  # a wait at a rung of a runner that died is over
            conn.execute("UPDATE jobs SET state = ?, info = ?, updated_at = ? WHERE id = ?",
                         ("running", json.dumps(info), time.time(), job_id))
            job.update(state="running", info=info)
            return "claimed", job
        return self.store._write(write)
