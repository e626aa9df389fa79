"""The plan keeps going without the browser: a Python-side takeover of the dispatcher.

The TypeScript dispatcher (browser tab or ``saturn run``) writes a heartbeat into the store on every tick
(``heartbeat(store, run_id, poll_s)``; table ``dispatcher_heartbeat``). ``Autopilot`` is a daemon thread, started in
Saturn's own control kernel (``.saturn/dispatcher.saturn``) when a plan is dispatched (rpc op ``autopilot``), that
watches that heartbeat. While it is fresh the autopilot does nothing. Once it is older than the grace period
(``grace_factor`` x the dispatcher's poll interval, at least ``min_grace_s``) the autopilot dispatches the run itself,
with the same rules as ``src/executor/dispatcher.ts``:

- a job starts when its planned GPUs are free (no lease by another job, no other launched job on them) and every job
  before it in plan order that shares one of them has finished; it runs as a detached child process
  ``python -m saturn.runner <job id>`` in its own session (process group), so it outlives the kernel too. The runner
  claims the job and its leases atomically, records its pid, writes its log and checkpoints as in a kernel;
- a failed job is retried up to ``max_retries`` times (from its last checkpoint), then given up;
- a preempted job resumes on its (next) assignment;
- a paused run (the heartbeat's ``paused`` flag) starts nothing.

When a fresh heartbeat appears again it stands down at once; the dispatcher's ``reconcile`` sees the detached runners
as alive (their pids are in the store, on this host). The thread ends when every job of the run has settled.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Optional

from .checkpoint import safe_name
from .jobs import ACTIVE_STATES, FINAL_STATES, JobStore, pid_alive
from .store import Store, default_store

DEFAULT_POLL_S = 1.0
DEFAULT_GRACE_FACTOR = 3.0
DEFAULT_MIN_GRACE_S = 15.0

_HB_TABLE = """CREATE TABLE IF NOT EXISTS dispatcher_heartbeat (
    run_id TEXT PRIMARY KEY, at REAL NOT NULL, poll_s REAL NOT NULL, paused INTEGER NOT NULL DEFAULT 0,
    owner TEXT)"""


def _ensure_table(conn) -> None:
    conn.execute(_HB_TABLE)


def heartbeat(store: Store, run_id: str, poll_s: float = DEFAULT_POLL_S, *, paused: bool = False,
              owner: str = "") -> float:
    """The dispatcher of ``run_id`` is alive (called every tick); returns the store's time."""
    now = time.time()

    def write(conn):
        _ensure_table(conn)
        conn.execute("INSERT OR REPLACE INTO dispatcher_heartbeat (run_id, at, poll_s, paused, owner) "
                     "VALUES (?, ?, ?, ?, ?)", (run_id, now, float(poll_s), int(bool(paused)), owner))
    store._write(write)
    return now


def last_heartbeat(store: Store, run_id: str) -> Optional[dict]:
    def write(conn):  # a write transaction so that the table exists even on a fresh store
        _ensure_table(conn)
        r = conn.execute("SELECT * FROM dispatcher_heartbeat WHERE run_id = ?", (run_id,)).fetchone()
        return dict(r) if r is not None else None
    return store._write(write)


def _settled(job: dict) -> bool:
    return job["state"] in FINAL_STATES or (job["state"] == "failed" and bool(job["info"].get("given_up")))


def _ids(job: dict) -> list[int]:
    return [int(i) for i in (job["info"].get("assignment") or {}).get("gpu_ids") or []]


def _node(job: dict) -> str:
    return str((job["info"].get("assignment") or {}).get("node") or "node0")


