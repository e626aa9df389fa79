"""The autopilot applies the same dispatch rules as the page and the CLI: a run whose dispatcher is gone still settles.

End to end on the real JupyterLab server and the headless CLI (`saturn run`): once jobs run, the CLI is SIGKILLed
(as a closed browser tab); when one of them is done and the next waits for its GPU, a stale lease is left there by
the finished job (its process still alive, as when a kernel dies between "done" and releasing). The autopilot in the
control kernel takes over; once it runs a job with a checkpoint, that job's runner process is SIGKILLed too. The run
must settle with every job done, the killed one resumed from its checkpoint (its log says where), and no two jobs
holding one GPU at once (the store's lease events).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from contextlib import contextmanager

import pytest
from conftest import free_port

REPO = Path(__file__).resolve().parents[2]


def _tails(tmp_path: Path, n: int = 40) -> str:
    out = []
    for name in ("cli.log", "server.log"):
        path = tmp_path / name
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        out.append(f"--- last {min(n, len(lines))} lines of {name} ---\n" + "\n".join(lines[-n:]))
    return "\n".join(out)


def _wait(what: str, cond, timeout: float, tmp_path: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.2)
    pytest.fail(f"{what} within {timeout:.0f} s\n" + _tails(tmp_path))


@contextmanager
def _lab_and_cli(bench, cli_built, tmp_path: Path, root: Path, cli_args: list, extra_env: dict | None = None):
    """A lab server on 2 declared GPUs over ``root`` and `saturn run` against it (with ``cli_args``): yields the job
    store and the CLI process; shuts both down after."""
    from saturn.core.jobs import JobStore
    from saturn.core.store import Store
    port = free_port()
    log = open(tmp_path / "server.log", "ab")
    server = bench.start_server(root, port, log, fake_gpus=2, extra_env=extra_env)
    store = Store(root / ".saturn" / "saturn.db")
    cli = None
    try:
        cli = subprocess.Popen(["node", str(cli_built), "run", "--server", f"http://127.0.0.1:{port}", "--token", "tok",
                                "--time-limit", "2", "--introspection-interval", "0", "--poll", "0.3", *cli_args],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=open(tmp_path / "cli.log", "wb"))
        yield JobStore(store), cli
    finally:
        bench.shut_down(cli, server, store, log)


def test_the_autopilot_settles_a_run_after_its_dispatcher_and_a_runner_are_killed_and_a_lease_is_stale(
        bench, cli_built, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    names = bench.register_tasks(root, [50, 50, 110, 110, 110, 110], 0.04)
    with _lab_and_cli(bench, cli_built, tmp_path, root, ["--checkpoint-every", "1", "--prewarm", "0"]) as (js, cli):
        def running():
            jobs = js.list()
            return len(jobs) == len(names) and any(j["state"] == "running" for j in jobs) and jobs

        jobs = _wait("a job running", running, 240, tmp_path)
        cli.send_signal(signal.SIGKILL)  # the dispatcher goes away, as a closed tab; its running jobs go on
        cli.wait(10)
        run_id = jobs[0]["info"]["run_id"]

        def done_with_a_job_waiting_behind_it():
            jobs = js.list(run_id)
            for d in (j for j in jobs if j["state"] == "done"):
                a = d["info"]["assignment"]
                behind = [j for j in jobs if j["state"] == "pending" and (j["info"]["assignment"].get("node") or
                          "node0") == (a.get("node") or "node0") and set(j["info"]["assignment"]["gpu_ids"]) &
                          set(a["gpu_ids"])]
                if behind:
                    return d, behind[0]
            return None

        # nobody dispatches now: the jobs that ran finish, the next ones wait (the autopilot's grace period)
        done, waiting = _wait("a job done with one waiting behind it", done_with_a_job_waiting_behind_it, 120,
                              tmp_path)
        # a stale lease: the finished job still "holds" the GPU the next job waits for (its holder process lives)
        node, gpu = done["info"]["assignment"].get("node") or "node0", waiting["info"]["assignment"]["gpu_ids"][0]
        sleeper = subprocess.Popen(["sleep", "600"])
        assert js.acquire([gpu], done["id"], sleeper.pid, node), js.leases()
        assert js.get(waiting["id"])["state"] == "pending" and any(l["holder"] == done["id"] for l in js.leases())

        def an_autopilot_job_with_a_checkpoint():
            for j in js.list(run_id):
                info = j["info"]
                if j["state"] == "running" and info.get("launched_by") == "autopilot" and \
                        (info.get("checkpoint") or {}).get("step") and info.get("pid") == info.get("autopilot_pid"):
                    return j
            return None

        victim = _wait("a job run by the autopilot with a checkpoint", an_autopilot_job_with_a_checkpoint, 180,
                       tmp_path)
        os.killpg(victim["info"]["pid"], signal.SIGKILL)  # its runner dies (no checkpoint, no release)

        def settled():
            jobs = js.list(run_id)
            return all(j["state"] in ("done", "cancelled") or j["info"].get("given_up") for j in jobs) and jobs

        jobs = _wait("every job settled", settled, 300, tmp_path)
        sleeper.kill()
        assert {j["task"]: j["state"] for j in jobs} == {n: "done" for n in names}, \
            {j["id"]: (j["state"], j["info"].get("error")) for j in jobs}
        killed = next(j for j in jobs if j["id"] == victim["id"])
        assert killed["info"]["attempts"] >= 2 and killed["info"]["retries"] >= 1, killed["info"]
        text = Path(killed["info"]["log"]).read_text()
        assert re.search(r"resuming at step [1-9]", text), text[-1500:]
        # the job behind the stale lease ran, on the GPU the finished job still "held"
        behind = next(j for j in jobs if j["id"] == waiting["id"])
        assert behind["state"] == "done" and gpu in behind["info"]["assignment"]["gpu_ids"]
        res = bench.analyse(root, {"run_id": run_id})
        assert res["problems"] == [], res["problems"]
        by = {j["task"]: j["info"].get("launched_by", "dispatcher") for j in jobs}
        assert "autopilot" in by.values(), by
        print(f"\nautopilot takeover: {by}; {killed['task']} killed and resumed "
              f"(attempts {killed['info']['attempts']}); stale lease on {node}/{gpu} broken")


def test_with_its_dispatcher_killed_an_early_stopping_run_is_judged_by_the_autopilot_and_settles(
        bench, cli_built, tmp_path):
    """`saturn run --early-stopping asha` (4 grid jobs on 2 declared GPUs, rung at step 10 of 30) is SIGKILLed once
    a job trains, before any rung was judged. The autopilot in the control kernel takes over and judges the rung as
    the run loop would: the best two jobs there train to their end, the worst stops early with its checkpoint, the
    run settles with nobody dispatching, and no two jobs ever hold one GPU at once."""
    import sys
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import asha_e2e
    finally:
        sys.path.remove(str(REPO / "bench"))

    root = tmp_path / "root"
    root.mkdir()
    names = asha_e2e.register(root, 4, 30)
    es = ["--checkpoint-every", "5", "--early-stopping", "asha", "--metric", "val_loss", "--mode", "min", "--rungs", "10",
          "--eta", "2", "--rung-unit", "steps"]
    with _lab_and_cli(bench, cli_built, tmp_path, root, es, {"ASHA_STEP_S": "0.15"}) as (js, cli):
        def training():
            jobs = js.list()
            return (len(jobs) == len(names) and any(j["state"] == "running" for j in jobs)
                    and not any(j["info"].get("rung_reports") for j in jobs) and jobs)

        jobs = _wait("a job training, none at its rung yet", training, 300, tmp_path)
        cli.send_signal(signal.SIGKILL)
        cli.wait(10)
        run_id = jobs[0]["info"]["run_id"]
        assert all(j["info"]["early_stopping"]["rungs"] == [10] and j["info"]["rung_steps"] == [10] for j in jobs)

        def settled():
            jobs = js.list(run_id)
            return all(j["state"] in ("done", "stopped_early", "cancelled") or j["info"].get("given_up")
                       for j in jobs) and jobs

        jobs = _wait("every job settled", settled, 300, tmp_path)
        states = {j["task"]: j["state"] for j in jobs}
        assert set(states.values()) <= {"done", "stopped_early"}, \
            {j["id"]: (j["state"], j["info"].get("error")) for j in jobs}
        at_rung = {j["task"]: j["info"]["rung_reports"]["10"]["val_loss"] for j in jobs}
        ranked = sorted(at_rung, key=at_rung.get)
        assert [states[t] for t in ranked[:2]] == ["done", "done"] and states[ranked[-1]] == "stopped_early", \
            (states, at_rung)
        for j in jobs:
            if j["state"] == "stopped_early":
                assert j["info"]["stopped_early"]["rung"] == 10 and j["info"]["checkpoint"]["step"] == 10
        # the rung was judged after the CLI died: by the autopilot
        assert any(j["info"].get("launched_by") == "autopilot" for j in jobs)
        res = bench.analyse(root, {"run_id": run_id})
        assert res["problems"] == [], res["problems"]
        print(f"\nearly stopping under the autopilot: {states}; val_loss at step 10: {at_rung}")
