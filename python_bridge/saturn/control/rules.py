"""The dispatch rules as one pure step: a snapshot of the run and the dispatcher's own view in, actions out.

The same rules exist once more in TypeScript (``src/executor/rules.ts``), which the page's and the CLI's dispatcher
apply; this copy is what the autopilot applies when no dispatcher is there. The two are bound by shared cases
(``schema/conformance/dispatch/*.json``: a snapshot, a view and the expected actions) that pytest and jest both run.

``decide(snapshot, view, options) -> {"actions": [...], "dead_ticks": {...}}``, jobs taken in plan order (``order``,
then id), each job at most one decision:

- a running job whose runner is gone (``alive`` false) for ``dead_grace_ticks`` snapshots in a row -> ``fail``;
- a finished job (done, cancelled, stopped early) whose runner this dispatcher launched and has not released -> ``release``;
- a failed job: given up -> nothing; ``retries >= max_retries`` -> ``give_up`` (and, at the end, ``replan``);
  otherwise, when it may start (below) and the run is not paused -> ``retry`` (failed -> waiting, launched);
- paused: nothing else starts;
- pending, when it may start -> ``start`` (pending -> waiting, launched);
- preempted: its ``next_assignment`` (from a re-plan) first -> ``reassign``; when it may start -> ``resume``
  (preempted -> resumed, launched); not while it waits at a rung for early stopping's judgement (``stopped.reason``
  ``rung``: the run loop promotes it or stops it early);
- a preempted job the view names in ``placing`` (promoted in this step, a re-plan is about to place it) is not
  resumed, but it keeps its place: later jobs on its GPUs wait;
- waiting/resumed (launched, not claimed yet) whose runner is not running, ``relaunch_backoff_s`` after its last
  launch, when it may start -> ``relaunch``;
- jobs left on an unusable node -> ``replan`` (they cannot go on where they are).

A job may start when its node is usable, no lease on its GPUs is held by another job that is still running (a lease
of a job that is over is stale), and no other job on those GPUs is running, launched (by this dispatcher, or during
this step) or earlier in plan order and not settled (a job waiting at its rung does not hold later jobs back).
"""
from __future__ import annotations

from typing import Optional

from ..core.jobs import ACTIVE_STATES as ACTIVE
from ..core.jobs import FINAL_STATES as FINAL

LAUNCHED = ("waiting", "resumed")
DEFAULTS = {"max_retries": 2, "dead_grace_ticks": 2, "relaunch_backoff_s": 2.0}


def settled(job: dict) -> bool:
    return job["state"] in FINAL or (job["state"] == "failed" and bool(job["info"].get("given_up")))


def at_rung(job: dict) -> bool:
    """Paused at its rung, waiting for early stopping's judgement: it holds no GPU and holds back no later job. A job
    promoted at that rung is not (it may have paused there just as the promotion came, while it waited on its GPUs)."""
    info = job["info"]
    stopped = info.get("stopped") or {}
    if job["state"] != "preempted" or stopped.get("reason") != "rung":
        return False
    return not promoted_at(job, stopped.get("step"))


def promoted_at(job: dict, step) -> bool:
    """Early stopping promoted the job at rung ``step``."""
    return any((p or {}).get("rung") == step for p in job["info"].get("promotions") or [])


def node_of(a: Optional[dict]) -> str:
    return str((a or {}).get("node") or "node0")


def _ids(a: Optional[dict]) -> set:
    """The GPU ids of an assignment (none for a missing one)."""
    return {int(i) for i in (a or {}).get("gpu_ids") or []}


def shares_gpus(a: Optional[dict], b: Optional[dict]) -> bool:
    """Two assignments use a GPU in common: same node, a GPU id in both (``sharesGpus`` in rules.ts)."""
    return node_of(a) == node_of(b) and bool(_ids(a) & _ids(b))


def _order(job: dict) -> float:
    return job["info"].get("order") or 0


def unusable_nodes(snapshot: dict) -> set:
    return {n["id"] for n in snapshot.get("nodes") or [] if not n.get("usable", True)}


