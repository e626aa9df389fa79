"""GPU discovery through NVML (nvidia-ml-py). This machine has the package and no NVIDIA driver, which is the real
no-GPU path; a GPU driver cannot exist here, so the GPU path runs against a stand-in `pynvml` with NVML's calls
(`python -m saturn.gpu_check` covers the real thing on a GPU machine)."""
import sys
import types

import pytest

from saturn.core import devices


def test_nvml_without_a_driver_finds_nothing_and_detection_goes_on(monkeypatch):
    import pynvml  # nvidia-ml-py is in requirements.txt
    assert pynvml is not None
    assert devices._from_nvml() is None  # nvmlInit fails: no libnvidia-ml here
    monkeypatch.delenv("SATURN_FAKE_GPUS", raising=False)
    monkeypatch.setattr(devices, "_from_nvidia_smi", lambda: None)
    monkeypatch.setattr(devices, "_from_torch", lambda: [])
    assert devices.detect(refresh=True) == []


class _Mem:
    def __init__(self, total, used):
        self.total, self.used, self.free = total, used, total - used


@pytest.fixture
def two_gpu_nvml(monkeypatch):
    gpus = [("NVIDIA H200", b"GPU-aaaa1111", _Mem(140 << 30, 1 << 30)),
            ("NVIDIA H200", b"GPU-bbbb2222", _Mem(140 << 30, 60 << 30))]
    calls = []
    fake = types.SimpleNamespace(
        nvmlInit=lambda: calls.append("init"),
        nvmlShutdown=lambda: calls.append("shutdown"),
        nvmlDeviceGetCount=lambda: len(gpus),
        nvmlDeviceGetHandleByIndex=lambda i: i,
        nvmlDeviceGetName=lambda h: gpus[h][0],
        nvmlDeviceGetUUID=lambda h: gpus[h][1],
        nvmlDeviceGetMemoryInfo=lambda h: gpus[h][2])
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.delenv("SATURN_FAKE_GPUS", raising=False)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return calls


def test_nvml_reports_gpus_with_memory_held_by_others_and_wins_over_nvidia_smi(two_gpu_nvml, monkeypatch):
    monkeypatch.setattr(devices, "_from_nvidia_smi", lambda: pytest.fail("nvidia-smi asked although NVML answered"))
    found = devices.detect(refresh=True)
    assert [(d.id, d.kind, d.name) for d in found] == [(0, "cuda", "NVIDIA H200"), (1, "cuda", "NVIDIA H200")]
    assert found[1].memory_used_bytes == 60 << 30 and found[1].memory_free_bytes == 80 << 30
    assert found[0].uuid == "GPU-aaaa1111"
    assert two_gpu_nvml == ["init", "shutdown"]


def test_nvml_honours_the_bridges_cuda_visible_devices(two_gpu_nvml, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-bbbb")
    found = devices.detect(refresh=True)
    assert [(d.id, d.uuid) for d in found] == [(0, "GPU-bbbb2222")]


def test_declared_gpus_still_win_over_nvml(two_gpu_nvml, monkeypatch):
    monkeypatch.setenv("SATURN_FAKE_GPUS", "2")
    assert [d.kind for d in devices.detect(refresh=True)] == ["cpu", "cpu"]


def test_more_declared_cpu_devices_than_cores_gives_one_notice(saturn_env, monkeypatch):
    import os

    from saturn.bridge.service import BridgeService
    cores = os.cpu_count() or 1
    monkeypatch.setenv("SATURN_FAKE_GPUS", str(cores + 2))
    monkeypatch.setenv("SATURN_TORCH_THREADS", "1")
    devices._cache["key"] = None
    reply = BridgeService(store=saturn_env).handle({"v": 1, "type": "devices"})
    assert reply["ok"], reply
    assert len(reply["notices"]) == 1 and f"{cores} cores" in reply["notices"][0]
    assert f"at most {cores}" in reply["notices"][0]
    monkeypatch.setenv("SATURN_FAKE_GPUS", str(cores))
    devices._cache["key"] = None
    assert "notices" not in BridgeService(store=saturn_env).handle({"v": 1, "type": "devices"})
    # two threads each: half as many devices fit
    monkeypatch.setenv("SATURN_TORCH_THREADS", "2")
    if cores > 1:
        assert devices.notices(devices.fake_devices(cores))
