"""Pipeline parallelism with ``torch.distributed.pipelining``: the model's layers split into one stage per device,
one process per stage (rank r runs stage r), each global batch cut into micro-batches.

Knobs: ``balance`` (layers per stage; by default balanced by parameter count, ``_loop.balance_by_params``),
``chunks`` (the number of micro-batches, a divisor of the batch size and at least the number of stages) and
``schedule`` (``gpipe`` or ``1f1b``). ``search`` times every (chunks, schedule) candidate for a few steps through the
driver and keeps the fastest; the hints ``pipeline_balance``, ``pipeline_chunks`` and ``pipeline_schedule`` fix one.
The loss runs on the last stage per micro-batch, gradients are averaged over micro-batches (the schedule's
``scale_grads``), so a step computes what one full-batch step computes; the mean loss goes from the last stage to
every rank.

Shapes are static (a stage learns its input shapes on the first step): a batch with another size than the task's
batch size (an epoch's short last batch) is dropped, on every rank alike. Needs 2 or more devices (one stage is
plain training) and a model that is a sequence of layers (a ``torch.nn.Sequential``, or ``hints["layers"]``).
"""
from __future__ import annotations

import itertools

from ..core.task import TaskError, split_batch
from . import _loop
from .base import Infeasible, Technique

SEARCH_STEPS = 3
SCHEDULES = ("gpipe", "1f1b")


def _first_tensor(obj):
    import torch
    if torch.is_tensor(obj):
        return obj
    values = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (tuple, list)) else ()
    for v in values:
        t = _first_tensor(v)
        if t is not None:
            return t
    return None


class Pipeline(Technique):
    name = "pipeline"
    description = "Pipeline stages over processes (torch.distributed.pipelining; knobs: balance, chunks, schedule)"
    version = 2
    min_gpus = 2

    def world(self, k: int) -> int:
        return k

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
        hinted = task.hints.get("pipeline_chunks")
        chunks = [int(hinted)] if hinted else [c for c in (k, 2 * k, 4 * k) if task.batch_size % c == 0]
        chunks = [c for c in chunks if k <= c <= task.batch_size and task.batch_size % c == 0]
        if not chunks:
            return Infeasible(f"no micro-batch count divides the batch size {task.batch_size} into at least {k} "
                              "equal micro-batches")
        schedules = [task.hints["pipeline_schedule"]] if task.hints.get("pipeline_schedule") else list(SCHEDULES)
        candidates = [{"balance": list(balance), "chunks": c, "schedule": s} for c, s in
                      itertools.product(chunks, schedules)]
        if len(candidates) == 1:
            return candidates[0]
        timings, failures = [], []
        for knobs in candidates:
            try:
                res = self.time_knobs(task, devices, knobs, SEARCH_STEPS)
            except Exception as err:  # noqa: BLE001 - this candidate cannot run; others may
                failures.append(f"{knobs}: {type(err).__name__}: {str(err)[:200]}")
                continue
            timings.append((min(res["step_times"][1:] or res["step_times"]), knobs))
        if not timings:
            return Infeasible("no pipeline configuration ran: " + "; ".join(failures))
        return min(timings, key=lambda t: t[0])[1]

    def local_batch(self, batch, ctx):
        inputs, _targets = split_batch(batch)
        first = _first_tensor(inputs)
        if first is not None and first.dim() > 0 and first.shape[0] != ctx.task.batch_size:
            return None
        return batch

    def prepare(self, ctx):
        return PipelineExecutor(ctx)


class _Named:
    """Parameters under their names in the whole model (for parameter-named optimizer state)."""

    def __init__(self, pairs):
        self.pairs = pairs

    def named_parameters(self):
        return iter(self.pairs)


