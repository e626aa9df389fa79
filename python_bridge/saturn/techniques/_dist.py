"""Data parallelism over processes: the calling process is rank 0, ranks 1..k-1 are child processes pinned to
their device by environment. DDP and FSDP only differ in how they wrap the model (``wrap``)."""
from __future__ import annotations

import datetime
import os
from typing import Optional

from ..devices import assignment_env, current_kind, local_torch_device
from ..procs import Child
from . import _loop
from .base import ExecResult, Technique


def dist_timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=float(os.environ.get("SATURN_DIST_TIMEOUT", "120")))


class DataParallelTechnique(Technique):
    """Subclasses implement ``wrap(model, device, knobs)`` (and ``search``)."""

    def wrap(self, model, device, knobs: dict):
        raise NotImplementedError

    def state_for_checkpoint(self, wrapped):
        return getattr(wrapped, "module", wrapped)

    def execute(self, task, devices, knobs, steps, checkpoint=None, on_step=None) -> ExecResult:
        world = len(devices)
        if task.batch_size < world:
            raise ValueError(f"the global batch size {task.batch_size} cannot be split over {world} devices")
        model = task.build_model()  # fail here, before any worker starts
        port = _loop.free_port()
        kind = current_kind()
        workers = []
        for rank in range(1, world):
            job = {"technique": self, "task": task, "devices": list(devices), "rank": rank, "port": port,
                   "knobs": knobs, "steps": steps, "checkpoint": checkpoint}
            workers.append(Child("saturn.techniques._dist:worker_main", job, env=assignment_env(kind, [devices[rank]]),
                                 new_session=False).start())
        try:
            result = self.run_rank(task, model, list(devices), 0, port, knobs, steps, checkpoint, on_step)
        except BaseException as err:
            failed = [w for w in workers if w.done() and not w.result().ok]
            for w in workers:
                w.kill()
            if failed:
                raise RuntimeError(f"worker rank failed: {failed[0].result().describe()} (rank 0: {err})") from err
            raise
        peaks = [result.peak_mem_bytes]
        for rank, w in enumerate(workers, start=1):
            w.timeout = dist_timeout().total_seconds()
            res = w.wait()
            if not res.ok:
                raise RuntimeError(f"rank {rank} failed: {res.describe()}")
            peaks.append(res.value.get("peak_mem_bytes", 0))
        result.peak_mem_bytes = max(peaks)
        return result

    def run_rank(self, task, model, devices, rank, port, knobs, steps, checkpoint, on_step) -> ExecResult:
        import torch
        import torch.distributed as dist
        _loop.set_threads()
        world = len(devices)
        device = local_torch_device(devices[rank])
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                                init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                                timeout=dist_timeout())
        try:
            _loop.reset_peak(device)
            start = _loop.load_checkpoint(checkpoint, model)
            wrapped = self.wrap(model, device, knobs)
            optimizer = task.make_optimizer(wrapped.parameters())
            batches = (_loop.shard(b, rank, world) for b in task.batches())
            step = _loop.standard_step(task, wrapped, optimizer, batches, device)
            times, loss = _loop.timed_steps(steps, step, device, on_step if rank == 0 else None)
            if checkpoint:
                state = self.state_for_checkpoint(wrapped).state_dict()  # a collective for FSDP: every rank
                if rank == 0:
                    _loop.save_state(checkpoint, state, None, start + steps)
                dist.barrier()
            return ExecResult(steps=steps, step_times=times, peak_mem_bytes=_loop.peak_memory(device),
                              last_loss=loss, knobs=dict(knobs))
        finally:
            dist.destroy_process_group()


def worker_main(job: dict) -> dict:
    """Entry point of ranks 1..k-1 (a Saturn child process)."""
    tech, task = job["technique"], job["task"]
    model = task.build_model()
    res = tech.run_rank(task, model, job["devices"], job["rank"], job["port"], job["knobs"], job["steps"],
                        job["checkpoint"], None)
    return {"peak_mem_bytes": res.peak_mem_bytes, "steps": res.steps}


def estimated_training_bytes(param_count: Optional[int], optimizer: Optional[str]) -> Optional[int]:
    """Weights + gradients (+ Adam's two moments), fp32; activations not included."""
    if not param_count:
        return None
    per_param = 16 if isinstance(optimizer, str) and optimizer.lower().startswith("adam") else 12
    return param_count * per_param
