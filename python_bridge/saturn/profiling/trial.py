"""One profiling trial, run inside a Saturn child process: search, then warm up and time real steps.

A trial times at least ``measure`` steps after ``warmup`` and, when those take less than ``measure_s`` seconds, runs
again for as many steps as fill that time (never more than the task trains): on a CPU device a step can take a
millisecond, and three of them say little about the thousands a job runs (one scheduler hiccup is a third of the
figure). With enough steps the runtime estimate is their mean (a job's runtime is the sum of its steps, hiccups
included); with a handful it is their median.

The steps run through the same driver as a job (``saturn.techniques._driver``): the technique's ``prepare`` and
executor, its processes, its knobs. ``search`` runs in the same session, so timing experiments reuse the trial's
processes. A technique that only implements the older ``execute`` is timed by that ``execute``.
"""
from __future__ import annotations

import math
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
    measure_s = float(job.get("measure_s") or 0.0)
    cap = min(int(task.total_steps or 0) or MAX_EXTRA_STEPS, MAX_EXTRA_STEPS)
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
        more = _more_times(times, warmup, measure_s, cap,
                           lambda n: technique.execute(task, devices, dict(knobs), n).step_times)
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
            more = _more_times(res["step_times"], warmup, measure_s, cap,
                               lambda n: session.run(dict(knobs), n)["step_times"])
        times, peak, loss, applied = res["step_times"], res["peak_mem_bytes"], res["loss"], res["applied_knobs"]
        eval_times = res["eval_times"]
    measured = _measured(times, warmup) + more
    if not measured:
        raise RuntimeError(f"technique {technique.name} ran no steps")
    spawned = job.get("spawned_at")
    process_s = max(0.0, entered - float(spawned)) if spawned else 0.0
    setup_s = max(0.0, run_wall - sum(times) - sum(eval_times))
    step_time = statistics.fmean(measured) if len(measured) >= MEAN_FROM_STEPS else statistics.median(measured)
    return {"feasible": True, "knobs": knobs, "applied_knobs": applied, "step_time_s": step_time,
            "timed_steps": len(measured), "timed_s": round(sum(measured), 4),
            "step_times": measured[:MAX_KEPT_TIMES], "peak_mem_bytes": int(peak or 0), "last_loss": loss,
            "search_s": search_s,
            "startup_s": round(process_s + session_s + setup_s, 4),
            **({"eval_s": round(statistics.median(eval_times), 6)} if eval_times else {}),
            "startup": {"process_s": round(process_s, 4), "processes_s": round(session_s, 4),
                        "setup_s": round(setup_s, 4)}}


#: At least this many measured steps: the estimate is their mean, else their median.
MEAN_FROM_STEPS = 20
#: A second run measures at most this many steps (fewer when the task trains fewer).
MAX_EXTRA_STEPS = 20000
#: Step times kept in the result (the cache and the wire carry it).
MAX_KEPT_TIMES = 50
#: At most this many runs after the first to fill the measuring time.
MORE_RUNS = 4


def _measured(times, warmup: int) -> list:
    """The step times after the warm-up (all of them when there are no more)."""
    return list(times[warmup:]) or list(times)


def _more_times(times, warmup: int, measure_s: float, cap: int, run) -> list:
    """Step times of more runs, ``run(steps)`` (each one's warm-up dropped), until the measured steps fill
    ``measure_s`` seconds or ``cap`` more steps were timed (at most ``MORE_RUNS`` runs); none when the first run's
    measured steps already fill it. A run's length is estimated from the median step so far, so a run of steps
    faster than that leaves a remainder for the next."""
    first = _measured(times, warmup)
    more: list = []
    for _ in range(MORE_RUNS):
        have, left = sum(first) + sum(more), cap - len(more)
        if not first or measure_s <= 0 or have >= measure_s or left <= 0:
            break
        n = min(left, math.ceil((measure_s - have) / max(statistics.median(first + more), 1e-6)))
        more += list(run(warmup + n)[warmup:])
    return more
