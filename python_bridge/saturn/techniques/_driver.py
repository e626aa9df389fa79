"""The one training driver: profiling trials, ``search`` experiments and jobs all train through it.

``Session(technique, task, devices)`` is rank 0's handle on a group of ``technique.world(k)`` processes: this process
is rank 0, ranks 1.. are Saturn child processes (``saturn.core.procs.Child``, pinned to their device by environment)
started on the first ``run``. They share a process group (gloo on CPU devices, NCCL on CUDA) that lives as long as
the session, so one session can run several knob settings in a row (a technique's ``search``) without starting
processes again. ``Session.run(knobs, total_steps, ...)`` sends the run to every rank, and every rank then does the
same thing (``run_rank``):

1. seed Python, NumPy and torch alike (so ``task.build_model()`` gives every rank the same weights), then
   ``technique.prepare(ctx)``;
2. restore a checkpoint when there is one: model and optimizer through ``load_full_state``, LR scheduler, this rank's
   RNG states and the data position;
3. per step: rank 0's ``control`` decides (stop request, checkpoint now?), the decision is broadcast, a checkpoint
   is gathered with ``full_state`` (a collective) and saved by rank 0; every rank draws the next global batch from
   its own ``DataCursor`` (all ranks draw the same batches: the data has its own RNG stream, untouched by dropout
   and the like), takes its part (``technique.local_batch``) and calls ``executor.step``; at a job's rung (early
   stopping, ``hold_at_rung``) rank 0 waits for the verdict after the checkpoint, and every rank learns whether to
   train on (to which next rung, validated there too) or stop;
4. every ``task.eval_steps`` steps and at the last step, when the task has ``validate``: the whole model is gathered
   with ``full_state`` (a collective, whatever the technique shards or splits) and rank 0 loads it into a model of
   its own (``task.build_model()``, on the executor's ``eval_device``, else its device) and runs ``validate`` on it,
   in eval mode and without gradients, under a saved-and-restored RNG state (so validating changes nothing of the
   training: a run validated at other steps computes the same weights).

Step times are measured on rank 0 (device synchronised); peak memory is the largest over the ranks.
"""
from __future__ import annotations

import contextlib
import datetime
import os
import random
import time
from typing import Callable, Iterator, Optional

from ..core.checkpoint import capture_rng, restore_rng
from ..core.devices import assignment_env, current_kind, local_torch_device
from . import _loop
from .types import Context, ExecResult

STOP_CODES = {"cancel": 1, "pause": 2, "replan": 3, "rung": 4}
STOP_NAMES = {v: k for k, v in STOP_CODES.items()}


class JobStopped(Exception):
    def __init__(self, reason: str, step: int = 0):
        super().__init__(reason)
        self.reason, self.step = reason, step


def dist_timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=float(os.environ.get("SATURN_DIST_TIMEOUT", "120")))


# -- RNG ---------------------------------------------------------------------------------------------------------
def seed_all(seed: int) -> None:
    import torch
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy
        numpy.random.seed(seed)
    except Exception:  # noqa: BLE001 - numpy absent: nothing to seed
        pass


def _host_rng() -> dict:
    import torch
    state = {"python": random.getstate(), "torch": torch.get_rng_state()}
    try:
        import numpy
        state["numpy"] = numpy.random.get_state()
    except Exception:  # noqa: BLE001
        pass
    return state


# -- data -----------------------------------------------------------------------------------------------------------
class DataCursor:
    """Global batches of a task across epochs, with a position that can be saved and restored exactly.

    The loader runs on its own RNG stream (Python, NumPy, torch CPU), swapped in around every loader call: the
    shuffle order depends only on the seed and the position, never on what the model drew (dropout), so every rank
    of a run sees the same batches."""

    def __init__(self, task, rng: Optional[dict] = None):
        self.task = task
        self.epoch, self.index = 0, 0
        self.rng = rng if rng is not None else _host_rng()
        self.epoch_rng: Optional[dict] = None
        self._it: Optional[Iterator] = None

    @contextlib.contextmanager
    def _data_stream(self):
        outer = _host_rng()
        restore_rng(self.rng)
        try:
            yield
        finally:
            self.rng = _host_rng()
            restore_rng(outer)

    def state(self) -> dict:
        return {"epoch": self.epoch, "index": self.index, "epoch_rng": self.epoch_rng, "rng": self.rng}

    def restore(self, state: Optional[dict]) -> None:
        if not state:
            return
        self.epoch, self.index = int(state["epoch"]), int(state["index"])
        self.epoch_rng = state.get("epoch_rng")
        self._it = None
        if state.get("rng") is not None:
            self.rng = state["rng"]
        if self.index > 0 and self.epoch_rng is not None:
            self.rng = self.epoch_rng  # the loader draws its order as it did at the start of this epoch
            with self._data_stream():
                self._it = iter(self.task.make_loader())
                for _ in range(self.index):
                    next(self._it)

    def next(self):
        with self._data_stream():
            for _ in range(2):
                if self._it is None:
                    self.epoch_rng = _host_rng()
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
                return batch
        raise RuntimeError(f"task {self.task.name!r}: the data loader produced no batches")


