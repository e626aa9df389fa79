"""Jobs in real kernels (jupyter_client): a kernel killed mid-run resumes from its checkpoint to the same weights."""
import os
import signal
import time

import pytest
import torch

from saturn.core.checkpoint import CheckpointDir
from saturn.core.jobs import JobStore
from saturn.control.reconcile import reconcile
from saturn.core.store import Store
from test_runner import BRIDGE_PATHS, make_job, reference_weights, register, same_weights, weights


@pytest.fixture
def kernels(kernel_name, tmp_path):
    from jupyter_client.manager import start_new_kernel
    started = []
    db = tmp_path / "main" / "saturn.db"

    def start(**extra):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(BRIDGE_PATHS), "SATURN_DB": str(db),
               "SATURN_FAKE_GPUS": "4", "PYDEVD_DISABLE_FILE_VALIDATION": "1", **extra}
        km, kc = start_new_kernel(kernel_name=kernel_name, env=env, startup_timeout=60, cwd=str(tmp_path))
        started.append((km, kc))
        return km, kc

    start.db = db
    yield start
    for km, kc in started:
        kc.stop_channels()
        if km.is_alive():
            km.shutdown_kernel(now=True)


def wait_for(predicate, timeout=90, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_killed_kernel_resumes_from_its_checkpoint_with_identical_final_weights(kernels, tmp_path, monkeypatch):
    from saturn.core import devices
    monkeypatch.setenv("SATURN_FAKE_GPUS", "4")
    devices._cache["key"] = None
    want = reference_weights(tmp_path, steps=60)
    store = Store(kernels.db)
    register(store, "t", steps=60)
    make_job(store, "j", "t", [1])
    js = JobStore(store)

    km, kc = kernels(SATURN_TEST_STEP_DELAY="0.03")
    kc.execute("import saturn.runner; saturn.runner.run_job('j')")
    wait_for(lambda: (js.get("j")["info"].get("checkpoint") or {}).get("step", 0) >= 15, what="a checkpoint")
    pid = js.get("j")["info"]["pid"]
    km.signal_kernel(signal.SIGKILL)  # SIGKILL: no finally, no release, no final checkpoint
    wait_for(lambda: not km.is_alive(), what="the kernel to die")
    job = js.get("j")
    assert job["state"] in ("running", "checkpointing") and job["info"]["pid"] == pid
    assert [l["holder"] for l in js.leases()] == ["j"]  # a stale lease left behind
    killed_at = CheckpointDir.for_job(store, "j").latest_step()
    assert 15 <= killed_at < 60

    report = reconcile(store)
    assert report["interrupted"] == ["j"] and report["checkpoints"]["j"] == killed_at

    km2, kc2 = kernels()
    reply = kc2.execute_interactive("import saturn.runner; r = saturn.runner.run_job('j'); print(r['state'])",
                                    timeout=120)
    assert reply["content"]["status"] == "ok"
    job = js.get("j")
    assert job["state"] == "done" and job["info"]["attempts"] == 2
    assert same_weights(weights(store, "j"), want)
    assert js.leases() == []
    log = open(job["info"]["log"]).read()
    assert f"resuming at step {killed_at}" in log
