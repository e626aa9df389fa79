"""GPU check: profile a small real model on this machine's CUDA device(s) with every technique that fits.

    python -m saturn.gpu_check [--gpus N] [--timeout S]

Uses a temporary store, the real GPUs (SATURN_FAKE_GPUS is ignored) and a ~25M-parameter transformer-like
sequential model built in code. Prints step time, peak memory and knobs per option, and why the others are
infeasible. Exits with status 2 and a clear message when there is no CUDA device.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time


def make_model():
    import torch
    from torch import nn

    class Embed(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(8192, 512)

        def forward(self, ids):
            return self.tok(ids)

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.out = nn.Linear(512, 16)

        def forward(self, x):
            return self.out(x.mean(dim=1))

    torch.manual_seed(0)
    blocks = [nn.TransformerEncoderLayer(512, 8, 2048, dropout=0.0, batch_first=True) for _ in range(6)]
    return nn.Sequential(Embed(), *blocks, Head())


def make_data(batch_size):
    import torch
    g = torch.Generator().manual_seed(0)
    return [(torch.randint(0, 8192, (batch_size, 128), generator=g), torch.randint(0, 16, (batch_size,), generator=g))
            for _ in range(8)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gpus", type=int, default=1, help="GPU counts 1..N to try (default 1)")
    parser.add_argument("--timeout", type=float, default=240, help="seconds per trial")
    args = parser.parse_args(argv)
    os.environ.pop("SATURN_FAKE_GPUS", None)
    try:
        import torch
    except ImportError:
        print("saturn.gpu_check: torch is not installed; nothing to check.", file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print(f"saturn.gpu_check: no CUDA device here (torch {torch.__version__}, "
              f"cuda build {torch.version.cuda}); run it on a machine with an NVIDIA GPU.", file=sys.stderr)
        return 2
    os.environ["SATURN_DB"] = os.path.join(tempfile.mkdtemp(prefix="saturn-gpu-check-"), "saturn.db")
    import saturn
    from saturn.devices import detect
    devices = detect(refresh=True)
    if not devices:
        print("saturn.gpu_check: torch sees CUDA but Saturn found no device (nvidia-smi?)", file=sys.stderr)
        return 2
    gpus = max(1, min(args.gpus, len(devices)))
    for d in devices[:gpus]:
        print(f"device {d.id}: {d.name}, {d.memory_total_bytes / 2**30:.1f} GiB, "
              f"{d.memory_used_bytes / 2**30:.1f} GiB used by others")
    print(f"torch {torch.__version__}, cuda {torch.version.cuda}, python {sys.version.split()[0]}")
    t0 = time.perf_counter()
    saturn.register(saturn.Task("gpu-check-transformer", model=make_model, data=make_data, batch_size=32,
                                steps=1000, optimizer="adam", lr=1e-4, gpu_range=(1, gpus)))
    print(f"registered in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    instance = saturn.profile(devices=devices[:gpus], trial_timeout=args.timeout, max_parallel=1,
                              progress=lambda p: print(f"  trial {p['done']}/{p['total']}", flush=True))
    print(f"profiled in {time.perf_counter() - t0:.1f} s\n")
    print(repr(instance))
    for job in instance["jobs"] + instance["unschedulable"]:
        for o in job["options"]:
            print(f"{o['parallelism']:>9} x{o['gpus']}: step {o['step_time_s'] * 1000:8.2f} ms, "
                  f"peak {o['peak_mem_bytes'] / 2**20:8.0f} MiB, knobs {o['knobs']}")
        for x in job["infeasible"]:
            print(f"{x['parallelism']:>9} x{x['gpus']}: infeasible: {x['reason']}")
    return 0 if instance["jobs"] else 1


if __name__ == "__main__":
    sys.exit(main())
