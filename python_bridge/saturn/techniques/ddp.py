"""DDP: every device holds the whole model and trains on its share of the global batch (gloo on CPU, NCCL on GPU)."""
from __future__ import annotations

from ..core.devices import current_kind, local_torch_device
from ._dist import DataParallelTechnique, estimated_training_bytes
from ._loop import StandardExecutor, free_device_memory
from .base import Infeasible


class DDP(DataParallelTechnique):
    name = "ddp"
    description = "PyTorch DistributedDataParallel: full replica per device, gradients all-reduced"
    version = 2

    def search(self, task, devices):
        world = len(devices)
        problem = self.split_problem(task, world)
        if problem:
            return problem
        need = estimated_training_bytes(task.param_count, task.optimizer)
        if current_kind() == "cuda" and need:
            free = free_device_memory(local_torch_device(devices[0]))
            if free is not None and need > free:
                return Infeasible(f"out of memory (estimated): weights, gradients and optimizer state need "
                                  f"{need / 2**30:.1f} GiB per device, {free / 2**30:.1f} GiB free")
        backend = None if world == 1 else ("nccl" if current_kind() == "cuda" else "gloo")
        return {"backend": backend, "per_device_batch": task.batch_size // world, "bucket_cap_mb": 25}

    def prepare(self, ctx):
        import torch.distributed as dist
        from torch.nn.parallel import DistributedDataParallel
        task, device = ctx.task, ctx.device
        problem = self.split_problem(task, ctx.world)
        if problem:
            raise ValueError(problem.reason)
        model = task.build_model().to(device)
        bucket = ctx.knobs.get("bucket_cap_mb", 25)
        module = model
        if ctx.world > 1:
            module = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None,
                                             bucket_cap_mb=bucket)
        applied = {"backend": dist.get_backend() if ctx.world > 1 else None,
                   "per_device_batch": task.batch_size // ctx.world, "bucket_cap_mb": bucket}
        return StandardExecutor(task, model, task.make_optimizer(module.parameters()), device, module=module,
                                applied_knobs=applied)
