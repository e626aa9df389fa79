"""Kill the Jupyter server mid-run and restart it -> nothing finished is redone and the workload
completes.

End to end on the real JupyterLab server (`python -m jupyterlab`, SATURN_FAKE_GPUS) and the headless CLI
(`node lib-node/cli/main.js run`), reusing bench/dispatch_bench.py's server helpers and store analysis. Once at least
one job is done and at least one is not, the server's process group is SIGKILLed and the server is started again on
the same port, root and token; the CLI reconnects and reconciles. Checked from the store's records: the CLI exits 0,
every job ends done, each job done before the kill kept its attempts / finished_at / checkpoint / weights, and no two
jobs held one device at the same time (lease.acquired / lease.released events).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import free_port

REPO = Path(__file__).resolve().parents[2]
N_GPUS = 2


def _register(bench, root: Path) -> list[str]:
    """4 tiny jobs, 1-2 devices each, of different lengths (about 1-4 s of training each on a 2-core machine)."""
    return bench.register_tasks(root, [30, 60, 90, 120], 0.03)


def _tails(tmp_path: Path, n: int = 60) -> str:
    """The last lines of the CLI's and the server's logs, for a failure message."""
    out = []
    for name in ("cli.log", "server.log"):
        lines = (tmp_path / name).read_text(errors="replace").splitlines()
        out.append(f"--- last {min(n, len(lines))} lines of {name} ---\n" + "\n".join(lines[-n:]))
    return "\n".join(out)


def test_server_killed_and_restarted_mid_run(bench, cli_built, tmp_path):
    from saturn.core.jobs import JobStore
    from saturn.core.store import Store

    root = tmp_path / "root"
    root.mkdir()
    port = free_port()
    log = open(tmp_path / "server.log", "ab")
    cli_err = open(tmp_path / "cli.log", "wb")
    names = _register(bench, root)
    server = bench.start_server(root, port, log, fake_gpus=N_GPUS)
    cli = None
    store = Store(root / ".saturn" / "saturn.db")
    js = JobStore(store)
    try:
        t0 = time.time()
        cli = subprocess.Popen(["node", str(cli_built), "run", "--server", f"http://127.0.0.1:{port}",
                                "--token", "tok", "--time-limit", "2", "--introspection-interval", "0",
                                "--poll", "0.3", "--checkpoint-every", "1", "--prewarm", "0",
                                "--reconnect-timeout", "120"],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=cli_err,
                               env={**os.environ, "SATURN_DEBUG": "1"})  # one line per tick in cli.log

        # wait until at least one job is done while at least one is not
        deadline = time.monotonic() + 400  # a bound on a hang (profiling included), not a speed target
        jobs = []
        while time.monotonic() < deadline:
            jobs = js.list()
            states = [j["state"] for j in jobs]
            if len(jobs) == len(names) and "done" in states and any(s != "done" for s in states):
                break
            assert cli.poll() is None, f"the CLI exited ({cli.returncode}) before the kill\n" + _tails(tmp_path)
            time.sleep(0.2)
        else:
            pytest.fail(f"no point with some jobs done and some not within 400 s: {[j['state'] for j in jobs]}\n"
                        + _tails(tmp_path))
        before = {j["id"]: j for j in js.list() if j["state"] == "done"}
        not_done = [j["id"] for j in js.list() if j["state"] != "done"]
        kill_at = time.time()

        bench.stop_server(server, signal.SIGKILL)
        time.sleep(2)
        server = bench.start_server(root, port, log, fake_gpus=N_GPUS)

        try:
            out, _ = cli.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            pytest.fail("the CLI did not finish within 240 s of the restart\n" + _tails(tmp_path))
        wall = time.time() - t0
        assert cli.returncode == 0, f"CLI exit {cli.returncode}: {out[-2000:]!r}\n" + _tails(tmp_path)
        summary = json.loads(out)

        res = bench.analyse(root, summary, kill_at)
        assert not res["problems"], res["problems"]  # every job done, on its leased ids, no lease overlap, weights
        after = {j["id"]: j for j in js.list(summary["run_id"])}
        assert sorted(j["task"] for j in after.values()) == sorted(names)
        assert all(j["state"] == "done" for j in after.values()), {k: j["state"] for k, j in after.items()}
        assert {j["id"] for j in summary["jobs"]} == set(after)
        assert all(j["state"] == "done" for j in summary["jobs"]), summary["jobs"]

        # nothing finished before the kill was redone
        assert before and not_done
        for job_id, b in before.items():
            a = after[job_id]
            for key in ("attempts", "finished_at", "claimed_at", "weights", "checkpoint", "step"):
                assert a["info"].get(key) == b["info"].get(key), (job_id, key, b["info"].get(key),
                                                                  a["info"].get(key))
            assert a["info"]["finished_at"] < kill_at
            assert Path(a["info"]["weights"]).stat().st_mtime < kill_at
            # no state change after done
            assert a["info"]["history"] == b["info"]["history"], job_id

        # the lease history exists and has no overlap on a device (also checked by analyse)
        events = store.events_since(0, 100000)
        acquired = [e for e in events if e["kind"] == "lease.acquired"]
        assert {e["data"]["holder"] for e in acquired} >= set(after)
        spans, open_ = [], {}
        for e in events:
            if e["kind"] == "lease.acquired":
                open_[e["data"]["holder"]] = (e["ts"], e["data"]["devices"])
            elif e["kind"] == "lease.released" and e["data"]["holder"] in open_:
                s, devs = open_.pop(e["data"]["holder"])
                spans.append((e["data"]["holder"], s, e["ts"], set(devs)))
        for i, x in enumerate(spans):
            for y in spans[i + 1:]:
                if x[0] != y[0] and x[3] & y[3]:
                    assert not (x[1] < y[2] and y[1] < x[2]), f"{x} overlaps {y}"
        print(f"\njobs created at {min(j['created_at'] for j in after.values()) - t0:.1f} s; "
              f"kill at {kill_at - t0:.1f} s with done={sorted(before)}; CLI wall {wall:.1f} s; "
              f"attempts after: { {j['task']: j['info'].get('attempts') for j in after.values()} }")
    finally:
        bench.shut_down(cli, server, store, log, cli_err)
