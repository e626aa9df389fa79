"""The GPU check: Saturn's CUDA path end to end on a machine with an NVIDIA GPU and no Jupyter server.

    python -m saturn.gpu_check [--timeout S] [--require-gpu]   # on a GPU machine (scripts/gpu-check.sh)
    python -m saturn.gpu_check --cpu 2                         # the same checks on 2 declared CPU devices

Checks, each printed as one verdict line ``[PASS|FAIL|SKIP] name: detail``:

1. ``discovery``: the GPUs as NVML (nvidia-ml-py) or ``nvidia-smi`` report them, with memory held by others.
2. ``profile``: two small models profiled on one GPU with every technique that fits one GPU (ddp, fsdp, spilling
   measured; pipeline infeasible with its reason: it needs two devices).
3. ``oom``: a third task whose trial processes cap the GPU's memory (``torch.cuda.set_per_process_memory_fraction``)
   really runs out of memory; the option is recorded infeasible with the reason while the other tasks' trials run.
4. ``run``: a 3-job plan (list scheduling over the measured options) runs through ``python -m saturn.runner`` job
   processes, each pinned by its lease (``CUDA_VISIBLE_DEVICES``); planned vs realised makespan per job and in all.
5. ``resume``: one job is SIGKILLed after its first checkpoint, reconciled and resumed; its final weights must equal
   an uninterrupted run's bit for bit (CUDA RNG state included: the model has dropout).

Exit status: 0 when no check failed (a machine without a GPU skips the GPU checks and says so), 1 when one failed,
3 with ``--require-gpu`` on a machine without a GPU. Everything lives in a temporary store.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CAP_BYTES = 2 << 30  # the memory cap of the "oom" task's trials


# -- models and data built in code (no downloads); module level so that job and trial processes can import them ----
def _block(dim):
    from torch import nn

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Dropout(0.1), nn.Linear(2 * dim, dim))

        def forward(self, x):
            return x + self.mlp(x)

    return Residual()


def make_resmlp():
    import torch
    from torch import nn
    torch.manual_seed(0)
    dim = int(os.environ.get("SATURN_GPU_CHECK_DIM", "256"))
    return nn.Sequential(nn.Linear(64, dim), *[_block(dim) for _ in range(4)], nn.Linear(dim, 10))


def resmlp_data(batch_size):
    import torch
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(batch_size * 16, 64, generator=g), torch.randint(0, 10, (batch_size * 16,), generator=g)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch_size, shuffle=True,
                                       drop_last=True)


def make_transformer():
    import torch
    from torch import nn

    class Embed(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(1024, 128)

        def forward(self, ids):
            return self.tok(ids)

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.out = nn.Linear(128, 8)

        def forward(self, x):
            return self.out(x.mean(dim=1))

    torch.manual_seed(0)
    blocks = [nn.TransformerEncoderLayer(128, 4, 256, dropout=0.1, batch_first=True) for _ in range(3)]
    return nn.Sequential(Embed(), *blocks, Head())


def transformer_data(batch_size):
    import torch
    g = torch.Generator().manual_seed(2)
    return [(torch.randint(0, 1024, (batch_size, 32), generator=g), torch.randint(0, 8, (batch_size,), generator=g))
            for _ in range(8)]


def make_capped_model():
    """About 270M parameters (1 GiB of fp32 weights; with gradients and Adam's moments 4 GiB), built on a GPU whose
    memory a profiling trial caps at CAP_BYTES: training it there runs out of memory for real."""
    import torch
    from torch import nn
    if os.environ.get("SATURN_ASSIGNED") and torch.cuda.is_available():
        total = torch.cuda.get_device_properties(0).total_memory
        torch.cuda.set_per_process_memory_fraction(min(1.0, CAP_BYTES / total), 0)
    torch.manual_seed(0)
    return nn.Sequential(*[nn.Linear(8192, 8192) for _ in range(4)], nn.Linear(8192, 10))


def capped_data(batch_size):
    import torch
    g = torch.Generator().manual_seed(3)
    return [(torch.randn(batch_size, 8192, generator=g), torch.randint(0, 10, (batch_size,), generator=g))
            for _ in range(2)]


# -- the checks ------------------------------------------------------------------------------------------------------
class Verdicts:
    def __init__(self):
        self.rows: list[tuple[str, str, str]] = []

    def __call__(self, name: str, verdict: str, detail: str) -> bool:
        self.rows.append((name, verdict, detail))
        print(f"[{verdict}] {name}: {detail}", flush=True)
        return verdict == "PASS"

    @property
    def failed(self) -> list[str]:
        return [n for n, v, _ in self.rows if v == "FAIL"]


def discovery(devices_mod, cpu: int, cuda: bool, say: Verdicts) -> list:
    if cpu:
        found = devices_mod.detect(refresh=True)
        say("discovery", "PASS" if len(found) == cpu else "FAIL",
            f"{len(found)} declared CPU devices (SATURN_FAKE_GPUS={cpu}); NVML and nvidia-smi not asked")
        return found
    nvml, smi = devices_mod._from_nvml(), devices_mod._from_nvidia_smi()
    found = nvml or smi or []
    source = "NVML" if nvml else ("nvidia-smi" if smi else "neither NVML nor nvidia-smi")
    for d in found:
        print(f"  GPU {d.id}: {d.name}, {d.memory_total_bytes / 2**30:.1f} GiB, "
              f"{d.memory_used_bytes / 2**30:.2f} GiB used by others, {d.uuid}")
    verdict = "PASS" if found else ("FAIL" if cuda else "SKIP")  # torch seeing a GPU that NVML misses is a failure
    say("discovery", verdict, f"{len(found)} GPU(s) through {source}" + ("" if found or cuda else ": no GPU here"))
    return devices_mod.detect(refresh=True) if found else []


def register_tasks(saturn, steps: int, with_capped: bool) -> list[str]:
    tasks = [saturn.Task("resmlp-a", model=make_resmlp, data=resmlp_data, batch_size=32, steps=steps,
                         optimizer="adam", lr=1e-3, gpu_range=1),
             saturn.Task("resmlp-b", model=make_resmlp, data=resmlp_data, batch_size=32, steps=steps,
                         optimizer="adam", lr=3e-4, gpu_range=1),
             saturn.Task("transformer", model=make_transformer, data=transformer_data, batch_size=16, steps=steps,
                         optimizer="adam", lr=1e-4, gpu_range=1)]
    if with_capped:
        tasks.append(saturn.Task("capped", model=make_capped_model, data=capped_data, batch_size=8, steps=steps,
                                 optimizer="adam", lr=1e-4, gpu_range=1, hints={"spill_partitions": 1}))
    for task in tasks:
        saturn.register(task)
    return [t.name for t in tasks]


def check_profile(instance: dict, say: Verdicts) -> None:
    jobs = {j["id"]: j for j in instance["jobs"] + instance["unschedulable"]}
    for job in jobs.values():
        for o in job["options"]:
            print(f"  {job['id']:>12} {o['parallelism']:>9} x{o['gpus']}: step {o['step_time_s'] * 1000:8.2f} ms, "
                  f"peak {o['peak_mem_bytes'] / 2**20:8.0f} MiB, knobs {o['knobs']}")
        for x in job["infeasible"]:
            print(f"  {job['id']:>12} {x['parallelism']:>9} x{x['gpus']}: infeasible: {x['reason'][:160]}")
    problems = []
    for name in ("resmlp-a", "transformer"):
        job = jobs.get(name)
        got = {o["parallelism"] for o in job["options"]} if job else set()
        missing = {"ddp", "fsdp", "spilling"} - got
        if missing:
            problems.append(f"{name} lacks {sorted(missing)}")
        pipe = [x for x in (job or {}).get("infeasible", []) if x["parallelism"] == "pipeline"]
        if job and not pipe:
            problems.append(f"{name}: pipeline on one device should be infeasible with its reason")
    say("profile", "FAIL" if problems else "PASS",
        "; ".join(problems) or "ddp, fsdp and spilling measured for both models on one device; pipeline "
                              "infeasible with its reason")


def check_oom(instance: dict, say: Verdicts) -> None:
    capped = next((j for j in instance["jobs"] + instance["unschedulable"] if j["id"] == "capped"), None)
    oom = [x for x in (capped or {}).get("infeasible", []) if "memory" in x["reason"].lower()]
    others = [j for j in instance["jobs"] if j["id"] != "capped"]
    ok = bool(oom) and len(others) >= 3
    say("oom", "PASS" if ok else "FAIL",
        (f"{len(oom)} option(s) of 'capped' infeasible under a {CAP_BYTES >> 30} GiB cap "
         f"({oom[0]['parallelism']}: {oom[0]['reason'][:100]}); {len(others)} other tasks profiled")
        if oom else f"no out-of-memory option recorded for 'capped': {capped and capped['infeasible']}")


def list_schedule(instance: dict, gpus: int, names: list[str]) -> list[dict]:
    """Longest job first, each on the option and GPUs that finish it soonest (GPUs are interchangeable)."""
    free = [0.0] * gpus
    plan = []
    jobs = [j for j in instance["jobs"] if j["id"] in names]
    for job in sorted(jobs, key=lambda j: -min(o["runtime_s"] for o in j["options"])):
        best = None
        for o in job["options"]:
            if o["gpus"] > gpus:
                continue
            ids = sorted(range(gpus), key=lambda i: free[i])[:o["gpus"]]
            start = max(free[i] for i in ids)
            if best is None or start + o["runtime_s"] < best[0]:
                best = (start + o["runtime_s"], start, o, ids)
        end, start, option, ids = best
        for i in ids:
            free[i] = end
        plan.append({"job": job["id"], "option": option, "gpu_ids": sorted(ids), "start_s": start, "end_s": end})
    return sorted(plan, key=lambda p: p["start_s"])


def _runner(job_id: str, env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "saturn.runner", job_id], env=env, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def run_plan(store, plan: list[dict], env: dict, work: Path, devices: list) -> dict:
    """Start each job as its planned GPUs free up (plan order); returns job -> (start, end) seconds from t0."""
    from .core.jobs import JobStore
    js = JobStore(store)
    for order, p in enumerate(plan):
        o = p["option"]
        js.create(p["job"], p["job"], {"parallelism": o["parallelism"], "gpus": o["gpus"], "gpu_ids": p["gpu_ids"],
                                        "knobs": o["knobs"]}, run_id="gpu-check", order=order,
                  settings={"checkpoint_every_steps": 100})
    waiting, running, times = list(plan), {}, {}
    t0 = time.monotonic()
    while waiting or running:
        for job, proc in list(running.items()):
            if proc.poll() is not None:
                times[job] = (times[job][0], time.monotonic() - t0)
                del running[job]
        busy = {i for j in running for i in next(p["gpu_ids"] for p in plan if p["job"] == j)}
        while waiting and not busy & set(waiting[0]["gpu_ids"]):
            p = waiting.pop(0)
            running[p["job"]] = _runner(p["job"], env, work / f"{p['job']}.out")
            times[p["job"]] = (time.monotonic() - t0, None)
            busy |= set(p["gpu_ids"])
        time.sleep(0.05)
    return times


def check_run(store, plan: list[dict], times: dict, kind: str, say: Verdicts) -> None:
    from .core.jobs import JobStore
    js = JobStore(store)
    problems = []
    print(f"  {'job':>12} {'option':>12} {'GPUs':>6} {'planned':>17} {'realised':>17}")
    for p in plan:
        job = js.get(p["job"])
        start, end = times[p["job"]]
        print(f"  {p['job']:>12} {p['option']['parallelism'] + ' x' + str(p['option']['gpus']):>12} "
              f"{','.join(map(str, p['gpu_ids'])):>6} {p['start_s']:7.1f} → {p['end_s']:7.1f} s "
              f"{start:7.1f} → {end:7.1f} s")
        if job["state"] != "done":
            problems.append(f"{p['job']} ended {job['state']}: {job['info'].get('error')}")
            continue
        lease = job["info"].get("lease_env") or {}
        want = ",".join(map(str, p["gpu_ids"]))
        got = lease.get("CUDA_VISIBLE_DEVICES") if kind == "cuda" else lease.get("SATURN_CPU_DEVICES")
        physical = os.environ.get("CUDA_VISIBLE_DEVICES")
        if kind == "cuda" and physical:
            want = ",".join(physical.split(",")[i] for i in p["gpu_ids"])
        if got != want:
            problems.append(f"{p['job']} trained with devices {got!r}, its lease says {want!r}")
    planned = max(p["end_s"] for p in plan)
    realised = max(end for _, end in times.values())
    var = "CUDA_VISIBLE_DEVICES" if kind == "cuda" else "SATURN_CPU_DEVICES"
    say("run", "FAIL" if problems else "PASS",
        "; ".join(problems) or f"{len(plan)} jobs done, each pinned by its lease ({var}); planned makespan "
                              f"{planned:.1f} s, realised {realised:.1f} s ({realised / planned:.2f}x; job start-up "
                              "is not in this plan)")


def check_resume(store, plan: list[dict], env: dict, work: Path, say: Verdicts) -> None:
    import torch

    from .core.jobs import JobStore
    from .control.reconcile import reconcile
    from .execution.runner import weights_path
    js = JobStore(store)
    ref = next(p for p in plan if p["job"] == "resmlp-a")
    o = ref["option"]
    js.create("resmlp-a-killed", "resmlp-a", {"parallelism": o["parallelism"], "gpus": o["gpus"],
                                              "gpu_ids": ref["gpu_ids"], "knobs": o["knobs"]},
              run_id="gpu-check-resume", settings={"checkpoint_every_steps": 50})
    proc = _runner("resmlp-a-killed", env, work / "resmlp-a-killed.out")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        if (js.get("resmlp-a-killed")["info"].get("checkpoint") or {}).get("step"):
            break
        time.sleep(0.01)
    if proc.poll() is not None:
        say("resume", "FAIL", f"the job ended before it could be killed ({js.get('resmlp-a-killed')['state']}); "
                              "give it more steps")
        return
    killed_at = js.get("resmlp-a-killed")["info"].get("step")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    report = reconcile(store, "gpu-check-resume")
    proc = _runner("resmlp-a-killed", env, work / "resmlp-a-killed.out")
    proc.wait()
    job = js.get("resmlp-a-killed")
    if job["state"] != "done":
        say("resume", "FAIL", f"the resumed job ended {job['state']}: {job['info'].get('error')}")
        return
    a = torch.load(weights_path(store, "resmlp-a"), map_location="cpu")
    b = torch.load(weights_path(store, "resmlp-a-killed"), map_location="cpu")
    same = a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    say("resume", "PASS" if same else "FAIL",
        f"killed near step {killed_at}, reconciled ({', '.join(report['interrupted']) or 'nothing interrupted'}), "
        f"resumed in attempt {job['info'].get('attempts')}: final weights "
        + ("equal an uninterrupted run's bit for bit" if same else "DIFFER from an uninterrupted run's"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpu", type=int, default=0, metavar="N", help="run on N declared CPU devices instead")
    parser.add_argument("--steps", type=int, default=0, help="training steps per job (default: 3000 GPU, 300 CPU)")
    parser.add_argument("--timeout", type=float, default=240, help="seconds per profiling trial")
    parser.add_argument("--require-gpu", action="store_true", help="exit 3 when there is no GPU")
    args = parser.parse_args(argv)
    say = Verdicts()
    started = time.monotonic()
    try:
        import torch
    except ImportError:
        print("saturn.gpu_check: torch is not installed; nothing to check.", file=sys.stderr)
        return 2
    print(f"torch {torch.__version__}, cuda build {torch.version.cuda}, python {sys.version.split()[0]}")
    work = Path(tempfile.mkdtemp(prefix="saturn-gpu-check-"))
    os.environ["SATURN_DB"] = str(work / "saturn.db")
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS: resume is compared bitwise
    if args.cpu:
        os.environ["SATURN_FAKE_GPUS"] = str(args.cpu)
    else:
        os.environ.pop("SATURN_FAKE_GPUS", None)
    from .core import devices as devices_mod
    found = discovery(devices_mod, args.cpu, torch.cuda.is_available(), say)
    if not found or (not args.cpu and not torch.cuda.is_available()):
        for name in ("profile", "oom", "run", "resume"):
            say(name, "SKIP", "no GPU here; `--cpu 2` runs the same checks on declared CPU devices")
        print(f"gpu_check: no NVIDIA GPU on this machine: the GPU checks did not run ({len(say.failed)} failed)")
        if say.failed:
            return 1
        return 3 if args.require_gpu else 0
    import saturn
    kind = found[0].kind
    steps = args.steps or (3000 if kind == "cuda" else 300)
    one = found[:1]
    names = register_tasks(saturn, steps, with_capped=kind == "cuda")
    t0 = time.monotonic()
    instance = saturn.profile(devices=one, trial_timeout=args.timeout, max_parallel=1)
    print(f"  profiled {len(names)} tasks on {one[0].name} in {time.monotonic() - t0:.1f} s")
    check_profile(instance, say)
    if kind == "cuda":
        check_oom(instance, say)
    else:
        say("oom", "SKIP", "CPU devices have no memory cap to run out of")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parent.parent),
                                                        os.environ.get("PYTHONPATH", "")])}
    try:
        plan = list_schedule(instance, len(found), ["resmlp-a", "resmlp-b", "transformer"])
    except (TypeError, ValueError) as err:
        say("run", "FAIL", f"no plan: {err}")
        plan = []
    if plan:
        from .core.store import default_store
        store = default_store()
        times = run_plan(store, plan, env, work, found)
        check_run(store, plan, times, kind, say)
        if any(p["job"] == "resmlp-a" for p in plan):
            check_resume(store, plan, env, work, say)
    print(f"gpu_check: {len(say.rows)} checks, {len(say.failed)} failed"
          + (f" ({', '.join(say.failed)})" if say.failed else "") + f", {time.monotonic() - started:.0f} s; "
          f"logs in {work}")
    return 1 if say.failed else 0


if __name__ == "__main__":
    sys.exit(main())
