"""Early stopping's judgement at rungs (SHA and ASHA), for the autopilot: the run goes on without a dispatcher.

The same rule exists in TypeScript (``src/executor/rungs.ts``: ``judge``, ``decideRungs``), which the page's and the
CLI's run loop apply; this copy is what the autopilot applies when no dispatcher is there. Shared cases bind the two
(``schema/conformance/rungs/*.json``: job records, the run's early-stopping configuration and the expected verdicts)
that pytest and jest both run.

``judge(jobs, cfg) -> {"promote": [{"job", "rung"}...], "stop": [...]}`` over a run's job records:

- a job waits at a rung when it paused there (``at_rung``) or waits there on its devices (``holding_at``);
- the jobs that reported at rung r (the metric's value there) are ranked (``mode`` min or max; a missing or non-finite
  value is worst; ties by job id);
- ASHA promotes a waiting job as soon as it is in the top n // eta of the n jobs that reported at r so far; SHA only
  once the rung is complete (no unsettled job can still report there);
- at a complete rung the top max(1, n // eta) go on and every other job waiting there stops early.

``verdict_actions(jobs, cfg)`` says what the verdicts do to the jobs (the twin of ``verdictActions`` in rungs.ts,
bound by ``schema/conformance/verdicts/*.json``): ``promote`` (with the next rung from ``info.rung_steps``, None: to
its end), ``stop_early`` for a job judged out while paused at its rung, and ``pause`` for a job waiting on its devices
at its rung, not promoted and not yet asked, that was judged out or whose devices work not under way is placed on.
"""
from __future__ import annotations

import math
from typing import Optional

from .rules import ACTIVE, at_rung, promoted_at, settled, shares_gpus


def holding_at(job: dict) -> Optional[int]:
    """The rung a running job waits at on its devices for the verdict (``info.holding``), else None. A job promoted at
    that rung is not waiting (its runner trains on)."""
    info = job["info"]
    step = (info.get("holding") or {}).get("step") if job["state"] in ACTIVE else None
    if not isinstance(step, (int, float)) or isinstance(step, bool):
        return None
    return None if promoted_at(job, step) else int(step)


def rung_jobs(jobs: list[dict], metric: str) -> list[dict]:
    """The judge's view of each job record: id, settled, the rung it waits at (or None), its values at its rungs."""
    out = []
    for j in jobs:
        info = j["info"]
        reports = {}
        for step, metrics in (info.get("rung_reports") or {}).items():
            v = (metrics or {}).get(metric)
            reports[int(step)] = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan
        waiting = int(info["stopped"]["step"]) if at_rung(j) else holding_at(j)
        out.append({"id": j["id"], "settled": settled(j), "waiting_at": waiting, "reports": reports})
    return out


def _rank(jobs: list[dict], rung: int, mode: str) -> list[str]:
    def score(j: dict) -> float:
        v = j["reports"][rung]
        return (v if mode == "min" else -v) if math.isfinite(v) else math.inf

    return [j["id"] for j in sorted((j for j in jobs if rung in j["reports"]), key=lambda j: (score(j), j["id"]))]


def decide_rungs(jobs: list[dict], cfg: dict) -> dict:
    """The verdicts over ``rung_jobs``: promotions and stops, rungs lowest first, each rung's jobs in rank order."""
    eta = float(cfg["eta"])
    if not eta > 1:
        raise ValueError(f"the reduction factor eta must be greater than 1, got {cfg['eta']}")
    out: dict = {"promote": [], "stop": []}
    for rung in sorted({j["waiting_at"] for j in jobs if j["waiting_at"] is not None}):
        ranked = _rank(jobs, rung, cfg["mode"])
        complete = all(j["settled"] or rung in j["reports"] for j in jobs)
        k = int(len(ranked) // eta)
        if complete:
            k = max(1, k)
        top = set() if cfg["kind"] == "sha" and not complete else set(ranked[:k])
        where = {jid: i for i, jid in enumerate(ranked)}
        for j in sorted((x for x in jobs if x["waiting_at"] == rung), key=lambda x: where.get(x["id"], -1)):
            if j["id"] in top:
                out["promote"].append({"job": j["id"], "rung": rung})
            elif complete:
                out["stop"].append({"job": j["id"], "rung": rung})
    return out


def judge(jobs: list[dict], cfg: dict) -> dict:
    return decide_rungs(rung_jobs(jobs, cfg["metric"]), cfg)


def next_rung(steps: list, step: int) -> Optional[int]:
    """The rung after ``step`` among a job's rung steps (``info.rung_steps``); None: it runs to its end."""
    return next((int(s) for s in sorted(steps or []) if int(s) > step), None)


def verdict_actions(jobs: list[dict], cfg: dict) -> list[dict]:
    """The judgement as actions: the promotions, the early stops of jobs paused at their rung, then the pauses."""
    verdicts = judge(jobs, cfg)
    by_id = {j["id"]: j for j in jobs}
    promoted = {p["job"] for p in verdicts["promote"]}
    out = [{"kind": "promote", "job": p["job"], "rung": p["rung"],
            "rung_at": next_rung(by_id[p["job"]]["info"].get("rung_steps") or [], p["rung"])}
           for p in verdicts["promote"]]
    judged_out = set()
    for v in verdicts["stop"]:
        if holding_at(by_id[v["job"]]) is not None:
            judged_out.add(v["job"])  # it waits on its devices: it pauses first, and is stopped by the next judgement
        else:
            out.append({"kind": "stop_early", "job": v["job"], "rung": v["rung"]})
    for j in jobs:
        if (holding_at(j) is not None and j["id"] not in promoted and not j["info"].get("stop")
                and (j["id"] in judged_out or _devices_wanted(jobs, j))):
            out.append({"kind": "pause", "job": j["id"]})
    return out


def _devices_wanted(jobs: list[dict], job: dict) -> bool:
    """Whether work not under way (not started, or to resume) is placed on any device of ``job``."""
    return any(o["id"] != job["id"] and o["state"] not in ACTIVE and not settled(o) and not at_rung(o)
               and shares_gpus(o["info"].get("next_assignment") or o["info"].get("assignment"),
                               job["info"].get("assignment"))
               for o in jobs)
