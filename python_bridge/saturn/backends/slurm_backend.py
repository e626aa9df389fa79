"""The SLURM backend: a job trains in a SLURM job on its planned node (``slurm_runner``), profiling runs as ``srun``
steps on one node per kind (``slurm_profile``), the nodes come from ``scontrol`` (``slurm``)."""
from __future__ import annotations

from typing import Optional

from ..core.store import Store
from . import Backend, slurm


class SlurmBackend(Backend):
    name = "slurm"

    def run_job(self, job_id: str, store: Store, *, raise_errors: bool = True) -> dict:
        from .slurm_runner import run_on_slurm
        return run_on_slurm(job_id, store, raise_errors=raise_errors)

    def alive(self, jobs: list[dict]) -> dict[str, bool]:
        """A SLURM job that is listed and not final counts as alive (one ``squeue`` for all); when SLURM cannot
        answer, every such job counts as alive, so that none is started a second time."""
        ids = {j["id"]: str((j["info"].get("slurm") or {}).get("job_id") or "") for j in jobs}
        asked = {jid: sid for jid, sid in ids.items()
                 if sid and not (next(j for j in jobs if j["id"] == jid)["info"].get("slurm") or {}).get("ended_at")}
        if not asked:
            return {jid: False for jid in ids}
        try:
            live = slurm.live_jobs(asked.values())
        except slurm.SlurmError:
            live = set(asked.values())
        return {jid: jid in asked and asked[jid] in live for jid in ids}

    def node_states(self) -> Optional[list[dict]]:
        return slurm.node_states()

    def describe(self, options: Optional[dict] = None) -> dict:
        nodes = [n.to_dict() for n in slurm.nodes(slurm.settings(options)["partition"])]
        return {"devices": [], "backend": "slurm", "nodes": nodes}

    def profiler(self, store: Store, options: Optional[dict] = None, **profiler_options):
        from .slurm_profile import SlurmProfiler
        return SlurmProfiler(store=store, options=options, **profiler_options)
