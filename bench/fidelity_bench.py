"""Do plans come true? A workload of jobs of 10-60 s on 2 declared GPUs through `saturn run`, several times.

    /work/main/.venv/bin/python bench/fidelity_bench.py [--runs 3] [--jobs 5] [--ignore-startup-cost] [--port 8903]
    /work/main/.venv/bin/python bench/fidelity_bench.py --workload demo   # the demo notebook's four tasks

Starts JupyterLab (the .venv's) in a temporary root with SATURN_FAKE_GPUS=2, registers the jobs (a step takes a known
wall time: the models sleep inside their forward pass, so the figures do not hang on how busy the 2 cores are), then
runs `saturn run` (node lib-node/executor/cli-run.js; build it first: npx tsc -p tsconfig.node.json) `--runs` times
in a row against the same store: the first run profiles (each option's start-up cost measured by its trial), later
runs reuse the profile and the start-up the jobs really took. Prints per run the planned and realised makespan and
their ratio, per job the planned vs realised start-up and end, each GPU's idle time between jobs, and the median
ratio. With --ignore-startup-cost the plans leave start-up out (what Saturn did before), for comparison.
With --workload demo the jobs are the four tasks of demo/saturn-demo.ipynb (its code cells up to the registration run
in a child process): real compute, so the two declared GPUs share the machine's cores as they do for a demo user.
Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import dispatch_bench  # noqa: E402 - the server start/stop and task helpers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--port", type=int, default=8903)
    parser.add_argument("--ignore-startup-cost", action="store_true")
    parser.add_argument("--workload", choices=["sleep", "demo"], default="sleep",
                        help="sleep: jobs whose steps take a known time (default); demo: the demo notebook's tasks")
    parser.add_argument("--keep", action="store_true", help="keep the temporary root (logs)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="saturn-fidelity-"))
    # 0.1 s a step; 100..550 steps: 10..55 s of training per job
    steps = [100 + (450 * i) // max(1, args.jobs - 1) for i in range(args.jobs)]
    if args.workload == "demo":
        names = register_demo(root)
        what = f"the demo notebook's {len(names)} tasks"
    else:
        names = dispatch_bench.register_tasks(root, steps, 0.1)
        what = f"{args.jobs} jobs of {steps[0] / 10:.0f}-{steps[-1] / 10:.0f} s"
    log = open(root / "server.log", "wb")
    server = dispatch_bench.start_server(root, args.port, log, fake_gpus=2)
    ratios = []
    try:
        for run in range(1, args.runs + 1):
            cmd = ["node", str(REPO / "lib-node/executor/cli-run.js"), "--server", f"http://127.0.0.1:{args.port}",
                   "--token", "tok", "--time-limit", "2", "--poll", "0.2", "--names", ",".join(names)]
            if args.ignore_startup_cost:
                cmd.append("--ignore-startup-cost")
            t0 = time.monotonic()
            with open(root / f"cli-{run}.log", "wb") as err:
                out = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=err, timeout=1800)
            wall = time.monotonic() - t0
            if out.returncode != 0 or not out.stdout.strip():
                print(f"run {run}: the CLI exited {out.returncode}; see {root}/cli-{run}.log")
                return 1
            s = json.loads(out.stdout)
            planned, realised = s["planned_makespan_s"], s["realised_makespan_s"]
            ratio = realised / planned
            ratios.append(ratio)
            print(f"run {run}: planned makespan {planned:.1f} s, realised {realised:.1f} s, realised/planned "
                  f"{ratio:.3f} (CLI wall {wall:.0f} s, profiling included)")
            print(f"  {'job':>6} {'GPUs':>5} {'planned start-end':>18} {'launch':>7} {'start-up':>8} "
                  f"{'first step':>10} {'end':>7} {'late':>6}")
            for j in sorted(s["jobs"], key=lambda j: j.get("planned_start_s") or 0):
                print(f"  {j['task']:>6} {','.join(map(str, j['gpu_ids'])):>5} "
                      f"{j.get('planned_start_s', 0):8.1f}-{j.get('planned_end_s', 0):<8.1f} "
                      f"{_f(j.get('launched_s')):>7} {_f(j.get('startup_s')):>8} {_f(j.get('realised_start_s')):>10} "
                      f"{_f(j.get('realised_end_s')):>7} {_f(j.get('start_delay_s')):>6}")
            print("  GPU idle between jobs: " + ", ".join(f"{k} {v:.2f} s" for k, v in s["gpu_idle_s"].items()))
        print(f"median realised/planned over {len(ratios)} runs: {statistics.median(ratios):.3f} "
              f"({'start-up costs ignored' if args.ignore_startup_cost else 'start-up costs planned'}; "
              f"{os.cpu_count()} cores, 2 declared GPUs, {what})")
        return 0
    finally:
        dispatch_bench.stop_server(server)
        log.close()
        if not args.keep:
            subprocess.run(["rm", "-rf", str(root)], check=False)
        else:
            print(f"root: {root}")


def register_demo(root: Path) -> list[str]:
    """Run the demo notebook's code cells up to its task registration (IPython magics left out) against ``root``."""
    nb = json.loads((REPO / "demo" / "saturn-demo.ipynb").read_text())
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        cells.append("\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%")))
        if "saturn.register(" in source:
            break
    code = "\n\n".join(cells) + "\nimport json\nprint(json.dumps([t.name for t in tasks]))\n"
    env = {**os.environ, "SATURN_ROOT": str(root), "SATURN_FAKE_GPUS": "2", "SATURN_TORCH_THREADS": "1"}
    env.pop("SATURN_DB", None)
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, stdout=subprocess.PIPE, check=True,
                         timeout=600, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _f(x) -> str:
    return "-" if x is None else f"{x:.1f}"


if __name__ == "__main__":
    sys.exit(main())
