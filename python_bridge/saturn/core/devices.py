"""The devices Saturn may use on this machine.

Environment:
- ``SATURN_FAKE_GPUS=N`` (N > 0): N CPU "GPUs" (``kind: "cpu"``, ids 0..N-1), even when real GPUs exist. Their
  memory is ``SATURN_FAKE_GPU_MEMORY`` bytes each (default: the host's RAM / N).
- otherwise real NVIDIA GPUs, found without creating a CUDA context in the bridge: through NVML (the
  ``nvidia-ml-py`` package, ``import pynvml``) when it is installed and a driver answers, else ``nvidia-smi`` when it
  is on PATH, else ``torch.cuda`` in a short child process. Memory already held by other processes is reported in
  ``memory_used_bytes``. A ``CUDA_VISIBLE_DEVICES`` the bridge was started with is honoured.
- neither: no devices.

Processes that work on devices get them by environment (set before torch starts): ``CUDA_VISIBLE_DEVICES`` for real
GPUs, ``SATURN_CPU_DEVICES`` for CPU ones, and ``SATURN_ASSIGNED`` (the ids as Saturn numbers them) for both.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Optional

MIB = 1024 * 1024
NVIDIA_SMI_QUERY = "index,uuid,name,memory.total,memory.used,memory.free"


@dataclass
class Device:
    id: int
    kind: str  # "cuda" | "cpu"
    name: str
    memory_total_bytes: int
    memory_used_bytes: int = 0  # held by other processes
    memory_free_bytes: int = 0
    uuid: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def parse_nvidia_smi_csv(text: str) -> list[Device]:
    """Parse ``nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,memory.free
    --format=csv,noheader,nounits`` (MiB values). Lines that do not parse are skipped."""
    devices = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 6 or not parts[0].isdigit():
            continue
        index, uuid, name = int(parts[0]), parts[1], ",".join(parts[2:-3]).strip()
        try:
            total, used, free = (int(float(p)) * MIB for p in parts[-3:])
        except ValueError:
            continue
        devices.append(Device(id=index, kind="cuda", name=name, memory_total_bytes=total,
                              memory_used_bytes=used, memory_free_bytes=free, uuid=uuid))
    return devices


def _from_nvidia_smi() -> Optional[list[Device]]:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, f"--query-gpu={NVIDIA_SMI_QUERY}", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return only_visible(parse_nvidia_smi_csv(out.stdout))


def only_visible(devices: list[Device]) -> list[Device]:
    """NVML and nvidia-smi number every GPU of the machine; keep those a CUDA_VISIBLE_DEVICES the bridge was started
    with names (by index or UUID prefix), renumbered 0..n-1 as CUDA numbers them."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None or not visible.strip():
        return devices
    chosen = []
    for w in (v.strip() for v in visible.split(",") if v.strip()):
        match = [d for d in devices if str(d.id) == w or d.uuid == w or (d.uuid and d.uuid.startswith(w))]
        chosen.extend(match[:1])
    return [Device(**{**d.to_dict(), "id": i}) for i, d in enumerate(chosen)]


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _from_nvml() -> Optional[list[Device]]:
    """GPUs through NVML; None when nvidia-ml-py is not installed or no NVIDIA driver answers."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:  # noqa: BLE001 - NVMLError_LibraryNotFound / DriverNotLoaded: no NVIDIA driver here
        return None
    try:
        devices = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
            devices.append(Device(id=index, kind="cuda", name=_text(pynvml.nvmlDeviceGetName(handle)),
                                  memory_total_bytes=int(mem.total), memory_used_bytes=int(mem.used),
                                  memory_free_bytes=int(mem.free), uuid=_text(pynvml.nvmlDeviceGetUUID(handle))))
        return only_visible(devices)
    except Exception:  # noqa: BLE001 - a driver that answers init but not queries: let nvidia-smi try
        return None
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:  # noqa: BLE001
            pass


_TORCH_PROBE = """
import json, torch
out = []
if torch.cuda.is_available():
    for i in range(torch.cuda.device_count()):
        free, total = torch.cuda.mem_get_info(i)
        props = torch.cuda.get_device_properties(i)
        out.append({"id": i, "name": props.name, "total": int(total), "free": int(free)})
