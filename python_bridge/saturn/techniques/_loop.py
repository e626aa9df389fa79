"""What every technique shares: moving batches, the timed training loop, memory peaks, checkpoints, layers."""
from __future__ import annotations

import os
import resource
import time
from typing import Any, Callable, Iterator, Optional

from ..task import TaskError, forward, split_batch


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
    state = torch.load(path, map_location="cpu")
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
