"""Entry point of a Saturn child process: ``python -m saturn.core._child DIR`` (see ``saturn.core.procs``)."""
from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import traceback
from pathlib import Path


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(70)


def main(folder: str) -> None:
    base = Path(folder)
    meta = json.loads((base / "meta.json").read_text())
    for entry in meta["sys_path"]:
        if entry not in sys.path:
            sys.path.append(entry)
    if meta.get("parent"):
        threading.Thread(target=_watch_parent, args=(meta["parent"],), daemon=True).start()
    import cloudpickle
    try:
        module_name, func_name = meta["target"].split(":")
        func = getattr(importlib.import_module(module_name), func_name)
        payload = cloudpickle.loads((base / "payload.pkl").read_bytes())
        result = {"ok": True, "value": func(payload)}
    except BaseException as err:  # noqa: BLE001 - everything is reported to the parent
        result = {"ok": False, "type": type(err).__name__, "message": str(err),
                  "traceback": traceback.format_exc()}
        traceback.print_exc()
    tmp = base / "result.pkl.tmp"
    try:
        tmp.write_bytes(cloudpickle.dumps(result))
    except Exception as err:  # noqa: BLE001 - e.g. an unpicklable return value
        tmp.write_bytes(cloudpickle.dumps({"ok": False, "type": type(err).__name__,
                                           "message": f"cannot send the result back: {err}", "traceback": ""}))
    tmp.rename(base / "result.pkl")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # no interpreter teardown: torch/gloo/rpc threads can hang it


if __name__ == "__main__":
    main(sys.argv[1])
