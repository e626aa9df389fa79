"""One profiling trial, run inside a Saturn child process: search, then warm up and time a few real steps.

The steps run through the same driver as a job (``saturn.techniques._driver``): the technique's ``prepare`` and
executor, its processes, its knobs. ``search`` runs in the same session, so timing experiments reuse the trial's
processes. A technique that only implements the older ``execute`` is timed by that ``execute``.
"""
from __future__ import annotations

import statistics
import time

from ..core.task import Task
from ..techniques.base import Infeasible, is_legacy


def run_trial(job: dict) -> dict:
    """``job``: task record (spec, payload), technique (an instance), devices, warmup, measure, and ``spawned_at``
    (wall clock when the parent started this process).

    Besides the step time, a trial measures the option's start-up cost, what a job pays before its first step:
    this process's start and imports (``spawned_at`` to here), starting the technique's processes and process group,
    and preparing the run (model build, wrapping, data loader, first batch) - the run's wall time less its steps."""
    entered = time.time()
    from ..techniques import _driver, _loop
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
        t_run = time.perf_counter()
        result = technique.execute(task, devices, dict(knobs), warmup + measure)
        run_wall = time.perf_counter() - t_run
        session_s = 0.0
        times, peak, loss, applied = result.step_times, result.peak_mem_bytes, result.last_loss, dict(knobs)
        eval_times = []
    else:
        with _driver.Session(technique, task, devices) as session, _driver.active(session):
            t_session = time.perf_counter()
            if not session.started:
                session._start()  # the technique's processes and process group, as a job starts them
            session_s = time.perf_counter() - t_session
            knobs = technique.search(task, devices)
            search_s = time.perf_counter() - t0 - session_s
            if isinstance(knobs, Infeasible):
                return {"feasible": False, "reason": knobs.reason, "cause": "search", "search_s": search_s}
            t_run = time.perf_counter()
            res = session.run(dict(knobs), warmup + measure, evaluate="end")  # one validation, timed
            run_wall = time.perf_counter() - t_run
        times, peak, loss, applied = res["step_times"], res["peak_mem_bytes"], res["loss"], res["applied_knobs"]
        eval_times = res["eval_times"]
    measured = list(times[warmup:]) or list(times)
    if not measured:
        raise RuntimeError(f"technique {technique.name} ran no steps")
    spawned = job.get("spawned_at")
    process_s = max(0.0, entered - float(spawned)) if spawned else 0.0
    setup_s = max(0.0, run_wall - sum(times) - sum(eval_times))
    return {"feasible": True, "knobs": knobs, "applied_knobs": applied, "step_time_s": statistics.median(measured),
            "step_times": measured, "peak_mem_bytes": int(peak or 0), "last_loss": loss, "search_s": search_s,
            "startup_s": round(process_s + session_s + setup_s, 4),
            **({"eval_s": round(statistics.median(eval_times), 6)} if eval_times else {}),
            "startup": {"process_s": round(process_s, 4), "processes_s": round(session_s, 4),
                        "setup_s": round(setup_s, 4)}}
