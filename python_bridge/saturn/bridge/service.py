"""The bridge's logic: ``BridgeService().handle(request) -> reply`` for every wire request (no IPython here).

Replies are ``{"v": 1, "ok": true, "type": ..., "id": ..., ...}`` or
``{"v": 1, "ok": false, "error": {"message": ..., "hint": ..., "code": ...}}``. A request of another wire version is
answered with an error naming both versions. Profiling runs in a background thread; its progress reaches the panel
as ``profile.*`` events in the store (``events_since``, or pushed by the comm adapter).
"""
from __future__ import annotations

import os
import threading
import traceback
from typing import Callable, Optional

from .._version import __version__
from ..backends import get_backend
from ..core import devices as devices_mod
from ..core.jobs import JobStore
from ..core.spase import validate_instance, validate_plan
from ..core.store import Store, default_store
from ..profiling.profiler import Profiler
from ..techniques import BUILTIN_NAMES, list_techniques
from . import early_stopping as early_stopping_mod
from . import results as results_mod
from . import wire
from .dispatch_ops import DispatchOps


class RequestError(Exception):
    def __init__(self, message: str, hint: str = "", code: str = "failed", details: Optional[list] = None):
        super().__init__(message)
        self.hint, self.code, self.details = hint, code, details or []


class _ProfileRun:
    def __init__(self, run_id: str):
        self.run_id = run_id
        self.cancel = threading.Event()
        self.progress: Optional[dict] = None
        self.instance: Optional[dict] = None
        self.error: Optional[str] = None
        self.thread: Optional[threading.Thread] = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


