"""Fixtures: a temporary store per test (SATURN_DB), fake devices, and real kernels via jupyter_client."""
import contextlib
import json
import shutil
import tempfile
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
BRIDGE = TESTS.parent  # python_bridge/, holds the saturn package
REPO = BRIDGE.parent
CLI = REPO / "lib-node" / "cli" / "main.js"
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


@pytest.fixture
def saturn_env(tmp_path, monkeypatch):
    """A fresh store and 2 CPU devices for one test, and no technique registered by an earlier test in this process;
    returns the Store."""
    from saturn import techniques
    from saturn.core import devices
    from saturn.core.store import default_store
    monkeypatch.setattr(techniques, "_local", {})
    monkeypatch.setenv("SATURN_DB", str(tmp_path / "saturn.db"))
    monkeypatch.setenv("SATURN_FAKE_GPUS", "2")
    monkeypatch.delenv("SATURN_ROOT", raising=False)
    devices._cache["key"] = None
    store = default_store()
    yield store
    store.close()


@pytest.fixture(scope="session")
def kernel_name(tmp_path_factory):
    """A kernelspec for this interpreter in a temporary JUPYTER_PATH (Debian's python3 spec may name another)."""
    root = tmp_path_factory.mktemp("jupyter")
    spec_dir = root / "kernels" / "saturn-test"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "saturn test", "language": "python"}))
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(root) + (os.pathsep + old if old else "")
    yield "saturn-test"
    if old is None:
        os.environ.pop("JUPYTER_PATH", None)
    else:
        os.environ["JUPYTER_PATH"] = old


@pytest.fixture
def start_kernel(kernel_name, tmp_path):
    """start_kernel(**env) -> client of a real IPython kernel that sees the saturn package and a shared tmp store."""
    from jupyter_client.manager import start_new_kernel
    started = []
    db = tmp_path / "kernels.db"

    def start(**extra_env):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BRIDGE), str(TESTS)]),
               "SATURN_DB": str(db), "SATURN_FAKE_GPUS": "2", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
               **extra_env}
        km, kc = start_new_kernel(kernel_name=kernel_name, env=env, startup_timeout=60, cwd=str(tmp_path))
        started.append((km, kc))
        return kc

    start.db = db
    yield start
    for km, kc in started:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def run_cell(kc, code, timeout=120):
    """Execute ``code``; returns (status, outputs) with outputs = [(msg_type, content), ...] from iopub."""
    outputs = []

    def hook(msg):
        if msg["msg_type"] in ("stream", "display_data", "execute_result", "error", "update_display_data"):
            outputs.append((msg["msg_type"], msg["content"]))

    reply = kc.execute_interactive(code, output_hook=hook, timeout=timeout, store_history=False)
    return reply["content"]["status"], outputs


def text_of(outputs):
    parts = []
    for kind, content in outputs:
        if kind == "stream":
            parts.append(content["text"])
        elif kind in ("display_data", "execute_result", "update_display_data"):
            parts.append(content["data"].get("text/plain", ""))
        elif kind == "error":
            parts.append(f"{content['ename']}: {content['evalue']}")
    return "\n".join(parts)


@pytest.fixture(autouse=True)
def _restore_environ():
    """Runners set their device environment in-process (in a job kernel that is right); tests share one process."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


# -- end-to-end runs: the real lab server and the headless CLI ---------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def bench():
    """bench/dispatch_bench.py: starts and stops the lab server, registers tiny workloads, analyses runs."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import dispatch_bench
    finally:
        sys.path.remove(str(REPO / "bench"))
    return dispatch_bench


@pytest.fixture(scope="module")
def cli_built():
    """The `saturn` CLI (node lib-node/cli/main.js), compiled when missing or older than a TypeScript source."""
    newest_src = max(p.stat().st_mtime for p in (REPO / "src").rglob("*.ts"))
    outputs = [CLI, REPO / "lib-node" / "executor" / "cli-run.js"]
    if not all(o.exists() for o in outputs) or min(o.stat().st_mtime for o in outputs) < newest_src:
        subprocess.run(["npx", "tsc", "-p", "tsconfig.node.json"], cwd=REPO, check=True, timeout=300)
    assert CLI.exists()
    return CLI


# -- a real 2-node SLURM cluster on this machine (scripts/fakecluster.sh) -----------------------------------------
FAKECLUSTER = REPO / "scripts" / "fakecluster.sh"


def cluster_env(d: Path) -> dict:
    return {**os.environ, "D": str(d), "SLURM_CONF": str(d / "etc" / "slurm.conf")}


@contextlib.contextmanager
def fake_slurm_cluster(gpus=None, what="SLURM tests"):
    """Start the fake cluster (``gpus``: GRES per node, e.g. "4 2"; default 4 each), point SLURM_CONF at it and yield
    its folder; stop it afterwards. Where SLURM cannot run here the test is skipped with the reason, except under
    CI=true, where that fails."""
    # a short path with world-traversable parents: munged refuses a socket under a 0700 directory (pytest's tmp)
    d = Path(tempfile.mkdtemp(prefix="saturn-slurm-"))
    env = cluster_env(d)
    if gpus:
        env["GPUS"] = gpus
    check = subprocess.run(["bash", str(FAKECLUSTER), "check"], env=env, capture_output=True, text=True)
    if check.returncode != 0:
        shutil.rmtree(d, ignore_errors=True)
        why = f"{what} not run: {check.stdout.strip() or check.stderr.strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why} (CI runs every layer: SLURM must be available)")
        pytest.skip(why)
    up = subprocess.run(["bash", str(FAKECLUSTER), "up"], env=env, capture_output=True, text=True, timeout=120)
    assert up.returncode == 0, f"the fake SLURM cluster did not come up:\n{up.stdout}\n{up.stderr}"
    old = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = env["SLURM_CONF"]
    try:
        yield d
    finally:
        subprocess.run(["bash", str(FAKECLUSTER), "down"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(d, ignore_errors=True)
        if old is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = old
