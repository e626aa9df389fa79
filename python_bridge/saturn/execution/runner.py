"""Train one job of a dispatched plan here (the local backend; ``saturn.runner.run_job`` picks the backend).

1. Claim the job in the store (``JobStore.claim``): state and leases on its *planned* device ids in one transaction.
   Another job holding one of them -> ``LeaseUnavailable`` and nothing starts. Done/cancelled -> nothing is redone.
2. Pin the process to the leased devices by environment (``CUDA_VISIBLE_DEVICES`` / ``SATURN_CPU_DEVICES``).
3. Train with the planned technique and knobs, from the newest checkpoint when there is one: model, optimizer, LR
   scheduler, RNG states and data position are restored, so a resumed job computes exactly what an uninterrupted one
   would (same technique and device count; after a switch the global batch size is kept and the arithmetic is the
   same up to floating-point summation order).
4. Report progress (step, epoch, loss, throughput, ETA) as ``job.progress`` events; checkpoint every
   ``checkpoint_every_steps`` steps or ``checkpoint_every_s`` seconds (job info; default 60 s); honour stop requests
   (``JobStore.request_stop``: cancel | pause | replan | rung) at step boundaries.
5. Always release the leases (``finally``). Log: ``.saturn/logs/<job>.log``; weights: ``.saturn/weights/<job>.pt``.

Training goes through the same driver as profiling (``saturn.techniques._driver``): the technique's ``world(k)``
processes (this one is rank 0, the others Saturn child processes), its ``prepare`` and executor, the planned knobs.
The knobs the technique actually applied are recorded as ``info.applied_knobs`` (event ``job.knobs``). A technique
that only implements the older ``execute`` trains through that ``execute`` (one process, its own checkpoint file).
"""
from __future__ import annotations

import json
import os
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from ..core import devices as devices_mod
from ..core.checkpoint import CheckpointDir, atomic_save, safe_name
from ..core.jobs import JobStore
from ..core.paths import saturn_dir
from ..core.store import Store, default_store
from ..core.task import Task
from ..techniques._driver import DataCursor, JobStopped, make_scheduler  # noqa: F401 - part of this module's API

PROGRESS_EVERY_S = 0.5
STOP_CHECK_EVERY_S = 0.1


class LeaseUnavailable(RuntimeError):
    """The job's planned devices are held by another job: it did not start."""


class JobBusy(RuntimeError):
    """Another live process is running this job."""


# -- paths ----------------------------------------------------------------------------------------------------------
def log_path(store: Store, job_id: str) -> Path:
    return saturn_dir(store) / "logs" / f"{safe_name(job_id)}.log"


def weights_path(store: Store, job_id: str, which: str = "final") -> Path:
    """Where a job's trained weights are: ``final`` (the end of the run) or ``best`` (its best validation)."""
    suffix = ".best.pt" if which == "best" else ".pt"
    return saturn_dir(store) / "weights" / f"{safe_name(job_id)}{suffix}"


class JobLog:
    def __init__(self, path: Optional[Path]):
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, message: str) -> None:
        if self.path is None:
            return
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} [{os.getpid()}] {message}\n")


# -- the training loop (the shared driver; kept under its old names) ------------------------------------------------
class Loop:
    """Train ``technique`` on ``devices`` to ``total_steps`` through the driver, from ``checkpoint`` when given."""

    def __init__(self, *, task: Task, technique, devices: list[int], knobs: dict, total_steps: int,
                 checkpoint: Optional[dict] = None, checkpoint_path: Optional[str] = None, seed: int = 0,
                 control: Optional["Control"] = None, rank_env: Optional[Callable[[int], dict]] = None,
                 on_workers: Optional[Callable[[list], None]] = None):
        self.task, self.tech, self.devices, self.knobs = task, technique, list(devices), dict(knobs or {})
        self.total_steps, self.checkpoint, self.checkpoint_path = int(total_steps), checkpoint, checkpoint_path
        self.seed, self.control, self.rank_env, self.on_workers = seed, control, rank_env, on_workers

    def run(self) -> dict:
        from ..techniques._driver import Session
        with Session(self.tech, self.task, self.devices, rank_env=self.rank_env,
                     on_workers=self.on_workers) as session:
            rung = getattr(self.control, "rung_at", None)
            res = session.run(self.knobs, self.total_steps, control=self.control, checkpoint=self.checkpoint,
                              checkpoint_path=self.checkpoint_path, seed=self.seed, final_state=True,
                              evaluate="every", eval_at=[rung] if rung else [],
                              hold_at_rung=bool(getattr(self.control, "rung_hold_s", 0)))
        return {"steps": res["steps"], "loss": res["loss"], "model": res["state"]["model"],
                "applied_knobs": res["applied_knobs"]}


