"""IPython adapter for the bridge: the ``saturn.bridge`` comm target, the one way the TypeScript side reaches Python.

The panel (or a dispatcher) opens a comm with target ``saturn.bridge``; each message's data is a wire request,
answered with one comm message (the reply). While the comm is open, new store events are pushed as
``{"v": 1, "type": "event", "event": {...}}`` (polled every ``SATURN_PUSH_INTERVAL`` seconds, default 0.5); the open
message may carry ``{"since": N}`` to start after event N, ``{"push": false}`` for no events (a dispatcher), or a
first request.

The comm manager is the kernel's (``kernel.comm_manager``) or, in newer ipykernels, the ``comm`` package's.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import Optional

from .service import default_service
from .wire import COMM_TARGET, WIRE_VERSION

_registered_with = None

#: A request that takes longer than this (seconds) is noted on stderr.
SLOW_REQUEST_S = 5.0


def comm_manager(ipython=None):
    kernel = getattr(ipython, "kernel", None)
    manager = getattr(kernel, "comm_manager", None)
    if manager is not None:
        return manager
    try:
        import comm  # the package newer ipykernels use
        return comm.get_comm_manager()
    except ImportError:
        return None


class BridgeChannel:
    """One open comm: requests in, replies and pushed events out."""

    def __init__(self, comm, since: Optional[int] = None, service=None, push: bool = True):
        self.comm = comm
        self.service = service or default_service()
        self.last_event = self.service.store.last_event_id() if since is None else int(since)
        self.interval = float(os.environ.get("SATURN_PUSH_INTERVAL", "0.5"))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._push_loop, name="saturn-bridge-push", daemon=True)
        comm.on_msg(self.on_msg)
        comm.on_close(self.on_close)
        if push:  # a dispatcher reads snapshots and wants no events
            self._thread.start()

    def on_msg(self, msg) -> None:
        data = msg.get("content", {}).get("data")
        started = time.monotonic()
        reply = self.service.handle(data)
        took = time.monotonic() - started
        if took > SLOW_REQUEST_S:  # in the server's log: why a page may have waited for an answer
            kind = data.get("type") if isinstance(data, dict) else None
            print(f"saturn bridge: the {kind!r} request took {took:.1f} s", file=sys.stderr, flush=True)
        self.comm.send(reply)

    def on_close(self, _msg=None) -> None:
        self._stop.set()

    def _push_loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                events = self.service.store.events_since(self.last_event, 200)
            except Exception:  # noqa: BLE001 - a busy store is tried again next round
                continue
            for event in events:
                self.comm.send({"v": WIRE_VERSION, "type": "event", "event": event})
                self.last_event = event["id"]


def _on_comm_open(comm, open_msg) -> None:
    data = (open_msg or {}).get("content", {}).get("data") or {}
    channel = BridgeChannel(comm, since=data.get("since") if isinstance(data, dict) else None,
                            push=not (isinstance(data, dict) and data.get("push") is False))
    if isinstance(data, dict) and "type" in data:  # a request carried by the open message
        comm.send(channel.service.handle(data))


def register_comm_target(ipython=None) -> bool:
    """Register ``saturn.bridge``; False (no error) outside a kernel, e.g. in a terminal IPython."""
    global _registered_with
    manager = comm_manager(ipython)
    if manager is None:
        return False
    manager.register_target(COMM_TARGET, _on_comm_open)
    _registered_with = manager
    return True


def unregister_comm_target() -> None:
    global _registered_with
    if _registered_with is not None:
        try:
            _registered_with.unregister_target(COMM_TARGET, _on_comm_open)
        except Exception:  # noqa: BLE001
            pass
        _registered_with = None
