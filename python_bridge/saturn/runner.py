"""Run one job of a dispatched plan: ``saturn.runner.run_job('<job id>')`` (in the job's own kernel, or any process).

1. Claim the job in the store (``JobStore.claim``): state and leases on its *planned* device ids in one transaction.
   Another job holding one of them -> ``LeaseUnavailable`` and nothing starts. Done/cancelled -> nothing is redone.
2. Pin the process to the leased devices by environment (``CUDA_VISIBLE_DEVICES`` / ``SATURN_CPU_DEVICES``).
3. Train with the planned technique and knobs, from the newest checkpoint when there is one: model, optimizer, LR
   scheduler, RNG states and data position are restored, so a resumed job computes exactly what an uninterrupted one
   would (same technique and device count; after a switch the global batch size is kept and the arithmetic is the
   same up to floating-point summation order).
4. Report progress (step, epoch, loss, throughput, ETA) as ``job.progress`` events; checkpoint every
   ``checkpoint_every_steps`` steps or ``checkpoint_every_s`` seconds (job info; default 60 s); honour stop requests
   (``JobStore.request_stop``: cancel | pause | replan) at step boundaries.
5. Always release the leases (``finally``). Log: ``.saturn/logs/<job>.log``; weights: ``.saturn/weights/<job>.pt``.

Techniques: ``ddp``/``fsdp`` (any ``DataParallelTechnique``) run one process per device (this one is rank 0, the
others are Saturn child processes) and shard each global batch; ``pipeline`` runs its micro-batched stages;
``spilling`` moves layer groups to the device and back; a user technique may provide
``make_step(task, model, optimizer, batches, devices, knobs) -> step()``; otherwise the standard step runs on the
first leased device.
"""
from __future__ import annotations

import json
import os
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from . import devices as devices_mod
from .checkpoint import CheckpointDir, atomic_save, capture_rng, restore_rng, safe_name
from .jobs import JobStore
from .store import Store, default_store
from .task import Task, forward, split_batch

PROGRESS_EVERY_S = 0.5
STOP_CHECK_EVERY_S = 0.1


class LeaseUnavailable(RuntimeError):
    """The job's planned devices are held by another job: it did not start."""


class JobBusy(RuntimeError):
    """Another live process is running this job."""


class JobStopped(Exception):
    def __init__(self, reason: str, step: int = 0):
        super().__init__(reason)
        self.reason, self.step = reason, step


# -- paths ----------------------------------------------------------------------------------------------------------
def saturn_dir(store: Store) -> Path:
    return Path(store.path).parent


def log_path(store: Store, job_id: str) -> Path:
    return saturn_dir(store) / "logs" / f"{safe_name(job_id)}.log"


def weights_path(store: Store, job_id: str) -> Path:
    return saturn_dir(store) / "weights" / f"{safe_name(job_id)}.pt"


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


# -- data position --------------------------------------------------------------------------------------------------
class DataCursor:
    """Batches of a task across epochs with a position that can be saved and restored exactly."""

    def __init__(self, task: Task, rank: int = 0, world: int = 1):
        self.task, self.rank, self.world = task, rank, world
        self.epoch, self.index = 0, 0
        self.epoch_rng: Optional[dict] = None
        self._it: Optional[Iterator] = None

    def state(self) -> dict:
        return {"epoch": self.epoch, "index": self.index, "epoch_rng": self.epoch_rng}

    def restore(self, state: Optional[dict]) -> None:
        if not state:
            return
        self.epoch, self.index = int(state["epoch"]), int(state["index"])
        self.epoch_rng = state.get("epoch_rng")
        if self.index > 0:
            now = capture_rng()
            restore_rng(self.epoch_rng)  # the loader draws its order as it did at the start of this epoch
            self._it = iter(self.task.make_loader())
            for _ in range(self.index):
                next(self._it)
            restore_rng(now)

    def next(self):
        from .techniques import _loop
        for _ in range(2):
            if self._it is None:
                self.epoch_rng = capture_rng()
                self._it = iter(self.task.make_loader())
            try:
                batch = next(self._it)
            except StopIteration:
                empty = self.index == 0
                self._it, self.epoch, self.index = None, self.epoch + 1, 0
                if empty:
                    break
                continue
            self.index += 1
            return _loop.shard(batch, self.rank, self.world)
        raise RuntimeError(f"task {self.task.name!r}: the data loader produced no batches")


