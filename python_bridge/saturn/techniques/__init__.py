"""The technique registry: built-ins and user techniques are registered and looked up the same way.

``register_technique(cls_or_instance)`` makes a technique available in this process and, with ``persist=True``
(the default), saves it (cloudpickle) in the store so that every kernel and every trial process sees it. A user
technique may replace a built-in by using its name. The interface (``search``, ``world``, ``prepare``) is described in
``base.py``; every technique trains through the driver in ``_driver.py``, in profiling trials and in jobs alike.
"""
from __future__ import annotations

from typing import Union

import cloudpickle

from .base import Context, ExecResult, Infeasible, Knobs, Technique
from .ddp import DDP
from .fsdp import FSDP
from .pipeline import Pipeline
from .spilling import Spilling

_local: dict[str, Technique] = {}
BUILTIN_NAMES = ("ddp", "fsdp", "pipeline", "spilling")


def _instance(obj: Union[type, Technique]) -> Technique:
    tech = obj() if isinstance(obj, type) else obj
    if not isinstance(tech, Technique):
        raise TypeError(f"{obj!r} is not a saturn Technique (subclass saturn.Technique and set name)")
    if not tech.name or not isinstance(tech.name, str):
        raise TypeError(f"technique {type(tech).__name__} needs a non-empty string `name`")
    return tech


def register_technique(obj: Union[type, Technique], store=None, persist: bool = True) -> Technique:
    tech = _instance(obj)
    _local[tech.name] = tech
    if persist:
        from ..core.store import default_store
        (store or default_store()).put_technique(tech.name, cloudpickle.dumps(tech), tech.description or "")
    return tech


def unregister_technique(name: str, store=None) -> bool:
    from ..core.store import default_store
    removed = _local.pop(name, None) is not None
    return (store or default_store()).delete_technique(name) or removed


def list_techniques(store=None) -> dict[str, Technique]:
    """Name -> technique: built-ins, then those in the store, then this process's unsaved ones."""
    from ..core.store import default_store
    out: dict[str, Technique] = {}
    for cls in (DDP, FSDP, Pipeline, Spilling):
        out[cls.name] = cls()
    for row in (store or default_store()).list_techniques():
        try:
            out[row["name"]] = cloudpickle.loads(row["payload"])
        except Exception as err:  # noqa: BLE001 - shown as a technique that always reports why it cannot run
            out[row["name"]] = Unloadable(row["name"], f"{type(err).__name__}: {err}")
    out.update(_local)
    return out


def get_technique(name: str, store=None) -> Technique:
    techniques = list_techniques(store)
    if name not in techniques:
        raise KeyError(f"no technique named {name!r}; known: {', '.join(techniques)}")
    return techniques[name]


class Unloadable(Technique):
    def __init__(self, name: str, problem: str):
        self.name, self.problem = name, problem
        self.description = f"cannot be loaded here: {problem}"

    def search(self, task, devices):
        return Infeasible(f"technique {self.name!r} cannot be loaded: {self.problem}")


__all__ = ["Technique", "Context", "Infeasible", "Knobs", "ExecResult", "register_technique", "unregister_technique",
           "list_techniques", "get_technique", "DDP", "FSDP", "Pipeline", "Spilling", "BUILTIN_NAMES"]
