import jsonschema
import pytest

import saturn
import tinymodels as tm
from saturn.bridge import wire
from saturn.bridge.service import BridgeService


def test_schema_is_draft07_and_covers_every_request():
    jsonschema.Draft7Validator.check_schema(wire.schema())
    assert {"hello", "devices", "tasks", "profile", "cancel_profile", "events_since", "plan_save",
            "jobs"} <= set(wire.request_types())
    assert wire.schema()["wire_version"] == wire.WIRE_VERSION == 1


def test_round_trips(saturn_env):
    service = BridgeService()
    hello = service.handle({"v": 1, "type": "hello", "id": "r1"})
    assert hello["ok"] and hello["id"] == "r1" and hello["wire_version"] == 1 and hello["device_kind"] == "cpu"
    devices = service.handle({"v": 1, "type": "devices", "id": 2})
    assert [d["id"] for d in devices["devices"]] == [0, 1] and devices["id"] == 2
    start = service.handle({"v": 1, "type": "events_since", "since": 0})["last_id"]
    saturn.register(saturn.Task("mlp", model=tm.make_mlp, data=tm.mlp_data, batch_size=8, steps=10))
    assert [t["name"] for t in service.handle({"v": 1, "type": "tasks"})["tasks"]] == ["mlp"]
    events = service.handle({"v": 1, "type": "events_since", "since": start})
    assert [e["kind"] for e in events["events"]] == ["task.registered"]
    techniques = {t["name"]: t for t in service.handle({"v": 1, "type": "techniques"})["techniques"]}
    assert techniques["ddp"]["builtin"] and techniques["spilling"]["max_gpus"] == 1
    assert service.handle({"v": 1, "type": "jobs"})["jobs"] == []
    for reply in (hello, devices, events):
        assert wire.reply_errors(reply) == []


def test_profile_wait_status_and_plan_save(saturn_env):
    service = BridgeService()
    saturn.register(saturn.Task("mlp", model=tm.make_mlp, data=tm.mlp_data, batch_size=8, steps=10, gpu_range=1))
    reply = service.handle({"v": 1, "type": "profile", "wait": True, "techniques": ["spilling"]})
    assert reply["ok"], reply
    instance = reply["instance"]
    assert [(o["parallelism"], o["gpus"]) for o in instance["jobs"][0]["options"]] == [("spilling", 1)]
    status = service.handle({"v": 1, "type": "profile_status"})
    assert status["running"] is False and status["instance"]["name"] == instance["name"]
    runtime = instance["jobs"][0]["options"][0]["runtime_s"]
    plan = {"format": "spase-plan/1", "instance": instance["name"], "makespan_s": runtime,
            "jobs": [{"id": "mlp", "parallelism": "spilling", "gpus": 1, "node": "node0", "gpu_ids": [0],
                      "start_s": 0.0, "end_s": runtime}]}
    saved = service.handle({"v": 1, "type": "plan_save", "plan": plan, "instance": instance, "name": "p1"})
    assert saved["ok"] and saved["plan_id"] >= 1
    bad = dict(plan, jobs=[dict(plan["jobs"][0], gpu_ids=[5])])
    refused = service.handle({"v": 1, "type": "plan_save", "plan": bad, "instance": instance})
    assert not refused["ok"] and "jobs[0].gpu_ids" in refused["error"]["message"]
    assert [p["name"] for p in service.handle({"v": 1, "type": "plans"})["plans"]] == ["p1"]


def test_background_profile_and_cancel(saturn_env):
    service = BridgeService()
    saturn.register(saturn.Task("mlp", model=tm.make_mlp, data=tm.mlp_data, batch_size=8, steps=10))
    started = service.handle({"v": 1, "type": "profile", "names": ["mlp"]})
    assert started["ok"] and started["started"]
    busy = service.handle({"v": 1, "type": "profile"})
    assert not busy["ok"] and busy["error"]["code"] == "busy"
    cancelled = service.handle({"v": 1, "type": "cancel_profile", "run_id": started["run_id"]})
    assert cancelled["ok"] and cancelled["cancelled"]
    status = service.handle({"v": 1, "type": "profile_status"})
    assert status["running"] is False and status["instance"]["saturn"]["cancelled"] is True


@pytest.mark.parametrize("request_, fragment", [
    ({"v": 2, "type": "hello"}, "version 1, the request uses version 2"),
    ({"type": "hello"}, "uses version None"),
    ({"v": 1, "type": "nope"}, "type: must be one of"),
    ({"v": 1, "type": "events_since"}, "'since' is a required property"),
    ({"v": 1, "type": "profile", "names": [3]}, "names.0: 3 is not of type 'string'"),
    ({"v": 1, "type": "profile", "names": ["missing"]}, "no registered task named 'missing'"),
])
def test_errors_are_clear(saturn_env, request_, fragment):
    reply = BridgeService().handle(request_)
    assert reply["ok"] is False and reply["v"] == 1
    assert fragment in reply["error"]["message"]
    assert wire.reply_errors(reply) == []
    if request_.get("v") == 2:
        assert reply["error"]["code"] == "version" and reply["error"]["hint"]
