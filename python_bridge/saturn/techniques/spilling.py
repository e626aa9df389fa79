"""Spilling (offload) on one device: the model lives in host memory and visits the device one partition at a time.

Forward runs partition by partition without keeping the graph (each partition's input is kept); backward walks the
partitions in reverse, brings each back, recomputes it with gradients and sends it home again; the optimizer steps
on the host. Knob: ``partitions`` (more partitions: less device memory, more transfers). On CPU "devices" host and
device are the same memory, so this is sequential execution with the same arithmetic.
"""
from __future__ import annotations

import math

from ..devices import current_kind, local_torch_device
from ..task import TaskError, forward, split_batch
from . import _loop
from .base import ExecResult, Infeasible, Technique


class Spilling(Technique):
    name = "spilling"
    description = "One device; layers move between host and device memory in partitions (knob: partitions)"
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

    def execute(self, task, devices, knobs, steps, checkpoint=None, on_step=None) -> ExecResult:
        import torch
        _loop.set_threads()
        device = local_torch_device(devices[0])
        host = torch.device("cpu")
        model = task.build_model().to(host)
        layers = _loop.layers_of(task, model)
        balance = knobs.get("balance") or _loop.balance_by_params(layers, int(knobs["partitions"]))
        parts = _loop.groups(layers, balance)
        start = _loop.load_checkpoint(checkpoint, model)
        optimizer = task.make_optimizer(model.parameters())
        loss_fn = task.loss_fn()
        batches = task.batches()
        _loop.reset_peak(device)

        step = spilling_step(parts, device, host, optimizer, loss_fn, lambda: next(batches))

        times, loss = _loop.timed_steps(steps, step, device, on_step)
        _loop.save_checkpoint(checkpoint, model, optimizer, start + steps)
        return ExecResult(steps=steps, step_times=times, peak_mem_bytes=_loop.peak_memory(device), last_loss=loss,
                          knobs=dict(knobs))


def spilling_step(parts, device, host, optimizer, loss_fn, next_batch):
    """One training step of the spilling schedule over layer groups ``parts`` (shared by profiling and the runner).

    Forward visits the device group by group without a graph, keeping each group's input; backward brings the
    groups back in reverse, recomputes each with gradients and sends it home; the optimizer steps on the host."""
    import torch

    def step() -> float:
        inputs, targets = split_batch(next_batch())
        inputs, targets = _loop.to_device(inputs, device), _loop.to_device(targets, device)
        optimizer.zero_grad(set_to_none=False)
        saved, x = [], inputs
        with torch.no_grad():
            for i, part in enumerate(parts):
                part.to(device)
                saved.append(x)
                x = forward(part, x) if i == 0 else part(x)
                part.to(host)
        grad, loss = None, None
        for i in reversed(range(len(parts))):
            part = parts[i].to(device)
            inp = saved[i]
            if i > 0:
                inp = inp.detach().requires_grad_(inp.is_floating_point())
            out = forward(part, inp) if i == 0 else part(inp)
            if i == len(parts) - 1:
                loss = loss_fn(out, targets)
                loss.backward()
            else:
                out.backward(grad)
            grad = inp.grad if i > 0 else None
            part.to(host)
        optimizer.step()
        return float(loss.detach())
    return step
