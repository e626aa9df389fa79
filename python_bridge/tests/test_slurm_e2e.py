"""A plan over two SLURM nodes, run through the real SLURM on this machine.

A real slurmctld and two slurmd "nodes" (scripts/fakecluster.sh: Debian's multiple-slurmd mode on 127.0.0.1, four
GPU GRES per node backed by mknod devices), the real lab server with SATURN_BACKEND=slurm, and the headless CLI
(`saturn run --backend slurm`). Checked from SLURM's own records (`scontrol show job`, the jobcomp file, the
environment SLURM gave each worker) and from the store:
- every job ran as a SLURM job on its planned node, on the GPU indexes Saturn leased, with no two jobs on one GPU
  of one node at once, and the plan used both nodes;
- profiling ran on one node only (both nodes are of one kind) and the instance covers both;
- a node whose slurmd dies mid-run (its job processes die with it): its jobs are re-planned onto the other node,
  resume from their checkpoints, and the workload completes.
Skipped, with the reason printed, only where SLURM cannot run here (packages missing or not root).
"""
from __future__ import annotations

import contextlib
import json
import re
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest
from conftest import FAKECLUSTER, cluster_env, fake_slurm_cluster, free_port

REPO = Path(__file__).resolve().parents[2]


_cluster_env = cluster_env


@pytest.fixture
def cluster(request):
    """A fresh 2-node cluster (4 GPUs each, or the GPU counts a test asks for with ``@pytest.mark.gpus("4 2")``)."""
    mark = request.node.get_closest_marker("gpus")
    with fake_slurm_cluster(mark.args[0] if mark else None, what="SLURM integration test") as d:
        yield d


def _register(bench, root: Path, steps: list[int], sleep_s: float) -> list[str]:
    return bench.register_tasks(root, steps, sleep_s)


