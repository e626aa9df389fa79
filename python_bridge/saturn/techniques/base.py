"""The technique (parallelism) interface. Built-ins and user techniques implement exactly this.

- ``search(task, devices) -> dict | Infeasible``: the knobs to run ``task`` on ``devices`` (a list of Saturn device
  ids), or why it cannot. May run short experiments (FSDP times its knob combinations).
- ``execute(task, devices, knobs, steps, checkpoint=None, on_step=None) -> ExecResult``: train for ``steps`` steps
  for real; ``on_step(step, loss, seconds)`` after each one. ``checkpoint``: a file to resume from and save to.

``min_gpus`` / ``max_gpus`` let the profiler rule out GPU counts without starting a process. Bump ``version`` when
a change should invalidate cached profiles.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Union

Knobs = dict
StepCallback = Callable[[int, float, float], None]


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


class Technique:
    name: str = ""
    description: str = ""
    version: int = 1
    min_gpus: int = 1
    max_gpus: Optional[int] = None

    def gpu_count_problem(self, gpus: int) -> Optional[str]:
        if gpus < self.min_gpus:
            return f"{self.name} needs at least {self.min_gpus} devices"
        if self.max_gpus is not None and gpus > self.max_gpus:
            return f"{self.name} runs on at most {self.max_gpus} device" + ("s" if self.max_gpus > 1 else "")
        return None

    def search(self, task, devices: list[int]) -> Union[Knobs, Infeasible]:
        raise NotImplementedError

    def execute(self, task, devices: list[int], knobs: Knobs, steps: int, checkpoint: Optional[str] = None,
                on_step: Optional[StepCallback] = None) -> ExecResult:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<technique {self.name}>"
