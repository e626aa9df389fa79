"""What a run gives back: one row per task, each job's history, the best task, the trained model.

``results(run_id=None)`` reads the latest run (the newest job records) unless ``run_id`` names one:

- ``task``, the task's hyper-parameters (one column each: ``saturn.grid``'s axes, else ``lr`` and ``batch_size``),
  ``state`` (``stopped_early`` for a job early stopping judged out), ``parallelism``, ``gpus``, ``runtime_s`` (its
  training time, every segment counted), ``loss`` (the last training loss);
- for each validation metric ``m``: ``m`` (its last value) and ``best_m`` (its best value; smaller is better for
  names with "loss" or "err" in them, else larger, unless the task's ``keep_best_mode`` says otherwise).

A pandas ``DataFrame`` when pandas is installed, else a ``ResultRows`` list of dicts that shows as a table.
``best(metric, mode)`` is the row of the best task by ``best_<metric>``; ``history(task)`` the job's points (train loss
every so often, every validation); ``load_model(task, which="final"|"best")`` the trained ``torch.nn.Module``.
The bridge's ``results`` and ``history`` requests serve the same data to the Results view.
"""
from __future__ import annotations

from typing import Optional

from ..core.jobs import JobStore
from ..core.store import Store, default_store
from ..core.task import Task, metric_mode
from ..execution.runner import weights_path
from .display import Table

ROW_FIELDS = ("task", "state", "parallelism", "gpus", "runtime_s", "loss")


class ResultRows(list):
    """Rows (dicts) that show as a table in a notebook when pandas is not there."""

    def __init__(self, rows, columns: list[str], title: str = "Saturn results"):
        super().__init__(rows)
        self.columns, self.title = columns, title

    def table(self) -> Table:
        return Table(self.title, self.columns, [[r.get(c) for c in self.columns] for r in self],
                     empty="no finished run yet")

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()

    def __repr__(self) -> str:
        return repr(self.table())


def latest_run(store: Store) -> Optional[str]:
    jobs = JobStore(store).list()
    if not jobs:
        return None
    return max(jobs, key=lambda j: (j.get("created_at") or 0, j["id"]))["info"].get("run_id")


RUN_FIRST = "run the tasks first (Optimize & Run)"


def _task_spec(store: Store, name: str) -> dict:
    row = store.get_task(name)
    return row["spec"] if row else {}


def summary(store: Optional[Store] = None, run_id: Optional[str] = None) -> dict:
    """The data behind ``results``: ``{"run_id", "metrics", "hparams", "rows"}``, each row with ``metrics`` (last
    values), ``best`` (best values), ``modes`` (min/max per metric) and ``job``; JSON as the bridge sends it."""
    store = store or default_store()
    run_id = run_id or latest_run(store)
    if run_id is None:
        return {"run_id": None, "metrics": [], "hparams": [], "rows": []}
    jobs = JobStore(store).list(run_id)
    points = store.metrics(run_id=run_id)
    by_job: dict[str, list] = {}
    for p in points:
        by_job.setdefault(p["job"], []).append(p)
    rows, specs, metric_names, hp_names = [], [], [], []
    for job in jobs:
        info, spec = job["info"], _task_spec(store, job["task"])
        specs.append(spec)
        a = info.get("assignment") or {}
        hparams = spec.get("hparams") or {"lr": spec.get("lr"), "batch_size": spec.get("batch_size")}
        last, best, modes, loss = {}, {}, {}, info.get("final_loss")
        for p in sorted(by_job.get(job["id"], []), key=lambda p: (p["step"], p["point"])):
            if p["kind"] == "train":
                loss = p["metrics"].get("loss", loss)
                continue
            for name, value in p["metrics"].items():
                mode = spec.get("keep_best_mode") if name == spec.get("keep_best") else None
                mode = modes.setdefault(name, mode or metric_mode(name))
                last[name] = value
                if name not in best or (value < best[name] if mode == "min" else value > best[name]):
                    best[name] = value
        for name in last:
            if name not in metric_names:
                metric_names.append(name)
        for name in hparams:
            if name not in hp_names:
                hp_names.append(name)
        first, end = info.get("first_step_at"), info.get("finished_at")
        trained = info.get("train_s")  # every segment of a job that was resumed or promoted
        if trained is None and isinstance(first, (int, float)) and isinstance(end, (int, float)):
            trained = end - first
        rows.append({"task": job["task"], "job": job["id"], "hparams": hparams, "state": job["state"],
                     "parallelism": a.get("parallelism"), "gpus": a.get("gpus"), "node": a.get("node"),
                     "runtime_s": round(trained, 3) if trained is not None else None,
                     "stopped_early": info.get("stopped_early"), "promotions": info.get("promotions") or [],
                     "loss": loss, "metrics": last, "best": best, "modes": modes,
                     "best_weights": bool((info.get("best") or {}).get("path"))})
    # a column another task has (a grid's axes; lr and batch_size of a plain task): a task that did not record it as a
    # hyper-parameter shows its own setting when it has one (a grid over lr still trains with its batch_size)
    for row, spec in zip(rows, specs):
        for name in hp_names:
            value = spec.get(name)
            if name not in row["hparams"] and isinstance(value, (int, float, str)) and not isinstance(value, bool):
                row["hparams"] = {**row["hparams"], name: value}
    return {"run_id": run_id, "metrics": metric_names, "hparams": hp_names, "rows": rows}