def _jobcomp(d: Path) -> list[dict]:
    """SLURM's job completion records (jobcomp/filetxt), one dict per finished SLURM job."""
    from saturn.backends.slurm import parse_kv
    path = d / "log" / "jobcomp.txt"
    return [parse_kv(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def _jobcomp_of(d: Path, slurm_ids: set, timeout_s: float = 60.0) -> dict:
    """SLURM's jobcomp records by job id, once it holds every one of ``slurm_ids``: slurmctld writes a job's record
    after its batch script exits, which is after the worker recorded ``done`` in the store (so the CLI may be finished
    before SLURM is). Returns what is there at the deadline; the caller's asserts name what is missing."""
    deadline = time.monotonic() + timeout_s
    while True:
        comp = {r["JobId"]: r for r in _jobcomp(d)}
        if slurm_ids <= comp.keys() or time.monotonic() > deadline:
            return comp
        time.sleep(0.5)


def _t(s: str) -> float:
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S").timestamp()


def _run_cli(cli_built, port: int, log_path: Path) -> subprocess.Popen:
    return subprocess.Popen(["node", str(cli_built), "run", "--server", f"http://127.0.0.1:{port}", "--token", "tok",
                             "--backend", "slurm", "--time-limit", "2", "--introspection-interval", "0",
                             "--poll", "0.5", "--checkpoint-every", "1", "--prewarm", "0", "--max-retries", "2"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=open(log_path, "wb"))


@contextlib.contextmanager
def _lab_and_cli(bench, cli_built, root: Path, tmp_path: Path, d: Path):
    """The lab server with SATURN_BACKEND=slurm and `saturn run --backend slurm` against it; both stopped after."""
    from saturn.core.store import Store
    port = free_port()
    log = open(tmp_path / "server.log", "ab")
    server = bench.start_server(root, port, log, fake_gpus=4, extra_env={
        "SATURN_BACKEND": "slurm", "SLURM_CONF": str(d / "etc" / "slurm.conf")})
    store = Store(root / ".saturn" / "saturn.db")
    cli = None
    try:
        cli = _run_cli(cli_built, port, tmp_path / "cli.log")
        yield store, cli
    finally:
        bench.shut_down(cli, server, store, log)


def _check_placement(js, jobs: list[dict], d: Path) -> dict:
    """Every job: a SLURM job on its node and leased GPU ids; no two on one (node, GPU) at once (SLURM's times)."""
    from saturn.backends import slurm
    comp = _jobcomp_of(d, {str((j["info"].get("slurm") or {}).get("job_id")) for j in jobs})
    spans = []
    for j in jobs:
        info = j["info"]
        a, sj, w = info["assignment"], info.get("slurm") or {}, info.get("worker") or {}
        assert sj.get("job_id"), f"{j['id']} has no SLURM job id: {info.get('error')}"
        rec = comp.get(sj["job_id"])
        assert rec is not None, f"SLURM's jobcomp has no record of job {sj['job_id']} ({j['id']})"
        assert rec["JobState"] == "COMPLETED", (j["id"], rec["JobState"])
        assert rec["NodeList"] == a["node"], f"{j['id']} ran on {rec['NodeList']}, planned {a['node']}"
        assert rec["Name"] == f"saturn-{j['id']}"
        seen = slurm.job(sj["job_id"])  # scontrol keeps it for MinJobAge
        assert seen["node"] == a["node"] and seen["state"] == "COMPLETED"
        # the GPUs: SLURM's allocation (scontrol -d while it ran; the worker's SLURM_JOB_GPUS) = the lease
        assert w.get("node") == a["node"], (j["id"], w)
        assert sorted(w["slurm_gpus"]) == sorted(a["gpu_ids"]) == sorted(sj["gpu_ids"]), (j["id"], w, sj, a)
        assert len(a["gpu_ids"]) == a["gpus"]
        spans.append((j["id"], a["node"], set(a["gpu_ids"]), _t(rec["StartTime"]), _t(rec["EndTime"])))
    for i, x in enumerate(spans):
        for y in spans[i + 1:]:
            if x[1] == y[1] and x[2] & y[2]:
                assert not (x[3] < y[4] and y[3] < x[4]), f"{x} overlaps {y} on SLURM's clock"
    return comp


def test_six_jobs_across_two_slurm_nodes(bench, cli_built, cluster, tmp_path, monkeypatch):
    from saturn.core.jobs import JobStore
    from saturn.bridge.service import BridgeService
    root = tmp_path / "root"
    root.mkdir()
    # what the panel shows: the nodes as SLURM reports them
    monkeypatch.setenv("SATURN_ROOT", str(root))
    reply = BridgeService().handle({"v": 1, "type": "devices", "backend": "slurm"})
    assert reply["ok"] and reply["backend"] == "slurm", reply
    assert [(n["id"], n["gpus"], n["usable"]) for n in reply["nodes"]] == [("n1", 4, True), ("n2", 4, True)]
    names = _register(bench, root, [40, 60, 80, 40, 60, 80], 0.03)
    t0 = time.time()
    with _lab_and_cli(bench, cli_built, root, tmp_path, cluster) as (store, cli):
        out, _ = cli.communicate(timeout=400)
        wall = time.time() - t0
        assert cli.returncode == 0, f"CLI exit {cli.returncode}: {out[-1500:]!r}; see {tmp_path}/cli.log"
        summary = json.loads(out)
        jobs = JobStore(store).list(summary["run_id"])
        assert sorted(j["task"] for j in jobs) == sorted(names)
        assert all(j["state"] == "done" for j in jobs), {j["id"]: (j["state"], j["info"].get("error")) for j in jobs}
        assert {j["info"]["assignment"]["node"] for j in jobs} == {"n1", "n2"}, "the plan did not use both nodes"
        comp = _check_placement(JobStore(store), jobs, cluster)
        # profiling: one node of the (single) kind, reused for its twin
        profile_nodes = {r["NodeList"] for r in comp.values() if r["Name"] == "saturn-profile"}
        assert len(profile_nodes) == 1, profile_nodes
        # what the panel reads: the announced instance covers the whole cluster, not the profiled node only
        finished = [e for e in store.events_since(0, 100000) if e["kind"] == "profile.finished"]
        assert [n["id"] for n in finished[-1]["data"]["instance"]["cluster"]["nodes"]] == ["n1", "n2"]
        print(f"\n6 jobs on SLURM: wall {wall:.1f} s, planned makespan {summary.get('planned_makespan_s')}, "
              f"placement { {j['task']: (j['info']['assignment']['node'], j['info']['assignment']['gpu_ids']) for j in jobs} }, "
              f"profiled on {profile_nodes}")


def test_node_killed_mid_run_jobs_move_to_the_other_node(bench, cli_built, cluster, tmp_path):
    from saturn.core.jobs import JobStore
    root = tmp_path / "root"
    root.mkdir()
    names = _register(bench, root, [150, 150, 150, 150, 150, 150], 0.04)
    env = _cluster_env(cluster)
    with _lab_and_cli(bench, cli_built, root, tmp_path, cluster) as (store, cli):
        js = JobStore(store)
        # wait for a job on n1 that is running with a checkpoint
        deadline = time.monotonic() + 240
        victims: list[dict] = []
        while time.monotonic() < deadline:
            jobs = js.list()
            victims = [j for j in jobs if j["info"].get("assignment", {}).get("node") == "n1"
                       and j["state"] == "running" and (j["info"].get("checkpoint") or {}).get("step")]
            if victims:
                break
            assert cli.poll() is None, f"the CLI exited early ({cli.returncode}); see {tmp_path}/cli.log"
            time.sleep(0.3)
        else:
            pytest.fail(f"no job on n1 reached a checkpoint: {[(j['id'], j['state']) for j in js.list()]}")
        on_n1 = {j["id"] for j in js.list() if j["state"] != "done"
                 and j["info"].get("assignment", {}).get("node") == "n1"}
        kill_at = time.time()
        subprocess.run(["bash", str(FAKECLUSTER), "crash", "n1"], env=env, check=True, timeout=30)

        out, _ = cli.communicate(timeout=420)
        wall = time.time() - kill_at
        assert cli.returncode == 0, f"CLI exit {cli.returncode}: {out[-1500:]!r}; see {tmp_path}/cli.log"
        summary = json.loads(out)
        jobs = js.list(summary["run_id"])
        assert sorted(j["task"] for j in jobs) == sorted(names)
        assert all(j["state"] == "done" for j in jobs), {j["id"]: (j["state"], j["info"].get("error")) for j in jobs}
        moved = [j for j in jobs if j["id"] in on_n1]
        assert moved and all(j["info"]["assignment"]["node"] == "n2" for j in moved), \
            {j["id"]: j["info"]["assignment"] for j in moved}
        # the interrupted ones resumed from their checkpoint on n2 (SLURM says so too)
        for v in victims:
            j = next(x for x in jobs if x["id"] == v["id"])
            assert j["info"]["attempts"] >= 2, j["info"]["attempts"]
            assert j["info"].get("lost_node") == "n1"
            text = Path(j["info"]["log"]).read_text()
            assert re.search(r"resuming at step [1-9]", text), text[-2000:]
        after_kill = [j for j in jobs if (j["info"].get("slurm") or {}).get("submitted_at", 0) > kill_at]
        assert after_kill and all(j["info"]["worker"]["node"] == "n2" for j in after_kill)
        comp = {r["JobId"]: r for r in _jobcomp(cluster)}
        lost = [r for r in comp.values() if r["Name"].startswith("saturn-") and r["JobState"] == "NODE_FAIL"]
        assert lost and all(r["NodeList"] == "n1" for r in lost), lost
        print(f"\nnode n1 killed with {sorted(on_n1)} on it; all {len(jobs)} jobs done {wall:.1f} s later; "
              f"SLURM NODE_FAIL records: {[r['Name'] for r in lost]}")


@pytest.mark.gpus("4 2")
def test_heterogeneous_nodes_and_a_refusing_scheduler(cluster, tmp_path):
    """An 8+4-style cluster (here 4+2): one kind, profiled on the bigger node, both in the instance's cluster; and
    what SLURM refuses comes back as SLURM's own reason."""
    from saturn.backends import slurm
    from saturn.backends.slurm_profile import SlurmProfiler
    from saturn.core.store import Store
    nodes = slurm.nodes()
    assert [(n.id, n.gpus, n.usable) for n in nodes] == [("n1", 4, True), ("n2", 2, True)]
    assert nodes[0].kind == nodes[1].kind
    prof = SlurmProfiler(store=Store(tmp_path / "s.db"))
    kinds = prof._discover()
    assert [(rep.id, [m.id for m in members]) for _, rep, members in kinds] == [("n1", ["n1", "n2"])]
    with pytest.raises(slurm.SlurmError, match=r"sbatch .*failed.*[Ii]nvalid partition"):
        slurm.submit(name="x", node_id="n1", gpus=1, command=["true"], output=str(tmp_path / "x.log"),
                     options={"partition": "nope"})
    with pytest.raises(slurm.SlurmError, match=r"sbatch .*failed"):
        slurm.submit(name="x", node_id="n2", gpus=3, command=["true"], output=str(tmp_path / "x.log"))


def test_a_job_the_scheduler_kills_resumes_from_its_checkpoint(bench, cli_built, cluster, tmp_path):
    """`scancel` of a running job (what an admin or a preemption does): a crash to Saturn, retried from the
    checkpoint; the workload completes."""
    from saturn.backends import slurm
    from saturn.core.jobs import JobStore
    root = tmp_path / "root"
    root.mkdir()
    names = _register(bench, root, [150, 60, 60], 0.04)
    with _lab_and_cli(bench, cli_built, root, tmp_path, cluster) as (store, cli):
        js = JobStore(store)
        deadline = time.monotonic() + 240
        victim = None
        while time.monotonic() < deadline and victim is None:
            victim = next((j for j in js.list() if j["task"] == "job0" and j["state"] == "running"
                           and (j["info"].get("checkpoint") or {}).get("step")
                           and (j["info"].get("slurm") or {}).get("job_id")), None)
            assert cli.poll() is None, f"the CLI exited early ({cli.returncode}); see {tmp_path}/cli.log"
            time.sleep(0.3)
        assert victim is not None, [(j["id"], j["state"]) for j in js.list()]
        killed = victim["info"]["slurm"]["job_id"]
        slurm.cancel(killed)
        out, _ = cli.communicate(timeout=400)
        assert cli.returncode == 0, f"CLI exit {cli.returncode}: {out[-1500:]!r}; see {tmp_path}/cli.log"
        jobs = {j["task"]: j for j in js.list(json.loads(out)["run_id"])}
        assert sorted(jobs) == sorted(names) and all(j["state"] == "done" for j in jobs.values())
        j0 = jobs["job0"]
        assert j0["info"]["attempts"] >= 2 and j0["info"]["slurm"]["job_id"] != killed
        text = Path(j0["info"]["log"]).read_text()
        assert f"SLURM job {killed} ended CANCELLED" in text, text[-1500:]
        assert re.search(r"resuming at step [1-9]", text), text[-1500:]


def test_a_job_waiting_on_a_node_that_fails_is_placed_again_not_left_waiting(cluster, tmp_path):
    """A SLURM job that waits for its node (here: the node's GPUs all taken) when that node dies stays PENDING in
    SLURM for good; SLURM also puts back to PENDING a job whose node died during its launch. The runner must not
    watch it forever: it cancels it and hands the job back as interrupted by a lost node (preempted, lease
    released), so that a re-plan places it elsewhere. Real SLURM, real node crash."""
    import threading
    from saturn.backends import slurm
    from saturn.backends.slurm_runner import run_on_slurm
    from saturn.core.jobs import JobStore
    from saturn.core.store import Store
    from saturn.execution.runner import log_path
    env = _cluster_env(cluster)
    hog = subprocess.run(["sbatch", "--parsable", "-w", "n1", "--gres=gpu:4", "-o", "/dev/null", "--wrap", "sleep 600"],
                         capture_output=True, text=True, timeout=60, check=True, env=env).stdout.strip().split(";")[0]
    deadline = time.monotonic() + 120
    while (slurm.job(hog) or {}).get("state") != "RUNNING":
        assert time.monotonic() < deadline, f"the job filling n1 did not start: {slurm.job(hog)}"
        time.sleep(0.3)
    store = Store(tmp_path / "s.db")
    js = JobStore(store)
    js.create("j", "t", {"parallelism": "ddp", "gpus": 1, "node": "n1", "gpu_ids": [0]})
    result: dict = {}
    watcher = threading.Thread(target=lambda: result.update(run_on_slurm("j", store, raise_errors=False)), daemon=True)
    watcher.start()
    deadline = time.monotonic() + 60
    while not (js.get("j")["info"].get("slurm") or {}).get("job_id"):
        assert time.monotonic() < deadline and watcher.is_alive(), (result, js.get("j"))
        time.sleep(0.2)
    sid = js.get("j")["info"]["slurm"]["job_id"]
    assert (slurm.job(sid) or {}).get("state") == "PENDING"
    subprocess.run(["bash", str(FAKECLUSTER), "crash", "n1"], env=env, check=True, timeout=30)
    watcher.join(timeout=180)
    assert not watcher.is_alive(), f"still watching SLURM job {sid} ({slurm.job(sid)}) on a failed node"
    assert result["state"] == "preempted" and result["lost_node"] == "n1", result
    job = js.get("j")
    assert job["state"] == "preempted" and job["info"]["lost_node"] == "n1"
    assert not [lease for lease in js.leases() if lease["holder"] == "j"]
    assert (slurm.job(sid) or {"state": "gone"})["state"] in ("CANCELLED", "gone")
    assert f"SLURM job {sid} waits on node n1, which failed" in log_path(store, "j").read_text()
    store.close()