def decide(snapshot: dict, view: Optional[dict] = None, options: Optional[dict] = None) -> dict:
    view = view or {}
    opts = {**DEFAULTS, **(options or {})}
    now = float(snapshot["now"])
    launches = view.get("launches") or {}
    released = set(view.get("released") or [])
    paused = bool(view.get("paused"))
    dead_in = view.get("dead_ticks") or {}
    placing = set(view.get("placing") or [])
    lost = unusable_nodes(snapshot)
    # copies: a decision changes what later jobs of the same step see (a reassignment, a give-up, a launch)
    jobs = sorted(({**j, "info": dict(j["info"])} for j in snapshot["jobs"]), key=lambda j: (_order(j), j["id"]))
    over = {j["id"] for j in jobs if j["state"] not in ACTIVE}
    claimed: set = set()
    actions: list = []
    dead_out: dict = {}
    given_up: list = []

    def status(job_id: str) -> str:
        return (launches.get(job_id) or {}).get("status") or "unknown"

    def can_start(job: dict) -> bool:
        mine = job["info"].get("assignment")
        ids, node = _ids(mine), node_of(mine)
        if node in lost:
            return False
        for lease in snapshot.get("leases") or []:
            if (lease["holder"] != job["id"] and lease["holder"] not in over and node_of(lease) == node
                    and int(lease["device"]) in ids):
                return False
        for other in jobs:
            # a job a re-plan moves (its next assignment) holds back later jobs on the GPUs it moves to as well
            here = shares_gpus(other["info"].get("assignment"), mine)
            if other["id"] == job["id"] or not (here or shares_gpus(other["info"].get("next_assignment"), mine)):
                continue
            launched = other["state"] in ACTIVE or (other["state"] in LAUNCHED and (
                other["id"] in claimed or status(other["id"]) == "running"))
            if here and (launched or other["id"] in claimed):
                return False
            if _order(other) < _order(job) and not settled(other) and not at_rung(other):
                return False
        return True

    def launch(kind: str, job: dict, **extra) -> None:
        claimed.add(job["id"])
        actions.append({"kind": kind, "job": job["id"], **extra})

    for job in jobs:
        jid, state, info = job["id"], job["state"], job["info"]
        if state in ACTIVE:
            if job.get("alive") is False:
                n = int(dead_in.get(jid) or 0) + 1
                if n >= opts["dead_grace_ticks"]:
                    actions.append({"kind": "fail", "job": jid, "error": "its runner died (kernel died or process "
                                    f"killed): process {info.get('pid') or '?'} is gone"})
                else:
                    dead_out[jid] = n
            continue
        if state in FINAL:
            if jid not in released and status(jid) != "unknown":
                actions.append({"kind": "release", "job": jid})
            continue
        if state == "failed":
            if info.get("given_up"):
                continue
            retries = int(info.get("retries") or 0)
            if retries >= opts["max_retries"]:
                info["given_up"] = True
                given_up.append(jid)
                actions.append({"kind": "give_up", "job": jid, "error": info.get("error") or ""})
            elif not paused and can_start(job):
                launch("retry", job, retries=retries + 1)
            continue
        if paused:
            continue
        if state == "pending":
            if can_start(job):
                launch("start", job)
        elif state == "preempted":
            if info.get("next_assignment"):
                info["assignment"] = info["next_assignment"]
                actions.append({"kind": "reassign", "job": jid, "assignment": info["next_assignment"]})
            if not at_rung(job) and jid not in placing and can_start(job):
                launch("resume", job)
        elif state in LAUNCHED:
            since = max(float((launches.get(jid) or {}).get("at") or -1e18), float(info.get("launched_at") or -1e18))
            if status(jid) != "running" and now - since >= opts["relaunch_backoff_s"] and can_start(job):
                launch("relaunch", job)
    if given_up:
        actions.append({"kind": "replan", "cause": "given_up", "jobs": given_up})
    stranded = [j["id"] for j in jobs if not settled(j) and (node_of(j["info"].get("next_assignment")
                                                                      or j["info"].get("assignment")) in lost)]
    if stranded:
        actions.append({"kind": "replan", "cause": "lost_node", "jobs": stranded})
    return {"actions": actions, "dead_ticks": dead_out}