def make_scheduler(task, optimizer):
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


# -- process group ----------------------------------------------------------------------------------------------
def init_group(rank: int, world: int, port: int, device) -> None:
    import torch
    import torch.distributed as dist
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", init_method=f"tcp://127.0.0.1:{port}",
                            rank=rank, world_size=world, timeout=dist_timeout())


def _broadcast_object(obj):
    import torch.distributed as dist
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def _gather_object(obj, rank: int, world: int) -> Optional[list]:
    if world == 1:
        return [obj]
    import torch.distributed as dist
    out = [None] * world if rank == 0 else None
    dist.gather_object(obj, out, dst=0)
    return out


def rank_device(devices: list, rank: int, world: int):
    return local_torch_device(devices[rank] if world > 1 else devices[0])


# -- what every rank runs -----------------------------------------------------------------------------------------
def run_rank(tech, task, devices: list, rank: int, world: int, cmd: dict, control=None, checkpoint=None,
             grouped: bool = False) -> dict:
    """Prepare, restore, and train to ``cmd['total_steps']`` (see the module docstring). ``control`` only on rank 0:
    ``decide(step, start) -> (stop, save)``, ``save(snapshot, step)``, ``stepped(step, epoch, loss, s)``,
    ``first_step_started()``, ``applied(knobs)``; every one optional."""
    import torch
    _loop.set_threads()
    knobs = dict(cmd.get("knobs") or {})
    seed_all(int(cmd.get("seed") or 0))
    data_rng = _host_rng()
    device = rank_device(devices, rank, world)
    group = None
    if grouped:
        import torch.distributed as dist
        group = dist.group.WORLD
    ctx = Context(task=task, devices=list(devices), rank=rank, world=world, device=device, knobs=knobs, group=group,
                  torch_devices=[local_torch_device(d) for d in devices] if world == 1 else [device])
    _loop.reset_peak(device)
    ex = tech.prepare(ctx)
    applied = dict(getattr(ex, "applied_knobs", None) or knobs)
    optimizer = getattr(ex, "optimizer", None)
    scheduler = make_scheduler(task, optimizer) if optimizer is not None else None
    cursor = DataCursor(task, data_rng)
    step_no, loss = 0, None
    if checkpoint is None and cmd.get("checkpoint_path"):
        checkpoint = torch.load(cmd["checkpoint_path"], map_location="cpu", weights_only=False)
    if checkpoint is not None:
        ex.load_full_state({"model": checkpoint["model"], "optimizer": checkpoint.get("optimizer")})
        if scheduler is not None and checkpoint.get("scheduler"):
            scheduler.load_state_dict(checkpoint["scheduler"])
        cursor.restore(checkpoint.get("data"))
        step_no, loss = int(checkpoint.get("step", 0)), checkpoint.get("loss")
        per_rank = checkpoint.get("rng_ranks") or []
        restore_rng(per_rank[rank] if rank < len(per_rank) else checkpoint.get("rng"))
    if control is not None and hasattr(control, "applied"):
        control.applied(applied)

    def snapshot() -> Optional[dict]:
        state = ex.full_state()
        rngs = _gather_object(capture_rng(), rank, world)
        if rank != 0:
            return None
        return {"model": state["model"], "optimizer": state.get("optimizer"),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "rng": rngs[0], "rng_ranks": rngs, "data": cursor.state(), "loss": loss,
                "technique": tech.name, "gpus": len(devices), "knobs": knobs, "applied_knobs": applied,
                "global_batch": task.batch_size}

    total, start = int(cmd["total_steps"]), step_no
    flags = torch.zeros(2, dtype=torch.int64)
    times: list = []
    evaluator = Evaluator(task, getattr(ex, "eval_device", device), cmd.get("evaluate", "every"), total,
                          cmd.get("eval_at") or ())
    eval_times: list = []
    while step_no < total:
        stop, save = None, False
        if control is not None and hasattr(control, "decide"):
            stop, save = control.decide(step_no, start)
        if world > 1:
            import torch.distributed as dist
            flags[0], flags[1] = STOP_CODES.get(stop, 0) if stop else 0, int(bool(save))
            dist.broadcast(flags, src=0)
            stop, save = STOP_NAMES.get(int(flags[0])), bool(flags[1])
        if (save or stop in ("pause", "replan", "rung")) and step_no > start:
            snap = snapshot()
            if rank == 0 and control is not None:
                control.save(snap, step_no)
        if stop == "rung" and cmd.get("hold_at_rung") and step_no > start:
            # judged on its GPUs: rank 0 waits for the verdict (promoted: train on here, to the next rung)
            stop, next_rung = _hold_at_rung(control if rank == 0 else None, step_no, world)
            if next_rung:
                evaluator.at.add(next_rung)
        if stop:
            raise JobStopped(stop, step_no)
        if control is not None and step_no == start and hasattr(control, "first_step_started"):
            control.first_step_started()
        t0 = time.perf_counter()
        local = None
        for _ in range(1000):
            local = tech.local_batch(cursor.next(), ctx)
            if local is not None:
                break
        if local is None:
            raise RuntimeError(f"technique {tech.name} skipped 1000 batches in a row: none fits it")
        loss = ex.step(local)
        _loop.synchronize(device)
        seconds = time.perf_counter() - t0
        if scheduler is not None:
            scheduler.step()
        step_no += 1
        times.append(seconds)
        if control is not None and hasattr(control, "stepped"):
            control.stepped(step_no, cursor.epoch, loss, seconds)
        if evaluator.due(step_no):
            t_eval = time.perf_counter()
            state = ex.full_state()
            if rank == 0:
                metrics = evaluator.run(state["model"])
                eval_times.append(time.perf_counter() - t_eval)
                if control is not None and hasattr(control, "validated"):
                    control.validated(step_no, cursor.epoch, metrics, state["model"])
            del state
    final = None
    if cmd.get("final_state"):
        final = snapshot()
        if final is not None:
            final["step"] = step_no
    return {"steps": step_no, "loss": loss, "step_times": times, "peak_mem_bytes": _loop.peak_memory(device),
            "applied_knobs": applied, "state": final if rank == 0 else None, "executor": ex,
            "eval_times": eval_times}


