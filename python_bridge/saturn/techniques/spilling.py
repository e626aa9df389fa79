"""Spilling (offload) on one device: the model lives in host memory and visits the device one partition at a time.

Forward runs partition by partition without keeping the graph (each partition's input is kept); backward walks the
partitions in reverse, brings each back, recomputes it with gradients (under the RNG state of its forward pass, so
dropout draws the same masks) and sends it home again; the optimizer steps on the host. Knob: ``partitions`` (more
partitions: less device memory, more transfers). One process. On CPU "devices" host and device are the same memory,
so this is sequential execution with the same arithmetic.
"""
from __future__ import annotations

import math

from ..core.devices import current_kind, local_torch_device
from ..core.task import TaskError, forward, split_batch
from . import _loop
from .base import Infeasible, Technique


class Spilling(Technique):
    name = "spilling"
    description = "One device; layers move between host and device memory in partitions (knob: partitions)"
    version = 2
    min_gpus = 1
    max_gpus = 1

    def search(self, task, devices):
        if len(devices) != 1:
            return Infeasible("spilling runs on exactly one device")
        try:
            model = task.build_model()
            layers = _loop.layers_of(task, model)
        except TaskError as err:
            return Infeasible(str(err))
        partitions = task.hints.get("spill_partitions")
        if not partitions:
            if current_kind() == "cuda":
                free = _loop.free_device_memory(local_torch_device(devices[0])) or 0
                weights_and_grads = 2 * 4 * _loop.param_count(model)
                # keep a partition (weights + grads) within a quarter of free memory; the rest is for activations
                partitions = max(1, math.ceil(weights_and_grads / max(free / 4, 1)))
            else:
                partitions = 2
        partitions = max(1, min(int(partitions), len(layers)))
        if current_kind() == "cuda":
            biggest = max(_loop.param_count(g) for g in _loop.groups(layers, _loop.balance_by_params(layers, partitions)))
            free = _loop.free_device_memory(local_torch_device(devices[0])) or 0
            if 2 * 4 * biggest > free:
                return Infeasible(f"out of memory (estimated): the largest layer group needs "
                                  f"{8 * biggest / 2**30:.1f} GiB on the device, {free / 2**30:.1f} GiB free")
        return {"partitions": partitions, "balance": _loop.balance_by_params(layers, partitions)}

    def local_batch(self, batch, ctx):
        return batch

    def prepare(self, ctx):
        return SpillingExecutor(ctx)


class SpillingExecutor(_loop.StandardExecutor):
    def __init__(self, ctx):
        import torch
        task = ctx.task
        host = torch.device("cpu")
        model = task.build_model().to(host)
        layers = _loop.layers_of(task, model)
        balance = ctx.knobs.get("balance") or _loop.balance_by_params(layers, int(ctx.knobs.get("partitions", 2)))
        if sum(balance) != len(layers):
            raise ValueError(f"spilling balance {balance} does not cover the model's {len(layers)} layers")
        super().__init__(task, model, task.make_optimizer(model.parameters()), ctx.device,
                         applied_knobs={"partitions": len(balance), "balance": list(balance)})
        self.parts = _loop.groups(layers, balance)
        self.eval_device = host  # the whole model lives in host memory; validation runs there
        self._step = spilling_step(self.parts, ctx.device, host, self.optimizer, self.loss_fn)

    def step(self, batch) -> float:
        return self._step(batch)


def _rng_state(device):
    import torch
    return (torch.get_rng_state(), torch.cuda.get_rng_state(device) if device.type == "cuda" else None)


def _set_rng_state(state, device) -> None:
    import torch
    torch.set_rng_state(state[0])
    if state[1] is not None:
        torch.cuda.set_rng_state(state[1], device)


def spilling_step(parts, device, host, optimizer, loss_fn):
    """``step(batch) -> loss`` of the spilling schedule over layer groups ``parts``.

    Forward visits the device group by group without a graph, keeping each group's input and RNG state; backward
    brings the groups back in reverse, recomputes each with gradients and sends it home; the optimizer steps on the
    host."""
    import torch

    def step(batch) -> float:
        inputs, targets = split_batch(batch)
        inputs, targets = _loop.to_device(inputs, device), _loop.to_device(targets, device)
        optimizer.zero_grad(set_to_none=True)
        saved, rngs, x = [], [], inputs
        with torch.no_grad():
            for i, part in enumerate(parts):
                part.to(device)
                saved.append(x)
                rngs.append(_rng_state(device))
                x = forward(part, x) if i == 0 else part(x)
                if len(parts) > 1:
                    part.to(host)
        after = _rng_state(device)
        grad, loss = None, None
        for i in reversed(range(len(parts))):
            part = parts[i].to(device)
            inp = saved[i]
            if i > 0:
                inp = inp.detach().requires_grad_(inp.is_floating_point())
            _set_rng_state(rngs[i], device)
            out = forward(part, inp) if i == 0 else part(inp)
            if i == len(parts) - 1:
                loss = loss_fn(out, targets)
                loss.backward()
            else:
                out.backward(grad)
            grad = inp.grad if i > 0 else None
            part.to(host)
        _set_rng_state(after, device)
        optimizer.step()
        return float(loss.detach())
    return step