class BridgeService(DispatchOps):
    def __init__(self, store: Optional[Store] = None, detect: Callable = devices_mod.detect,
                 check_replies: bool = True):
        self._store = store
        self.detect = detect
        self.check_replies = check_replies
        self._run: Optional[_ProfileRun] = None
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        return self._store or default_store()

    # -- entry point ---------------------------------------------------------------------------------------------
    def handle(self, request) -> dict:
        rid = request.get("id") if isinstance(request, dict) else None
        kind = request.get("type") if isinstance(request, dict) else None
        try:
            self._check_version(request)
            problems = wire.request_errors(request)
            if problems:
                raise RequestError(f"malformed {kind or 'bridge'} request: " + "; ".join(problems),
                                   hint="the panel and the bridge disagree on the protocol; update both",
                                   code="invalid", details=problems)
            payload = getattr(self, f"_on_{kind}")(request)
            reply = {"v": wire.WIRE_VERSION, "ok": True, "type": kind, **payload}
        except RequestError as err:
            reply = self._error(str(err), err.hint, err.code, err.details)
        except Exception as err:  # noqa: BLE001 - every failure becomes a reply, never a dead bridge
            reply = self._error(f"{type(err).__name__}: {err}", "see the bridge kernel's log for the traceback",
                                "failed", traceback.format_exc().splitlines()[-8:])
        if kind is not None and isinstance(kind, str):
            reply.setdefault("type", kind)
        if rid is not None and isinstance(rid, (str, int)):
            reply["id"] = rid
        if self.check_replies:
            problems = wire.reply_errors(reply)
            if problems:
                reply = self._error(f"the bridge produced an invalid {kind} reply: " + "; ".join(problems[:5]),
                                    "this is a bug in saturn", "failed", problems)
                if rid is not None:
                    reply["id"] = rid
        return reply

    @staticmethod
    def _error(message: str, hint: str = "", code: str = "failed", details: Optional[list] = None) -> dict:
        error = {"message": message, "code": code}
        if hint:
            error["hint"] = hint
        if details:
            error["details"] = [str(d) for d in details]
        return {"v": wire.WIRE_VERSION, "ok": False, "error": error}

    @staticmethod
    def _check_version(request) -> None:
        if not isinstance(request, dict):
            raise RequestError("a bridge request must be a JSON object", code="invalid")
        version = request.get("v")
        if version != wire.WIRE_VERSION:
            raise RequestError(
                f"wire version mismatch: this Saturn bridge (saturn {__version__}) speaks version "
                f"{wire.WIRE_VERSION}, the request uses version {version!r}",
                hint="reload the page after upgrading, so that the panel and the saturn Python package match",
                code="version")

    # -- requests ------------------------------------------------------------------------------------------------
    def _on_hello(self, _req) -> dict:
        return {"wire_version": wire.WIRE_VERSION, "saturn_version": __version__, "pid": os.getpid(),
                "store": str(self.store.path), "device_kind": devices_mod.device_kind(self.detect()),
                "schema_version": self.store.schema_version()}

    def _on_devices(self, req) -> dict:
        refresh = bool(req.get("refresh"))
        if "declared" in req and int(req["declared"]) != devices_mod.declared_gpus():
            devices_mod.set_declared_gpus(int(req["declared"]))
            refresh = True
        backend = get_backend(req.get("backend") or None)
        if backend.name == "local":
            return backend.describe({"found": self.detect(refresh=refresh)})
        try:
            return backend.describe(req.get(backend.name))
        except Exception as err:  # noqa: BLE001 - the cluster's own reason, for the panel
            raise RequestError(f"{backend.name.upper()} backend: {err}", hint="fix the cluster setup, or set the "
                               "backend to local in Settings > Saturn", code="failed") from None

    def _on_tasks(self, _req) -> dict:
        return {"tasks": [{**row["spec"], "created_at": row["created_at"], "updated_at": row["updated_at"]}
                          for row in self.store.list_tasks()]}

    def _on_unregister(self, req) -> dict:
        return {"removed": self.store.delete_task(req["name"])}

    def _on_techniques(self, _req) -> dict:
        return {"techniques": [{"name": name, "description": t.description or "", "builtin": name in BUILTIN_NAMES
                                and type(t).__module__.startswith("saturn."), "min_gpus": t.min_gpus,
                                "max_gpus": t.max_gpus} for name, t in list_techniques(self.store).items()]}

    def _on_profile(self, req) -> dict:
        options = {k: req[k] for k in ("trial_timeout", "max_parallel", "use_cache", "warmup", "measure",
                                        "measure_s", "techniques") if req.get(k) is not None}
        names = req.get("names")
        with self._lock:
            if self._run is not None and self._run.running:
                raise RequestError(f"profiling is already running (run {self._run.run_id})",
                                   hint="wait for it, or send cancel_profile", code="busy")
            backend = get_backend(req.get("backend") or None)
            if backend.name == "local":
                profiler = Profiler(store=self.store, devices=self.detect(), **options)
            else:
                profiler = backend.profiler(self.store, req.get(backend.name), **options)
            run = _ProfileRun(profiler.run_id)
            profiler.cancel = run.cancel
            profiler.progress = lambda info: setattr(run, "progress", info)
            profiler.plan(names)  # fails now (unknown task, no devices) rather than in the thread
            self._run = run

        def work():
            try:
                run.instance = profiler.run(names)
            except Exception as err:  # noqa: BLE001
                run.error = f"{type(err).__name__}: {err}"
                self.store.emit("profile.failed", {"run_id": run.run_id, "error": run.error})

        if req.get("wait"):
            work()
            if run.error:
                raise RequestError(f"profiling failed: {run.error}")
            return {"run_id": run.run_id, "started": True, "instance": run.instance}
        run.thread = threading.Thread(target=work, name=f"saturn-profile-{run.run_id}", daemon=True)
        run.thread.start()
        return {"run_id": run.run_id, "started": True}

    def _on_cancel_profile(self, req) -> dict:
        run = self._run
        if run is None or not run.running or (req.get("run_id") and req["run_id"] != run.run_id):
            return {"cancelled": False, "run_id": run.run_id if run else None}
        run.cancel.set()
        run.thread.join(timeout=30)
        return {"cancelled": True, "run_id": run.run_id}

    def _on_profile_status(self, req) -> dict:
        run = self._run
        if run is None or (req.get("run_id") and req["run_id"] != run.run_id):
            return {"run_id": req.get("run_id"), "running": False, "progress": None, "instance": None, "error": None}
        return {"run_id": run.run_id, "running": run.running, "progress": run.progress, "instance": run.instance,
                "error": run.error}

    def _on_events_since(self, req) -> dict:
        events = self.store.events_since(int(req["since"]), int(req.get("limit", 500)))
        return {"events": events, "last_id": events[-1]["id"] if events else max(int(req["since"]),
                                                                                   self.store.last_event_id())}

    def _on_plan_save(self, req) -> dict:
        plan = req["plan"]
        if req.get("instance") is not None:
            problems = validate_instance(req["instance"]) or validate_plan(plan, req["instance"])
            if problems:
                raise RequestError("the plan is not valid: " + "; ".join(problems[:5]), code="invalid",
                                   details=problems)
        name = req.get("name") or plan.get("instance") or "plan"
        return {"plan_id": self.store.save_plan(name, plan)}

    def _on_plans(self, req) -> dict:
        return {"plans": self.store.list_plans(with_docs=bool(req.get("with_docs")))}

    def _on_jobs(self, _req) -> dict:
        return {"jobs": JobStore(self.store).list()}

    def _on_instance(self, _req) -> dict:
        return {"instance": self.store.latest_instance(), "last_event_id": self.store.last_event_id()}

    def _on_run_config(self, _req) -> dict:
        return {"early_stopping": early_stopping_mod.early_stopping(store=self.store)}

    def _on_results(self, req) -> dict:
        return results_mod.summary(self.store, req.get("run_id"))

    def _on_history(self, req) -> dict:
        run_id = req.get("run_id") or results_mod.latest_run(self.store)
        if run_id is None:
            return {"run_id": None, "points": []}
        return {"run_id": run_id, "points": self.store.metrics(job=req.get("job"), run_id=run_id,
                                                               since=int(req.get("since") or 0))}


_default: Optional[BridgeService] = None


def default_service() -> BridgeService:
    global _default
    if _default is None:
        _default = BridgeService()
    return _default