def _hold_at_rung(control, step: int, world: int) -> tuple[Optional[str], Optional[int]]:
    """At a rung (checkpoint saved): rank 0's ``control.hold`` waits for early stopping's verdict with the job's GPUs
    held; every rank learns the outcome. (None, next rung or None): promoted, train on; (reason, None): stop so."""
    import torch
    go, reason, nxt = (control.hold(step) if control is not None and hasattr(control, "hold") else (False, "rung", None))
    if world > 1:
        import torch.distributed as dist
        flags = torch.tensor([int(go), STOP_CODES.get(reason or "rung", STOP_CODES["rung"]), int(nxt or 0)],
                             dtype=torch.int64)
        dist.broadcast(flags, src=0)
        go, reason, nxt = bool(flags[0]), STOP_NAMES.get(int(flags[1])), int(flags[2]) or None
    return (None, nxt) if go else (reason or "rung", None)


class Evaluator:
    """Validation on rank 0 (see the module docstring, point 4). ``mode``: ``every`` (each ``task.eval_steps`` and
    the end), ``end`` (the last step only: what a profiling trial times) or ``off``; with ``at`` also those steps
    (a job's next rung, where early stopping judges it)."""

    def __init__(self, task, device, mode: str, total: int, at=()):
        self.task, self.device, self.total = task, device, total
        self.on = getattr(task, "validate", None) is not None and mode != "off"
        self.every = task.eval_steps if self.on and mode == "every" else None
        self.at = set(int(s) for s in at) if self.on else set()  # e.g. the job's next rung
        self.model = None

    def due(self, step: int) -> bool:
        if not self.on:
            return False
        return step == self.total or step in self.at or (self.every is not None and step % self.every == 0)

    def run(self, model_state: dict) -> dict:
        from ..core.task import run_validate
        saved = capture_rng()  # building the model may seed the RNG (a model loader often does): restored after
        try:
            if self.model is None:
                self.model = self.task.build_model().to(self.device)
            self.model.load_state_dict(model_state)
            return run_validate(self.task, self.model)
        finally:
            restore_rng(saved)


