"""Checkpoints that let a job continue exactly where it stopped.

A checkpoint holds the model, the optimizer, the LR scheduler, every RNG (Python, NumPy when it is importable, torch
CPU and CUDA) and the data position (epoch, batches consumed in that epoch, and the RNG state at the start of that
epoch so that a shuffling loader draws the same order again). Files are ``.saturn/checkpoints/<job>/step-<n>.pt``,
written to a temporary file, flushed to disk and renamed over (``os.replace``): a reader sees a whole checkpoint or
the previous one, never half a file. Older checkpoints are pruned (``keep`` newest stay).
"""
from __future__ import annotations

import os
import random
import re
from pathlib import Path
from typing import Any, Optional

_NAME = re.compile(r"^step-(\d+)\.pt$")


def capture_rng() -> dict:
    import torch
    state: dict[str, Any] = {"python": random.getstate(), "torch": torch.get_rng_state()}
    try:
        import numpy
        state["numpy"] = numpy.random.get_state()
    except Exception:  # noqa: BLE001 - numpy absent or broken: nothing to keep
        pass
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: Optional[dict]) -> None:
    if not state:
        return
    import torch
    if "python" in state:
        random.setstate(_as_python_state(state["python"]))
    if "torch" in state:
        torch.set_rng_state(state["torch"])
    if "numpy" in state:
        try:
            import numpy
            numpy.random.set_state(state["numpy"])
        except Exception:  # noqa: BLE001
            pass
    if state.get("cuda") is not None and torch.cuda.is_available():
        try:
            torch.cuda.set_rng_state_all(state["cuda"])
        except Exception:  # noqa: BLE001 - fewer devices now (resumed elsewhere): keep the fresh streams
            pass


def _as_python_state(st):
    # random.setstate needs tuples; a round trip through some serialisers gives lists
    if isinstance(st, list):
        return tuple(_as_python_state(x) if isinstance(x, list) else x for x in st)
    if isinstance(st, tuple):
        return tuple(tuple(x) if isinstance(x, list) else x for x in st)
    return st


def atomic_save(obj: Any, path: Path) -> None:
    """``torch.save`` to ``path`` atomically: temp file in the same folder, fsync, ``os.replace``."""
    import torch
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    try:
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


class CheckpointDir:
    def __init__(self, folder: os.PathLike | str, keep: int = 2):
        self.folder = Path(folder)
        self.keep = max(1, int(keep))

    @classmethod
    def for_job(cls, store, job_id: str, keep: int = 2) -> "CheckpointDir":
        return cls(Path(store.path).parent / "checkpoints" / safe_name(job_id), keep)

    def steps(self) -> list[int]:
        if not self.folder.is_dir():
            return []
        return sorted(int(m.group(1)) for m in (_NAME.match(p.name) for p in self.folder.iterdir()) if m)

    def path_for(self, step: int) -> Path:
        return self.folder / f"step-{int(step):09d}.pt"

    def latest_step(self) -> Optional[int]:
        steps = self.steps()
        return steps[-1] if steps else None

    def save(self, state: dict, step: int) -> Path:
        path = self.path_for(step)
        atomic_save({**state, "step": int(step)}, path)
        self.prune()
        return path

    def prune(self) -> list[int]:
        steps = self.steps()
        gone = steps[:-self.keep]
        for s in gone:
            try:
                self.path_for(s).unlink()
            except OSError:
                pass
        return gone

    def load_latest(self) -> Optional[dict]:
        """The newest checkpoint that loads (a damaged one is skipped, never fatal), or None."""
        import torch
        for step in reversed(self.steps()):
            try:
                # Saturn's own files: RNG states (tuples, NumPy arrays) need the full unpickler
                return torch.load(self.path_for(step), map_location="cpu", weights_only=False)
            except Exception:  # noqa: BLE001 - e.g. a truncated file from a crash in an old version
                continue
        return None


def safe_name(job_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", job_id)
