"""The SLURM backend's parts: parsing SLURM's output, node kinds and health, per-node leases (store migration,
lowest-free claim, adopting SLURM's GPU indexes), merging profiles of node kinds and the messages users get when
SLURM is missing need no cluster; the dispatcher's snapshot (which SLURM jobs still run) and the profile request's
partition are asked of a real 2-node cluster (scripts/fakecluster.sh, one for this module). Whole plans run on the
cluster in test_slurm_e2e.py."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time

import pytest

from saturn.backends import slurm
from saturn.core.jobs import JobStore
from saturn.core.store import MIGRATIONS, SCHEMA_VERSION, Store

from conftest import fake_slurm_cluster


@pytest.fixture(scope="module")
def cluster():
    """A real 2-node SLURM cluster (4 GPUs each) with SLURM_CONF pointing at it (conftest.fake_slurm_cluster)."""
    with fake_slurm_cluster(what="SLURM cluster tests") as d:
        yield d


def _sbatch(command: str) -> str:
    out = subprocess.run(["sbatch", "--parsable", "-o", "/dev/null", "--wrap", command], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    return out.strip().split(";")[0]


def _wait_slurm_state(job_id: str, states: tuple, timeout_s: float = 120) -> str:
    deadline = time.monotonic() + timeout_s
    state = None
    while time.monotonic() < deadline:
        state = (slurm.job(job_id) or {}).get("state")
        if state in states:
            return state
        time.sleep(0.3)
    raise AssertionError(f"SLURM job {job_id} is {state}, not {states}")


def test_scontrol_lines_parse_into_nodes_and_jobs():
    line = ("NodeName=n1 Arch=x86_64 CoresPerSocket=4 CPUAlloc=0 CPUTot=4 AvailableFeatures=(null) "
            "Gres=gpu:a100:8(S:0-1) NodeAddr=127.0.0.1 RealMemory=4000 State=MIXED+DRAIN Partitions=main,gpu "
            "Reason=bad fan [root@2026-11-26T10:00:00]")
    kv = slurm.parse_kv(line)
    assert kv["NodeName"] == "n1" and kv["Gres"] == "gpu:a100:8(S:0-1)" and kv["State"] == "MIXED+DRAIN"
    assert kv["Reason"] == "bad fan [root@2026-11-26T10:00:00]"  # values with spaces run to the next key
    assert slurm._gpu_gres("gpu:a100:8(S:0-1)") == (8, "a100")
    assert slurm._gpu_gres("shard:8,gpu:4") == (4, "")
    assert slurm._gpu_gres("(null)") == (0, "")
    assert slurm.gpu_idx("gpu:2(IDX:0-1)") == [0, 1]
    assert slurm.gpu_idx("gpu:a100:3(IDX:0,2-3)") == [0, 2, 3]
    assert slurm.gpu_idx("gpu:0") == []


@pytest.mark.parametrize("state,usable", [
    ("idle", True), ("mixed", True), ("allocated", True), ("idle*", False), ("down+not_responding", False),
    ("allocated+not_responding", False), ("mixed+drain", False), ("drained", False), ("down", False),
    ("idle+completing", True)])
def test_node_health_from_its_state(state, usable):
    assert slurm.Node("n1", 4, state).usable is usable


def test_twins_share_a_kind_and_gpu_count_does_not_split_kinds():
    a = slurm.Node("n1", 8, "idle", cpus=32, gpu_type="a100", memory_mb=256000)
    b = slurm.Node("n2", 4, "idle", cpus=32, gpu_type="a100", memory_mb=256000)
    c = slurm.Node("n3", 4, "idle", cpus=32, gpu_type="v100", memory_mb=256000)
    assert a.kind == b.kind != c.kind


def test_missing_slurm_commands_say_what_to_install(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(slurm.SlurmError, match=r"missing .*sinfo.*install slurm-client.*SATURN_BACKEND=local"):
        slurm.nodes()
    assert slurm.node_states(max_age_s=0) == []  # the dispatcher's snapshot does not fail on it


def test_backend_choice(monkeypatch):
    from saturn.backends import backend_name, get_backend
    monkeypatch.delenv("SATURN_BACKEND", raising=False)
    assert backend_name({}) == "local"
    monkeypatch.setenv("SATURN_BACKEND", "slurm")
    assert backend_name(None) == "slurm" and get_backend(None).name == "slurm"
    assert backend_name({"backend": "local"}) == "local"  # the job's own setting wins
    with pytest.raises(ValueError, match="unknown backend 'k8s'"):
        backend_name({"backend": "k8s"})


def test_a_version_1_store_migrates_its_leases_to_node0(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)  # a store as version 1 of saturn left it
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for sql in MIGRATIONS[1]:
        conn.execute(sql)
    conn.execute("INSERT INTO schema_version VALUES (1)")
    conn.execute("INSERT INTO leases (device, holder, pid, acquired_at) VALUES (3, 'old-job', NULL, 1.0)")
    conn.commit()
    conn.close()
    store = Store(path)
    js = JobStore(store)
    assert store.schema_version() == SCHEMA_VERSION >= 2
    assert [(l["node"], l["device"], l["holder"]) for l in js.leases()] == [("node0", 3, "old-job")]
    # GPU 3 of another node is another lease
    assert js.acquire([3], "new-job", node="n2")
    assert not js.acquire([3], "new-job")
    store.close()


def _job(js: JobStore, job_id: str, node: str, ids: list[int]):
    js.create(job_id, "t", {"parallelism": "ddp", "gpus": len(ids), "node": node, "gpu_ids": ids})


def test_claim_takes_the_lowest_free_ids_of_its_node_like_slurm(tmp_path):
    js = JobStore(Store(tmp_path / "s.db"))
    _job(js, "a", "n1", [2, 3])
    _job(js, "b", "n1", [0])
    _job(js, "c", "n2", [3])
    outcome, a = js.claim("a", 1, lowest_free_of=4, detached=True)
    assert outcome == "claimed"
    assert a["info"]["assignment"]["gpu_ids"] == [0, 1] and a["info"]["assignment"]["planned_gpu_ids"] == [2, 3]
    outcome, b = js.claim("b", 1, lowest_free_of=4, detached=True)
    assert b["info"]["assignment"]["gpu_ids"] == [2]
    outcome, c = js.claim("c", 1, lowest_free_of=4, detached=True)
    assert c["info"]["assignment"]["gpu_ids"] == [0]  # node n2's GPU 0 is not n1's
    assert {(l["node"], l["device"]): l["holder"] for l in js.leases()} == {
        ("n1", 0): "a", ("n1", 1): "a", ("n1", 2): "b", ("n2", 0): "c"}
    assert all(l["pid"] is None for l in js.leases())  # detached: no pid to be broken by


def test_the_lease_follows_the_gpus_slurm_gave(tmp_path):
    store = Store(tmp_path / "s.db")
    js = JobStore(store)
    _job(js, "a", "n1", [0])
    _job(js, "b", "n1", [1])
    js.claim("a", 1, lowest_free_of=4, detached=True)
    js.claim("b", 1, lowest_free_of=4, detached=True)
    # SLURM started b first and gave it GPU 0, and a GPU 1
    js.adopt_devices("b", [0])
    js.adopt_devices("a", [1])
    assert {l["device"]: l["holder"] for l in js.leases()} == {0: "b", 1: "a"}
    assert js.get("b")["info"]["assignment"]["gpu_ids"] == [0]
    assert js.get("a")["info"]["assignment"]["gpu_ids"] == [1]
    kinds = [e["kind"] for e in store.events_since(0, 1000)]
    assert kinds.count("lease.acquired") == 4 and kinds.count("lease.released") == 2


def test_a_lease_of_a_job_that_is_over_does_not_block_others(tmp_path):
    js = JobStore(Store(tmp_path / "s.db"))
    _job(js, "a", "n1", [0])
    _job(js, "b", "n1", [0])
    js.claim("a", 1, detached=True)
    js.set_state("a", "done", finished_at=time.time())  # its kernel died before releasing
    outcome, _ = js.claim("b", 1, detached=True)
    assert outcome == "claimed"
    assert [l["holder"] for l in js.leases()] == ["b"]


def test_profiles_of_two_node_kinds_merge_conservatively():
    from saturn.backends.slurm_profile import _merge
    big = slurm.Node("big", 8, "idle", gpu_type="a100")
    small = slurm.Node("small", 4, "idle", gpu_type="v100")
    opt = lambda p, g, r: {"parallelism": p, "gpus": g, "runtime_s": r}  # noqa: E731
    inst_big = {"jobs": [{"id": "j", "options": [opt("ddp", 2, 10), opt("ddp", 8, 4), opt("fsdp", 2, 9)]}],
                "unschedulable": [], "saturn": {}}
    inst_small = {"jobs": [{"id": "j", "options": [opt("ddp", 2, 14)]}], "unschedulable": [], "saturn": {}}
    merged = _merge([(big.kind, big, [big], inst_big), (small.kind, small, [small], inst_small)], [big, small])
    options = {(o["parallelism"], o["gpus"]): o["runtime_s"] for o in merged["jobs"][0]["options"]}
    # ddp-2: both kinds ran it, the slower counts; ddp-8: only the big kind can hold it; fsdp-2 failed on the small
    assert options == {("ddp", 2): 14, ("ddp", 8): 4}
    assert merged["cluster"] == {"nodes": [{"id": "big", "gpus": 8}, {"id": "small", "gpus": 4}]}
    assert [k["profiled_on"] for k in merged["saturn"]["slurm"]["kinds"]] == ["big", "small"]


def test_the_panel_is_told_clearly_when_slurm_is_absent(saturn_env, monkeypatch):
    from saturn.bridge import wire
    from saturn.bridge.service import BridgeService
    monkeypatch.setenv("PATH", "/nonexistent")
    service = BridgeService()
    reply = service.handle({"v": 1, "type": "devices", "backend": "slurm"})
    assert not reply["ok"]
    assert "SLURM backend" in reply["error"]["message"] and "missing" in reply["error"]["message"]
    assert "backend to local" in reply["error"]["hint"]
    local = service.handle({"v": 1, "type": "devices", "backend": "local"})
    assert local["ok"] and local["backend"] == "local" and wire.reply_errors(local) == []
    prof = service.handle({"v": 1, "type": "profile", "backend": "slurm", "slurm": {"partition": "gpu"}})
    assert not prof["ok"] and "sinfo" in prof["error"]["message"]


def test_the_cli_profile_request_profiles_on_the_partition_it_names(cluster, tmp_path, monkeypatch):
    """`saturn run`'s profile request (bridge request "profile") profiles on the partition it names, not the default:
    on the real cluster, a partition holding only n2 gives an instance of n2 alone, an unknown one fails naming it."""
    from saturn.bridge.service import BridgeService
    subprocess.run(["scontrol", "create", "PartitionName=big-gpus", "Nodes=n2", "State=UP"], check=True,
                   capture_output=True, timeout=60)
    monkeypatch.setenv("SATURN_FAKE_GPUS", "4")
    monkeypatch.setenv("SATURN_ROOT", str(tmp_path))
    service = BridgeService(Store(tmp_path / "s.db"))

    def profile(partition):
        return service.handle({"v": 1, "type": "profile", "backend": "slurm", "slurm": {"partition": partition},
                               "wait": True})

    reply = profile("big-gpus")
    assert reply["ok"], reply
    assert reply["instance"]["cluster"] == {"nodes": [{"id": "n2", "gpus": 4}]}
    reply = profile("main")
    assert reply["ok"] and [n["id"] for n in reply["instance"]["cluster"]["nodes"]] == ["n1", "n2"], reply
    reply = profile("no-such-part")
    assert not reply["ok"] and "no-such-part" in reply["error"]["message"], reply


def _liveness_calls(calls: list) -> list:
    """The SLURM commands a snapshot ran about jobs (the nodes' states, `scontrol show node`, are another question)."""
    return [c[0] for c in calls if c[:3] != ["scontrol", "show", "node"]]


def test_a_snapshot_asks_slurm_once_about_all_orphaned_slurm_jobs(cluster, tmp_path, monkeypatch):
    """After a server restart every SLURM job's kernel is gone: one squeue per snapshot says whose worker still runs
    (listed and not final), not one scontrol per job; when SLURM cannot answer, every such job counts as alive. The
    SLURM jobs are real: one still running, one completed."""
    from saturn.bridge.service import BridgeService
    running, finished = _sbatch("sleep 600"), _sbatch("true")
    try:
        _wait_slurm_state(running, ("RUNNING",))
        _wait_slurm_state(finished, ("COMPLETED",))
        store = Store(tmp_path / "s.db")
        js = JobStore(store)
        for i, (name, slurm_id) in enumerate([("a", running), ("b", finished), ("c", finished)]):
            _job(js, name, "n1", [i])
            outcome, _ = js.claim(name, 1, lowest_free_of=4, detached=True)
            assert outcome == "claimed"
            # its kernel (pid 1 with another start time: not this process) is gone; its SLURM job was submitted
            js.update_info(name, pid=1, pid_start=1.0, slurm={"job_id": slurm_id}, backend="slurm")
        js.set_state("c", "done", expect=("running",))  # done: SLURM is not asked about it
        calls = []
        real_run = slurm._run
        monkeypatch.setattr(slurm, "_run", lambda args, *a, **k: calls.append(list(args)) or real_run(args, *a, **k))
        service = BridgeService(store)
        snap = service.handle({"v": 1, "type": "jobs_snapshot"})
        assert {j["id"]: j["alive"] for j in snap["jobs"]} == {"a": True, "b": False, "c": False}
        assert _liveness_calls(calls) == ["squeue"], calls
        # SLURM cannot answer (its controller unreachable): every unsettled SLURM job counts as alive
        unreachable = cluster / "etc" / "unreachable.conf"
        conf = (cluster / "etc" / "slurm.conf").read_text().splitlines()
        unreachable.write_text("\n".join("SlurmctldPort=1" if l.startswith("SlurmctldPort=") else l for l in conf))
        monkeypatch.setenv("SLURM_CONF", str(unreachable))
        calls.clear()
        snap = service.handle({"v": 1, "type": "jobs_snapshot"})
        assert _liveness_calls(calls) == ["squeue"], calls
        assert {j["id"]: j["alive"] for j in snap["jobs"]} == {"a": True, "b": True, "c": False}
    finally:
        subprocess.run(["scancel", running], capture_output=True, timeout=60,
                       env={**os.environ, "SLURM_CONF": str(cluster / "etc" / "slurm.conf")})