def worker_main(job: dict) -> dict:
    """Ranks 1..world-1 (a Saturn child process): run what rank 0 sends until it says exit."""
    tech, task, devices, rank, world = job["technique"], job["task"], job["devices"], job["rank"], job["world"]
    _loop.set_threads()
    init_group(rank, world, job["port"], rank_device(devices, rank, world))
    import torch.distributed as dist
    runs = 0
    try:
        while True:
            cmd = _broadcast_object(None)
            if cmd.get("op") == "exit":
                return {"runs": runs}
            try:
                res = run_rank(tech, task, devices, rank, world, cmd, grouped=True)
                summary = {"peak_mem_bytes": res["peak_mem_bytes"], "steps": res["steps"]}
                del res
            except JobStopped as stop:
                summary = {"stopped": stop.reason}
            runs += 1
            _gather_object(summary, rank, world)
    finally:
        dist.destroy_process_group()


# -- rank 0's handle --------------------------------------------------------------------------------------------
class Session:
    """Rank 0 of ``technique.world(len(devices))`` processes; see the module docstring."""

    def __init__(self, tech, task, devices: list, rank_env: Optional[Callable[[int], dict]] = None,
                 on_workers: Optional[Callable[[list], None]] = None):
        self.tech, self.task, self.devices = tech, task, list(devices)
        self.world = max(1, int(tech.world(len(self.devices))))
        if self.world > len(self.devices):
            raise ValueError(f"technique {tech.name} wants {self.world} processes for {len(self.devices)} devices")
        self.grouped = self.world > 1 or bool(getattr(tech, "needs_process_group", False))
        self.rank_env = rank_env or (lambda rank: assignment_env(current_kind(), [self.devices[rank]]))
        self.on_workers = on_workers
        self.workers: list = []
        self.started = False

    def _start(self) -> None:
        port = _loop.free_port()
        from ..core.procs import Child
        for rank in range(1, self.world):
            job = {"technique": self.tech, "task": self.task, "devices": self.devices, "rank": rank,
                   "world": self.world, "port": port}
            self.workers.append(Child("saturn.techniques._driver:worker_main", job, env=self.rank_env(rank),
                                      new_session=False).start())
        if self.on_workers is not None and self.workers:
            self.on_workers([w.pid for w in self.workers])
        if self.grouped:
            try:
                init_group(0, self.world, port, rank_device(self.devices, 0, self.world))
            except BaseException:
                self._abort()
                raise
        self.started = True

    def run(self, knobs: dict, total_steps: int, *, control=None, checkpoint: Optional[dict] = None,
            checkpoint_path: Optional[str] = None, seed: int = 0, final_state: bool = False,
            evaluate: str = "off", eval_at=(), hold_at_rung: bool = False) -> dict:
        """Train every rank to ``total_steps`` (from the checkpoint's step when there is one). Returns rank 0's
        result: steps, loss, step_times, peak_mem_bytes (largest over ranks), applied_knobs, state (with
        ``final_state``: a checkpoint of the end, model and optimizer gathered), executor (rank 0's), eval_times
        (``evaluate``: ``every``, ``end`` or ``off``, and the steps ``eval_at``; see ``Evaluator``). ``hold_at_rung``:
        at a rung the job waits on its GPUs for early stopping's verdict (``control.hold``) instead of stopping."""
        if not self.started:
            self._start()
        cmd = {"op": "run", "knobs": dict(knobs or {}), "total_steps": int(total_steps), "seed": int(seed),
               "checkpoint_path": checkpoint_path if checkpoint is not None or checkpoint_path else None,
               "final_state": bool(final_state), "evaluate": evaluate, "eval_at": list(eval_at),
               "hold_at_rung": bool(hold_at_rung)}
        try:
            if self.world > 1:
                _broadcast_object(cmd)
            try:
                res = run_rank(self.tech, self.task, self.devices, 0, self.world, cmd, control=control,
                               checkpoint=checkpoint, grouped=self.grouped)
            except JobStopped:
                _gather_object(None, 0, self.world)
                raise
            summaries = _gather_object(None, 0, self.world)
        except JobStopped:
            raise
        except BaseException as err:
            failure = self._worker_failure()
            self._abort()
            if failure:
                raise RuntimeError(f"{self.tech.name}: {failure} (rank 0: {type(err).__name__}: {err})") from err
            raise
        peaks = [res["peak_mem_bytes"]] + [s.get("peak_mem_bytes", 0) for s in (summaries or [])[1:] if s]
        res["peak_mem_bytes"] = max(peaks)
        return res

    def _worker_failure(self, wait_s: float = 3.0) -> Optional[str]:
        """Why a worker failed, when one did (a collective on rank 0 fails once a peer process is gone)."""
        deadline = time.monotonic() + wait_s
        while self.workers:
            for rank, w in enumerate(self.workers, start=1):
                if w.done() and not w.result().ok:
                    res = w.result()
                    return f"rank {rank} failed: {res.describe()}" + (f"\n{res.traceback}" if res.traceback else "")
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        return None

    def _abort(self) -> None:
        for w in self.workers:
            w.kill()
        self.workers = []
        self._destroy()
        self.started = False

    def _destroy(self) -> None:
        if self.grouped:
            try:
                import torch.distributed as dist
                if dist.is_initialized():
                    dist.destroy_process_group()
            except Exception:  # noqa: BLE001 - a broken group is gone either way
                pass

    def close(self) -> None:
        if not self.started:
            return
        problem = None
        try:
            if self.world > 1:
                _broadcast_object({"op": "exit"})
            for rank, w in enumerate(self.workers, start=1):
                w.timeout = dist_timeout().total_seconds() + w.elapsed()
                res = w.wait()
                if not res.ok and problem is None:
                    problem = f"rank {rank} failed: {res.describe()}"
        finally:
            self._abort()
        if problem:
            raise RuntimeError(problem)

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None or exc_type is JobStopped:
            self.close()
        else:
            self._abort()


