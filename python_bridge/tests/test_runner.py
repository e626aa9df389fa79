"""The runner on real SQLite, real child processes and real kernels: leases, exact resume, faults, reconcile."""
import multiprocessing as mp
import os
import time

import pytest
import torch
from torch import nn

from saturn.core.checkpoint import CheckpointDir
from saturn.core.jobs import JobStore
from saturn.control.reconcile import reconcile
from saturn.runner import LeaseUnavailable, log_path, run_job, weights_path
from saturn.core.store import Store
from saturn.core.task import Task
from tinymodels import Pause  # steps slow enough to interrupt (SATURN_TEST_STEP_DELAY)

TESTS = os.path.dirname(os.path.abspath(__file__))
BRIDGE_PATHS = [os.path.dirname(TESTS), TESTS]  # what a kernel or child needs on its path to load these tasks


# -- tiny tasks (module level: kernels and child processes import them from here) ------------------------------


def make_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.2), Pause(), nn.Linear(16, 3))


def shuffled_data(batch_size):
    g = torch.Generator().manual_seed(3)
    x, y = torch.randn(40, 8, generator=g), torch.randint(0, 3, (40,), generator=g)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch_size, shuffle=True)


def exploding_data(batch_size):
    raise ValueError("the dataset file is missing (simulated)")


def register(store, name, steps=30, data=shuffled_data, **hints):
    task = Task(name, model=make_model, data=data, batch_size=8, steps=steps, optimizer="adam", lr=0.01,
                hints={"lr_scheduler": {"type": "StepLR", "step_size": 7, "gamma": 0.5}, **hints})
    store.put_task(name, task.spec(), task.payload(), "sig")
    return task


def make_job(store, job_id, task, ids, technique="spilling", **settings):
    settings.setdefault("checkpoint_every_steps", 5)
    return JobStore(store).create(job_id, task, {"parallelism": technique, "gpus": len(ids), "gpu_ids": ids,
                                                 "knobs": {"partitions": 1}}, run_id="r1", settings=settings)


def weights(store, job_id):
    return torch.load(weights_path(store, job_id))


def same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture
def store(tmp_path, monkeypatch):
    from saturn.core import devices
    monkeypatch.setenv("SATURN_FAKE_GPUS", "4")
    monkeypatch.setenv("SATURN_DB", str(tmp_path / "main" / "saturn.db"))
    devices._cache["key"] = None
    s = Store(tmp_path / "main" / "saturn.db")
    yield s
    s.close()


def reference_weights(tmp_path, steps=30):
    ref = Store(tmp_path / "ref" / "saturn.db")
    register(ref, "t", steps=steps)
    make_job(ref, "t-ref", "t", [0])
    assert run_job("t-ref", ref)["state"] == "done"
    return weights(ref, "t-ref")


# -- leases ------------------------------------------------------------------------------------------------------
def _race(path, job_id, barrier, results, done):
    js = JobStore(Store(path))
    barrier.wait()
    outcome, _ = js.claim(job_id, os.getpid())
    results.put((job_id, outcome))
    done.wait(60)  # keep holding until the test has read both outcomes


def test_two_processes_racing_for_the_same_gpus_exactly_one_wins(store):
    register(store, "t")
    ctx = mp.get_context("spawn")
    for round_ in range(3):
        a, b = f"a{round_}", f"b{round_}"
        make_job(store, a, "t", [1, 2])
        make_job(store, b, "t", [2, 3])
        barrier, results, done = ctx.Barrier(2), ctx.Queue(), ctx.Event()
        procs = [ctx.Process(target=_race, args=(str(store.path), j, barrier, results, done)) for j in (a, b)]
        for p in procs:
            p.start()
        outcomes = dict(results.get(timeout=60) for _ in procs)
        done.set()
        for p in procs:
            p.join(30)
        assert sorted(outcomes.values()) == ["claimed", "no_lease"], outcomes
        loser = a if outcomes[a] == "no_lease" else b
        assert JobStore(store).get(loser)["state"] == "pending"  # the loser did not start


