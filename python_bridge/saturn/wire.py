"""The bridge's wire protocol: one JSON Schema (``schema/wire/bridge.schema.json``, installed as
``saturn/wire_schema/bridge.schema.json``), checked here with jsonschema. Errors name the field:
``names.0: 3 is not of type 'string'``."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import jsonschema

WIRE_VERSION = 1
REPLY_MIME = "application/vnd.saturn.reply+json"
COMM_TARGET = "saturn.bridge"
_HERE = Path(__file__).resolve().parent
SCHEMA_CANDIDATES = (_HERE / "wire_schema" / "bridge.schema.json",
                     _HERE.parent.parent / "schema" / "wire" / "bridge.schema.json")


@lru_cache(maxsize=1)
def schema() -> dict:
    for path in SCHEMA_CANDIDATES:
        if path.exists():
            return json.loads(path.read_text())
    raise FileNotFoundError("the Saturn wire schema is missing; looked in " + ", ".join(map(str, SCHEMA_CANDIDATES)))


@lru_cache(maxsize=64)
def _validator(definition: str) -> jsonschema.Draft7Validator:
    full = schema()
    return jsonschema.Draft7Validator({"definitions": full["definitions"], "$ref": f"#/definitions/{definition}"})


def errors_against(definition: str, message) -> list[str]:
    out = []
    for err in _validator(definition).iter_errors(message):
        if err.context:  # oneOf/anyOf: the closest branch names the real problem
            err = jsonschema.exceptions.best_match(err.context)
        path = ".".join(str(p) for p in err.absolute_path) or "(message)"
        out.append(f"{path}: {err.message}")
    return sorted(set(out))


def request_types() -> list[str]:
    return [name[len("request_"):] for name in schema()["definitions"] if name.startswith("request_")]


def request_errors(message) -> list[str]:
    if not isinstance(message, dict):
        return ["(message): a request must be a JSON object"]
    kind = message.get("type")
    if kind not in request_types():
        return [f"type: must be one of {', '.join(request_types())}, got {kind!r}"]
    return errors_against(f"request_{kind}", message)


def reply_errors(message) -> list[str]:
    if not isinstance(message, dict):
        return ["(message): a reply must be a JSON object"]
    if message.get("ok") is False:
        return errors_against("reply_error", message)
    kind = message.get("type")
    if f"reply_{kind}" not in schema()["definitions"]:
        return [f"type: no reply of type {kind!r}"]
    return errors_against(f"reply_{kind}", message)


def push_errors(message) -> list[str]:
    return errors_against("push", message)
