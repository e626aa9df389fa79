"""The GPU check script: on this machine (no GPU) it says so and skips; on declared CPU devices its checks run for
real (profile, plan, lease-pinned job processes, kill and bit-for-bit resume), so the script stays tested."""
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(*args, timeout=600):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATURN_")}
    return subprocess.run(["bash", str(REPO / "scripts" / "gpu-check.sh"), *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def _verdicts(stdout: str) -> dict:
    """{check name: PASS | FAIL | SKIP} from lines like ``[PASS] run: ...``."""
    out = {}
    for line in stdout.splitlines():
        if line.startswith("[") and "] " in line:
            verdict, rest = line[1:].split("] ", 1)
            out[rest.split(":", 1)[0]] = verdict
    return out


def test_without_a_gpu_every_gpu_check_is_skipped_with_the_reason():
    out = _run()
    assert out.returncode == 0, out.stdout + out.stderr
    assert _verdicts(out.stdout) == dict.fromkeys(["discovery", "profile", "oom", "run", "resume"], "SKIP")
    assert "no GPU here" in out.stdout
    assert _run("--require-gpu").returncode == 3


def test_on_declared_cpu_devices_every_check_but_oom_passes():
    out = _run("--cpu", "2", "--steps", "300")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert _verdicts(out.stdout) == {"discovery": "PASS", "profile": "PASS", "oom": "SKIP", "run": "PASS",
                                     "resume": "PASS"}, out.stdout
    assert "equal an uninterrupted run's bit for bit" in out.stdout
