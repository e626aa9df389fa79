"""What every technique shares: moving batches, the plain training step, memory peaks, parameter-named optimizer
state, layers."""
from __future__ import annotations

import os
import resource
import time
from typing import Any, Callable, Iterator, Optional

from ..core.task import TaskError, forward, split_batch


def set_threads() -> None:
    import torch
    torch.set_num_threads(int(os.environ.get("SATURN_TORCH_THREADS", "1") or 1))


def to_device(obj: Any, device) -> Any:
    import torch
    if torch.is_tensor(obj):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, (tuple, list)):
        return type(obj)(to_device(o, device) for o in obj)
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    return obj


def shard(obj: Any, rank: int, world: int) -> Any:
    """Rank ``rank``'s rows of a global batch (tensors split along dim 0), so the global batch size is kept."""
    import torch
    if world == 1:
        return obj
    if torch.is_tensor(obj):
        return torch.tensor_split(obj, world)[rank] if obj.dim() > 0 else obj
    if isinstance(obj, (tuple, list)):
        return type(obj)(shard(o, rank, world) for o in obj)
    if isinstance(obj, dict):
        return {k: shard(v, rank, world) for k, v in obj.items()}
    return obj


def synchronize(device) -> None:
    import torch
    if getattr(device, "type", "cpu") == "cuda":
        torch.cuda.synchronize(device)


def reset_peak(device) -> None:
    import torch
    if getattr(device, "type", "cpu") == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory(device) -> int:
    """Peak bytes on ``device`` (CUDA allocator), or this process's peak resident memory on the CPU."""
    import torch
    if getattr(device, "type", "cpu") == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def timed_steps(steps: int, step: Callable[[], float], device, on_step=None) -> tuple[list, Optional[float]]:
    """Run ``step()`` (returns the loss) ``steps`` times; seconds per step, measured after device sync."""
    times, loss = [], None
    synchronize(device)
    last = time.perf_counter()
    for i in range(steps):
        loss = step()
        synchronize(device)
        now = time.perf_counter()
        times.append(now - last)
        last = now
        if on_step is not None:
            on_step(i, loss, times[-1])
    return times, loss


def standard_step(task, model, optimizer, batches: Iterator, device, loss_fn=None) -> Callable[[], float]:
    loss_fn = loss_fn or task.loss_fn()

    def step() -> float:
        inputs, targets = split_batch(next(batches))
        inputs, targets = to_device(inputs, device), to_device(targets, device)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(forward(model, inputs), targets)
        loss.backward()
        optimizer.step()
        return float(loss.detach())
    return step


def load_checkpoint(path: Optional[str], model, optimizer=None) -> int:
    import torch
    if not path or not os.path.exists(path):
        return 0
    state = torch.load(path, map_location="cpu", weights_only=False)
    model.load_state_dict(state["model"])
    if optimizer is not None and state.get("optimizer"):
        optimizer.load_state_dict(state["optimizer"])
    return int(state.get("step", 0))


def save_checkpoint(path: Optional[str], model, optimizer=None, step: int = 0) -> None:
    if path:
        save_state(path, model.state_dict(), optimizer.state_dict() if optimizer else None, step)


def save_state(path: str, model_state: dict, optimizer_state: Optional[dict], step: int) -> None:
    import torch
    tmp = f"{path}.tmp"
    torch.save({"model": model_state, "optimizer": optimizer_state, "step": step}, tmp)
    os.replace(tmp, path)


def layers_of(task, model) -> list:
    """The model as a list of layers run one after another: ``hints["layers"](model)``, or a flattened
    ``torch.nn.Sequential``."""
    import torch
    custom = task.hints.get("layers")
    if callable(custom):
        return list(custom(model))
    if not isinstance(model, torch.nn.Sequential):
        raise TaskError(f"the model is a {type(model).__name__}, not a torch.nn.Sequential: layer-wise techniques "
                        "need a sequence of layers (or hints={'layers': fn(model) -> [modules]})")
    out = []
    for child in model.children():
        out.extend(layers_of(task, child) if isinstance(child, torch.nn.Sequential) else [child])
    return out


