"""Data parallelism over processes: one process per device (rank 0 is the caller, ranks 1..k-1 are child
processes started by the driver), each training on its shard of every global batch. DDP and FSDP differ in how they
wrap the model (``prepare``)."""
from __future__ import annotations

from typing import Optional

from ._driver import dist_timeout  # noqa: F401 - kept importable from here
from .base import Infeasible, Technique


class DataParallelTechnique(Technique):
    """One process per device; the driver hands each rank ``tensor_split(batch, world)[rank]``."""

    def world(self, k: int) -> int:
        return k

    @staticmethod
    def split_problem(task, world: int) -> Optional[Infeasible]:
        if task.batch_size < world:
            return Infeasible(f"the global batch size {task.batch_size} cannot be split over {world} devices")
        return None


def estimated_training_bytes(param_count: Optional[int], optimizer: Optional[str]) -> Optional[int]:
    """Weights + gradients (+ Adam's two moments), fp32; activations not included."""
    if not param_count:
        return None
    per_param = 16 if isinstance(optimizer, str) and optimizer.lower().startswith("adam") else 12
    return param_count * per_param
