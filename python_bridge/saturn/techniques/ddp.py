"""DDP: every device holds the whole model and trains on its share of the global batch (gloo on CPU, NCCL on GPU)."""
from __future__ import annotations

from ..devices import current_kind, local_torch_device
from ._dist import DataParallelTechnique, estimated_training_bytes
from ._loop import free_device_memory
from .base import Infeasible


class DDP(DataParallelTechnique):
    name = "ddp"
    description = "PyTorch DistributedDataParallel: full replica per device, gradients all-reduced"

    def search(self, task, devices):
        world = len(devices)
        if task.batch_size < world:
            return Infeasible(f"the global batch size {task.batch_size} cannot be split over {world} devices")
        need = estimated_training_bytes(task.param_count, task.optimizer)
        if current_kind() == "cuda" and need:
            free = free_device_memory(local_torch_device(devices[0]))
            if free is not None and need > free:
                return Infeasible(f"out of memory (estimated): weights, gradients and optimizer state need "
                                  f"{need / 2**30:.1f} GiB per device, {free / 2**30:.1f} GiB free")
        return {"backend": "nccl" if current_kind() == "cuda" else "gloo",
                "per_device_batch": task.batch_size // world, "bucket_cap_mb": 25}

    def wrap(self, model, device, knobs):
        from torch.nn.parallel import DistributedDataParallel
        model = model.to(device)
        return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None,
                                       bucket_cap_mb=knobs.get("bucket_cap_mb", 25))
