import multiprocessing as mp

from saturn.core.jobs import JobStore
from saturn.core.store import SCHEMA_VERSION, Store


def _writer(path, worker, n):
    store = Store(path)
    for i in range(n):
        store.emit("plan.saved", {"worker": worker, "i": i})
        if i % 10 == 0:
            store.put_task(f"w{worker}-{i}", {"name": f"w{worker}-{i}"}, b"x", "sig")
    store.close()


def test_schema_is_versioned(tmp_path):
    store = Store(tmp_path / "s.db")
    assert store.schema_version() == SCHEMA_VERSION
    store.close()
    again = Store(tmp_path / "s.db")  # re-opening does not re-apply migrations
    assert again.schema_version() == SCHEMA_VERSION


def test_several_processes_write_at_once(tmp_path):
    path = str(tmp_path / "s.db")
    Store(path).emit("plan.saved", {"start": True})
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w, 40)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = Store(path)
    events = store.events_since(0, limit=5000)
    writes = [e for e in events if e["kind"] == "plan.saved" and "worker" in e["data"]]
    assert len(writes) == 160
    ids = [e["id"] for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for w in range(4):  # each writer's own events arrive in its order
        mine = [e["data"]["i"] for e in writes if e["data"]["worker"] == w]
        assert mine == list(range(40))
    assert len(store.list_tasks()) == 16


def test_the_store_records_only_the_event_kinds_the_wire_schema_names(tmp_path):
    import pytest
    store = Store(tmp_path / "s.db")
    with pytest.raises(ValueError, match="unknown event kind 'made.up'.*wire schema"):
        store.emit("made.up", {})
    assert store.events_since(0) == []


def test_events_since_and_task_events(tmp_path):
    store = Store(tmp_path / "s.db")
    start = store.last_event_id()
    store.put_task("a", {"name": "a"}, b"p", "sig")
    store.put_task("a", {"name": "a", "x": 1}, b"p", "sig")
    store.delete_task("a")
    kinds = [e["kind"] for e in store.events_since(start)]
    assert kinds == ["task.registered", "task.updated", "task.unregistered"]
    assert store.events_since(store.last_event_id()) == []


def test_leases_are_exclusive(tmp_path):
    js = JobStore(Store(tmp_path / "s.db"))
    assert js.acquire([0, 1], "job-a")
    assert not js.acquire([1, 2], "job-b")
    assert js.acquire([2, 3], "job-b")
    js.release("job-a")
    assert js.acquire([0, 1], "job-b")
    assert {l["device"] for l in js.leases()} == {0, 1, 2, 3}


def test_profiles_plans_jobs(tmp_path):
    store = Store(tmp_path / "s.db")
    store.put_profile("k", signature="s", batch_size=8, technique="ddp", gpus=1, device_type="cpu", versions="{}",
                      result={"feasible": True, "step_time_s": 0.1})
    assert store.get_profile("k")["step_time_s"] == 0.1 and store.get_profile("nope") is None
    pid = store.save_plan("p", {"format": "spase-plan/1"})
    assert store.get_plan(pid)["doc"]["format"] == "spase-plan/1"
    js = JobStore(store)
    js.create("j1", "a", {"gpu_ids": [0]})
    js.set_state("j1", "waiting", expect=("pending",))
    assert [(j["id"], j["state"]) for j in js.list()] == [("j1", "waiting")]


def test_the_latest_profiled_instance_and_the_heartbeat_have_a_home(tmp_path):
    store = Store(tmp_path / "s.db")
    assert store.latest_instance() is None and store.heartbeat("r1") is None
    store.save_instance({"format": "spase-instance/1", "name": "a"}, "p1")
    store.save_instance({"format": "spase-instance/1", "name": "b"}, "p2")
    assert store.latest_instance()["name"] == "b"
    at = store.put_heartbeat("r1", 0.5, paused=True, owner="dispatcher")
    again = Store(tmp_path / "s.db").heartbeat("r1")  # another process's view
    assert again["at"] == at and again["poll_s"] == 0.5 and again["paused"] == 1


def test_every_event_kind_the_package_names_is_in_the_wire_schema():
    """The store refuses kinds the schema does not name: a kind written in the code and missing there would make
    that code path fail at run time (as `job.slurm` once did)."""
    import re
    from pathlib import Path
    from saturn.core.store import event_kinds
    package = Path(__file__).resolve().parents[1] / "saturn"
    named = set()
    for path in package.rglob("*.py"):
        named |= set(re.findall(r'"((?:job|jobs|task|lease|profile|plan|technique)\.[a-z_]+)"', path.read_text()))
    assert named and named <= event_kinds(), sorted(named - event_kinds())
