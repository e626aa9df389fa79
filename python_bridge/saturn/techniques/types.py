"""The plain data of the technique interface (``base``): why a technique cannot run, what a run returns, and what a
rank's ``prepare`` gets. Kept apart so that the driver and the interface can both use them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass
class Infeasible:
    reason: str

    def __bool__(self) -> bool:  # `if knobs:` reads naturally
        return False


@dataclass
class ExecResult:
    steps: int
    step_times: list = field(default_factory=list)
    peak_mem_bytes: int = 0
    last_loss: Optional[float] = None
    knobs: dict = field(default_factory=dict)


@dataclass
class Context:
    task: Any
    devices: list
    rank: int
    world: int
    device: Any
    knobs: dict
    group: Any = None
    torch_devices: list = field(default_factory=list)

    @property
    def is_first(self) -> bool:
        return self.rank == 0

    @property
    def is_last(self) -> bool:
        return self.rank == self.world - 1
