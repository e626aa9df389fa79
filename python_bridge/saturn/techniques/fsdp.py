"""FSDP (FSDP2, ``torch.distributed.fsdp.fully_shard``): parameters, gradients and optimizer state sharded over the
devices, one process per device, on a 1-D device mesh (``cpu`` with gloo for CPU devices, ``cuda`` with NCCL).

Every child block of the model is sharded on its own (a unit all-gathered just before it runs), then the root.
Knobs, all searched (``search`` times every combination for a few steps through the driver and keeps the fastest
that runs, not the first): ``reshard_after_forward`` (free gathered parameters after forward and gather again in
backward), ``activation_checkpointing`` (recompute each block in backward: ``torch.distributed._composable.
checkpoint``, non-reentrant) and ``cpu_offload`` (``CPUOffloadPolicy``; without pinned memory on CPU-only machines).
Training stays fp32.

Gradients: gloo has no averaging reduce-scatter, and a summed gradient (larger by the world size) is the known
failure mode there. On gloo every FSDP module is told to reduce by sum (``set_force_sum_reduction_for_comms``) and
FSDP divides by its gradient divide factor (the world size) itself; the parity test checks the weights against
single-process training. Checkpoints: ``torch.distributed.checkpoint.state_dict`` full state dicts (model and the
sharded optimizer state) gathered to rank 0 on the CPU, loaded back with ``set_state_dict``.
"""
from __future__ import annotations

import itertools

from . import _loop
from ._dist import DataParallelTechnique
from .base import Infeasible

SEARCH_STEPS = 3
KNOB_NAMES = ("reshard_after_forward", "activation_checkpointing", "cpu_offload")


def fsdp_import_problem():
    try:
        from torch.distributed.fsdp import fully_shard  # noqa: F401
        from torch.distributed.checkpoint.state_dict import get_state_dict  # noqa: F401
    except Exception as err:  # noqa: BLE001 - any failure means "not here", with its text
        import torch
        return f"FSDP2 (fully_shard) cannot be imported with torch {torch.__version__}: {type(err).__name__}: {err}"
    return None


class FSDP(DataParallelTechnique):
    name = "fsdp"
    description = ("PyTorch FSDP2 (fully_shard); knobs: reshard after forward, activation checkpointing, "
                   "CPU offload")
    version = 2
    needs_process_group = True

    def search(self, task, devices):
        problem = fsdp_import_problem() or self.split_problem(task, len(devices))
        if problem:
            return problem if isinstance(problem, Infeasible) else Infeasible(problem)
        timings, failures = {}, []
        for combo in itertools.product((True, False), (False, True), (False, True)):
            knobs = dict(zip(KNOB_NAMES, combo))
            try:
                res = self.time_knobs(task, devices, knobs, SEARCH_STEPS)
            except Exception as err:  # noqa: BLE001 - an infeasible combination, e.g. out of memory
                failures.append(f"{knobs}: {type(err).__name__}: {str(err)[:200]}")
                continue
            timings[combo] = min(res["step_times"][1:] or res["step_times"])
        if not timings:
            return Infeasible("no FSDP configuration ran: " + "; ".join(failures))
        best = min(timings, key=timings.get)
        return dict(zip(KNOB_NAMES, best))

    def prepare(self, ctx):
        return FSDPExecutor(ctx)


def _blocks(model) -> list:
    children = list(model.children())
    if len(children) < 2:
        return []
    return [c for c in children if any(True for _ in c.parameters())]


class FSDPExecutor(_loop.StandardExecutor):
    def __init__(self, ctx):
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import CPUOffloadPolicy, FSDPModule, OffloadPolicy, fully_shard
        task, knobs, device = ctx.task, ctx.knobs, ctx.device
        problem = DataParallelTechnique.split_problem(task, ctx.world)
        if problem:
            raise ValueError(problem.reason)
        reshard = bool(knobs.get("reshard_after_forward", True))
        recompute = bool(knobs.get("activation_checkpointing", False))
        offload = bool(knobs.get("cpu_offload", False))
        model = task.build_model()
        mesh = init_device_mesh(device.type, (ctx.world,))
        policy = CPUOffloadPolicy(pin_memory=device.type == "cuda") if offload else OffloadPolicy()
        for block in _blocks(model):
            if recompute:
                from torch.distributed._composable import checkpoint
                checkpoint(block)
            fully_shard(block, mesh=mesh, reshard_after_forward=reshard, offload_policy=policy)
        fully_shard(model, mesh=mesh, reshard_after_forward=reshard, offload_policy=policy)
        force_sum = False
        if device.type != "cuda":
            for module in model.modules():
                if isinstance(module, FSDPModule) and hasattr(module, "set_force_sum_reduction_for_comms"):
                    module.set_force_sum_reduction_for_comms(True)
                    force_sum = True
        self.force_sum = force_sum
        super().__init__(task, model, task.make_optimizer(model.parameters()), device,
                         applied_knobs={"reshard_after_forward": reshard, "activation_checkpointing": recompute,
                                        "cpu_offload": offload})

    def full_state(self):
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict
        model_sd, optim_sd = get_state_dict(self.model, self.optimizer,
                                            options=StateDictOptions(full_state_dict=True, cpu_offload=True))
        return {"model": model_sd, "optimizer": optim_sd}

    def load_full_state(self, state):
        # every rank holds the whole state (each reads the checkpoint file), so no broadcast from rank 0 is needed
        from torch.distributed.checkpoint.state_dict import (StateDictOptions, set_model_state_dict,
                                                             set_state_dict)
        options = StateDictOptions(full_state_dict=True, strict=True)
        if state.get("optimizer"):
            set_state_dict(self.model, self.optimizer, model_state_dict=state["model"],
                           optim_state_dict=state["optimizer"], options=options)
        else:
            set_model_state_dict(self.model, state["model"], options=options)
