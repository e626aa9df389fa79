"""Pipeline parallelism (GPipe): the layers split into one stage per device, each batch into micro-batches.

Knobs: ``balance`` (layers per stage; by default balanced by parameter count) and ``chunks`` (micro-batches per
batch; GPipe's advice is at least 4 per stage). Uses ``torch.distributed.pipeline.sync.Pipe`` when the installed torch
has it (it needs RPC, started here with world size 1); otherwise a micro-batched stage-by-stage loop that computes the
same gradients. Needs 2 or more devices (one stage is plain training) and a model that is a sequence of layers.
"""
from __future__ import annotations

import os

from ..devices import local_torch_device
from ..task import TaskError, split_batch
from . import _loop
from .base import ExecResult, Infeasible, Technique

_rpc_started = False


def pipe_class():
    try:
        from torch.distributed.pipeline.sync import Pipe
        return Pipe
    except Exception:  # noqa: BLE001 - removed from newer torch
        return None


def _ensure_rpc() -> None:
    global _rpc_started
    if _rpc_started:
        return
    import torch.distributed.rpc as rpc
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ["MASTER_PORT"] = str(_loop.free_port())
    rpc.init_rpc(f"saturn-pipe-{os.getpid()}", rank=0, world_size=1)
    _rpc_started = True


class Pipeline(Technique):
    name = "pipeline"
    description = "GPipe-style pipeline: one stage of layers per device, micro-batches (knobs: balance, chunks)"
    min_gpus = 2

    def search(self, task, devices):
        k = len(devices)
        if k < 2:
            return Infeasible("pipeline parallelism needs at least 2 devices (one stage is plain training)")
        try:
            layers = _loop.layers_of(task, task.build_model())
        except TaskError as err:
            return Infeasible(str(err))
        if len(layers) < k:
            return Infeasible(f"the model has {len(layers)} layers, fewer than {k} pipeline stages")
        balance = task.hints.get("pipeline_balance") or _loop.balance_by_params(layers, k)
        if len(balance) != k or sum(balance) != len(layers):
            return Infeasible(f"hint pipeline_balance {balance} does not split {len(layers)} layers into {k} stages")
        chunks = task.hints.get("pipeline_chunks")
        if not chunks:
            chunks = next((c for c in (4 * k, 2 * k, k) if c <= task.batch_size), task.batch_size)
        return {"balance": list(balance), "chunks": int(chunks), "impl": "pipe" if pipe_class() else "microbatch",
                "checkpoint": task.hints.get("pipeline_checkpoint", "except_last")}

    def execute(self, task, devices, knobs, steps, checkpoint=None, on_step=None) -> ExecResult:
        import torch
        _loop.set_threads()
        model = task.build_model()
        layers = _loop.layers_of(task, model)
        stage_devices = [local_torch_device(d) for d in devices]
        stages = [s.to(dev) for s, dev in zip(_loop.groups(layers, knobs["balance"]), stage_devices)]
        first, last = stage_devices[0], stage_devices[-1]
        for dev in set(stage_devices):
            _loop.reset_peak(dev)
        start = _loop.load_checkpoint(checkpoint, model)
        loss_fn = task.loss_fn()
        batches = task.batches()
        chunks = int(knobs["chunks"])
        if knobs.get("impl") == "pipe" and pipe_class() is not None:
            _ensure_rpc()
            pipe = pipe_class()(torch.nn.Sequential(*stages), chunks=chunks,
                                checkpoint=knobs.get("checkpoint", "except_last"))
            optimizer = task.make_optimizer(pipe.parameters())

            def step():
                inputs, targets = split_batch(next(batches))
                optimizer.zero_grad(set_to_none=True)
                out = pipe(inputs.to(first)).local_value()
                loss = loss_fn(out, targets.to(last))
                loss.backward()
                optimizer.step()
                return float(loss.detach())
        else:
            optimizer = task.make_optimizer([p for s in stages for p in s.parameters()])

            def step():
                inputs, targets = split_batch(next(batches))
                optimizer.zero_grad(set_to_none=True)
                total = 0.0
                n = min(chunks, len(inputs))
                for x, y in zip(torch.tensor_split(inputs, n), torch.tensor_split(targets, n)):
                    x = x.to(first)
                    for stage, dev in zip(stages, stage_devices):
                        x = stage(x.to(dev))
                    loss = loss_fn(x, y.to(last)) * (len(y) / len(targets))
                    loss.backward()
                    total += float(loss.detach())
                optimizer.step()
                return total
        sync_dev = last
        times, loss = _loop.timed_steps(steps, step, sync_dev, on_step)
        _loop.save_checkpoint(checkpoint, model, None, start + steps)
        peak = max(_loop.peak_memory(dev) for dev in set(stage_devices))
        return ExecResult(steps=steps, step_times=times, peak_mem_bytes=peak, last_loss=loss, knobs=dict(knobs))
