"""The wire schema (``schema/wire/bridge.schema.json`` in the repository, installed as
``saturn/wire_schema/bridge.schema.json``): the one source of the bridge's messages, the job states, their
transitions and the event kinds. Loaded here, at the bottom of the package, so that every layer can read it."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]
SCHEMA_CANDIDATES = (_PACKAGE / "wire_schema" / "bridge.schema.json",
                     _PACKAGE.parents[1] / "schema" / "wire" / "bridge.schema.json")


@lru_cache(maxsize=1)
def wire_schema() -> dict:
    for path in SCHEMA_CANDIDATES:
        if path.exists():
            return json.loads(path.read_text())
    raise FileNotFoundError("the Saturn wire schema is missing; looked in " + ", ".join(map(str, SCHEMA_CANDIDATES)))