def flat(s: dict) -> tuple[list[dict], list[str]]:
    columns = ["task", *s["hparams"], "state", "parallelism", "gpus", "runtime_s", "loss"]
    for m in s["metrics"]:
        columns += [m, f"best_{m}"]
    out = []
    for r in s["rows"]:
        row = {"task": r["task"], **{h: r["hparams"].get(h) for h in s["hparams"]},
               **{k: r[k] for k in ROW_FIELDS if k != "task"}}
        for m in s["metrics"]:
            row[m], row[f"best_{m}"] = r["metrics"].get(m), r["best"].get(m)
        out.append(row)
    return out, columns


def _frame(rows: list[dict], columns: list[str], title: str):
    try:
        import pandas
    except ImportError:
        return ResultRows(rows, columns, title)
    return pandas.DataFrame(rows, columns=columns)


def results(run_id: Optional[str] = None, *, store: Optional[Store] = None):
    """One row per task of the latest run (or ``run_id``); see the module docstring."""
    rows, columns = flat(summary(store, run_id))
    return _frame(rows, columns, "Saturn results")


def best(metric: str, mode: Optional[str] = None, *, run_id: Optional[str] = None, store: Optional[Store] = None):
    """The row of the task with the best ``best_<metric>`` (``mode``: ``min`` or ``max``; by default min for a
    name with "loss" or "err" in it, else max). Raises ``KeyError`` when no task reported ``metric``."""
    mode = mode or metric_mode(metric)
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    s = summary(store, run_id)
    rows, _ = flat(s)
    scored = [r for r in rows if r.get(f"best_{metric}") is not None]
    if not scored:
        known = ", ".join(s["metrics"]) or "none (give the tasks validate=...)"
        if s["run_id"] is None:
            raise KeyError(f"no run yet, so no task reported {metric!r}: {RUN_FIRST}")
        raise KeyError(f"no task of run {s['run_id']} reported {metric!r}; validation metrics: {known}")
    pick = (min if mode == "min" else max)(scored, key=lambda r: r[f"best_{metric}"])
    try:
        import pandas
        return pandas.Series(pick, name=pick["task"])
    except ImportError:
        return pick


def history(task: str, *, run_id: Optional[str] = None, store: Optional[Store] = None):
    """The history of ``task``'s job in the latest run (or ``run_id``): one row per point, ``step``, ``epoch``,
    ``kind`` (train or val) and a column per metric."""
    store = store or default_store()
    job = _job_of(store, task, run_id)
    rows, columns = [], ["step", "epoch", "kind"]
    for p in store.metrics(job=job["id"]):
        rows.append({"step": p["step"], "epoch": p["epoch"], "kind": p["kind"], **p["metrics"]})
        columns += [k for k in p["metrics"] if k not in columns]
    return _frame(rows, columns, f"history of {task}")


def load_model(task: str, which: str = "final", *, run_id: Optional[str] = None, store: Optional[Store] = None):
    """The trained ``torch.nn.Module`` of ``task`` in the latest run (or ``run_id``): ``which="final"`` the weights of
    the run's end, ``"best"`` those of its best validation (kept when the task has ``keep_best``). On the CPU."""
    import torch
    if which not in ("final", "best"):
        raise ValueError(f"which must be 'final' or 'best', got {which!r}")
    store = store or default_store()
    job = _job_of(store, task, run_id)
    path = weights_path(store, job["id"], which)
    if not path.exists():
        if which == "best":
            raise FileNotFoundError(f"task {task!r} kept no best weights: give it validate= and keep_best='<metric>'")
        raise FileNotFoundError(f"task {task!r} has no trained weights yet (its job is {job['state']})")
    row = store.get_task(task)
    if row is None:
        raise KeyError(f"task {task!r} is not registered any more: its model cannot be rebuilt")
    model = Task.from_record(row["spec"], row["payload"]).build_model()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


def _job_of(store: Store, task: str, run_id: Optional[str]) -> dict:
    run_id = run_id or latest_run(store)
    jobs = [j for j in JobStore(store).list(run_id) if j["task"] == task] if run_id else []
    if not jobs:
        if run_id is None:
            raise KeyError(f"task {task!r} has no job: no run yet, {RUN_FIRST}")
        raise KeyError(f"task {task!r} has no job in run {run_id}")
    return jobs[-1]
