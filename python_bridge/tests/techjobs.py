"""Helpers of the technique runner tests: a small residual task, profiling one technique, jobs, interruptions."""
import os
import signal
import subprocess
import sys
import threading
import time

import torch
from torch import nn

import saturn
import tinymodels as tm
from saturn.core.jobs import JobStore
from saturn.control.reconcile import reconcile
from saturn.runner import log_path, run_job, weights_path

TESTS = os.path.dirname(os.path.abspath(__file__))
STEPS, EVERY = 20, 4


Pause = tm.Pause  # steps slow enough to interrupt (SATURN_TEST_STEP_DELAY)


def make_model():
    torch.manual_seed(0)
    return nn.Sequential(*[tm.Residual(16, dropout=0.1) for _ in range(4)], Pause(), nn.Linear(16, 4))


def shuffled_data(batch_size):
    g = torch.Generator().manual_seed(7)
    x, y = torch.randn(48, 16, generator=g), torch.randint(0, 4, (48,), generator=g)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch_size, shuffle=True)


def register_task(name, gpus):
    """20 Adam steps (so the optimizer state matters) over a shuffled 6-batch epoch, dropout, an LR schedule."""
    saturn.register(saturn.Task(name, model=make_model, data=shuffled_data, batch_size=8, steps=STEPS,
                                optimizer="adam", lr=0.01, gpu_range=gpus,
                                hints={"lr_scheduler": {"type": "StepLR", "step_size": 5, "gamma": 0.5}}))


def profiled_option(name, technique, gpus):
    instance = saturn.profile([name], techniques=[technique])
    job = next(j for j in instance["jobs"] if j["id"] == name)
    return next(o for o in job["options"] if o["parallelism"] == technique and o["gpus"] == gpus)


def make_job(store, job_id, task, option):
    gpus = option["gpus"]
    return JobStore(store).create(job_id, task, {"parallelism": option["parallelism"], "gpus": gpus,
                                                 "gpu_ids": list(range(gpus)), "knobs": option["knobs"]},
                                  run_id="r", settings={"checkpoint_every_steps": EVERY})


def weights(store, job_id):
    return torch.load(weights_path(store, job_id))


def wait_for_checkpoint(js, job_id, at_least, proc=None, timeout=120):
    deadline = time.monotonic() + timeout
    while (js.get(job_id)["info"].get("checkpoint") or {}).get("step", 0) < at_least:
        assert time.monotonic() < deadline, "no checkpoint came"
        assert proc is None or proc.poll() is None, "the runner ended early"
        time.sleep(0.02)


def pause_then_resume(store, job_id, monkeypatch):
    js = JobStore(store)
    # 0.15 s a step: after its first checkpoint the job has seconds left, so the pause (seen within 0.1 s) comes
    # before its end also on a loaded CI machine (at 0.05 s a step it sometimes finished first there)
    monkeypatch.setenv("SATURN_TEST_STEP_DELAY", "0.15")
    out = {}
    th = threading.Thread(target=lambda: out.update(run_job(job_id, store)))
    th.start()
    wait_for_checkpoint(js, job_id, EVERY)
    js.request_stop(job_id, "pause")
    th.join(120)
    job = js.get(job_id)
    assert out.get("state") == "preempted", (out, job["state"], job["info"].get("step"), job["info"].get("error"))
    stopped = js.get(job_id)["info"]["step"]
    assert EVERY <= stopped < STEPS
    monkeypatch.setenv("SATURN_TEST_STEP_DELAY", "0")
    assert run_job(job_id, store)["state"] == "done"
    return stopped


def sigkill_then_resume(store, job_id, monkeypatch):
    """``python -m saturn.runner`` killed with SIGKILL (its whole process group, workers included) after a
    checkpoint; reconcile finds it dead, and the job is run again here."""
    js = JobStore(store)
    env = {**os.environ, "SATURN_TEST_STEP_DELAY": "0.05",
           "PYTHONPATH": os.pathsep.join([os.path.dirname(TESTS), TESTS])}
    proc = subprocess.Popen([sys.executable, "-m", "saturn.runner", job_id], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_checkpoint(js, job_id, EVERY, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    last_checkpoint = js.get(job_id)["info"]["checkpoint"]["step"]  # progress reports may lag behind it
    assert EVERY <= last_checkpoint < STEPS
    assert js.get(job_id)["state"] in ("running", "checkpointing")
    assert job_id in reconcile(store)["interrupted"]
    monkeypatch.setenv("SATURN_TEST_STEP_DELAY", "0")
    assert run_job(job_id, store)["state"] == "done"
    return last_checkpoint


def check_technique(store, monkeypatch, technique, gpus, interrupt=pause_then_resume):
    """Profile ``technique`` on ``gpus`` declared GPUs, train with the chosen knobs uninterrupted and interrupted
    (``interrupt`` returns the step the job resumes from);
    the job applies the profile's knobs, and the resumed job ends with the uninterrupted job's weights."""
    register_task("t", gpus)
    option = profiled_option("t", technique, gpus)
    make_job(store, "ref", "t", option)
    assert run_job("ref", store)["state"] == "done"
    ref = JobStore(store).get("ref")["info"]
    assert ref["applied_knobs"] == option["knobs"]
    assert len(ref.get("worker_pids") or []) == (gpus - 1 if technique != "spilling" else 0)
    make_job(store, "j", "t", option)
    resumed_at = interrupt(store, "j", monkeypatch)
    info = JobStore(store).get("j")["info"]
    assert info["applied_knobs"] == option["knobs"]
    # the second attempt really started from the checkpoint (not from scratch)
    assert resumed_at >= EVERY and f"resuming at step {resumed_at}" in log_path(store, "j").read_text()
    want, got = weights(store, "ref"), weights(store, "j")
    assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want), \
        max((got[k] - want[k]).abs().max().item() for k in want)
    assert not all(torch.equal(want[k], v) for k, v in make_model().state_dict().items())
    return option
