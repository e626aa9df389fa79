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
        asked = {}  # job id -> its SLURM job id, for the jobs whose SLURM job has not been seen to end
        for j in jobs:
            sj = j["info"].get("slurm") or {}
            if sj.get("job_id") and not sj.get("ended_at"):
                asked[j["id"]] = str(sj["job_id"])
        live: set = set()
        if asked:
            try:
                live = slurm.live_jobs(asked.values())
            except slurm.SlurmError:
                live = set(asked.values())
        return {j["id"]: asked.get(j["id"]) in live for j in jobs}

    def node_states(self) -> Optional[list[dict]]:
        return slurm.node_states()

    def describe(self, options: Optional[dict] = None) -> dict:
        nodes = [n.to_dict() for n in slurm.nodes(slurm.settings(options)["partition"])]
        return {"devices": [], "backend": "slurm", "nodes": nodes}

    def profiler(self, store: Store, options: Optional[dict] = None, **profiler_options):
        from .slurm_profile import SlurmProfiler
        return SlurmProfiler(store=store, options=options, **profiler_options)