def test_runner_refuses_to_start_without_its_leases(store):
    register(store, "t")
    make_job(store, "j", "t", [0, 1])
    assert JobStore(store).acquire([1], "someone-else", os.getpid())
    with pytest.raises(LeaseUnavailable):
        run_job("j", store)
    assert JobStore(store).get("j")["state"] == "pending"
    JobStore(store).release("someone-else")
    assert run_job("j", store)["state"] == "done"


def test_a_lease_of_a_dead_process_is_broken(store):
    ctx = mp.get_context("spawn")
    p = ctx.Process(target=time.sleep, args=(0,))
    p.start()
    p.join()
    js = JobStore(store)
    assert js.acquire([0], "ghost", p.pid)
    assert js.acquire([0], "alive", os.getpid())
    assert [(l["device"], l["holder"]) for l in js.leases()] == [(0, "alive")]


# -- running, checkpoints, exact resume -------------------------------------------------------------------------
def test_job_runs_to_done_with_progress_log_weights_and_released_leases(store, tmp_path):
    register(store, "t")
    make_job(store, "j", "t", [2])
    res = run_job("j", store)
    assert res["state"] == "done"
    job = JobStore(store).get("j")
    assert job["info"]["step"] == 30 and job["info"]["progress"]["step"] == 30
    assert set(job["info"]["progress"]) >= {"epoch", "loss", "throughput_steps_s", "eta_s"}
    assert job["info"]["lease_env"]["SATURN_CPU_DEVICES"] == "2"
    assert JobStore(store).leases() == []
    assert weights_path(store, "j").exists() and log_path(store, "j").exists()
    ckdir = CheckpointDir.for_job(store, "j")
    assert ckdir.steps() == [20, 25]  # every 5 steps, older ones pruned
    assert not [p for p in ckdir.folder.iterdir() if p.name.endswith(".tmp")]
    kinds = [e["kind"] for e in store.events_since(0, 5000)]
    assert "job.progress" in kinds and "lease.acquired" in kinds and "lease.released" in kinds
    assert run_job("j", store) == {"job": "j", "state": "done", "redone": False}  # nothing finished is redone


def test_pause_then_resume_gives_the_same_weights_as_an_uninterrupted_run(store, tmp_path, monkeypatch):
    want = reference_weights(tmp_path)
    register(store, "t")
    make_job(store, "j", "t", [0])
    monkeypatch.setenv("SATURN_TEST_STEP_DELAY", "0.01")
    js = JobStore(store)
    import threading
    out = {}
    th = threading.Thread(target=lambda: out.update(run_job("j", store)))
    th.start()
    while (js.get("j")["info"].get("checkpoint") or {}).get("step", 0) < 10:
        time.sleep(0.01)
    js.request_stop("j", "pause")
    th.join(60)
    assert out["state"] == "preempted"
    stopped_at = js.get("j")["info"]["step"]
    assert 10 <= stopped_at < 30
    monkeypatch.setenv("SATURN_TEST_STEP_DELAY", "0")
    assert run_job("j", store)["state"] == "done"
    assert f"resuming at step {stopped_at}" in log_path(store, "j").read_text()  # not from scratch
    assert same_weights(weights(store, "j"), want)
    states = [h[1] for h in js.get("j")["info"]["history"]]
    assert "checkpointing" in states and "preempted" in states and "resumed" in states and states[-1] == "done"


def test_a_job_that_raises_fails_with_its_traceback_and_frees_its_gpus(store):
    register(store, "bad", data=exploding_data)
    register(store, "good")
    make_job(store, "bad-1", "bad", [0, 1])
    make_job(store, "good-1", "good", [1])
    res = run_job("bad-1", store, raise_errors=False)
    assert res["state"] == "failed"
    job = JobStore(store).get("bad-1")
    assert "dataset file is missing" in job["info"]["error"]
    assert "Traceback" in job["info"]["traceback"] and "exploding_data" in job["info"]["traceback"]
    assert "dataset file is missing" in log_path(store, "bad-1").read_text()
    assert JobStore(store).leases() == []
    assert run_job("good-1", store)["state"] == "done"