class PipelineExecutor:
    def __init__(self, ctx):
        import torch
        from torch.distributed.pipelining import PipelineStage, Schedule1F1B, ScheduleGPipe
        task, knobs = ctx.task, ctx.knobs
        self.rank, self.world, self.device = ctx.rank, ctx.world, ctx.device
        model = task.build_model()
        layers = _loop.layers_of(task, model)
        balance = list(knobs.get("balance") or _loop.balance_by_params(layers, self.world))
        if len(balance) != self.world or sum(balance) != len(layers):
            raise ValueError(f"pipeline balance {balance} does not split {len(layers)} layers into {self.world} "
                             "stages")
        chunks = int(knobs.get("chunks") or self.world)
        if task.batch_size % chunks or chunks < self.world:
            raise ValueError(f"{chunks} micro-batches: need a divisor of the batch size {task.batch_size} that is at "
                             f"least the number of stages {self.world}")
        schedule = knobs.get("schedule") or "gpipe"
        if schedule not in SCHEDULES:
            raise ValueError(f"unknown pipeline schedule {schedule!r}; known: {', '.join(SCHEDULES)}")
        start = sum(balance[:self.rank])
        mine = layers[start:start + balance[self.rank]]
        module_names = {id(m): n for n, m in model.named_modules()}
        self.prefixes = [module_names.get(id(layer), f"layer{start + i}") for i, layer in enumerate(mine)]
        self.module = torch.nn.Sequential(*mine).to(self.device)
        # stage key -> key in the whole model's state dict
        self.keys = {}
        pairs = []
        for i, (layer, prefix) in enumerate(zip(mine, self.prefixes)):
            for k in layer.state_dict():
                self.keys[f"{i}.{k}"] = f"{prefix}.{k}"
            for n, p in layer.named_parameters():
                pairs.append((f"{prefix}.{n}", p))
        self.named = _Named(pairs)
        self.optimizer = task.make_optimizer(self.module.parameters())
        stage = PipelineStage(self.module, self.rank, self.world, self.device)
        cls = {"gpipe": ScheduleGPipe, "1f1b": Schedule1F1B}[schedule]
        self.schedule = cls(stage, n_microbatches=chunks, loss_fn=task.loss_fn())
        self.applied_knobs = {"balance": balance, "chunks": chunks, "schedule": schedule}
        self._loss = torch.zeros((), dtype=torch.float64, device=self.device)

    def step(self, batch) -> float:
        import torch
        import torch.distributed as dist
        inputs, targets = split_batch(batch)
        self.optimizer.zero_grad(set_to_none=True)
        if self.rank == 0:
            inputs = _loop.to_device(inputs, self.device)
            if isinstance(inputs, dict):
                self.schedule.step(**inputs)
            elif isinstance(inputs, (tuple, list)):
                self.schedule.step(*inputs)
            else:
                self.schedule.step(inputs)
        elif self.rank == self.world - 1:
            losses: list = []
            self.schedule.step(target=_loop.to_device(targets, self.device), losses=losses)
            self._loss.fill_(float(torch.stack([loss.detach().double() for loss in losses]).mean()))
        else:
            self.schedule.step()
        self.optimizer.step()
        dist.broadcast(self._loss, src=self.world - 1)
        return float(self._loss)

    def full_state(self):
        from ._driver import _gather_object
        part = {"model": {self.keys[k]: v.detach().cpu().clone() for k, v in self.module.state_dict().items()},
                "optimizer": _loop.named_optimizer_state(self.named, self.optimizer)}
        parts = _gather_object(part, self.rank, self.world)
        if self.rank != 0:
            return None
        model, state, groups = {}, {}, []
        for p in parts:
            model.update(p["model"])
            state.update(p["optimizer"]["state"])
            for gi, group in enumerate(p["optimizer"]["param_groups"]):
                if gi == len(groups):
                    groups.append({**group, "params": []})
                groups[gi]["params"].extend(group["params"])
        return {"model": model, "optimizer": {"state": state, "param_groups": groups}}

    def load_full_state(self, state):
        self.module.load_state_dict({k: state["model"][full] for k, full in self.keys.items()})
        _loop.load_named_optimizer_state(self.named, self.optimizer, state.get("optimizer"))
