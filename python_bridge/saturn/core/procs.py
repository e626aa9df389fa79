"""Child processes: a fresh interpreter (the ``spawn`` model), stopped by process group, results by file.

``Child("pkg.module:function", payload).start()`` runs ``function(payload)`` in ``python -m saturn.core._child``. The
payload and the return value travel as cloudpickle files, so closures and classes defined in a notebook work. The
child gets the parent's ``sys.path`` and working directory, and stops itself when its parent dies. A child started
with ``new_session=True`` leads its own process group; ``kill()`` ends that whole group (workers it spawned without a
new session included).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import cloudpickle

PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])  # the folder that holds the saturn package
_OOM_MARKERS = ("out of memory", "outofmemoryerror", "memoryerror", "cannot allocate memory")


def looks_like_oom(kind: str, message: str) -> bool:
    text = f"{kind} {message}".lower()
    return any(m in text for m in _OOM_MARKERS)


@dataclass
class ChildResult:
    status: str  # ok | error | timeout | crashed | cancelled
    value: Any = None
    error_type: str = ""
    message: str = ""
    traceback: str = ""
    returncode: Optional[int] = None
    output_tail: str = ""
    wall_s: float = 0.0
    oom: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def describe(self) -> str:
        """One line for a person: why the child did not succeed."""
        if self.status == "ok":
            return "ok"
        if self.status == "error":
            return f"{self.error_type}: {self.message}".strip()
        if self.status == "timeout":
            return f"timed out after {self.wall_s:.1f} s"
        if self.status == "cancelled":
            return "cancelled"
        tail = self.output_tail.strip().splitlines()[-3:]
        return f"child process died (exit code {self.returncode})" + (": " + " | ".join(tail) if tail else "")


@dataclass
class Child:
    target: str
    payload: Any = None
    env: dict = field(default_factory=dict)
    timeout: Optional[float] = None
    new_session: bool = True
    #: argv run in front of the interpreter, e.g. an ``srun …`` prefix that runs the child on a SLURM node
    prefix: list = field(default_factory=list)
    #: where the payload/result folder goes (must be visible to the node that runs the child); default: tempdir
    tmp_parent: Optional[str] = None
    proc: Optional[subprocess.Popen] = None
    started_at: float = 0.0
    _dir: str = ""
    _final: Optional[ChildResult] = None

    def start(self) -> "Child":
        if self.tmp_parent:
            os.makedirs(self.tmp_parent, exist_ok=True)
        self._dir = tempfile.mkdtemp(prefix="saturn-child-", dir=self.tmp_parent)
        # a child behind a prefix (srun) has another parent (slurmstepd); stopping srun stops it
        meta = {"target": self.target, "sys_path": [p or os.getcwd() for p in sys.path],
                "parent": None if self.prefix else os.getpid()}
        Path(self._dir, "meta.json").write_text(json.dumps(meta))
        Path(self._dir, "payload.pkl").write_bytes(cloudpickle.dumps(self.payload))
        env = {**os.environ, **{k: str(v) for k, v in self.env.items()}}
        env["PYTHONPATH"] = os.pathsep.join([PACKAGE_PARENT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                                                                if p and p != PACKAGE_PARENT])
        env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        log = open(Path(self._dir, "output.log"), "wb")
        try:
            self.proc = subprocess.Popen([*self.prefix, sys.executable, "-m", "saturn.core._child", self._dir], env=env,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=self.new_session, cwd=os.getcwd())
        finally:
            log.close()
        self.started_at = time.monotonic()
        return self

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc else None

    def elapsed(self) -> float:
        return time.monotonic() - self.started_at if self.started_at else 0.0

    def done(self) -> bool:
        """True once the child has ended (a child past its timeout is killed here)."""
        if self._final is not None:
            return True
        if self.proc.poll() is not None:
            self._final = self._collect()
            return True
        if self.timeout is not None and self.elapsed() > self.timeout:
            self._stop()
            self._final = self._collect(status="timeout")
            return True
        return False

    def kill(self, status: str = "cancelled") -> None:
        if self._final is None:
            self._stop()
            self._final = self._collect(status=status)

    def wait(self, poll_s: float = 0.05) -> ChildResult:
        while not self.done():
            time.sleep(poll_s)
        return self._final

    def result(self) -> ChildResult:
        return self.wait()

    def _stop(self) -> None:
        if self.proc.poll() is None:
            try:
                if self.new_session:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                else:
                    self.proc.kill()
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if self.new_session:  # leftovers of the group (workers) whose leader already exited
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _collect(self, status: Optional[str] = None) -> ChildResult:
        wall = self.elapsed()
        folder = Path(self._dir)
        try:
            tail = (folder / "output.log").read_bytes()[-6000:].decode("utf-8", "replace")
        except OSError:
            tail = ""
        res = ChildResult(status=status or "crashed", returncode=self.proc.returncode, output_tail=tail, wall_s=wall)
        if status is None and (folder / "result.pkl").exists():
            try:
                data = cloudpickle.loads((folder / "result.pkl").read_bytes())
            except Exception as err:  # noqa: BLE001 - a result we cannot read is a crash with a reason
                res.message = f"cannot read the child's result: {err}"
            else:
                if data["ok"]:
                    res.status, res.value = "ok", data["value"]
                else:
                    res.status = "error"
                    res.error_type, res.message, res.traceback = data["type"], data["message"], data["traceback"]
                    res.oom = looks_like_oom(data["type"], data["message"])
        if res.status == "crashed":
            res.oom = looks_like_oom("", tail[-2000:]) or res.returncode == -signal.SIGKILL and "Killed" in tail
        shutil.rmtree(self._dir, ignore_errors=True)
        return res


def run_child(target: str, payload: Any = None, *, timeout: Optional[float] = None, env: Optional[dict] = None,
              new_session: bool = True) -> ChildResult:
    return Child(target, payload, env=env or {}, timeout=timeout, new_session=new_session).start().wait()
