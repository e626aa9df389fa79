from saturn.core import devices

SMI = """0, GPU-1111aaaa-2222-3333-4444-555566667777, NVIDIA H100 80GB HBM3, 81559, 1024, 80535
1, GPU-8888bbbb-2222-3333-4444-555566667777, NVIDIA H100 80GB HBM3, 81559, 40000, 41559
garbage line
"""


def test_parse_nvidia_smi_reports_memory_held_by_others():
    found = devices.parse_nvidia_smi_csv(SMI)
    assert [d.id for d in found] == [0, 1]
    assert found[0].name == "NVIDIA H100 80GB HBM3" and found[0].kind == "cuda"
    assert found[1].memory_used_bytes == 40000 * 1024 * 1024
    assert found[1].memory_total_bytes == 81559 * 1024 * 1024
    assert found[0].uuid.startswith("GPU-1111")


def test_fake_gpus_from_environment(monkeypatch):
    monkeypatch.setenv("SATURN_FAKE_GPUS", "3")
    found = devices.detect(refresh=True)
    assert [(d.id, d.kind) for d in found] == [(0, "cpu"), (1, "cpu"), (2, "cpu")]
    assert devices.device_type(found) == "cpu"


def test_no_gpu_and_no_fake_means_no_devices(monkeypatch):
    monkeypatch.delenv("SATURN_FAKE_GPUS", raising=False)
    monkeypatch.setattr(devices, "_from_nvidia_smi", lambda: None)
    monkeypatch.setattr(devices, "_from_torch", lambda: [])  # this machine has no CUDA; keep the test fast
    assert devices.detect(refresh=True) == []
    assert devices.device_kind([]) == "none"


def test_nvidia_smi_wins_over_fake_only_when_fake_unset(monkeypatch):
    real = devices.parse_nvidia_smi_csv(SMI)
    monkeypatch.setattr(devices, "_from_nvidia_smi", lambda: real)
    monkeypatch.delenv("SATURN_FAKE_GPUS", raising=False)
    assert [d.kind for d in devices.detect(refresh=True)] == ["cuda", "cuda"]
    monkeypatch.setenv("SATURN_FAKE_GPUS", "1")
    assert [d.kind for d in devices.detect(refresh=True)] == ["cpu"]


def test_assignment_env_pins_processes(monkeypatch):
    monkeypatch.delenv("SATURN_ASSIGNED", raising=False)
    monkeypatch.delenv("SATURN_CUDA_BASE", raising=False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5,6,7")
    env = devices.assignment_env("cuda", [1, 3])
    assert env["CUDA_VISIBLE_DEVICES"] == "5,7" and env["SATURN_ASSIGNED"] == "1,3"
    cpu = devices.assignment_env("cpu", [0, 1])
    assert cpu["SATURN_CPU_DEVICES"] == "0,1" and cpu["CUDA_VISIBLE_DEVICES"] == ""


def test_declared_gpus_from_settings_reach_every_process(saturn_env, monkeypatch):
    """The Settings Editor's "declared GPUs" go through the bridge and win over SATURN_FAKE_GPUS, in
    this process and in a fresh one (a job kernel, a profiling trial); 0 gives the environment back."""
    import subprocess
    import sys
    from saturn.bridge.service import BridgeService

    service = BridgeService(store=saturn_env)
    reply = service.handle({"v": 1, "type": "devices", "declared": 3})
    assert reply["ok"] and [d["id"] for d in reply["devices"]] == [0, 1, 2]
    child = subprocess.run([sys.executable, "-c", "from saturn.core import devices; print(len(devices.detect()))"],
                           capture_output=True, text=True, env=dict(__import__("os").environ), check=True)
    assert child.stdout.strip() == "3"
    reply = service.handle({"v": 1, "type": "devices", "declared": 0})
    assert len(reply["devices"]) == 2  # saturn_env's SATURN_FAKE_GPUS=2
    bad = service.handle({"v": 1, "type": "devices", "declared": -1})
    assert not bad["ok"] and "declared" in bad["error"]["message"]
