"""The technique (parallelism) interface. Built-ins and user techniques implement exactly this.

A technique owns its training step, and the very same step runs when Saturn profiles it (``saturn.profiling.trial``) and when
a job trains with it (``saturn.runner``). Both go through one driver (``saturn.techniques._driver``): it starts
``world(k)`` processes (this one is rank 0, ranks 1.. are Saturn child processes pinned to their device), sets up
the process group, calls ``prepare`` on every rank, feeds every rank its part of each global batch, broadcasts
rank 0's stop/checkpoint decisions, and gathers checkpoints through ``full_state``.

What a technique provides:

- ``search(task, devices) -> dict | Infeasible``: the knobs to run ``task`` on ``devices`` (a list of Saturn device
  ids), or why it cannot. May time candidate knobs with ``self.time_knobs(task, devices, knobs, steps)``, which runs
  them through the same driver (FSDP and the pipeline do).
- ``world(k) -> int``: processes needed for ``k`` devices (default 1: one process that sees every device; DDP,
  FSDP and the pipeline use ``k``, one per device).
- ``prepare(ctx) -> executor``, called on every rank. ``ctx`` (a ``Context``) has ``task``, ``devices`` (all
  device ids), ``rank``, ``world``, ``device`` (this rank's torch.device), ``torch_devices`` (every device as a
  torch.device, for a one-process technique over several devices), ``knobs``, ``group`` (the initialised default
  process group when ``world > 1`` or ``needs_process_group``, else None). Build the model (every rank's global RNG
  is seeded alike beforehand, so ``task.build_model()`` gives the same weights everywhere), wrap it, make the
  optimizer. The executor has:

  - ``step(batch) -> float``: one training step on this rank's batch (see ``local_batch``); rank 0 must return the
    global batch's loss (other ranks may return anything);
  - ``full_state() -> dict``: ``{"model": state_dict, "optimizer": state}``, both complete on rank 0 (a collective:
    every rank calls it; ranks other than 0 may return None). Model keys are those of ``task.build_model()``; the
    optimizer state is keyed by parameter name (``_loop.named_optimizer_state``) so that a checkpoint does not
    depend on how a technique splits the model;
  - ``load_full_state(state)``: the reverse, called on every rank with the whole state;
  - ``module``: the model on this rank, usable for evaluation; optionally ``optimizer`` (then the task's LR
    scheduler runs on it and is checkpointed) and ``applied_knobs`` (the knobs as actually applied; recorded by the
    trial and the job, default ``ctx.knobs``).
- ``local_batch(batch, ctx)``: this rank's part of a global batch (default: its shard of every tensor along dim 0
  when ``world > 1``, the whole batch otherwise); ``None`` skips the batch on every rank (the pipeline drops an
  epoch's short last batch: its shapes are static).

``min_gpus`` / ``max_gpus`` let the profiler rule out GPU counts without starting a process. Bump ``version`` when
a change should invalidate cached profiles.

Older user techniques that implement only ``execute(task, devices, knobs, steps, checkpoint=None, on_step=None) ->
ExecResult`` still work: the trial times that ``execute`` and the runner trains with it (``on_step(step, loss,
seconds)`` after each step; ``checkpoint``: a file to resume from and to save to), in one process. For a technique
with ``prepare``, ``execute`` runs ``steps`` steps through the driver.
"""
from __future__ import annotations

from typing import Callable, Optional, Union

from .types import Context, ExecResult, Infeasible  # noqa: F401 - part of the interface

Knobs = dict
StepCallback = Callable[[int, float, float], None]


class Technique:
    name: str = ""
    description: str = ""
    version: int = 1
    min_gpus: int = 1
    max_gpus: Optional[int] = None
    #: True: the driver sets up a process group even for a world of one process (FSDP on one device)
    needs_process_group: bool = False

    def gpu_count_problem(self, gpus: int) -> Optional[str]:
        if gpus < self.min_gpus:
            return f"{self.name} needs at least {self.min_gpus} devices"
        if self.max_gpus is not None and gpus > self.max_gpus:
            return f"{self.name} runs on at most {self.max_gpus} device" + ("s" if self.max_gpus > 1 else "")
        return None

    def search(self, task, devices: list[int]) -> Union[Knobs, Infeasible]:
        raise NotImplementedError

    def world(self, k: int) -> int:
        return 1

    def prepare(self, ctx: Context):
        raise NotImplementedError(f"technique {self.name!r} implements neither prepare(ctx) nor execute(...)")

    def local_batch(self, batch, ctx: Context):
        from ._loop import shard
        return shard(batch, ctx.rank, ctx.world)

    def time_knobs(self, task, devices: list[int], knobs: Knobs, steps: int) -> dict:
        """Train ``steps`` steps with ``knobs`` through the driver (the trial's own processes when called from a
        trial); returns the driver's result (``step_times``, ``peak_mem_bytes``, ``last_loss``, ``applied_knobs``)."""
        from ._driver import time_knobs
        return time_knobs(self, task, devices, knobs, steps)

    def execute(self, task, devices: list[int], knobs: Knobs, steps: int, checkpoint: Optional[str] = None,
                on_step: Optional[StepCallback] = None) -> ExecResult:
        from ._driver import execute_with_driver
        return execute_with_driver(self, task, devices, knobs, steps, checkpoint, on_step)

    def __repr__(self) -> str:
        return f"<technique {self.name}>"


def is_legacy(tech) -> bool:
    """A technique that implements only the old ``execute`` (no ``prepare``)."""
    cls = type(tech)
    return getattr(cls, "prepare", None) is Technique.prepare and getattr(cls, "execute", None) is not \
        Technique.execute