# -- steps per technique ---------------------------------------------------------------------------------------------
def make_scheduler(task: Task, optimizer):
    custom = getattr(task, "lr_scheduler", None)
    if callable(custom):
        return custom(optimizer)
    spec = (task.hints or {}).get("lr_scheduler")
    if isinstance(spec, dict):
        import torch
        kwargs = {k: v for k, v in spec.items() if k != "type"}
        return getattr(torch.optim.lr_scheduler, spec["type"])(optimizer, **kwargs)
    if callable(spec):
        return spec(optimizer)
    return None


def _standard_step(task, model, optimizer, cursor, device):
    from .techniques import _loop
    loss_fn = task.loss_fn()

    def step() -> float:
        inputs, targets = split_batch(cursor.next())
        inputs, targets = _loop.to_device(inputs, device), _loop.to_device(targets, device)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(forward(model, inputs), targets)
        loss.backward()
        optimizer.step()
        return float(loss.detach())
    return step


def _pipeline_step(task, model, optimizer, cursor, devices, knobs):
    """GPipe arithmetic: stages on their devices, the batch in micro-batches, gradients accumulated."""
    import torch
    from .techniques import _loop
    layers = _loop.layers_of(task, model)
    balance = knobs.get("balance") or _loop.balance_by_params(layers, len(devices))
    stage_devices = [devices_mod.local_torch_device(d) for d in devices]
    stages = [s.to(dev) for s, dev in zip(_loop.groups(layers, balance), stage_devices)]
    chunks = int(knobs.get("chunks") or len(devices))
    loss_fn = task.loss_fn()

    def step() -> float:
        inputs, targets = split_batch(cursor.next())
        optimizer.zero_grad(set_to_none=True)
        total, n = 0.0, min(chunks, len(inputs))
        for x, y in zip(torch.tensor_split(inputs, n), torch.tensor_split(targets, n)):
            for stage, dev in zip(stages, stage_devices):
                x = stage(x.to(dev))
            loss = loss_fn(x, y.to(stage_devices[-1])) * (len(y) / len(targets))
            loss.backward()
            total += float(loss.detach())
        optimizer.step()
        return total
    return step


def _spilling_step(task, model, optimizer, cursor, device, knobs):
    """Layer groups visit the device one at a time (forward without a graph, backward by recomputation)."""
    import torch
    from .techniques import _loop
    if getattr(device, "type", "cpu") != "cuda":
        return _standard_step(task, model, optimizer, cursor, device)  # host and device are the same memory
    host = torch.device("cpu")
    layers = _loop.layers_of(task, model)
    balance = knobs.get("balance") or _loop.balance_by_params(layers, int(knobs.get("partitions", 2)))
    parts = _loop.groups(layers, balance)
    from .techniques.spilling import spilling_step
    return spilling_step(parts, device, host, optimizer, task.loss_fn(), cursor.next)


def _is_data_parallel(tech) -> bool:
    from .techniques._dist import DataParallelTechnique
    return isinstance(tech, DataParallelTechnique)


