"""The plan keeps going without the browser: a Python-side takeover of the dispatcher.

The TypeScript dispatcher (browser tab or ``saturn run``) writes a heartbeat into the store on every tick (table
``dispatcher_heartbeat``). ``Autopilot`` is a daemon thread, started in Saturn's control kernel
(``.saturn/dispatcher.saturn``) when a plan is dispatched (bridge request ``autopilot_start``), that watches that
heartbeat. While it is fresh the autopilot does nothing. Once it is older than the grace period (``grace_factor`` x
the dispatcher's poll interval, at least ``min_grace_s``) the autopilot dispatches the run itself: each pass reads the
same snapshot the dispatcher reads (``control.snapshot``) and applies the same rules (``control.rules.decide``, bound
to the TypeScript rules by shared conformance cases). Its runners are detached processes
``python -m saturn.runner <job id>`` in their own sessions, so they outlive the kernel too; a runner claims the job
and its leases atomically, records its pid, writes its log and checkpoints as in a kernel. A paused run (the
heartbeat's ``paused`` flag) starts nothing.

A run with early stopping goes on too: each pass judges the jobs that reported at a rung and acts on the verdicts
(``control.rungs.verdict_actions``, bound to the run loop's ``verdictActions`` by shared conformance cases). A
promoted job gets its next rung (``info.rung_steps``) and trains on, on its devices if it waits there, else resumed on
its planned ones; a job judged out stops early (``stopped_early``, checkpoint and history kept; one that waits on its
devices is first asked to pause). A job that must wait for the others keeps its devices until its hold runs out
(``rung_hold_s``), or pauses at once when work the plan put on its devices waits for them.

What the autopilot cannot do is re-plan (the solver lives in TypeScript): jobs given up are left out and the rest of
the plan goes on; jobs stranded on a lost node wait until a dispatcher is back and re-plans them (``replans``); the
devices a job stopped early frees go to the jobs the plan put there next, not to a survivor's new technique or
device count.

When a fresh heartbeat appears again it stands down at once; the dispatcher's ``reconcile`` sees the detached runners
as alive (their pids are in the store, on this host). The thread ends when every job of the run has settled and the
runners it started have exited.
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

from ..core.checkpoint import safe_name
from ..core.jobs import ACTIVE_STATES, JobStore
from ..core.store import Store, default_store
from .rules import decide, settled
from .rungs import verdict_actions
from .snapshot import snapshot

DEFAULT_POLL_S = 1.0
DEFAULT_GRACE_FACTOR = 3.0
DEFAULT_MIN_GRACE_S = 15.0

def heartbeat(store: Store, run_id: str, poll_s: float = DEFAULT_POLL_S, *, paused: bool = False,
              owner: str = "") -> float:
    """The dispatcher of ``run_id`` is alive (called every tick); returns the store's time."""
    return store.put_heartbeat(run_id, poll_s, paused=paused, owner=owner)


def last_heartbeat(store: Store, run_id: str) -> Optional[dict]:
    return store.heartbeat(run_id)