def param_count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def balance_by_params(layers: list, parts: int) -> list[int]:
    """Layer counts of ``parts`` contiguous groups that minimise the largest group's parameter count."""
    n = len(layers)
    if parts > n:
        raise ValueError(f"{n} layers cannot make {parts} groups")
    weights = [max(param_count(layer), 1) for layer in layers]
    prefix = [0]
    for w in weights:
        prefix.append(prefix[-1] + w)
    inf = float("inf")
    best = [[inf] * (n + 1) for _ in range(parts + 1)]
    cut = [[0] * (n + 1) for _ in range(parts + 1)]
    best[0][0] = 0
    for p in range(1, parts + 1):
        for i in range(p, n - (parts - p) + 1):
            for j in range(p - 1, i):
                cost = max(best[p - 1][j], prefix[i] - prefix[j])
                if cost < best[p][i]:
                    best[p][i], cut[p][i] = cost, j
    sizes, i = [], n
    for p in range(parts, 0, -1):
        j = cut[p][i]
        sizes.append(i - j)
        i = j
    return sizes[::-1]


def groups(layers: list, balance: list[int]) -> list:
    import torch
    out, start = [], 0
    for size in balance:
        out.append(torch.nn.Sequential(*layers[start:start + size]))
        start += size
    return out


def free_port() -> int:
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_device_memory(device) -> Optional[int]:
    import torch
    if getattr(device, "type", "cpu") != "cuda":
        return None
    free, _total = torch.cuda.mem_get_info(device)
    return int(free)


# -- the plain step and checkpoint-friendly state ------------------------------------------------------------------
def named_optimizer_state(model, optimizer) -> dict:
    """``optimizer.state_dict()`` with parameters named by their names in ``model`` (the layout of
    torch.distributed.checkpoint's full optimizer state dict), so that state saved by one technique loads into
    another."""
    names = {id(p): n for n, p in model.named_parameters()}
    sd = optimizer.state_dict()
    index_to_name = {}
    for group, saved in zip(optimizer.param_groups, sd["param_groups"]):
        for param, index in zip(group["params"], saved["params"]):
            if id(param) in names:
                index_to_name[index] = names[id(param)]
    state = {index_to_name[i]: v for i, v in sd["state"].items() if i in index_to_name}
    groups = [{**g, "params": [index_to_name[i] for i in g["params"] if i in index_to_name]}
              for g in sd["param_groups"]]
    return {"state": state, "param_groups": groups}


def load_named_optimizer_state(model, optimizer, named: Optional[dict]) -> None:
    """The reverse of ``named_optimizer_state``; names this model does not have are left out (a pipeline stage
    loads its own part of the whole model's state)."""
    if not named:
        return
    groups = named.get("param_groups") or []
    if any(isinstance(p, int) for g in groups for p in g.get("params", [])):
        optimizer.load_state_dict(named)  # already in optimizer.state_dict() layout
        return
    names = {id(p): n for n, p in model.named_parameters()}
    mine = [[names[id(p)] for p in g["params"]] for g in optimizer.param_groups]
    owner = {}
    for gi, group_names in enumerate(mine):
        for n in group_names:
            owner[n] = gi
    saved_groups = [dict(g) for g in groups[:len(mine)]]
    while len(saved_groups) < len(mine):
        saved_groups.append(dict(optimizer.state_dict()["param_groups"][len(saved_groups)]))
    index, state, out_groups = 0, {}, []
    for gi, group_names in enumerate(mine):
        ids = []
        for n in group_names:
            ids.append(index)
            if n in named.get("state", {}):
                state[index] = named["state"][n]
            index += 1
        out_groups.append({**saved_groups[gi], "params": ids})
    optimizer.load_state_dict({"state": state, "param_groups": out_groups})


def cpu_state(state: dict) -> dict:
    return {k: v.detach().cpu().clone() for k, v in state.items()}


class StandardExecutor:
    """Forward, loss, backward, optimizer step on one device. ``module`` may wrap ``model`` (DDP)."""

    def __init__(self, task, model, optimizer, device, module=None, applied_knobs: Optional[dict] = None):
        self.task, self.model, self.optimizer, self.device = task, model, optimizer, device
        self.module = module if module is not None else model
        self.applied_knobs = applied_knobs
        self.loss_fn = task.loss_fn()

    def step(self, batch) -> float:
        inputs, targets = split_batch(batch)
        inputs, targets = to_device(inputs, self.device), to_device(targets, self.device)
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn(forward(self.module, inputs), targets)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def full_state(self) -> dict:
        return {"model": cpu_state(self.model.state_dict()),
                "optimizer": named_optimizer_state(self.model, self.optimizer)}

    def load_full_state(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        load_named_optimizer_state(self.model, self.optimizer, state.get("optimizer"))