# -- the training loop (rank 0 and every data-parallel worker run it) ------------------------------------------------
class Loop:
    def __init__(self, *, task: Task, technique, devices: list[int], knobs: dict, total_steps: int, rank: int = 0,
                 world: int = 1, port: Optional[int] = None, checkpoint: Optional[dict] = None, seed: int = 0,
                 control: Optional["Control"] = None):
        self.task, self.tech, self.devices, self.knobs = task, technique, list(devices), dict(knobs or {})
        self.total_steps, self.rank, self.world, self.port = int(total_steps), rank, world, port
        self.checkpoint, self.seed, self.control = checkpoint, seed, control

    def run(self) -> dict:
        import torch
        from .techniques import _loop
        _loop.set_threads()
        if self.checkpoint is None:
            import random
            random.seed(self.seed)
            torch.manual_seed(self.seed)
            try:
                import numpy
                numpy.random.seed(self.seed)
            except Exception:  # noqa: BLE001
                pass
        model = self.task.build_model()
        dist_on = self.world > 1
        device = devices_mod.local_torch_device(self.devices[self.rank])
        if dist_on:
            import torch.distributed as dist
            from .techniques._dist import dist_timeout
            if device.type == "cuda":
                torch.cuda.set_device(device)
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                                    init_method=f"tcp://127.0.0.1:{self.port}", rank=self.rank,
                                    world_size=self.world, timeout=dist_timeout())
        try:
            return self._run(model, device, dist_on)
        finally:
            if dist_on:
                import torch.distributed as dist
                dist.destroy_process_group()

    def _run(self, model, device, dist_on: bool) -> dict:
        import torch
        cursor = DataCursor(self.task, self.rank, self.world)
        ck = self.checkpoint
        if ck is not None:
            model.load_state_dict(ck["model"])
        if dist_on:
            wrapped = self.tech.wrap(model, device, self.knobs)
        elif self.tech is not None and self.tech.name == "spilling" or (
                self.tech is not None and self.tech.name == "pipeline" and len(self.devices) > 1):
            wrapped = model
        else:
            wrapped = model.to(device)
        optimizer = self.task.make_optimizer(list(wrapped.parameters()))
        scheduler = make_scheduler(self.task, optimizer)
        step_no = 0
        if ck is not None:
            if ck.get("optimizer"):
                optimizer.load_state_dict(ck["optimizer"])
            if scheduler is not None and ck.get("scheduler"):
                scheduler.load_state_dict(ck["scheduler"])
            cursor.restore(ck.get("data"))
            step_no = int(ck["step"])
            restore_rng(ck.get("rng"))
        if dist_on:
            step = _standard_step(self.task, wrapped, optimizer, cursor, device)
        elif hasattr(self.tech, "make_step"):
            step = self.tech.make_step(self.task, wrapped, optimizer, cursor, self.devices, self.knobs)
        elif self.tech is not None and self.tech.name == "pipeline" and len(self.devices) > 1:
            step = _pipeline_step(self.task, wrapped, optimizer, cursor, self.devices, self.knobs)
        elif self.tech is not None and self.tech.name == "spilling":
            step = _spilling_step(self.task, wrapped, optimizer, cursor, device, self.knobs)
        else:
            step = _standard_step(self.task, wrapped, optimizer, cursor, device)

        def snapshot(loss) -> dict:
            return {"model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict() if scheduler is not None else None,
                    "rng": capture_rng(), "data": cursor.state(), "loss": loss,
                    "technique": getattr(self.tech, "name", None), "gpus": len(self.devices), "knobs": self.knobs,
                    "global_batch": self.task.batch_size}

        control = self.control
        flags = torch.zeros(2, dtype=torch.int64)
        loss = ck.get("loss") if ck else None
        start_step = step_no
        while step_no < self.total_steps:
            stop, save = (control.decide(step_no, start_step) if control is not None else (None, False))
            if dist_on:
                import torch.distributed as dist
                flags[0], flags[1] = {"cancel": 1, "pause": 2, "replan": 3}.get(stop, 0) if stop else 0, int(save)
                dist.broadcast(flags, src=0)
                stop = {1: "cancel", 2: "pause", 3: "replan"}.get(int(flags[0]))
                save = bool(flags[1])
            if save or stop in ("pause", "replan"):
                if self.rank == 0 and step_no > start_step:
                    control.save(snapshot(loss), step_no)
            if stop:
                raise JobStopped(stop, step_no)
            if control is not None and step_no == start_step:
                control.first_step_started()
            t0 = time.perf_counter()
            loss = step()
            if scheduler is not None:
                scheduler.step()
            step_no += 1
            if control is not None:
                control.stepped(step_no, cursor.epoch, loss, time.perf_counter() - t0)
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        return {"steps": step_no, "loss": loss, "model": state if self.rank == 0 else None}