def test_ddp_on_two_devices_runs_and_checkpoints(store):
    register(store, "t", steps=12)
    make_job(store, "d", "t", [2, 3], technique="ddp", checkpoint_every_steps=4)
    assert run_job("d", store)["state"] == "done"
    assert CheckpointDir.for_job(store, "d").steps() == [4, 8]
    assert JobStore(store).leases() == []


# -- reconcile ---------------------------------------------------------------------------------------------------
def test_reconcile_makes_interrupted_jobs_resumable_and_leaves_finished_ones(store):
    register(store, "t")
    make_job(store, "fin", "t", [0])
    run_job("fin", store)
    make_job(store, "lost", "t", [1])
    js = JobStore(store)
    ctx = mp.get_context("spawn")
    p = ctx.Process(target=time.sleep, args=(0,))
    p.start()
    p.join()
    js.set_state("lost", "waiting")
    js.set_state("lost", "running", pid=p.pid)
    js.acquire([1], "lost", p.pid)
    report = reconcile(store)
    assert report["interrupted"] == ["lost"] and report["finished"] == ["fin"]
    assert js.get("lost")["state"] == "preempted" and js.get("fin")["state"] == "done"
    assert js.leases() == []
    assert run_job("lost", store)["state"] == "done"


# -- a user technique of the older kind: only search + execute ---------------------------------------------------
def _execute_only_technique():
    import saturn
    from saturn.techniques import _loop

    class OldStyle(saturn.Technique):
        name = "old-style"
        max_gpus = 1

        def search(self, task, devices):
            return {"note": "plain"}

        def execute(self, task, devices, knobs, steps, checkpoint=None, on_step=None):
            model = task.build_model()
            opt = task.make_optimizer(model.parameters())
            start = _loop.load_checkpoint(checkpoint, model, opt)
            step = _loop.standard_step(task, model, opt, task.batches(), torch.device("cpu"))
            times, loss = _loop.timed_steps(steps, step, None, on_step)
            _loop.save_checkpoint(checkpoint, model, opt, start + steps)
            return saturn.ExecResult(steps=steps, step_times=times, peak_mem_bytes=1, last_loss=loss)
    return OldStyle


def test_a_technique_with_only_execute_trains_through_its_execute(store):
    from saturn.techniques import register_technique
    register_technique(_execute_only_technique(), store=store)
    register(store, "t", steps=12)
    JobStore(store).create("old", "t", {"parallelism": "old-style", "gpus": 1, "gpu_ids": [0],
                                        "knobs": {"note": "plain"}}, run_id="r1")
    assert run_job("old", store)["state"] == "done"
    info = JobStore(store).get("old")["info"]
    assert info["applied_knobs"] == {"note": "plain"} and info["progress"]["step"] == 12
    got = weights(store, "old")
    assert got.keys() == make_model().state_dict().keys()
    assert not same_weights(got, make_model().state_dict())


class FailsOnRankOne(nn.Module):
    """Raises in the process pinned to device 1 only (a data-parallel worker), fine on rank 0."""

    def forward(self, x):
        if os.environ.get("SATURN_ASSIGNED") == "1":
            raise ValueError("worker-only failure (simulated)")
        return x


def make_model_failing_on_rank_one():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), FailsOnRankOne(), nn.Linear(16, 3))


def test_a_failing_worker_rank_fails_the_job_with_its_error_instead_of_hanging(store, monkeypatch):
    monkeypatch.setenv("SATURN_DIST_TIMEOUT", "60")
    task = Task("w", model=make_model_failing_on_rank_one, data=shuffled_data, batch_size=8, steps=5)
    store.put_task("w", task.spec(), task.payload(), "sig")
    make_job(store, "wj", "w", [0, 1], technique="ddp")
    res = run_job("wj", store, raise_errors=False)
    assert res["state"] == "failed"
    error = JobStore(store).get("wj")["info"]["error"]
    assert "rank 1 failed" in error and "worker-only failure" in error
    assert JobStore(store).leases() == []
