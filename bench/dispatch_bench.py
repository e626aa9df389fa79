"""End-to-end dispatch on a real Jupyter server: N tiny CPU jobs on 4 CPU "GPUs" through `saturn run`.

    /work/main/.venv/bin/python bench/dispatch_bench.py [--jobs 6] [--port 8902] [--kill-server-at S]

Starts JupyterLab (`python -m jupyterlab`, the .venv's JupyterLab 4.6) in a temporary root with SATURN_FAKE_GPUS=4, registers
the jobs, runs `node lib-node/executor/cli-run.js` (build it first: npx tsc -p tsconfig.node.json), then reads the
store and prints: planned vs realised makespan, the dispatch gap (a GPU's lease released -> the next job's first step
on it) and a per-job table. Checks what the store recorded (every job done on its leased ids, no two jobs on one GPU
at once, weights written) and exits 1 when a check fails. With --kill-server-at S the server is killed S seconds
into the run and started again 3 s later (the CLI reconnects and reconciles; nothing finished may be redone).
Figures are printed, never asserted against a time.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO / "python_bridge"))

import torch  # noqa: E402
from torch import nn  # noqa: E402


class Sleep(nn.Module):
    """Makes a step take a known wall time on a busy 2-core machine (the jobs are otherwise tiny)."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds

    def forward(self, x):
        time.sleep(self.seconds)
        return x


def make_model_factory(width: int, sleep_s: float):
    def make_model():
        torch.manual_seed(width)
        return nn.Sequential(nn.Linear(16, width), nn.ReLU(), Sleep(sleep_s), nn.Linear(width, 4))
    return make_model


def data(batch_size):
    g = torch.Generator().manual_seed(0)
    return [(torch.randn(batch_size, 16, generator=g), torch.randint(0, 4, (batch_size,), generator=g))
            for _ in range(8)]


def register_tasks(root: Path, steps: list[int], sleep_s) -> list[str]:
    """Tiny DDP tasks job0, job1, … (1-2 devices) with these step counts; ``sleep_s``: per step, one or per task."""
    from saturn.core.store import Store
    from saturn.core.task import Task, model_signature
    store = Store(root / ".saturn" / "saturn.db")
    names = []
    for i, n in enumerate(steps):
        pause = sleep_s[i] if isinstance(sleep_s, (list, tuple)) else sleep_s
        task = Task(f"job{i}", model=make_model_factory(8 + 4 * i, pause), data=data, batch_size=8,
                    steps=n, hints={"techniques": ["ddp"]}, gpu_range=(1, 2))
        task.signature, task.param_count = model_signature(task.build_model())
        store.put_task(task.name, task.spec(), task.payload(), task.signature)
        names.append(task.name)
    store.close()
    return names


def register_workload(root: Path, n: int) -> list[str]:
    return register_tasks(root, [40 + 25 * (i % 3) for i in range(n)], [0.03 + 0.01 * (i % 2) for i in range(n)])


def start_server(root: Path, port: int, log, fake_gpus: int = 4, extra_env: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "SATURN_FAKE_GPUS": str(fake_gpus), "SATURN_ROOT": str(root), "SATURN_TORCH_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO / "python_bridge"), str(BENCH)]), **(extra_env or {})}
    env.pop("SATURN_DB", None)
    proc = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser",
                             "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--IdentityProvider.token=tok",
                             f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
                             f"--config={REPO / 'scripts' / 'jupyter_lab_config.py'}"],
                            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token=tok", timeout=2)
            return proc
        except Exception:  # noqa: BLE001 - not up yet
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited ({proc.returncode}); see its log")
            time.sleep(0.3)
    raise RuntimeError("the server did not start within 60 s")