class Autopilot:
    """Dispatches ``run_id`` from Python while the TypeScript dispatcher's heartbeat is stale."""

    def __init__(self, run_id: str, store: Optional[Store] = None, *, max_retries: int = 2,
                 grace_factor: float = DEFAULT_GRACE_FACTOR, min_grace_s: float = DEFAULT_MIN_GRACE_S,
                 interval_s: float = 0.25, relaunch_backoff_s: float = 2.0, python: Optional[str] = None,
                 env: Optional[dict] = None):
        # its own connection: the thread shares nothing with the kernel's rpc calls
        self.store = Store((store or default_store()).path)
        self.js = JobStore(self.store)
        self.run_id, self.max_retries = run_id, int(max_retries)
        self.grace_factor, self.min_grace_s = float(grace_factor), float(min_grace_s)
        self.interval_s, self.relaunch_backoff_s = float(interval_s), float(relaunch_backoff_s)
        self.python = python or sys.executable
        self.env = env
        self.procs: dict[str, subprocess.Popen] = {}  # job id -> the runner we launched (latest)
        self.launched_at: dict[str, float] = {}
        self.active = False  # dispatching now (heartbeat stale)
        self.launches: list[tuple[str, int, float]] = []
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.started_at = time.time()

    # -- heartbeat ---------------------------------------------------------------------------------------------------
    def dispatcher_alive(self, now: Optional[float] = None) -> tuple[bool, bool]:
        """(the TS dispatcher's heartbeat is fresh, the run is paused)."""
        hb = last_heartbeat(self.store, self.run_id)
        now = time.time() if now is None else now
        poll = float(hb["poll_s"] or DEFAULT_POLL_S) if hb else DEFAULT_POLL_S
        grace = max(self.grace_factor * poll, self.min_grace_s)
        # a dispatcher that has just started this autopilot gets a grace period before its first beat counts
        last = max(float(hb["at"]) if hb else -1e18, self.started_at)
        return now - last <= grace, bool(hb["paused"]) if hb else False

    # -- one pass ------------------------------------------------------------------------------------------------------
    def _launched(self, job_id: str) -> bool:
        p = self.procs.get(job_id)
        return p is not None and p.poll() is None

    def _reap(self) -> None:
        for p in self.procs.values():
            p.poll()

    def can_start(self, job: dict, jobs: list[dict], leases: list[dict], claimed: set) -> bool:
        ids = _ids(job)
        node = _node(job)
        if any(l["holder"] != job["id"] and l["node"] == node and l["device"] in ids for l in leases):
            return False
        order = job["info"].get("order", 0) or 0
        for other in jobs:
            if other["id"] == job["id"] or _node(other) != node or not set(ids) & set(_ids(other)):
                continue
            if other["state"] in ACTIVE_STATES or other["id"] in claimed or (
                    other["state"] in ("waiting", "resumed") and self._launched(other["id"])):
                return False
            if (other["info"].get("order", 0) or 0) < order and not _settled(other):
                return False
        return True

    def step(self) -> dict:
        """One dispatching pass (the heartbeat is assumed stale). Returns what it did."""
        self._reap()
        jobs = sorted(self.js.list(self.run_id), key=lambda j: (j["info"].get("order", 0) or 0, j["id"]))
        leases = self.js.leases()
        claimed: set = set()
        did: dict = {"launched": [], "given_up": [], "settled": all(_settled(j) for j in jobs) and bool(jobs)}
        now = time.time()
        for job in jobs:
            jid, state, info = job["id"], job["state"], job["info"]
            try:
                if state in FINAL_STATES or state in ACTIVE_STATES:
                    continue
                if state == "failed":
                    if info.get("given_up"):
                        continue
                    retries = int(info.get("retries") or 0)
                    if retries >= self.max_retries:
                        self.js.update_info(jid, "job.given_up", given_up=True)
                        did["given_up"].append(jid)
                        continue
                    if self.can_start(job, jobs, leases, claimed):
                        self.js.set_state(jid, "waiting", expect=("failed",), retries=retries + 1)
                        self._launch(jid, claimed, now)
                        did["launched"].append(jid)
                    continue
                if state == "pending":
                    if self.can_start(job, jobs, leases, claimed):
                        self.js.set_state(jid, "waiting", expect=("pending",))
                        self._launch(jid, claimed, now)
                        did["launched"].append(jid)
                    continue
                if state == "preempted":
                    if info.get("next_assignment"):
                        job = self.js.update_info(jid, assignment=info["next_assignment"], next_assignment=None)
                    if self.can_start(job, jobs, leases, claimed):
                        self.js.set_state(jid, "resumed", expect=("preempted",))
                        self._launch(jid, claimed, now)
                        did["launched"].append(jid)
                    continue
                # waiting / resumed: launched by someone (the TS dispatcher's kernel, or us) that has not claimed yet
                if self._launched(jid) or now - self.launched_at.get(jid, -1e18) < self.relaunch_backoff_s:
                    continue
                if now - float(job.get("updated_at") or 0) < self.relaunch_backoff_s:
                    continue  # a kernel the dispatcher just launched may still be booting
                if self.can_start(job, jobs, leases, claimed):
                    self._launch(jid, claimed, now)
                    did["launched"].append(jid)
            except Exception:  # noqa: BLE001 - it changed under us (a runner, the dispatcher): next pass sees it
                continue
        return did

    def _launch(self, job_id: str, claimed: set, now: float) -> subprocess.Popen:
        claimed.add(job_id)
        self.launched_at[job_id] = now
        from .procs import PACKAGE_PARENT
        env = dict(os.environ if self.env is None else self.env)
        env["SATURN_DB"] = str(self.store.path)
        env["PYTHONPATH"] = os.pathsep.join([PACKAGE_PARENT] + [p for p in sys.path if p] +
                                            ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        env.pop("SATURN_KERNEL_ID", None)
        logs = Path(self.store.path).parent / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        out = open(logs / f"{safe_name(job_id)}.autopilot.out", "ab")
        try:
            proc = subprocess.Popen([self.python, "-m", "saturn.runner", job_id], env=env, stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                    cwd=os.getcwd())
        finally:
            out.close()
        self.procs[job_id] = proc
        self.launches.append((job_id, proc.pid, now))
        try:
            self.js.update_info(job_id, "job.autopilot_launch", autopilot_pid=proc.pid, launched_by="autopilot")
        except Exception:  # noqa: BLE001
            pass
        return proc

    # -- the thread ------------------------------------------------------------------------------------------------------
    def run(self, timeout_s: Optional[float] = None) -> None:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self._stop.is_set():
            if deadline is not None and time.monotonic() > deadline:
                break
            try:
                fresh, paused = self.dispatcher_alive()
                self.active = not fresh
                if not fresh:
                    if paused:
                        self._reap()
                    else:
                        did = self.step()
                        if did["settled"]:
                            break
                elif all(_settled(j) for j in self.js.list(self.run_id) or [{"state": "x", "info": {}}]):
                    break
            except Exception:  # noqa: BLE001 - the store was busy or went away for a moment: try again
                pass
            self._stop.wait(self.interval_s)
        self.active = False
        self._reap()

    def start(self) -> "Autopilot":
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self.run, name=f"saturn-autopilot-{self.run_id}", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def describe(self) -> dict:
        return {"run_id": self.run_id, "running": self.running, "active": self.active,
                "launches": [list(x) for x in self.launches], "pid": os.getpid()}


_pilots: dict[str, Autopilot] = {}
_lock = threading.Lock()


def ensure_started(run_id: str, store: Optional[Store] = None, **options) -> Autopilot:
    """The autopilot of ``run_id`` in this process (the control kernel), started once."""
    with _lock:
        pilot = _pilots.get(run_id)
        if pilot is None or not pilot.running:
            pilot = Autopilot(run_id, store, **{k: v for k, v in options.items() if v is not None})
            _pilots[run_id] = pilot.start()
        return pilot


def status(run_id: Optional[str] = None) -> list[dict]:
    return [p.describe() for rid, p in _pilots.items() if run_id is None or rid == run_id]


def main(argv: Optional[list] = None) -> int:
    """``python -m saturn.autopilot RUN_ID``: run the autopilot in the foreground (until the run settles)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m saturn.autopilot RUN_ID", file=sys.stderr)
        return 2
    pilot = Autopilot(args[0])
    pilot.run()
    print(json.dumps(pilot.describe()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