class Control:
    """Rank 0's link to the store: stop requests, checkpoint cadence, progress."""

    def __init__(self, js: JobStore, job_id: str, ckdir: CheckpointDir, total_steps: int, log: JobLog,
                 every_steps: Optional[int], every_s: float):
        self.js, self.job_id, self.ckdir, self.total, self.log = js, job_id, ckdir, total_steps, log
        self.every_steps, self.every_s = every_steps, every_s
        self._last_check = 0.0
        self._last_save_t = time.monotonic()
        self._last_report = 0.0
        self._ewma: Optional[float] = None
        self._stop: Optional[str] = None
        self.first_step_at: Optional[float] = None

    def decide(self, step: int, start_step: int) -> tuple[Optional[str], bool]:
        now = time.monotonic()
        if now - self._last_check >= STOP_CHECK_EVERY_S or step == start_step:
            self._last_check = now
            self._stop = self.js.stop_request(self.job_id)
        if step == start_step:
            return self._stop, False
        if self.every_steps:
            save = step % self.every_steps == 0
        else:
            save = now - self._last_save_t >= self.every_s
        return self._stop, save

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
        self._ewma = seconds if self._ewma is None else 0.8 * self._ewma + 0.2 * seconds
        now = time.monotonic()
        if now - self._last_report >= PROGRESS_EVERY_S or step >= self.total:
            self._last_report = now
            progress = {"step": step, "total_steps": self.total, "epoch": epoch, "loss": loss,
                        "step_time_s": self._ewma, "throughput_steps_s": 1.0 / self._ewma if self._ewma else None,
                        "eta_s": (self.total - step) * self._ewma, "at": time.time()}
            self.js.update_info(self.job_id, "job.progress", progress=progress, step=step)


# -- data-parallel workers (ranks 1..k-1) ------------------------------------------------------------------------------
def rank_main(payload: dict) -> dict:
    """Entry point of a data-parallel worker (a Saturn child process)."""
    task = Task.from_record(payload["spec"], payload["payload"])
    ck = None
    if payload.get("checkpoint_path"):
        import torch
        ck = torch.load(payload["checkpoint_path"], map_location="cpu")
    loop = Loop(task=task, technique=payload["technique"], devices=payload["devices"], knobs=payload["knobs"],
                total_steps=payload["total_steps"], rank=payload["rank"], world=payload["world"],
                port=payload["port"], checkpoint=ck, seed=payload["seed"])
    try:
        res = loop.run()
    except JobStopped as stop:
        return {"stopped": stop.reason}
    return {"steps": res["steps"]}


# -- the job -------------------------------------------------------------------------------------------------------------
def _load_task(store: Store, name: str) -> tuple[Task, dict]:
    row = store.get_task(name)
    if row is None:
        raise KeyError(f"task {name!r} is not registered (any more) in {store.path}")
    return Task.from_record(row["spec"], row["payload"]), row


