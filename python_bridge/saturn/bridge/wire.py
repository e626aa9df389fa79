"""The bridge's wire protocol: one JSON Schema (``schema/wire/bridge.schema.json``, installed as
``saturn/wire_schema/bridge.schema.json``), checked here with jsonschema. Errors name the field:
``names.0: 3 is not of type 'string'``."""
from __future__ import annotations

from functools import lru_cache

import jsonschema

from ..core.schema import wire_schema as schema

WIRE_VERSION = 1
COMM_TARGET = "saturn.bridge"


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
