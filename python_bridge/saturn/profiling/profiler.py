"""The empirical profiler: every task x technique x GPU count, measured in child processes, cached in the store.

A trial is ``technique.search`` then real training steps (``warmup`` untimed-for-the-result, then at least
``measure`` timed and at least ``measure_s`` seconds of them, never more than the task trains; see
``saturn.profiling.trial``) in a Saturn child process with its own process group, pinned to its devices by
environment. Out-of-memory, exceptions, crashes and timeouts (the group is killed) make the option infeasible with the
reason kept; profiling goes on. Total runtime = step time x the task's total steps. Trials run in parallel on
disjoint devices, at most ``max_parallel`` at once.

Cache key: model signature, batch size, technique (and its version), GPU count, device type, software versions,
how a trial measures (``MEASUREMENT``: results timed over a few steps only are not reused),
plus the task's hints, the names of its data/loss/optimizer/validate callables and a hash of its model/data/loss/
validate callables as they travel (two closures of one factory differ), not the learning rate: LR variants share a
profile. Feasible and out-of-memory results are cached; errors and timeouts are retried next time. Within
one profiling run, trials with one key run once (a grid's learning-rate variants share them) and the others reuse
the result.

A task with ``validate`` has each trial time one validation too (``eval_s``); an option's runtime counts its
validations (every ``eval_every`` steps, or every epoch, and the end).

Environment: ``SATURN_TRIAL_TIMEOUT`` (seconds, default 600) when no ``trial_timeout`` is given.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Optional

from ..core import devices as devices_mod
from .._version import __version__
from ..core.procs import Child, ChildResult
from ..core.spase import INSTANCE_FORMAT
from ..core.store import Store, default_store
from ..techniques import list_techniques
from ..techniques.base import Technique

NODE_ID = "node0"
_HINTS_NOT_IN_KEY = ("steps_per_epoch", "trial_timeout", "techniques")


class ProfileError(RuntimeError):
    pass


def software_versions() -> dict:
    return {"python": platform.python_version(), "torch": _torch_version(), "saturn": __version__}


def _torch_version() -> str:
    try:
        from importlib.metadata import version
        return version("torch")
    except Exception:  # noqa: BLE001
        return "absent"


@dataclass
class Trial:
    task: str
    technique: str
    gpus: int
    key: str
    record: dict
    tech: Technique
    timeout: float
    result: Optional[dict] = None
    child: Optional[Child] = None
    ids: list = field(default_factory=list)


#: How a trial measures; a change here makes earlier cached results stale. 2: at least ``measure_s`` seconds of steps.
MEASUREMENT = 2


def cache_key(spec: dict, technique: Technique, gpus: int, device_type: str, versions: dict) -> str:
    parts = {"measurement": MEASUREMENT,
             "signature": spec.get("signature"), "batch_size": spec["batch_size"], "technique": technique.name,
             "technique_version": getattr(technique, "version", 1), "gpus": gpus, "device_type": device_type,
             "versions": versions,
             "hints": {k: v for k, v in sorted((spec.get("hints") or {}).items()) if k not in _HINTS_NOT_IN_KEY},
             "callables": {k: v for k, v in (spec.get("callables") or {}).items() if k != "model"},
             "digests": spec.get("digests") or {}}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _reason_from_child(res: ChildResult, timeout: float) -> tuple[str, bool]:
    """(reason, cacheable)"""
    if res.status == "timeout":
        return f"timed out after {timeout:g} s (trial stopped)", False
    if res.oom:
        return f"out of memory: {res.describe()[:400]}", True
    if res.status == "cancelled":
        return "cancelled", False
    return res.describe()[:500], False


class Profiler:
    def __init__(self, store: Optional[Store] = None, devices: Optional[list] = None, warmup: int = 2,
                 measure: int = 3, measure_s: float = 1.0, trial_timeout: Optional[float] = None,
                 max_parallel: Optional[int] = None,
                 use_cache: bool = True, techniques: Optional[list[str]] = None,
                 progress: Optional[Callable[[dict], None]] = None, cancel: Optional[threading.Event] = None,
                 run_id: Optional[str] = None, launcher: Optional[Callable[["Trial"], list]] = None,
                 node_id: str = NODE_ID, child_tmp: Optional[str] = None, announce_finish: bool = True):
        self.store = store or default_store()
        self.devices = devices_mod.detect() if devices is None else devices
        self.warmup, self.measure, self.measure_s = warmup, measure, float(measure_s)
        self.trial_timeout = float(trial_timeout or os.environ.get("SATURN_TRIAL_TIMEOUT", "600"))
        self.max_parallel = max(1, max_parallel or min(max(len(self.devices), 1), os.cpu_count() or 1))
        self.use_cache = use_cache
        self.technique_filter = techniques
        self.progress = progress
        self.cancel = cancel or threading.Event()
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.launcher, self.node_id, self.child_tmp = launcher, node_id, child_tmp
        self.announce_finish = announce_finish  # False: a caller combines several runs and announces the result

    # -- planning ------------------------------------------------------------------------------------------------
    def _records(self, names) -> list[dict]:
        if isinstance(names, str):
            names = [names]
        if names is None:
            return self.store.list_tasks()
        records = []
        for name in names:
            rec = self.store.get_task(name)
            if rec is None:
                raise ProfileError(f"no registered task named {name!r}")
            records.append(rec)
        return records

    def plan(self, names=None) -> tuple[list[dict], list[Trial], dict]:
        if not self.devices:
            raise ProfileError("no devices to profile on: no NVIDIA GPU was found; set SATURN_FAKE_GPUS=N to use N "
                               "CPU devices")
        records = self._records(names)
        techniques = list_techniques(self.store)
        device_type = devices_mod.device_type(self.devices)
        versions = software_versions()
        trials, ruled_out = [], {}
        for rec in records:
            spec = rec["spec"]
            wanted = spec.get("hints", {}).get("techniques") or self.technique_filter
            lo, hi = spec.get("gpu_range") or (1, None)
            hi = len(self.devices) if hi is None else min(hi, len(self.devices))
            timeout = float(spec.get("hints", {}).get("trial_timeout") or self.trial_timeout)
            for tname, tech in techniques.items():
                if wanted and tname not in wanted:
                    continue
                for k in range(lo, hi + 1):
                    problem = tech.gpu_count_problem(k)
                    if problem:
                        ruled_out.setdefault(rec["name"], []).append(
                            {"parallelism": tname, "gpus": k, "reason": problem})
                        continue
                    trials.append(Trial(rec["name"], tname, k, cache_key(spec, tech, k, device_type, versions),
                                        {"spec": spec, "payload": rec["payload"]}, tech, timeout))
        return records, trials, ruled_out

    # -- running ---------------------------------------------------------------------------------------------------
    def run(self, names=None) -> dict:
        t_start = time.monotonic()
        records, trials, ruled_out = self.plan(names)
        versions = software_versions()
        device_type = devices_mod.device_type(self.devices)
        total = len(trials)
        state = {"done": 0, "cached": 0, "walls": []}
        self.store.emit("profile.started", {"run_id": self.run_id, "total": total,
                                            "tasks": [r["name"] for r in records]})
        pending, leaders, followers = [], {}, {}
        for trial in trials:
            hit = self.store.get_profile(trial.key) if self.use_cache else None
            if hit is not None:
                trial.result = {**hit, "cached": True}
                state["done"] += 1
                state["cached"] += 1
            elif trial.key in leaders:
                followers.setdefault(trial.key, []).append(trial)  # same measurement: run once, shared
            else:
                leaders[trial.key] = trial
                pending.append(trial)
        state["shared"] = sum(len(v) for v in followers.values())
        self._report(state, total, None, running=0)
        pending.sort(key=lambda t: -t.gpus)
        free = sorted(d.id for d in self.devices)
        kind = self.devices[0].kind
        running: list[Trial] = []
        while pending or running:
            if self.cancel.is_set():
                for trial in running:
                    trial.child.kill()
                    trial.result = {"feasible": False, "reason": "cancelled", "cached": False}
                for trial in pending + [f for fs in followers.values() for f in fs if f.result is None]:
                    trial.result = {"feasible": False, "reason": "cancelled", "cached": False}
                break
            i = 0
            while i < len(pending) and len(running) < self.max_parallel:
                trial = pending[i]
                if trial.gpus <= len(free):
                    trial.ids, free = free[:trial.gpus], free[trial.gpus:]
                    trial.child = self._start(trial, kind)
                    running.append(trial)
                    pending.pop(i)
                else:
                    i += 1
            for trial in list(running):
                if trial.child.done():
                    res = trial.child.result()
                    trial.result = self._interpret(trial, res, device_type, versions)
                    state["walls"].append(res.wall_s)
                    state["done"] += 1
                    running.remove(trial)
                    free = sorted(free + trial.ids)
                    self._report(state, total, trial, running=len(running))
                    for other in followers.get(trial.key, []):
                        other.result = {**trial.result, "shared_with": trial.task}
                        state["done"] += 1
                        self._report(state, total, other, running=len(running))
            time.sleep(0.05)
        instance = self.instance(records, trials, ruled_out, time.monotonic() - t_start, state)
        if self.announce_finish:
            self.announce(instance)
        return instance

    def announce(self, instance: dict) -> None:
        """Keep ``instance`` as the latest profiled instance and tell the panel (event ``profile.finished``)."""
        if not self.cancel.is_set():
            self.store.save_instance(instance, self.run_id)
        self.store.emit("profile.finished", {"run_id": self.run_id, "cancelled": self.cancel.is_set(),
                                             "instance": instance})

    def _start(self, trial: Trial, kind: str) -> Child:
        job = {**trial.record, "technique": trial.tech, "devices": trial.ids, "warmup": self.warmup,
               "measure": self.measure, "measure_s": self.measure_s, "spawned_at": time.time()}
        prefix = self.launcher(trial) if self.launcher is not None else []
        # behind a prefix (srun) SLURM sets CUDA_VISIBLE_DEVICES for the step's GPUs
        env = devices_mod.assignment_env(kind, trial.ids, scheduler_sets_cuda=bool(prefix))
        env.setdefault("SATURN_TORCH_THREADS", os.environ.get("SATURN_TORCH_THREADS", "1"))
        return Child("saturn.profiling.trial:run_trial", job, env=env, timeout=trial.timeout, new_session=True, prefix=prefix,
                     tmp_parent=self.child_tmp).start()

    def _interpret(self, trial: Trial, res: ChildResult, device_type: str, versions: dict) -> dict:
        cacheable = True
        if res.ok:
            result = dict(res.value)
        else:
            reason, cacheable = _reason_from_child(res, trial.timeout)
            result = {"feasible": False, "reason": reason, "cause": "oom" if res.oom else res.status}
        result["trial_wall_s"] = round(res.wall_s, 3)
        if cacheable:
            self.store.put_profile(trial.key, signature=trial.record["spec"].get("signature") or "",
                                   batch_size=trial.record["spec"]["batch_size"], technique=trial.technique,
                                   gpus=trial.gpus, device_type=device_type, versions=json.dumps(versions),
                                   result=result)
        return {**result, "cached": False}

    def _report(self, state: dict, total: int, trial: Optional[Trial], running: int) -> None:
        remaining = total - state["done"]
        walls = state["walls"]
        eta = (sum(walls) / len(walls)) * remaining / self.max_parallel if walls and remaining else (
            0.0 if not remaining else None)
        info = {"run_id": self.run_id, "done": state["done"], "total": total, "cached": state["cached"],
                "running": running, "eta_s": None if eta is None else round(eta, 1)}
        if trial is not None:
            r = trial.result
            info["trial"] = {"task": trial.task, "parallelism": trial.technique, "gpus": trial.gpus,
                             "feasible": bool(r.get("feasible")), "step_time_s": r.get("step_time_s"),
                             "reason": r.get("reason")}
        self.store.emit("profile.progress", info)
        if self.progress is not None:
            self.progress(info)

    # -- output ------------------------------------------------------------------------------------------------
    def measured_startups(self) -> dict:
        """(task, parallelism, gpus) -> the start-up (launch to first step) the newest finished job of that task and
        option really took; it replaces the trial's estimate, since it includes what a trial cannot see (the job's
        kernel, its claim, a checkpoint restore)."""
        from ..core.jobs import JobStore
        out: dict = {}
        try:
            jobs = JobStore(self.store).list()
        except Exception:  # noqa: BLE001 - no job table yet: nothing measured
            return out
        for job in sorted(jobs, key=lambda j: j["info"].get("finished_at") or 0):
            info, a = job["info"], job["info"].get("assignment") or {}
            launched, first = info.get("launched_at"), info.get("first_step_at")
            if job["state"] == "done" and isinstance(launched, (int, float)) and isinstance(first, (int, float)) \
                    and first >= launched:
                out[(job["task"], a.get("parallelism"), a.get("gpus"))] = round(first - launched, 4)
        return out

    def instance(self, records, trials, ruled_out, wall_s: float, state: dict) -> dict:
        measured = self.measured_startups()
        by_task: dict[str, list[Trial]] = {}
        for trial in trials:
            by_task.setdefault(trial.task, []).append(trial)
        jobs, unschedulable = [], []
        for rec in records:
            spec = rec["spec"]
            total_steps = spec.get("total_steps") or 0
            evals = eval_count(spec)
            options, infeasible = [], list(ruled_out.get(rec["name"], []))
            for trial in sorted(by_task.get(rec["name"], []), key=lambda t: (t.technique, t.gpus)):
                r = trial.result or {"feasible": False, "reason": "not run"}
                if r.get("feasible") and total_steps:
                    startup = measured.get((rec["name"], trial.technique, trial.gpus), r.get("startup_s"))
                    eval_s = float(r.get("eval_s") or 0.0) if evals else 0.0
                    options.append({"parallelism": trial.technique, "gpus": trial.gpus,
                                    "runtime_s": round(max(r["step_time_s"] * total_steps + evals * eval_s, 1e-9), 6),
                                    **({"eval_s": eval_s, "evals": evals} if evals else {}),
                                    **({"startup_s": startup} if startup is not None else {}),
                                    "knobs": r.get("knobs", {}), "step_time_s": r["step_time_s"],
                                    **({"timed_steps": r["timed_steps"]} if r.get("timed_steps") else {}),
                                    "peak_mem_bytes": r.get("peak_mem_bytes", 0), "cached": r.get("cached", False)})
                else:
                    infeasible.append({"parallelism": trial.technique, "gpus": trial.gpus,
                                       "reason": r.get("reason") or "the task has no total step count"})
            infeasible.sort(key=lambda x: (x["parallelism"], x["gpus"]))
            job = {"id": rec["name"], "options": options, "infeasible": infeasible,
                   "batch_size": spec["batch_size"], "total_steps": total_steps, "signature": spec.get("signature"),
                   "steps_per_epoch": spec.get("steps_per_epoch"),
                   "validates": bool((spec.get("callables") or {}).get("validate"))}
            (jobs if options else unschedulable).append(job)
        return {
            "format": INSTANCE_FORMAT,
            "name": f"saturn-{time.strftime('%Y%m%d-%H%M%S')}-{self.run_id}",
            "cluster": {"nodes": [{"id": self.node_id, "gpus": len(self.devices)}]},
            "jobs": jobs,
            "unschedulable": unschedulable,
            "saturn": {"run_id": self.run_id, "device_type": devices_mod.device_type(self.devices),
                       "devices": devices_mod.to_dicts(self.devices), "versions": software_versions(),
                       "notices": devices_mod.notices(self.devices),
                       "trials": len(trials), "cached": state["cached"], "shared": state.get("shared", 0),
                       "trials_run": len(trials) - state["cached"] - state.get("shared", 0),
                       "wall_s": round(wall_s, 3),
                       "cancelled": self.cancel.is_set(), "warmup_steps": self.warmup,
                       "measured_steps": self.measure, "measured_s": self.measure_s},
        }


def eval_count(spec: dict) -> int:
    """How many validations a run of the task makes: every ``eval_every`` steps (or every epoch) and the end."""
    total = int(spec.get("total_steps") or 0)
    if not (spec.get("callables") or {}).get("validate") or not total:
        return 0
    every = spec.get("eval_every") or spec.get("steps_per_epoch")
    if not every:
        return 1
    return total // int(every) + (1 if total % int(every) else 0)


def profile(names=None, **options) -> dict:
    """Profile registered tasks (all when ``names`` is None) and return a ``spase-instance/1`` document."""
    return Profiler(**options).run(names)