def stop_server(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def shut_down(cli: subprocess.Popen | None, server: subprocess.Popen, *closables) -> None:
    """After a run: the CLI (when still running), the server, then the store handles and logs."""
    if cli is not None and cli.poll() is None:
        cli.kill()
        cli.wait()
    stop_server(server)
    for c in closables:
        c.close()


def analyse(root: Path, summary: dict, kill_at: float | None = None) -> dict:
    """Figures and checks from the store's records."""
    from saturn.core.jobs import JobStore
    from saturn.core.store import Store
    store = Store(root / ".saturn" / "saturn.db")
    jobs = JobStore(store).list(summary["run_id"])
    events = store.events_since(0, 100000)
    problems = []
    # intervals each job held its devices (from lease events of the job's last, successful attempt and before)
    held: dict[str, list] = {}
    open_: dict[str, tuple] = {}
    for e in events:
        if e["kind"] == "lease.acquired":
            open_[e["data"]["holder"]] = (e["ts"], e["data"]["devices"])
        elif e["kind"] == "lease.released" and e["data"]["holder"] in open_:
            start, devs = open_.pop(e["data"]["holder"])
            held.setdefault(e["data"]["holder"], []).append((start, e["ts"], devs))
    intervals = [(j, s, t, d) for j, spans in held.items() for (s, t, d) in spans]
    for a in intervals:
        for b in intervals:
            if a[0] < b[0] and set(a[3]) & set(b[3]) and a[1] < b[2] and b[1] < a[2]:
                problems.append(f"{a[0]} and {b[0]} held GPU(s) {sorted(set(a[3]) & set(b[3]))} at the same time")
    gaps = []
    for j in jobs:
        info = j["info"]
        ids = info["assignment"]["gpu_ids"]
        if j["state"] == "stopped_early" and info.get("stopped_early"):
            continue  # the run's early stopping ended it at a rung: no weights of a finished job to check
        if j["state"] != "done":
            problems.append(f"{j['id']} ended {j['state']}: {info.get('error')}")
            continue
        if not info.get("weights") or not Path(info["weights"]).exists():
            problems.append(f"{j['id']}: no trained weights")
        if info.get("lease_env", {}).get("SATURN_CPU_DEVICES") != ",".join(map(str, ids)):
            problems.append(f"{j['id']}: ran on {info.get('lease_env')} instead of {ids}")
        first = info.get("first_step_at")
        prior = [t for (other, s, t, d) in intervals if other != j["id"] and set(d) & set(ids) and t <= (first or 0)]
        if first and prior:
            gaps.append(first - max(prior))
        if kill_at is not None and info.get("finished_at", 0) < kill_at and info.get("attempts", 1) > 1:
            problems.append(f"{j['id']} finished before the server was killed but ran again")
    store.close()
    return {"gaps": gaps, "problems": problems, "jobs": jobs}


def closed_tab(root: Path, cli: subprocess.Popen, t0: float) -> int:
    """The dispatcher goes away mid-run (SIGKILL, like a closed tab); the autopilot must finish the run."""
    from saturn.core.jobs import JobStore
    from saturn.core.store import Store
    store = Store(root / ".saturn" / "saturn.db")
    js = JobStore(store)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not any(j["state"] == "running" for j in js.list()):
        time.sleep(0.2)
    time.sleep(1.0)
    cli.kill()
    cli.wait()
    killed = time.time()
    run_id = js.list()[0]["info"]["run_id"]
    print(f"killed the dispatcher at {killed - t0:.1f} s: "
          + ", ".join(f"{j['task']}={j['state']}" for j in js.list(run_id)), flush=True)
    final = ("done", "cancelled")
    while time.monotonic() < deadline and not all(j["state"] in final or j["info"].get("given_up")
                                                  for j in js.list(run_id)):
        time.sleep(0.5)
    jobs = js.list(run_id)
    summary = {"run_id": run_id}
    res = analyse(root, summary)
    by = {j["id"]: j["info"].get("launched_by", "dispatcher") for j in jobs}
    print(f"after the dispatcher was killed: {time.time() - killed:.1f} s to settle; "
          + ", ".join(f"{j['task']}={j['state']} ({by[j['id']]})" for j in jobs))
    if not any(v == "autopilot" for v in by.values()):
        res["problems"].append("the autopilot launched nothing (every job had already started?)")
    for p in res["problems"]:
        print(f"PROBLEM: {p}")
    store.close()
    return 1 if res["problems"] else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=6)
    parser.add_argument("--port", type=int, default=8902)
    parser.add_argument("--kill-server-at", type=float, default=None)
    parser.add_argument("--introspection-interval", type=float, default=0)
    parser.add_argument("--kill-cli-when-running", action="store_true",
                        help="kill the CLI (the dispatcher) once a job runs, as a closed browser tab: the autopilot "
                             "in the control kernel must finish the run")
    parser.add_argument("--prewarm", type=int, default=2, help="warm kernels for the next jobs (0 = off)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary root")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="saturn-dispatch-"))
    log = open(root / "server.log", "ab")
    register_workload(root, args.jobs)
    server = start_server(root, args.port, log)
    cli = None
    try:
        t0 = time.time()
        cli = subprocess.Popen(["node", str(REPO / "lib-node/executor/cli-run.js"), "--server",
                                f"http://127.0.0.1:{args.port}", "--token", "tok", "--time-limit", "2",
                                "--introspection-interval", str(args.introspection_interval), "--threshold", "2",
                                "--poll", "0.3", "--checkpoint-every", "1", "--prewarm", str(args.prewarm)],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=open(root / "cli.log", "wb"))
        kill_at = None
        if args.kill_server_at is not None:
            time.sleep(args.kill_server_at)
            kill_at = time.time()
            print(f"killing the server at {kill_at - t0:.1f} s", flush=True)
            stop_server(server, signal.SIGKILL)
            time.sleep(3)
            server = start_server(root, args.port, log)
        if args.kill_cli_when_running:
            return closed_tab(root, cli, t0)
        out, _ = cli.communicate(timeout=900)
        if cli.returncode != 0 and not out.strip():
            print(f"the CLI exited with {cli.returncode} and no summary; see {root}/cli.log")
            return 1
        wall = time.time() - t0
        try:
            summary = json.loads(out)
        except ValueError:
            print(f"unreadable CLI output: {out[:500]!r}")
            return 1
        res = analyse(root, summary, kill_at)
        gaps = res["gaps"]
        print(f"jobs: {len(res['jobs'])} on 4 CPU devices; CLI wall time (profiling + planning + run): {wall:.1f} s")
        print(f"planned makespan {summary['planned_makespan_s']:.1f} s, realised {summary['realised_makespan_s']:.1f} s "
              f"(x{summary['realised_makespan_s'] / summary['planned_makespan_s']:.2f})")
        if gaps:
            gaps.sort()
            print(f"dispatch gap (lease released -> next job's first step): n={len(gaps)} "
                  f"median {gaps[len(gaps) // 2]:.2f} s, max {max(gaps):.2f} s")
        print(f"{'job':<22}{'state':<10}{'gpus':<8}{'att':<5}{'planned':<18}{'realised':<18}")
        for j in summary["jobs"]:
            planned = f"{j.get('planned_start_s', 0):.1f}-{j.get('planned_end_s', 0):.1f}"
            real = (f"{j['realised_start_s']:.1f}-{j['realised_end_s']:.1f}" if j["realised_end_s"] is not None
                    else "-")
            print(f"{j['id']:<22}{j['state']:<10}{','.join(map(str, j['gpu_ids'])):<8}{j['attempts']:<5}"
                  f"{planned:<18}{real:<18}")
        for p in res["problems"]:
            print(f"PROBLEM: {p}")
        return 1 if res["problems"] or cli.returncode != 0 else 0
    finally:
        if cli is not None and cli.poll() is None:
            cli.kill()
        stop_server(server)
        log.close()
        print(f"root: {root}" + ("" if args.keep else " (logs: server.log, cli.log)"))


if __name__ == "__main__":
    raise SystemExit(main())
