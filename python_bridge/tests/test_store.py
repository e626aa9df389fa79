import multiprocessing as mp

from saturn.store import SCHEMA_VERSION, Store


def _writer(path, worker, n):
    store = Store(path)
    for i in range(n):
        store.emit("test.write", {"worker": worker, "i": i})
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
    Store(path).emit("start")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w, 40)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = Store(path)
    events = store.events_since(0, limit=5000)
    writes = [e for e in events if e["kind"] == "test.write"]
    assert len(writes) == 160
    ids = [e["id"] for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for w in range(4):  # each writer's own events arrive in its order
        mine = [e["data"]["i"] for e in writes if e["data"]["worker"] == w]
        assert mine == list(range(40))
    assert len(store.list_tasks()) == 16


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
    store = Store(tmp_path / "s.db")
    assert store.acquire_devices([0, 1], "job-a")
    assert not store.acquire_devices([1, 2], "job-b")
    assert store.acquire_devices([2, 3], "job-b")
    store.release_devices("job-a")
    assert store.acquire_devices([0, 1], "job-b")
    assert {l["device"] for l in store.leases()} == {0, 1, 2, 3}


def test_profiles_plans_jobs(tmp_path):
    store = Store(tmp_path / "s.db")
    store.put_profile("k", signature="s", batch_size=8, technique="ddp", gpus=1, device_type="cpu", versions="{}",
                      result={"feasible": True, "step_time_s": 0.1})
    assert store.get_profile("k")["step_time_s"] == 0.1 and store.get_profile("nope") is None
    pid = store.save_plan("p", {"format": "spase-plan/1"})
    assert store.get_plan(pid)["doc"]["format"] == "spase-plan/1"
    store.put_job("j1", "a", "queued")
    store.put_job("j1", "a", "running", {"gpus": [0]})
    assert [(j["id"], j["state"]) for j in store.list_jobs()] == [("j1", "running")]