print(json.dumps(out))
"""


def _from_torch() -> list[Device]:
    try:
        import importlib.util
        if importlib.util.find_spec("torch") is None:
            return []
        out = subprocess.run([sys.executable, "-c", _TORCH_PROBE], capture_output=True, text=True, timeout=120)
        rows = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 and out.stdout.strip() else []
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return []
    # The probe's own CUDA context is counted in (total - free); it is gone when the probe exits.
    return [Device(id=r["id"], kind="cuda", name=r["name"], memory_total_bytes=r["total"],
                   memory_used_bytes=r["total"] - r["free"], memory_free_bytes=r["free"]) for r in rows]


def _host_memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 * 1024 ** 3


DECLARED_FILE = "declared_gpus"


def _declared_path():
    from .paths import store_path
    return store_path().parent / DECLARED_FILE


def declared_gpus() -> int:
    """CPU "GPUs" declared from the Settings Editor (0 = none declared); every Saturn process reads it."""
    try:
        return max(0, int(_declared_path().read_text().strip() or 0))
    except (OSError, ValueError):
        return 0


def set_declared_gpus(count: int) -> None:
    """Persist the declared count next to the store (0 removes it: back to real GPUs or SATURN_FAKE_GPUS)."""
    path = _declared_path()
    if count <= 0:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(str(int(count)))
    os.replace(tmp, path)


def fake_gpu_count() -> int:
    declared = declared_gpus()
    if declared:
        return declared
    raw = os.environ.get("SATURN_FAKE_GPUS", "").strip()
    if not raw:
        return 0
    try:
        return max(0, int(raw))
    except ValueError:
        raise ValueError(f"SATURN_FAKE_GPUS must be a whole number of CPU devices, got {raw!r}") from None


def fake_devices(n: int) -> list[Device]:
    per = int(os.environ.get("SATURN_FAKE_GPU_MEMORY", "0") or 0) or _host_memory_bytes() // max(n, 1)
    return [Device(id=i, kind="cpu", name=f"CPU device {i}", memory_total_bytes=per, memory_used_bytes=0,
                   memory_free_bytes=per) for i in range(n)]


_cache: dict = {"at": 0.0, "key": None, "devices": []}
CACHE_SECONDS = 5.0


def detect(refresh: bool = False) -> list[Device]:
    """Devices Saturn may use, fresh at most every few seconds (memory in use changes)."""
    n_fake = fake_gpu_count()
    key = (n_fake, os.environ.get("CUDA_VISIBLE_DEVICES"), os.environ.get("SATURN_FAKE_GPU_MEMORY"))
    if not refresh and _cache["key"] == key and time.monotonic() - _cache["at"] < CACHE_SECONDS:
        return list(_cache["devices"])
    if n_fake > 0:
        devices = fake_devices(n_fake)
    else:
        devices = _from_nvml()
        if devices is None:
            devices = _from_nvidia_smi()
        if devices is None:
            devices = _from_torch()
    _cache.update(at=time.monotonic(), key=key, devices=devices)
    return list(devices)


def device_kind(devices: Optional[list[Device]] = None) -> str:
    devices = detect() if devices is None else devices
    return devices[0].kind if devices else "none"


def device_type(devices: Optional[list[Device]] = None) -> str:
    """What a profile depends on: kind and model of device (``cpu`` or e.g. ``cuda:NVIDIA H100 80GB HBM3``)."""
    devices = detect() if devices is None else devices
    if not devices:
        return "none"
    return "cpu" if devices[0].kind == "cpu" else f"cuda:{devices[0].name}"


# -- pinning processes to devices -------------------------------------------------------------------------------
def assignment_env(kind: str, ids: list[int], scheduler_sets_cuda: bool = False) -> dict[str, str]:
    """Environment that gives a child process exactly ``ids`` (Saturn's numbering). ``scheduler_sets_cuda``: the
    process runs in a scheduler's allocation (SLURM) whose CUDA_VISIBLE_DEVICES already names its GPUs; it stays, and
    ``SATURN_ASSIGNED`` maps Saturn's ids onto it by position."""
    joined = ",".join(str(i) for i in ids)
    env = {"SATURN_ASSIGNED": joined, "SATURN_DEVICE_KIND": kind}
    if kind == "cuda" and scheduler_sets_cuda:
        return env
    if kind == "cuda":
        base = os.environ.get("SATURN_CUDA_BASE")
        if not base and "SATURN_ASSIGNED" not in os.environ:
            base = os.environ.get("CUDA_VISIBLE_DEVICES")
        physical = [b.strip() for b in (base or "").split(",") if b.strip()]
        if physical:
            env["SATURN_CUDA_BASE"] = ",".join(physical)
        env["CUDA_VISIBLE_DEVICES"] = ",".join(physical[i] if i < len(physical) else str(i) for i in ids)
    else:
        env["SATURN_CPU_DEVICES"] = joined
        env["CUDA_VISIBLE_DEVICES"] = ""
    return env


def current_kind() -> str:
    """Device kind of this process: what it was assigned, else what is detected."""
    return os.environ.get("SATURN_DEVICE_KIND") or device_kind()


def local_torch_device(global_id: int):
    """The torch.device for Saturn device ``global_id`` inside this process."""
    import torch
    if current_kind() != "cuda":
        return torch.device("cpu")
    assigned = [int(x) for x in os.environ.get("SATURN_ASSIGNED", "").split(",") if x.strip()]
    return torch.device("cuda", assigned.index(global_id) if global_id in assigned else global_id)


def torch_threads() -> int:
    """Threads each worker process gives torch (``SATURN_TORCH_THREADS``, default 1)."""
    try:
        return max(1, int(os.environ.get("SATURN_TORCH_THREADS", "1") or 1))
    except ValueError:
        return 1


def notices(devices: list[Device]) -> list[str]:
    """What a user should know about these devices before trusting a plan (notices, not errors): declared CPU
    "GPUs" that need more threads than the machine has cores slow each other down, which no profile can promise."""
    cpu = [d for d in devices if d.kind == "cpu"]
    cores = os.cpu_count() or 1
    need = len(cpu) * torch_threads()
    if cpu and need > cores:
        return [f"{len(cpu)} CPU devices are declared ({torch_threads()} thread each) on a machine with {cores} "
                f"cores: jobs that run at once slow each other down, so runs will take longer than planned. "
                f"Declare at most {max(1, cores // torch_threads())} for plans that come true."]
    return []


def to_dicts(devices: list[Device]) -> list[dict]:
    return [d.to_dict() for d in devices]
