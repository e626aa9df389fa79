"""Profiling on a SLURM cluster: one node of each distinct kind, reused for its twins.

Nodes of one kind (``slurm.Node.kind``: GPU type, CPUs, memory, features) give the same step times, so each kind is
profiled once, on its node with the most GPUs (that covers every GPU count of the kind). Each trial runs as a SLURM
step (``srun -w NODE --gres=gpu:K``) of the trial child, so SLURM accounts for it and nothing else is placed on its
GPUs meanwhile. Profiles are cached per device type as on one machine, so a second profile is instant.

The instance's cluster is every usable node with GPUs. The SPASE format has one runtime per option for all nodes: when
the cluster has several kinds, an option is kept if every kind that has enough GPUs found it feasible, with the
slowest kind's runtime (a safe estimate); the kinds and their representatives are listed under ``saturn.slurm``.
"""
from __future__ import annotations

import threading
import uuid
from typing import Optional

from . import slurm
from ..core.devices import Device, fake_gpu_count
from ..profiling.profiler import ProfileError, Profiler
from ..execution.runner import saturn_dir
from ..core.store import Store, default_store


def _devices_of(node: slurm.Node) -> list[Device]:
    fake = fake_gpu_count() > 0  # declared CPU "GPUs" (environment or Settings): the nodes' devices are CPUs
    kind = "cpu" if fake else "cuda"
    name = f"CPU device on {node.id}" if fake else (node.gpu_type or "GPU")
    return [Device(id=i, kind=kind, name=name, memory_total_bytes=0) for i in range(node.gpus)]


class SlurmProfiler:
    """``Profiler``'s interface (``run_id``, ``cancel``, ``progress``, ``plan``, ``run``) over a SLURM cluster."""

    def __init__(self, store: Optional[Store] = None, options: Optional[dict] = None, **profiler_options):
        self.store = store or default_store()
        self.slurm_options = options or {}
        self.profiler_options = profiler_options
        self.run_id = uuid.uuid4().hex[:12]
        self.cancel = threading.Event()
        self.progress = None
        self._kinds: Optional[list] = None

    def _discover(self) -> list:
        slurm.ping()
        conf = slurm.settings(self.slurm_options)
        all_nodes = slurm.nodes(conf["partition"])
        usable = [n for n in all_nodes if n.usable and n.gpus > 0]
        if not usable:
            states = ", ".join(f"{n.id}: {n.state}, {n.gpus} GPU(s)" for n in all_nodes) or "none"
            raise ProfileError(f"no usable SLURM node with GPU GRES to profile on (nodes: {states}); check "
                               f"`sinfo -N` and the partition setting ({conf['partition'] or 'default'})")
        kinds: dict[str, list[slurm.Node]] = {}
        for n in usable:
            kinds.setdefault(n.kind, []).append(n)
        self._usable = usable
        return [(kind, max(members, key=lambda n: (n.gpus, n.state.startswith("idle"))), members)
                for kind, members in kinds.items()]

    def _profiler(self, rep: slurm.Node) -> Profiler:
        def launcher(trial, node=rep):
            return slurm.srun_prefix(node.id, trial.gpus, "saturn-profile", self.slurm_options)
        prof = Profiler(store=self.store, devices=_devices_of(rep), launcher=launcher, node_id=rep.id,
                        child_tmp=str(saturn_dir(self.store) / "tmp"), run_id=self.run_id, cancel=self.cancel,
                        progress=self.progress, announce_finish=False, **self.profiler_options)
        return prof

    def plan(self, names=None):
        """Fails now (SLURM absent, no usable node, unknown task) rather than in the profiling thread."""
        self._kinds = self._discover()
        return self._profiler(self._kinds[0][1]).plan(names)

    def run(self, names=None) -> dict:
        kinds = self._kinds or self._discover()
        results = [(kind, rep, members, self._profiler(rep).run(names)) for kind, rep, members in kinds]
        instance = _merge(results, self._usable)
        # what the panel and the CLI read: the whole cluster's instance, not one kind's
        self._profiler(kinds[0][1]).announce(instance)
        return instance


def _merge(results: list, usable: list) -> dict:
    base = dict(results[0][3])
    base["cluster"] = {"nodes": [{"id": n.id, "gpus": n.gpus} for n in usable]}
    kinds_info = [{"kind": kind, "profiled_on": rep.id, "gpus": rep.gpus, "nodes": [m.id for m in members]}
                  for kind, rep, members, _ in results]
    if len(results) > 1:
        by_job: dict[str, list[dict]] = {}
        for _, rep, _, inst in results:
            for job in inst["jobs"]:
                by_job.setdefault(job["id"], []).append({"rep": rep, "job": job})
        jobs = []
        for jid, seen in by_job.items():
            options = []
            keys = {}
            for s in seen:
                for o in s["job"]["options"]:
                    keys.setdefault((o["parallelism"], o["gpus"]), o)
            for opt in keys.values():
                same = []
                for s in seen:
                    if opt["gpus"] > s["rep"].gpus:
                        continue  # that kind cannot run it at all: it does not veto
                    match = [o for o in s["job"]["options"]
                             if o["parallelism"] == opt["parallelism"] and o["gpus"] == opt["gpus"]]
                    same.append(match[0] if match else None)
                if same and all(same):
                    options.append(max(same, key=lambda o: o["runtime_s"]))
            jobs.append({**seen[0]["job"], "options": options})
        base["jobs"] = [j for j in jobs if j["options"]]
        base["unschedulable"] = [j for j in jobs if not j["options"]] + list(base.get("unschedulable") or [])
    base["saturn"] = {**base.get("saturn", {}), "backend": "slurm", "slurm": {"kinds": kinds_info}}
    return base