_active: list = []


@contextlib.contextmanager
def active(session: Session):
    """Within this block ``time_knobs`` for the session's technique and devices runs in ``session``."""
    _active.append(session)
    try:
        yield session
    finally:
        _active.remove(session)


def time_knobs(tech, task, devices: list, knobs: dict, steps: int) -> dict:
    for session in reversed(_active):
        if session.tech is tech and session.devices == list(devices):
            res = session.run(knobs, steps)
            res.pop("executor", None)
            return res
    with Session(tech, task, devices) as session:
        res = session.run(knobs, steps)
    res.pop("executor", None)
    return res


class _Callbacks:
    def __init__(self, on_step):
        self.on_step = on_step

    def stepped(self, step, epoch, loss, seconds):
        if self.on_step is not None:
            self.on_step(step - 1, loss, seconds)


def execute_with_driver(tech, task, devices, knobs, steps, checkpoint=None, on_step=None) -> ExecResult:
    """``Technique.execute`` of a technique with ``prepare``: ``steps`` more steps, from and to ``checkpoint``."""
    import torch
    ck = None
    if checkpoint and os.path.exists(checkpoint):
        ck = torch.load(checkpoint, map_location="cpu", weights_only=False)
    start = int(ck.get("step", 0)) if ck else 0
    with Session(tech, task, devices) as session:
        res = session.run(knobs, start + steps, control=_Callbacks(on_step), checkpoint=ck,
                          checkpoint_path=checkpoint if ck else None, final_state=bool(checkpoint))
    if checkpoint:
        from ..core.checkpoint import atomic_save
        atomic_save(res["state"], checkpoint)  # model, optimizer, scheduler, RNG, data position, step
    return ExecResult(steps=steps, step_times=res["step_times"], peak_mem_bytes=res["peak_mem_bytes"],
                      last_loss=res["loss"], knobs=res["applied_knobs"])
