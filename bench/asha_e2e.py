"""Early stopping end to end: a deterministic toy grid through `saturn run`, with ASHA and without.

    .venv/bin/python bench/asha_e2e.py [--jobs 6] [--gpus 2] [--steps 60] [--rungs 10,30] [--eta 2] [--move-survivors]

Starts a real JupyterLab server (declared CPU GPUs), registers a grid of residual MLPs that differ in their learning
rate (each with `validate`, seeded data, a per-step pause so a job trains 10-30 s), and runs it twice through the CLI:
once without early stopping, once with `--early-stopping asha --metric val_loss --rungs ...`. Prints, per run, the
winner (`saturn.best("val_loss")`), the run's total time, the jobs stopped early and where, for every stop how
long its GPUs stood idle before the next work started on them (from its runner's lease release to another runner's
lease on one of those GPUs), and the runner launches against the promotions. With `--move-survivors` a third run
adds `--move-survivors` to the ASHA run (survivors under way may be moved by a re-plan) and counts those moves.
Exits 1 when an ASHA run does not finish its survivors, picks another winner, or is not faster.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python_bridge"))
sys.path.insert(0, str(REPO / "bench"))
import dispatch_bench as bench  # noqa: E402

CLI = REPO / "lib-node" / "cli" / "main.js"
LRS = [0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 0.0003, 0.0001]

TASK_CODE = '''
import os, time, torch
from torch import nn

class Pause(nn.Module):
    def forward(self, x):
        time.sleep(float(os.environ.get("ASHA_STEP_S", "0.2")))
        return x

def make_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), Pause(), nn.Linear(64, 4))

def make_data(batch_size):
    g = torch.Generator().manual_seed(3)
    w = torch.randn(16, 4, generator=g)
    x = torch.randn(batch_size * 8, 16, generator=g)
    return list(zip(torch.split(x, batch_size), torch.split((x @ w).argmax(dim=1), batch_size)))

def validate(model):
    g = torch.Generator().manual_seed(3)
    w = torch.randn(16, 4, generator=g)
    x = torch.randn(256, 16, generator=torch.Generator().manual_seed(11))
    y = (x @ w).argmax(dim=1)
    out = model(x)
    return {"val_loss": nn.functional.cross_entropy(out, y).item(), "val_acc": (out.argmax(1) == y).float().mean().item()}
'''


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def register(root: Path, jobs: int, steps: int) -> list[str]:
    env = {**os.environ, "SATURN_ROOT": str(root), "SATURN_FAKE_GPUS": "2", "ASHA_STEP_S": "0",
           "PYTHONPATH": str(REPO / "python_bridge")}
    env.pop("SATURN_DB", None)
    code = TASK_CODE + f'''
import saturn
tasks = saturn.grid("g", model=make_model, data=make_data, batch_size=16, steps={steps}, lr={LRS[:jobs]!r},
                    optimizer="sgd", validate=validate, eval_every=10, hints={{"techniques": ["ddp"]}})
print(",".join(t.name for t in tasks))
'''
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return out.stdout.strip().splitlines()[-1].split(",")


def run_cli(port: int, extra: list[str], log: Path) -> dict:
    cmd = ["node", str(CLI), "run", "--server", f"http://127.0.0.1:{port}", "--token", "tok", "--time-limit", "2",
           "--introspection-interval", "0", "--poll", "0.5", "--checkpoint-every", "5", *extra]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1800)
    log.write_text(out.stderr)
    if out.returncode:
        raise RuntimeError(f"saturn run exited {out.returncode}: {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def analyse(root: Path, summary: dict) -> dict:
    from saturn.bridge import results
    from saturn.core.jobs import JobStore
    from saturn.core.store import Store
    store = Store(root / ".saturn" / "saturn.db")
    jobs = JobStore(store).list(summary["run_id"])
    winner = results.best("val_loss", store=store, run_id=summary["run_id"])
    # GPU idle after a stop, from the store's lease events: when a job later stopped early let its GPUs go (its
    # runner paused at the rung where it was stopped) until another job's runner took one of them
    ours = {j["id"] for j in jobs}
    leases, held = [], {}
    moves = 0  # a re-plan stopped a job to place it again (checkpoint, resume on its new assignment)
    since = 0
    while True:
        page = store.events_since(since, 500)
        for e in page:
            d = e.get("data") or {}
            if e["kind"] == "lease.acquired" and d.get("holder") in ours:
                held[d["holder"]] = d["devices"]
                leases.append(("acquired", e["ts"], d["holder"], d["devices"]))
            elif e["kind"] == "lease.released" and d.get("holder") in ours:
                leases.append(("released", e["ts"], d["holder"], held.get(d["holder"], [])))
            elif e["kind"] == "job.stop_requested" and d.get("id") in ours and (d.get("stop") or {}).get("reason") == "replan":
                moves += 1
        if len(page) < 500:
            break
        since = page[-1]["id"]
    gaps = []
    for j in jobs:
        if not j["info"].get("stopped_early"):
            continue
        released = [x for x in leases if x[0] == "released" and x[2] == j["id"]]
        if not released:
            continue
        _, freed_at, _, devices = released[-1]
        later = [ts for kind, ts, holder, devs in leases
                 if kind == "acquired" and holder != j["id"] and ts >= freed_at and set(devs) & set(devices)]
        if later:
            gaps.append(round(min(later) - freed_at, 2))
    store.close()
    # time to best: when the winner finished, from the run's first launch (both on the store's clock)
    first = min(float(j["info"]["launched_at"]) for j in jobs if j["info"].get("launched_at") is not None)
    best = next(j for j in jobs if j["task"] == winner["task"])
    return {"winner": winner["task"], "best_val_loss": round(float(winner["best_val_loss"]), 4),
            "winner_done_s": round(float(best["info"]["finished_at"]) - first, 1),
            "realised_s": summary["realised_makespan_s"], "planned_s": summary["planned_makespan_s"],
            "states": {j["task"]: j["state"] for j in jobs},
            "stopped": {j["task"]: j["info"]["stopped_early"]["rung"] for j in jobs
                        if j["info"].get("stopped_early")},
            "idle_after_stop_s": gaps,
            # every launch of a job's runner (a resume included) and every promotion: a job promoted while it waited on
            # its GPUs at its rung trained on in the same process (no launch for it)
            "launches": sum(int(j["info"].get("attempts") or 0) for j in jobs),
            "promotions": sum(len(j["info"].get("promotions") or []) for j in jobs),
            "replan_moves": moves}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=6)
    p.add_argument("--gpus", type=int, default=2)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--rungs", default="10,30")
    p.add_argument("--eta", type=float, default=2)
    p.add_argument("--step-s", type=float, default=0.2, help="a training step's pause (the jobs' length)")
    p.add_argument("--move-survivors", action="store_true", help="also run ASHA with --move-survivors")
    args = p.parse_args()
    if not CLI.exists():
        subprocess.run(["npx", "tsc", "-p", "tsconfig.node.json"], cwd=REPO, check=True)
    out = {}
    asha_args = ["--early-stopping", "asha", "--metric", "val_loss", "--mode", "min", "--rungs", args.rungs, "--eta",
                 str(args.eta)]
    runs = [("no early stopping", []), ("ASHA", asha_args)]
    if args.move_survivors:
        runs.append(("ASHA, survivors may move", [*asha_args, "--move-survivors"]))
    for label, extra in runs:
        root = Path(tempfile.mkdtemp(prefix="saturn-asha-"))
        names = register(root, args.jobs, args.steps)
        port = free_port()
        log = open(root / "server.log", "ab")
        os.environ["ASHA_STEP_S"] = str(args.step_s)
        server = bench.start_server(root, port, log, fake_gpus=args.gpus, extra_env={"ASHA_STEP_S": str(args.step_s)})
        try:
            t0 = time.time()
            summary = run_cli(port, extra, root / "cli.log")
            wall = time.time() - t0
        finally:
            bench.shut_down(None, server, log)
        out[label] = {**analyse(root, summary), "wall_s": round(wall, 1), "jobs": len(names)}
        print(f"{label}: {json.dumps(out[label])}", flush=True)
    base = out["no early stopping"]
    ok = True
    for label in [x for x, _ in runs[1:]]:
        asha = out[label]
        ratio = asha["realised_s"] / base["realised_s"]
        print(f"\n{label}: winner without early stopping: {base['winner']} (best val_loss {base['best_val_loss']}); "
              f"with it: {asha['winner']} (best val_loss {asha['best_val_loss']})")
        print(f"total time (realised makespan): {base['realised_s']:.1f} s without, {asha['realised_s']:.1f} s with "
              f"({ratio:.2f}x); stopped early: {asha['stopped']}; GPU idle after a stop: {asha['idle_after_stop_s']} s; "
              f"{asha['launches']} launches for {asha['jobs']} jobs, {asha['promotions']} promotions, "
              f"{asha['replan_moves']} moved by a re-plan")
        print(f"time to best (the winner done, from the first launch): {base['winner_done_s']:.1f} s without, "
              f"{asha['winner_done_s']:.1f} s with")
        survivors_done = all(s == "done" for t, s in asha["states"].items() if t not in asha["stopped"])
        ok = ok and survivors_done and asha["winner"] == base["winner"] and ratio < 1
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
