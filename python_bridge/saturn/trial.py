"""One profiling trial, run inside a Saturn child process: search, then warm up and time a few real steps."""
from __future__ import annotations

import statistics
import time

from .task import Task
from .techniques.base import Infeasible


def run_trial(job: dict) -> dict:
    """``job``: task record (spec, payload), technique (an instance), devices, warmup, measure."""
    from .techniques import _loop
    _loop.set_threads()
    task = Task.from_record(job["spec"], job["payload"])
    technique = job["technique"]
    devices = list(job["devices"])
    t0 = time.perf_counter()
    knobs = technique.search(task, devices)
    search_s = time.perf_counter() - t0
    if isinstance(knobs, Infeasible):
        return {"feasible": False, "reason": knobs.reason, "cause": "search", "search_s": search_s}
    warmup, measure = int(job["warmup"]), int(job["measure"])
    result = technique.execute(task, devices, dict(knobs), warmup + measure)
    measured = list(result.step_times[warmup:]) or list(result.step_times)
    if not measured:
        raise RuntimeError(f"technique {technique.name} ran no steps")
    return {"feasible": True, "knobs": knobs, "step_time_s": statistics.median(measured),
            "step_times": measured, "peak_mem_bytes": int(result.peak_mem_bytes or 0),
            "last_loss": result.last_loss, "search_s": search_s}
