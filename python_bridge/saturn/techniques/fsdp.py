"""FSDP: parameters, gradients and optimizer state sharded over the devices.

Knobs: ``activation_checkpointing`` and ``cpu_offload``. ``search`` times every combination for a few steps and keeps
the fastest that runs (not the first). Availability is detected by importing FSDP, never from the version number:
torch 1.13 under Python 3.11 fails that import, and the reason is reported.
"""
from __future__ import annotations

import functools
import itertools

from ._dist import DataParallelTechnique
from .base import Infeasible

SEARCH_STEPS = 3


def fsdp_import_problem():
    try:
        from torch.distributed.fsdp import FullyShardedDataParallel  # noqa: F401
    except Exception as err:  # noqa: BLE001 - any failure means "not here", with its text
        import torch
        return f"FSDP cannot be imported with torch {torch.__version__}: {type(err).__name__}: {err}"
    return None


class FSDP(DataParallelTechnique):
    name = "fsdp"
    description = "PyTorch FullyShardedDataParallel (knobs: activation checkpointing, CPU offload)"

    def search(self, task, devices):
        problem = fsdp_import_problem()
        if problem:
            return Infeasible(problem)
        if task.batch_size < len(devices):
            return Infeasible(f"the global batch size {task.batch_size} cannot be split over {len(devices)} devices")
        timings, failures = {}, []
        for ckpt, offload in itertools.product((False, True), (False, True)):
            knobs = {"activation_checkpointing": ckpt, "cpu_offload": offload}
            try:
                res = self.execute(task, devices, knobs, SEARCH_STEPS)
            except Exception as err:  # noqa: BLE001 - an infeasible combination, e.g. out of memory
                failures.append(f"{knobs}: {type(err).__name__}: {str(err)[:200]}")
                continue
            timings[(ckpt, offload)] = min(res.step_times[1:] or res.step_times)
        if not timings:
            return Infeasible("no FSDP configuration ran: " + "; ".join(failures))
        (ckpt, offload), best = min(timings.items(), key=lambda kv: kv[1])
        return {"activation_checkpointing": ckpt, "cpu_offload": offload,
                "searched": {f"ckpt={c},offload={o}": round(t, 6) for (c, o), t in timings.items()}}

    def wrap(self, model, device, knobs):
        from torch.distributed.fsdp import CPUOffload, FullyShardedDataParallel
        from torch.distributed.fsdp.wrap import size_based_auto_wrap_policy
        if knobs.get("activation_checkpointing"):
            from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import (apply_activation_checkpointing,
                                                                                     checkpoint_wrapper)
            blocks = set(model.children()) if len(list(model.children())) > 1 else set()
            apply_activation_checkpointing(model, checkpoint_wrapper_fn=checkpoint_wrapper,
                                           check_fn=lambda m: m in blocks)
        offload = bool(knobs.get("cpu_offload"))
        kwargs = {"cpu_offload": CPUOffload(offload_params=offload),
                  "auto_wrap_policy": functools.partial(size_based_auto_wrap_policy,
                                                        min_num_params=int(knobs.get("min_wrap_params", 100_000)))}
        if device.type == "cuda":
            kwargs["device_id"] = device
            if not offload:
                model = model.to(device)
        return FullyShardedDataParallel(model, **kwargs)

    def state_for_checkpoint(self, wrapped):
        return _FullState(wrapped)


class _FullState:
    """state_dict() of an FSDP module gathered in full (what save_checkpoint needs)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped

    def state_dict(self):
        from torch.distributed.fsdp import FullyShardedDataParallel, StateDictType
        with FullyShardedDataParallel.state_dict_type(self.wrapped, StateDictType.FULL_STATE_DICT):
            return self.wrapped.state_dict()

