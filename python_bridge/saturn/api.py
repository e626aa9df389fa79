"""What a notebook (or a script) calls: register tasks, list them, profile them. No IPython in here."""
from __future__ import annotations

import os
from typing import Optional

from .display import TaskList
from .procs import run_child
from .store import Store, default_store
from .task import Task, TaskError

VERIFY_TIMEOUT_S = float(os.environ.get("SATURN_VERIFY_TIMEOUT", "180"))


def register(task: Task, *, store: Optional[Store] = None, timeout: Optional[float] = None) -> Task:
    """Check in a fresh process that ``task`` can be rebuilt (callables load, model builds, one batch, the loss
    runs), then save it. Raises ``TaskError`` naming the task and the cause. Re-registering a name replaces it."""
    if not isinstance(task, Task):
        raise TaskError(f"saturn.register expects a saturn.Task, got {type(task).__name__}")
    payload = task.payload()
    record = {"spec": task.spec(), "payload": payload}
    res = run_child("saturn.task:verify_in_child", record, timeout=timeout or VERIFY_TIMEOUT_S,
                    env={"CUDA_VISIBLE_DEVICES": "", "SATURN_TORCH_THREADS": "1"})
    if not res.ok:
        hint = ""
        if "No module named" in res.message or "Can't get attribute" in res.message:
            hint = (" (a function it uses is not importable in a fresh process: define it in the notebook, or make "
                    "its module importable)")
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
    ``spase-instance/1`` document. Options: see ``saturn.profiler.Profiler`` (warmup, measure, trial_timeout,
    max_parallel, use_cache, techniques, progress, cancel)."""
    from .profiler import Profiler
    return Profiler(**options).run(names)
