"""Early stopping from Python, for scripted runs: ``saturn.set_early_stopping(...)`` keeps the configuration in the
store, and the runs started afterwards by ``saturn run`` (without ``--early-stopping``) or by the page (Settings >
Saturn > Early stopping: "as set from Python") use it.

    saturn.set_early_stopping("asha", metric="val_loss", rungs=[100, 300, 600], mode="min", eta=2, unit="steps")
    saturn.set_early_stopping("asha", metric="val_loss", rungs=[100, 300], move_survivors=True)
    saturn.early_stopping()          # the configuration now kept, or None
    saturn.set_early_stopping(None)  # off again

SHA (``"sha"``) judges a rung once every job reached it; ASHA (``"asha"``) promotes a job as soon as it is in the top
1/eta of those that reported there. At every rung a job validates, checkpoints and waits on its GPUs for the verdict:
promoted, it trains on there; a job that must wait for the others pauses; the bottom fraction stops early
(``stopped_early``, checkpoint and history kept) and the survivors' remaining work is re-planned at once. With
``move_survivors=True`` every re-plan may also move a survivor already training on its next segment (checkpoint,
resume on GPUs freed since or with another technique) when that finishes it sooner; by default a survivor is placed
at its rung only (docs/asha-bench.md compares the two).
"""
from __future__ import annotations

from typing import Optional, Sequence

from ..core.store import Store, default_store
from ..core.task import metric_mode

KEY = "early_stopping"


def set_early_stopping(kind: Optional[str], *, metric: str = "val_loss", rungs: Sequence[float] = (),
                       mode: Optional[str] = None, eta: float = 2, unit: str = "steps",
                       move_survivors: bool = False, store: Optional[Store] = None) -> Optional[dict]:
    """Keep (or, with ``kind=None``, remove) the early stopping of the runs started next; returns what was kept."""
    store = store or default_store()
    if kind is None:
        store.set_config(KEY, None)
        return None
    if kind not in ("asha", "sha"):
        raise ValueError(f"early stopping must be 'asha' or 'sha' (or None to turn it off), got {kind!r}")
    rungs = [float(r) for r in rungs]
    if not rungs or any(r <= 0 for r in rungs) or any(b <= a for a, b in zip(rungs, rungs[1:])):
        raise ValueError(f"rungs must be increasing positive numbers, e.g. [100, 300, 600]; got {list(rungs)}")
    if unit not in ("steps", "epochs"):
        raise ValueError(f"unit must be 'steps' or 'epochs', got {unit!r}")
    if not isinstance(move_survivors, bool):
        raise ValueError(f"move_survivors must be True or False, got {move_survivors!r}")
    if not eta > 1:
        raise ValueError(f"the reduction factor eta must be greater than 1, got {eta}")
    mode = mode or metric_mode(metric)
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    config = {"kind": kind, "metric": metric, "mode": mode, "rungs": [int(r) if r.is_integer() else r for r in rungs],
              "eta": eta, "unit": unit}
    if move_survivors:
        config["move_survivors"] = True
    store.set_config(KEY, config)
    return config


def early_stopping(*, store: Optional[Store] = None) -> Optional[dict]:
    """The early stopping kept for the next runs (None: off)."""
    return (store or default_store()).config(KEY)