def _run_legacy(technique, task: Task, ids: list, knobs: dict, total: int, control: "Control",
                ckdir: CheckpointDir) -> dict:
    """A technique with only ``execute``: the remaining steps through it, resuming from and saving to its own
    checkpoint file; stop requests end it at a step boundary (the file keeps what it saved last)."""
    import torch
    path = ckdir.folder / "execute-checkpoint.pt"
    ckdir.folder.mkdir(parents=True, exist_ok=True)
    start = 0
    if path.exists():
        start = int(torch.load(path, map_location="cpu", weights_only=False).get("step", 0))
    control.applied(dict(knobs))
    state = {"loss": None}

    def on_step(i, loss, seconds):
        step = start + i + 1
        state["loss"] = loss
        control.stepped(step, 0, loss, seconds)
        stop, _save = control.decide(step, start)
        if stop and step < total:
            raise JobStopped(stop, step)

    control.first_step_started()
    technique.execute(task, ids, dict(knobs), max(total - start, 0), checkpoint=str(path), on_step=on_step)
    model = None
    if path.exists():
        model = torch.load(path, map_location="cpu", weights_only=False).get("model")
    return {"steps": total, "loss": state["loss"], "model": model, "applied_knobs": dict(knobs)}


class Control:
    """Rank 0's link to the store: stop requests, checkpoint cadence, progress, the job's history (train loss about
    every 1% of the steps, every validation) and the weights of its best validation."""

    def __init__(self, js: JobStore, job_id: str, ckdir: CheckpointDir, total_steps: int, log: JobLog,
                 every_steps: Optional[int], every_s: float, task: Optional[Task] = None,
                 run_id: Optional[str] = None, best: Optional[dict] = None, rung_at: Optional[int] = None,
                 rung_hold_s: float = 0.0, rung_reports: Optional[dict] = None):
        self.js, self.job_id, self.ckdir, self.total, self.log = js, job_id, ckdir, total_steps, log
        # early stopping: the job pauses (with a checkpoint) at this step to be judged; validated there first
        self.rung_at = int(rung_at) if rung_at and 0 < int(rung_at) < total_steps else None
        # ... or, with a dispatcher that judges, first waits up to this long on its GPUs for the verdict
        self.rung_hold_s = max(0.0, float(rung_hold_s or 0.0))
        self.rung_reports = dict(rung_reports or {})
        self.every_steps, self.every_s = every_steps, every_s
        self.task, self.run_id = task, run_id
        self.train_every = max(1, total_steps // 100)
        self.best = dict(best) if best else None  # {"metric", "mode", "value", "step"}
        self.last_val: Optional[dict] = None
        self._last_check = 0.0
        self._last_save_t = time.monotonic()
        self._last_report = 0.0
        self._ewma: Optional[float] = None
        self._stop: Optional[str] = None
        self.first_step_at: Optional[float] = None  # of this attempt

    def decide(self, step: int, start_step: int) -> tuple[Optional[str], bool]:
        now = time.monotonic()
        if now - self._last_check >= STOP_CHECK_EVERY_S or step == start_step:
            self._last_check = now
            self._stop = self.js.stop_request(self.job_id)
        at_rung = self.rung_at is not None and step >= self.rung_at and not self._stop
        if step == start_step:
            # started again at its rung without a promotion there (its runner died while it waited for the
            # verdict, and it was retried): back to waiting at that rung, not one step further
            return ("rung" if at_rung else self._stop), False
        if at_rung:
            return "rung", True
        if self.every_steps:
            save = step % self.every_steps == 0
        else:
            save = now - self._last_save_t >= self.every_s
        return self._stop, save

    def rung_report(self, step: int) -> tuple[dict, bool]:
        """Every rung's report with this one's (its validation there, kept once per rung), and whether it is new."""
        new = str(step) not in self.rung_reports
        if new:
            self.rung_reports[str(step)] = self.last_val or {}
        return dict(self.rung_reports), new

    def rung_event(self, step: int) -> None:
        """``job.rung``, once the report of rung ``step`` is in the store."""
        self.js.store.emit("job.rung", {"id": self.job_id, "task": self.task.name if self.task else None,
                                        "run_id": self.run_id, "step": step, "metrics": self.rung_reports[str(step)]})

    def hold(self, step: int) -> tuple[bool, Optional[str], Optional[int]]:
        """At rung ``step`` (checkpoint saved): report it and wait up to ``rung_hold_s`` on the job's GPUs for the
        verdict. Promoted there (the dispatcher, or the autopilot without one, records it and the next rung): (True,
        None, next rung or None) and training goes on in this process. A cancel: (False, "cancel", None). Any other
        stop request (the dispatcher's "free your GPUs while the others report", a pause, a re-plan) or no verdict in
        time: (False, "rung", None), and the job pauses at its rung, to be judged there, as without a hold."""
        reports, new = self.rung_report(step)
        self.js.update_info(self.job_id, rung_reports=reports, holding={"step": step, "at": time.time()})
        if new:
            self.rung_event(step)
        self.log(f"at rung {step}: waiting up to {self.rung_hold_s:.1f} s on its devices for the verdict")
        deadline = time.monotonic() + self.rung_hold_s
        reason = "rung"
        while True:
            info = self.js.get(self.job_id)["info"]
            if any(int(p.get("rung", -1)) == step for p in info.get("promotions") or []):
                nxt = info.get("rung_at")
                self.rung_at = int(nxt) if nxt and step < int(nxt) < self.total else None
                self.js.update_info(self.job_id, holding=None)
                self.log(f"promoted at rung {step}: training on here" +
                         (f" to rung {self.rung_at}" if self.rung_at else " to the end"))
                return True, None, self.rung_at
            stop = (info.get("stop") or {}).get("reason") if isinstance(info.get("stop"), dict) else None
            if stop:  # not promoted: whatever asks it to stop (but a cancel), it waits at its rung to be judged
                reason = "cancel" if stop == "cancel" else "rung"
                break
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        self.js.update_info(self.job_id, holding=None)
        return False, reason, None

    def applied(self, knobs: dict) -> None:
        """The knobs the technique applied (rank 0, after ``prepare``): logged and recorded in the job."""
        self.applied_knobs = dict(knobs)
        self.log(f"applied knobs {json.dumps(knobs, sort_keys=True, default=str)}")
        self.js.update_info(self.job_id, "job.knobs", applied_knobs=self.applied_knobs)

    def first_step_started(self) -> None:
        self.first_step_at = time.time()
        self.js.update_info(self.job_id, "job.first_step", first_step_at=self.first_step_at)

    def save(self, snap: dict, step: int) -> None:
        self.js.set_state(self.job_id, "checkpointing")
        path = self.ckdir.save(snap, step)
        self._last_save_t = time.monotonic()
        self.js.set_state(self.job_id, "running", checkpoint={"step": step, "path": str(path), "at": time.time()})
        self.log(f"checkpoint at step {step}: {path}")

    def stepped(self, step: int, epoch: int, loss: float, seconds: float) -> None:
        if self.task is not None and (step % self.train_every == 0 or step >= self.total) and loss is not None:
            self.js.store.add_metrics(self.job_id, self.task.name, step, "train", {"loss": float(loss)},
                                      run_id=self.run_id, epoch=epoch)
        self._ewma = seconds if self._ewma is None else 0.8 * self._ewma + 0.2 * seconds
        now = time.monotonic()
        if now - self._last_report >= PROGRESS_EVERY_S or step >= self.total:
            self._last_report = now
            progress = {"step": step, "total_steps": self.total, "epoch": epoch, "loss": loss,
                        "step_time_s": self._ewma, "throughput_steps_s": 1.0 / self._ewma if self._ewma else None,
                        "eta_s": (self.total - step) * self._ewma, "at": time.time()}
            self.js.update_info(self.job_id, "job.progress", progress=progress, step=step)


    def validated(self, step: int, epoch: int, metrics: dict, model_state: dict) -> None:
        """A validation on rank 0: into the history; the weights kept when it is the best of ``task.keep_best``."""
        self.last_val = dict(metrics)
        self.js.store.add_metrics(self.job_id, self.task.name, step, "val", metrics, run_id=self.run_id, epoch=epoch)
        self.log(f"validation at step {step}: " + ", ".join(f"{k} {v:.6g}" for k, v in metrics.items()))
        name, mode = self.task.keep_best, self.task.keep_best_mode
        if not name or name not in metrics:
            return
        value = metrics[name]
        if self.best is None or (value < self.best["value"] if mode == "min" else value > self.best["value"]):
            path = weights_path(self.js.store, self.job_id, "best")
            atomic_save(model_state, path)
            self.best = {"metric": name, "mode": mode, "value": value, "step": step, "path": str(path)}
            self.js.update_info(self.job_id, best=self.best)


# -- the job -------------------------------------------------------------------------------------------------------------
def _load_task(store: Store, name: str) -> tuple[Task, dict]:
    row = store.get_task(name)
    if row is None:
        raise KeyError(f"task {name!r} is not registered (any more) in {store.path}")
    return Task.from_record(row["spec"], row["payload"]), row


def run_local(job_id: str, store: Optional[Store] = None, *, raise_errors: bool = True) -> dict:
    """Run (or resume) ``job_id`` here, in this process and its data-parallel children, to its end, a stop request,
    or an error (the local backend). Returns ``{"job", "state", ...}``."""
    store = store or default_store()
    js = JobStore(store)
    outcome, job = js.claim(job_id, os.getpid(), kernel_id=os.environ.get("SATURN_KERNEL_ID"))
    early = claim_outcome(job_id, outcome, job)
    if early is not None:
        return early
    try:
        return execute(js, job_id, job, raise_errors=raise_errors)
    finally:
        js.release(job_id)


def claim_outcome(job_id: str, outcome: str, job: dict) -> Optional[dict]:
    """What to return (or raise) when a claim did not give us the job; None when it did."""
    if outcome == "finished":
        return {"job": job_id, "state": job["state"], "redone": False}
    if outcome == "busy":
        raise JobBusy(f"job {job_id} is already running in process {job['info'].get('pid')}")
    if outcome == "no_lease":
        held = ", ".join(f"{h['node']}/{h['device']}: {h['holder']}" for h in job.get("leases", []))
        raise LeaseUnavailable(f"job {job_id}: its planned devices "
                               f"{job['info'].get('assignment', {}).get('gpu_ids')} are leased ({held})")
    return None


def execute(js: JobStore, job_id: str, job: dict, *, raise_errors: bool = True, slurm_worker: bool = False) -> dict:
    """Train a claimed job here to done, a stop, or a failure, and record the outcome in the store.

    ``slurm_worker``: this process is the job's SLURM task; SLURM already gave it its GPUs (CUDA_VISIBLE_DEVICES is
    SLURM's and stays), and the leases belong to the job's kernel."""
    store = js.store
    log = JobLog(log_path(store, job_id))
    info = job["info"]
    try:
        assignment = info.get("assignment") or {}
        ids = [int(i) for i in assignment.get("gpu_ids") or []]
        kind = devices_mod.device_kind()
        if kind == "none":
            raise RuntimeError("no devices on this machine (no NVIDIA GPU; set SATURN_FAKE_GPUS=N for CPU devices)")
        env = devices_mod.assignment_env(kind, ids, scheduler_sets_cuda=slurm_worker)
        if kind == "cuda" and _cuda_initialised():
            log("warning: CUDA was initialised before the lease; CUDA_VISIBLE_DEVICES cannot take effect here")
        os.environ.update(env)
        js.update_info(job_id, log=str(log.path), lease_env=env)
        task, _row = _load_task(store, job["task"])
        from ..techniques import get_technique
        technique = get_technique(assignment.get("parallelism") or "ddp", store)
        knobs = dict(assignment.get("knobs") or {})
        total = int(info.get("total_steps") or task.total_steps or 0)
        if total <= 0:
            raise RuntimeError(f"task {task.name!r} has no total step count")
        ckdir = CheckpointDir.for_job(store, job_id, keep=int(info.get("keep_checkpoints") or 2))
        ck = ckdir.load_latest()
        seed = int(info.get("seed", task.hints.get("seed", 0)) or 0)
        where = f" on node {assignment.get('node')}" if slurm_worker else ""
        log(f"attempt {info.get('attempts')}: {technique.name} on devices {ids} ({kind}){where}, knobs {knobs}, "
            f"{total} steps" + (f", resuming at step {ck['step']}" if ck else ", from scratch"))
        if ck is not None and ck.get("global_batch") not in (None, task.batch_size):
            raise RuntimeError(f"checkpoint global batch {ck.get('global_batch')} != task batch {task.batch_size}")
        # the history up to the checkpoint stays; what comes after it is computed again (identically)
        store.drop_metrics_after(job_id, ck["step"] if ck is not None else 0)
        best = info.get("best") if ck is not None and (info.get("best") or {}).get("step", 1e18) <= ck["step"] else None
        control = Control(js, job_id, ckdir, total, log, info.get("checkpoint_every_steps"),
                          float(info.get("checkpoint_every_s") or 60.0), task=task, run_id=info.get("run_id"),
                          best=best, rung_at=info.get("rung_at"), rung_hold_s=info.get("rung_hold_s") or 0.0,
                          rung_reports=info.get("rung_reports"))
        from ..techniques.base import is_legacy
        # under SLURM every rank sees the job's GPUs (SLURM's CUDA_VISIBLE_DEVICES) and picks its own by id
        def rank_env(rank: int) -> dict:
            return dict(env) if slurm_worker and kind == "cuda" else devices_mod.assignment_env(kind, [ids[rank]])

        def on_workers(pids: list) -> None:
            js.update_info(job_id, worker_pids=pids)

        t0 = time.time()
        try:
            if is_legacy(technique):
                result = _run_legacy(technique, task, ids, knobs, total, control, ckdir)
                if task.validate is not None and result["model"] is not None:  # its end, validated here
                    from ..techniques._driver import Evaluator
                    control.validated(total, 0, Evaluator(task, "cpu", "end", total).run(result["model"]),
                                      result["model"])
            else:
                ck_path = str(ckdir.path_for(ck["step"])) if ck is not None else None
                result = Loop(task=task, technique=technique, devices=ids, knobs=knobs, total_steps=total,
                              checkpoint=ck, checkpoint_path=ck_path, seed=seed, control=control, rank_env=rank_env,
                              on_workers=on_workers).run()
        except JobStopped as stop:
            target = "cancelled" if stop.reason == "cancel" else "preempted"
            extra, new = {}, False
            if stop.reason == "rung":  # what the job reports at its rung: its validation there
                extra["rung_reports"], new = control.rung_report(stop.step)
            js.set_state(job_id, target, stopped={"reason": stop.reason, "at": time.time(), "step": stop.step},
                         step=stop.step, **extra, **_trained(info, control))
            if new:
                control.rung_event(stop.step)
            log(f"stopped ({stop.reason}) -> {target}")
            _export_history(store, job_id, task.name, info.get("run_id"), log)
            return {"job": job_id, "state": target, "reason": stop.reason}
        wpath = weights_path(store, job_id)
        if result["model"] is not None:
            atomic_save(result["model"], wpath)
        js.set_state(job_id, "done", finished_at=time.time(), weights=str(wpath), step=result["steps"],
                     final_loss=result["loss"], run_s=time.time() - t0, **_trained(info, control),
                     **({"final_metrics": control.last_val} if control.last_val is not None else {}))
        log(f"done: {result['steps']} steps, loss {result['loss']}, weights {wpath}")
        _export_history(store, job_id, task.name, info.get("run_id"), log)
        return {"job": job_id, "state": "done", "steps": result["steps"], "weights": str(wpath)}
    except BaseException as err:
        tb = traceback.format_exc()
        log(f"failed: {type(err).__name__}: {err}\n{tb}")
        try:
            js.set_state(job_id, "failed", error=f"{type(err).__name__}: {err}", traceback=tb,
                         failed_at=time.time())
        except Exception as again:  # noqa: BLE001 - the store itself is the problem: keep the first error
            log(f"could not record the failure: {again}")
        if raise_errors or isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        return {"job": job_id, "state": "failed", "error": f"{type(err).__name__}: {err}"}


def _trained(info: dict, control: "Control") -> dict:
    """The job's training time over all its segments (a resumed or promoted job trains in several)."""
    if control.first_step_at is None:
        return {}
    return {"train_s": round(float(info.get("train_s") or 0) + time.time() - control.first_step_at, 3)}


def _export_history(store: Store, job_id: str, task: str, run_id: Optional[str], log: "JobLog") -> None:
    """The job's history as TensorBoard event files (when tensorboard is installed); never fails the job."""
    from .tensorboard import export
    try:
        folder = export(store, job_id, task, run_id)
        if folder is not None:
            log(f"TensorBoard scalars: {folder}")
    except Exception as err:  # noqa: BLE001
        log(f"could not write TensorBoard scalars: {type(err).__name__}: {err}")


def _cuda_initialised() -> bool:
    import sys
    torch = sys.modules.get("torch")
    try:
        return bool(torch is not None and torch.cuda.is_initialized())
    except Exception:  # noqa: BLE001
        return False
