"""What a notebook (or a script) calls: register tasks, list them, profile them. No IPython in here."""
from __future__ import annotations

import os
from typing import Optional

from .display import TaskList
from ..core.procs import run_child
from ..core.store import Store, default_store
from ..core.task import Task, TaskError

VERIFY_TIMEOUT_S = float(os.environ.get("SATURN_VERIFY_TIMEOUT", "180"))


def register(task: Task, *, store: Optional[Store] = None, timeout: Optional[float] = None,
             verified: Optional[dict] = None) -> Task:
    """Check in a fresh process that ``task`` can be rebuilt (callables load, model builds, one batch, the loss and
    ``validate`` run), then save it. Raises ``TaskError`` naming the task and the cause. Re-registering a name
    replaces it. (``verified``: the check's result for a task that differs only in its learning rate, from ``grid``.)"""
    if not isinstance(task, Task):
        raise TaskError(f"saturn.register expects a saturn.Task, got {type(task).__name__}")
    payload = task.payload()
    record = {"spec": task.spec(), "payload": payload}
    if verified is not None:
        info = verified
    else:
        res = run_child("saturn.core.task:verify_in_child", record, timeout=timeout or VERIFY_TIMEOUT_S,
                        env={"CUDA_VISIBLE_DEVICES": "", "SATURN_TORCH_THREADS": "1"})
        if not res.ok:
            hint = ""
            if "No module named" in res.message or "Can't get attribute" in res.message:
                hint = (" (a function it uses is not importable in a fresh process: define it in the notebook, or "
                        "make its module importable)")
            raise TaskError(f"task {task.name!r} cannot be rebuilt in a fresh process: {res.describe()}{hint}")
        info = res.value
    task.signature, task.param_count = info["signature"], info["param_count"]
    if task.steps is None and not task.steps_per_epoch:
        if not info["steps_per_epoch"]:
            raise TaskError(f"task {task.name!r}: epochs= needs the steps per epoch; the data loader has no len(), "
                            "so pass steps= or hints={'steps_per_epoch': n}")
        task.steps_per_epoch = int(info["steps_per_epoch"])
    (store or default_store()).put_task(task.name, task.spec(), payload, task.signature)
    return task


GRID_NOT_AXES = ("gpu_range", "hints", "hparams")


def grid(prefix: str, *, store: Optional[Store] = None, timeout: Optional[float] = None, **task_args) -> list[Task]:
    """Register the cartesian product of every ``Task`` argument given as a list (an axis), e.g.
    ``saturn.grid("mlp", model=make_mlp, data=data, steps=300, lr=[1e-3, 1e-2], batch_size=[16, 32])``: four tasks
    named ``mlp-lr0.001-bs16`` … , each recording its axes as its hyper-parameters. ``gpu_range``, ``hints`` and
    ``hparams`` are never axes. Tasks that differ only in what does not change the model or the data (such as the
    learning rate) are checked once in a fresh process, and profiled once (they share their measurements)."""
    import itertools
    if not isinstance(prefix, str) or not prefix.strip():
        raise TaskError(f"saturn.grid needs a name prefix, got {prefix!r}")
    axes = {k: v for k, v in task_args.items() if isinstance(v, list) and k not in GRID_NOT_AXES}
    for k, v in axes.items():
        if not v:
            raise TaskError(f"saturn.grid({prefix!r}): axis {k}= is an empty list")
    fixed = {k: v for k, v in task_args.items() if k not in axes}
    combos = list(itertools.product(*axes.values())) if axes else [()]
    tasks_ = []
    for combo in combos:
        values = dict(zip(axes, combo))
        name = "-".join([prefix] + [f"{_short(k)}{_label(v)}" for k, v in values.items()])
        hp = {k: (_label(v) if callable(v) else v) for k, v in values.items()}
        tasks_.append(Task(name, **fixed, **values, hparams=hp or None))
    names = [t.name for t in tasks_]
    if len(set(names)) != len(names):
        raise TaskError(f"saturn.grid({prefix!r}) gives tasks with the same name: {sorted(names)}")
    checked: dict = {}
    for t in tasks_:
        # the learning rate and the optimizer do not change what a fresh process can rebuild: check once
        same = tuple(id(getattr(t, f)) for f in ("model", "data", "loss", "validate")) + (t.batch_size,
                                                                                          repr(t.hints))
        register(t, store=store, timeout=timeout, verified=checked.get(same))
        checked[same] = {"signature": t.signature, "param_count": t.param_count,
                         "steps_per_epoch": t.steps_per_epoch}
    return tasks_


_SHORT = {"batch_size": "bs", "epochs": "ep", "steps": "steps", "optimizer": "opt", "model": "", "data": "data"}


def _short(axis: str) -> str:
    return _SHORT.get(axis, axis)


def _label(value) -> str:
    if callable(value):
        return getattr(value, "__name__", type(value).__name__)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def tasks(*, store: Optional[Store] = None) -> TaskList:
    """The registered tasks (their specs), newest last; a table in a notebook."""
    return TaskList([row["spec"] for row in (store or default_store()).list_tasks()])


def get_task(name: str, *, store: Optional[Store] = None) -> Task:
    """The registered task ``name``, rebuilt in this process (its callables loaded)."""
    row = (store or default_store()).get_task(name)
    if row is None:
        raise KeyError(f"no registered task named {name!r}")
    return Task.from_record(row["spec"], row["payload"])


def unregister(name: str, *, store: Optional[Store] = None) -> bool:
    return (store or default_store()).delete_task(name)


def profile(names=None, **options) -> dict:
    """Profile the registered tasks ``names`` (all when None) on this machine's devices; returns a
    ``spase-instance/1`` document. Options: see ``saturn.profiling.profiler.Profiler`` (warmup, measure, measure_s,
    trial_timeout, max_parallel, use_cache, techniques, progress, cancel)."""
    from ..profiling.profiler import Profiler
    return Profiler(**options).run(names)