def run_job(job_id: str, store: Optional[Store] = None, *, raise_errors: bool = True) -> dict:
    """Run (or resume) ``job_id`` to its end, a stop request, or an error. Returns ``{"job", "state", ...}``.

    The job's backend (``info.backend``, else ``SATURN_BACKEND``) decides where it trains: ``local`` in this process
    (and its data-parallel children), ``slurm`` in a SLURM job on its planned node, watched from here."""
    store = store or default_store()
    js = JobStore(store)
    from . import slurm
    if slurm.backend_name(js.get(job_id)["info"]) == "slurm":
        from .slurm_runner import run_on_slurm
        return run_on_slurm(job_id, store, raise_errors=raise_errors)
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
    workers: list = []
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
        from .techniques import get_technique
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
        control = Control(js, job_id, ckdir, total, log, info.get("checkpoint_every_steps"),
                          float(info.get("checkpoint_every_s") or 60.0))
        world = len(ids) if _is_data_parallel(technique) and len(ids) > 1 else 1
        port = None
        if world > 1:
            from .procs import Child
            from .techniques import _loop
            port = _loop.free_port()
            rec = store.get_task(task.name)
            ck_path = str(ckdir.path_for(ck["step"])) if ck is not None else None
            for rank in range(1, world):
                payload = {"spec": rec["spec"], "payload": rec["payload"], "technique": technique,
                           "devices": ids, "knobs": knobs, "total_steps": total, "rank": rank, "world": world,
                           "port": port, "checkpoint_path": ck_path, "seed": seed}
                # under SLURM every rank sees the job's GPUs (SLURM's CUDA_VISIBLE_DEVICES) and picks its own by id
                rank_env = (dict(env) if slurm_worker and kind == "cuda"
                            else devices_mod.assignment_env(kind, [ids[rank]]))
                workers.append(Child("saturn.runner:rank_main", payload, env=rank_env, new_session=False).start())
            js.update_info(job_id, worker_pids=[w.pid for w in workers])
        loop = Loop(task=task, technique=technique, devices=ids, knobs=knobs, total_steps=total, rank=0, world=world,
                    port=port, checkpoint=ck, seed=seed, control=control)
        t0 = time.time()
        try:
            result = loop.run()
        except JobStopped as stop:
            _wait_workers(workers)
            target = "cancelled" if stop.reason == "cancel" else "preempted"
            js.set_state(job_id, target, stopped={"reason": stop.reason, "at": time.time(), "step": stop.step},
                         step=stop.step)
            log(f"stopped ({stop.reason}) -> {target}")
            return {"job": job_id, "state": target, "reason": stop.reason}
        for rank, w in enumerate(workers, start=1):
            res = w.wait()
            if not res.ok:
                raise RuntimeError(f"data-parallel rank {rank} failed: {res.describe()}\n{res.traceback}")
        wpath = weights_path(store, job_id)
        atomic_save(result["model"], wpath)
        js.set_state(job_id, "done", finished_at=time.time(), weights=str(wpath), step=result["steps"],
                     final_loss=result["loss"], run_s=time.time() - t0)
        log(f"done: {result['steps']} steps, loss {result['loss']}, weights {wpath}")
        return {"job": job_id, "state": "done", "steps": result["steps"], "weights": str(wpath)}
    except BaseException as err:
        for w in workers:
            w.kill()
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


def _wait_workers(workers: list, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    for w in workers:
        while not w.done() and time.monotonic() < deadline:
            time.sleep(0.02)
        w.kill()


def _cuda_initialised() -> bool:
    import sys
    torch = sys.modules.get("torch")
    try:
        return bool(torch is not None and torch.cuda.is_initialized())
    except Exception:  # noqa: BLE001
        return False


def run_job_in_thread(job_id: str, store: Optional[Store] = None) -> threading.Thread:
    """Start ``run_job`` in a daemon thread (the kernel stays responsive); errors go to the store and the log."""
    t = threading.Thread(target=run_job, args=(job_id, store), kwargs={"raise_errors": False},
                         name=f"saturn-job-{job_id}", daemon=True)
    t.start()
    return t


def main(argv: Optional[list] = None) -> int:
    """``python -m saturn.runner JOB_ID``: run one job in this process (what a non-kernel executor would do).
    ``python -m saturn.runner --slurm-worker JOB_ID``: the training task of a job claimed by its kernel (SLURM)."""
    import sys
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 2 and args[0] == "--slurm-worker":
        from .slurm_runner import worker_main
        return worker_main(args[1])
    if len(args) != 1:
        print("usage: python -m saturn.runner [--slurm-worker] JOB_ID", file=sys.stderr)
        return 2
    res = run_job(args[0], raise_errors=False)
    print(json.dumps(res, default=str))
    return 0 if res.get("state") in ("done", "preempted", "cancelled") else 1


if __name__ == "__main__":
    raise SystemExit(main())
