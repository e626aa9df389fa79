"""Profiling cost: N tasks x 4 techniques x K devices (CPU "GPUs" unless --real), cold and from the cache.

    PYTHONPATH=python_bridge /usr/bin/python3 bench/profile_bench.py --tasks 2 --devices 2

Prints figures; asserts nothing about time. Uses a temporary store (SATURN_DB) so nothing is left behind.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python_bridge"))


def make_model_factory(width: int):
    def make_model():
        import torch
        return torch.nn.Sequential(torch.nn.Linear(32, width), torch.nn.ReLU(), torch.nn.Linear(width, width),
                                   torch.nn.ReLU(), torch.nn.Linear(width, 8))
    return make_model


def make_data(batch_size):
    import torch
    return [(torch.randn(batch_size, 32), torch.randint(0, 8, (batch_size,))) for _ in range(4)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=2)
    parser.add_argument("--devices", type=int, default=2)
    parser.add_argument("--parallel", type=int, default=None, help="max trials at once (default: min(K, cores))")
    parser.add_argument("--real", action="store_true", help="use the real GPUs instead of CPU devices")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="saturn-bench-")
    os.environ["SATURN_DB"] = os.path.join(tmp, "saturn.db")
    if not args.real:
        os.environ["SATURN_FAKE_GPUS"] = str(args.devices)
    import saturn
    from saturn.core.devices import detect

    devices = detect(refresh=True)
    t0 = time.perf_counter()
    for i in range(args.tasks):
        saturn.register(saturn.Task(f"mlp-{i}", model=make_model_factory(64 * (i + 1)), data=make_data,
                                    batch_size=16, steps=1000))
    register_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    cold = saturn.profile(max_parallel=args.parallel)
    cold_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm = saturn.profile(max_parallel=args.parallel)
    warm_s = time.perf_counter() - t0

    meta = cold["saturn"]
    ruled_out = sum(1 for j in cold["jobs"] + cold["unschedulable"] for x in j["infeasible"]
                    if "at least" in x["reason"] or "at most" in x["reason"] or "exactly" in x["reason"])
    options = sum(len(j["options"]) for j in cold["jobs"])
    print(f"machine: {os.cpu_count()} cores, devices: {len(devices)} x {devices[0].kind if devices else '-'}, "
          f"torch {meta['versions']['torch']}, python {meta['versions']['python']}")
    print(f"grid: {args.tasks} tasks x 4 techniques x 1..{len(devices)} devices = "
          f"{args.tasks * 4 * len(devices)} combinations; {ruled_out} ruled out without a process, "
          f"{meta['trials']} trials; {options} feasible options")
    print(f"register {args.tasks} tasks (child-process check each): {register_s:8.2f} s")
    print(f"profile, cold (trials in child processes):   {cold_s:8.2f} s  "
          f"({cold_s / max(meta['trials'], 1):.2f} s per trial, max_parallel={args.parallel or 'auto'})")
    print(f"profile, cache hit ({warm['saturn']['cached']}/{warm['saturn']['trials']} cached):      "
          f"{warm_s * 1000:8.1f} ms")
    for job in cold["jobs"]:
        best = min(job["options"], key=lambda o: o["runtime_s"])
        print(f"  {job['id']}: {len(job['options'])} options, fastest {best['parallelism']} x{best['gpus']} "
              f"step {best['step_time_s'] * 1000:.2f} ms")


if __name__ == "__main__":
    main()
