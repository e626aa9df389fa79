"""SPASE documents (``docs/spase-format.md``): checks that name the offending field, e.g.
``jobs[3].options[1].gpus: must be a positive integer``."""
from __future__ import annotations

import math
from typing import Any

INSTANCE_FORMAT = "spase-instance/1"
PLAN_FORMAT = "spase-plan/1"


def _pos_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _pos_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0


def validate_instance(doc: Any) -> list[str]:
    errors: list[str] = []
    if not isinstance(doc, dict):
        return ["instance: must be an object"]
    if doc.get("format") != INSTANCE_FORMAT:
        errors.append(f"format: must be {INSTANCE_FORMAT!r}")
    if not isinstance(doc.get("name"), str) or not doc.get("name"):
        errors.append("name: must be a non-empty string")
    nodes = (doc.get("cluster") or {}).get("nodes") if isinstance(doc.get("cluster"), dict) else None
    if not isinstance(nodes, list) or not nodes:
        errors.append("cluster.nodes: must be a non-empty list")
        nodes = []
    node_ids = set()
    for i, node in enumerate(nodes):
        if not isinstance(node, dict):
            errors.append(f"cluster.nodes[{i}]: must be an object")
            continue
        if not isinstance(node.get("id"), str) or not node.get("id"):
            errors.append(f"cluster.nodes[{i}].id: must be a non-empty string")
        elif node["id"] in node_ids:
            errors.append(f"cluster.nodes[{i}].id: duplicate node id {node['id']!r}")
        node_ids.add(node.get("id"))
        if not _pos_int(node.get("gpus")):
            errors.append(f"cluster.nodes[{i}].gpus: must be a positive integer")
    jobs = doc.get("jobs")
    if not isinstance(jobs, list):
        return errors + ["jobs: must be a list"]
    job_ids = set()
    for j, job in enumerate(jobs):
        if not isinstance(job, dict):
            errors.append(f"jobs[{j}]: must be an object")
            continue
        if not isinstance(job.get("id"), str) or not job.get("id"):
            errors.append(f"jobs[{j}].id: must be a non-empty string")
        elif job["id"] in job_ids:
            errors.append(f"jobs[{j}].id: duplicate job id {job['id']!r}")
        job_ids.add(job.get("id"))
        options = job.get("options")
        if not isinstance(options, list) or not options:
            errors.append(f"jobs[{j}].options: must be a non-empty list")
            continue
        for o, opt in enumerate(options):
            where = f"jobs[{j}].options[{o}]"
            if not isinstance(opt, dict):
                errors.append(f"{where}: must be an object")
                continue
            if not isinstance(opt.get("parallelism"), str) or not opt.get("parallelism"):
                errors.append(f"{where}.parallelism: must be a non-empty string")
            if not _pos_int(opt.get("gpus")):
                errors.append(f"{where}.gpus: must be a positive integer")
            if not _pos_num(opt.get("runtime_s")):
                errors.append(f"{where}.runtime_s: must be a positive number")
    return errors


def validate_plan(plan: Any, instance: dict) -> list[str]:
    errors: list[str] = []
    if not isinstance(plan, dict):
        return ["plan: must be an object"]
    if plan.get("format") != PLAN_FORMAT:
        errors.append(f"format: must be {PLAN_FORMAT!r}")
    nodes = {n["id"]: n["gpus"] for n in instance["cluster"]["nodes"]}
    options = {job["id"]: {(o["parallelism"], o["gpus"]): o["runtime_s"] for o in job["options"]}
               for job in instance["jobs"]}
    seen, busy, latest = set(), [], 0.0
    for i, entry in enumerate(plan.get("jobs") or []):
        where = f"jobs[{i}]"
        jid = entry.get("id")
        if jid not in options:
            errors.append(f"{where}.id: unknown job {jid!r}")
            continue
        if jid in seen:
            errors.append(f"{where}.id: job {jid!r} appears twice")
        seen.add(jid)
        key = (entry.get("parallelism"), entry.get("gpus"))
        if key not in options[jid]:
            errors.append(f"{where}: ({key[0]}, {key[1]}) is not an option of {jid!r}")
            continue
        if entry.get("node") not in nodes:
            errors.append(f"{where}.node: unknown node {entry.get('node')!r}")
            continue
        ids = entry.get("gpu_ids") or []
        if len(set(ids)) != key[1] or len(ids) != key[1] or any(
                not isinstance(g, int) or g < 0 or g >= nodes[entry["node"]] for g in ids):
            errors.append(f"{where}.gpu_ids: must be {key[1]} distinct integers in [0, {nodes[entry['node']]})")
        start, end = entry.get("start_s"), entry.get("end_s")
        if not isinstance(start, (int, float)) or not isinstance(end, (int, float)):
            errors.append(f"{where}.start_s/end_s: must be numbers")
            continue
        if abs((end - start) - options[jid][key]) > 1e-6 * max(1.0, options[jid][key]):
            errors.append(f"{where}.end_s: end_s - start_s must equal the option's runtime {options[jid][key]}")
        for other in busy:
            if other[0] == entry["node"] and set(ids) & other[1] and start < other[3] and other[2] < end:
                errors.append(f"{where}: overlaps {other[4]!r} on node {entry['node']!r}")
        busy.append((entry["node"], set(ids), start, end, jid))
        latest = max(latest, end)
    for jid in options:
        if jid not in seen:
            errors.append(f"jobs: job {jid!r} is missing")
    if isinstance(plan.get("makespan_s"), (int, float)) and abs(plan["makespan_s"] - latest) > 1e-6 * max(1, latest):
        errors.append(f"makespan_s: must be the latest end_s ({latest})")
    return errors
