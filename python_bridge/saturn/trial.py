"""One profiling trial, run inside a Saturn child process: search, then warm up and time a few real steps.

The steps run through the same driver as a job (``saturn.techniques._driver``): the technique's ``prepare`` and
executor, its processes, its knobs. ``search`` runs in the same session, so timing experiments reuse the trial's
processes. A technique that only implements the older ``execute`` is timed by that ``execute``.
"""
from __future__ import annotations

import statistics
import time

from .task import Task
from .techniques.base import Infeasible, is_legacy


def run_trial(job: dict) -> dict:
    """``job``: task record (spec, payload), technique (an instance), devices, warmup, measure."""
    from .techniques import _driver, _loop
    _loop.set_threads()
    task = Task.from_record(job["spec"], job["payload"])
    technique = job["technique"]
    devices = list(job["devices"])
    warmup, measure = int(job["warmup"]), int(job["measure"])
    t0 = time.perf_counter()
    if is_legacy(technique):
        knobs = technique.search(task, devices)
        search_s = time.perf_counter() - t0
        if isinstance(knobs, Infeasible):
            return {"feasible": False, "reason": knobs.reason, "cause": "search", "search_s": search_s}
        result = technique.execute(task, devices, dict(knobs), warmup + measure)
        times, peak, loss, applied = result.step_times, result.peak_mem_bytes, result.last_loss, dict(knobs)
    else:
        with _driver.Session(technique, task, devices) as session, _driver.active(session):
            knobs = technique.search(task, devices)
            search_s = time.perf_counter() - t0
            if isinstance(knobs, Infeasible):
                return {"feasible": False, "reason": knobs.reason, "cause": "search", "search_s": search_s}
            res = session.run(dict(knobs), warmup + measure)
        times, peak, loss, applied = res["step_times"], res["peak_mem_bytes"], res["loss"], res["applied_knobs"]
    measured = list(times[warmup:]) or list(times)
    if not measured:
        raise RuntimeError(f"technique {technique.name} ran no steps")
    return {"feasible": True, "knobs": knobs, "applied_knobs": applied, "step_time_s": statistics.median(measured),
            "step_times": measured, "peak_mem_bytes": int(peak or 0), "last_loss": loss, "search_s": search_s}