class Autopilot:
    """Dispatches ``run_id`` from Python while the TypeScript dispatcher's heartbeat is stale."""

    def __init__(self, run_id: str, store: Optional[Store] = None, *, max_retries: int = 2,
                 grace_factor: float = DEFAULT_GRACE_FACTOR, min_grace_s: float = DEFAULT_MIN_GRACE_S,
                 interval_s: float = 0.25, relaunch_backoff_s: float = 2.0, python: Optional[str] = None,
                 env: Optional[dict] = None):
        # its own connection: the thread shares nothing with the kernel's bridge requests
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
        self.dead_ticks: dict[str, int] = {}
        self.released: set = set()
        self.replans: list[dict] = []  # re-plans the rules asked for; only a dispatcher can make them
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
    def _reap(self) -> None:
        for p in self.procs.values():
            p.poll()

    def view(self, paused: bool = False) -> dict:
        launches = {jid: {"status": "running" if p.poll() is None else "ended", "at": self.launched_at.get(jid)}
                    for jid, p in self.procs.items()}
        return {"paused": paused, "launches": launches, "dead_ticks": self.dead_ticks, "released": sorted(self.released)}

    def step(self, paused: bool = False) -> dict:
        """One dispatching pass (the heartbeat is assumed stale): the rules' actions on a fresh snapshot."""
        self._reap()
        snap = snapshot(self.js, self.run_id)
        did: dict = {"launched": [], "given_up": [], "failed": [], "replan": [], "promoted": [], "stopped_early": []}
        if self._judge(snap, did):
            snap = snapshot(self.js, self.run_id)  # a promoted job paused at its rung resumes in this pass
        decision = decide(snap, self.view(paused), {"max_retries": self.max_retries,
                                                    "relaunch_backoff_s": self.relaunch_backoff_s})
        self.dead_ticks = decision["dead_ticks"]
        did["settled"] = bool(snap["jobs"]) and all(settled(j) for j in snap["jobs"])
        now, broken = float(snap["now"]), set()
        for a in decision["actions"]:
            jid = a.get("job")
            if jid in broken:
                continue
            try:
                self._act(a, now, did)
            except Exception:  # noqa: BLE001 - it changed under us (a runner, the dispatcher): next pass sees it
                broken.add(jid)
        return did

    def _judge(self, snap: dict, did: dict) -> bool:
        """Early stopping's verdicts for the jobs waiting at a rung (the run's configuration is in every job's
        ``early_stopping``); True when a job was promoted or stopped early."""
        cfg = next((j["info"]["early_stopping"] for j in snap["jobs"]
                    if isinstance(j["info"].get("early_stopping"), dict)), None)
        if not cfg:
            return False
        now = float(snap["now"])
        jobs = {j["id"]: j for j in snap["jobs"]}
        for a in verdict_actions(snap["jobs"], cfg):
            jid = a["job"]
            if a["kind"] == "promote":
                self.js.update_info(jid, "job.promoted", rung_at=a["rung_at"], stopped=None,
                                    promotions=[*(jobs[jid]["info"].get("promotions") or []),
                                                {"rung": a["rung"], "at": now}])
                did["promoted"].append(jid)
            elif a["kind"] == "stop_early":
                self.js.set_state(jid, "stopped_early", expect=("preempted",),
                                  stopped_early={"rung": a["rung"], "at": now, "metric": cfg["metric"]})
                did["stopped_early"].append(jid)
            else:
                self.js.request_stop(jid, "rung")
        return bool(did["promoted"] or did["stopped_early"])

    def _act(self, a: dict, now: float, did: dict) -> None:
        kind, jid = a["kind"], a.get("job")
        js = self.js
        if kind == "fail":
            js.set_state(jid, "failed", expect=ACTIVE_STATES, error=a["error"], failed_at=now)
            did["failed"].append(jid)
        elif kind == "release":
            self.released.add(jid)
        elif kind == "give_up":
            js.update_info(jid, "job.given_up", given_up=True)
            did["given_up"].append(jid)
        elif kind == "replan":
            self.replans.append({"at": now, "cause": a["cause"], "jobs": a["jobs"]})
            did["replan"].append(a["cause"])
        elif kind == "reassign":
            js.update_info(jid, assignment=a["assignment"], next_assignment=None)
        else:
            if kind == "retry":
                js.set_state(jid, "waiting", expect=("failed",), retries=a["retries"])
            elif kind == "start":
                js.set_state(jid, "waiting", expect=("pending",))
            elif kind == "resume":
                js.set_state(jid, "resumed", expect=("preempted",))
            self._launch(jid, now)
            did["launched"].append(jid)

    def _launch(self, job_id: str, now: float) -> subprocess.Popen:
        self.launched_at[job_id] = now
        from ..core.procs import PACKAGE_PARENT
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
            self.js.update_info(job_id, "job.autopilot_launch", autopilot_pid=proc.pid, launched_by="autopilot",
                                launched_at=now)
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
                    if self.step(paused)["settled"]:
                        break
                elif all(settled(j) for j in self.js.list(self.run_id) or [{"state": "x", "info": {}}]):
                    break
            except Exception:  # noqa: BLE001 - the store was busy or went away for a moment: try again
                pass
            self._stop.wait(self.interval_s)
        self.active = False
        # a runner records its job's end, then releases its leases and exits: wait for that (briefly)
        deadline = time.monotonic() + 30
        while any(p.poll() is None for p in self.procs.values()) and time.monotonic() < deadline \
                and not self._stop.is_set():
            time.sleep(0.05)
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
                "launches": [list(x) for x in self.launches], "replans": list(self.replans), "pid": os.getpid()}


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
    """``python -m saturn.control.autopilot RUN_ID``: run the autopilot in the foreground (until the run settles)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m saturn.control.autopilot RUN_ID", file=sys.stderr)
        return 2
    pilot = Autopilot(args[0])
    pilot.run()
    print(json.dumps(pilot.describe()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
