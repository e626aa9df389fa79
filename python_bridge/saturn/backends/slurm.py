"""SLURM, as Saturn uses it: cluster discovery, submitting a job's worker, its state, cancel.

Every call is a SLURM client command (``sinfo``, ``scontrol``, ``sbatch``, ``scancel``) run with a timeout: when
slurmctld is down those commands retry for many seconds, and Saturn must answer its users sooner. Failures raise
``SlurmError`` with a message that says what to check. The cluster is the one ``SLURM_CONF`` names (or the system's).

Settings (environment of the Jupyter server, or the run's settings): ``SATURN_BACKEND=slurm`` selects this backend;
``SATURN_SLURM_PARTITION``, ``SATURN_SLURM_ACCOUNT``, ``SATURN_SLURM_TIME`` (sbatch ``--time``),
``SATURN_SLURM_CPUS_PER_GPU`` (default 1) and ``SATURN_SLURM_EXTRA`` (more sbatch arguments, shell-quoted) shape
each submission.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from typing import Optional

TIMEOUT_S = 15.0
COMMANDS = ("sinfo", "scontrol", "sbatch", "scancel", "srun", "squeue")
#: node states in which a node runs new work
USABLE = {"idle", "mixed", "allocated", "completing"}
#: SLURM job states after which the job will not run again
FINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY", "BOOT_FAIL",
         "DEADLINE", "REVOKED", "SPECIAL_EXIT"}


class SlurmError(RuntimeError):
    """SLURM is absent, unreachable, or refused a request."""


@dataclass
class Node:
    id: str
    gpus: int
    state: str
    cpus: int = 0
    gpu_type: str = ""
    memory_mb: int = 0
    features: str = ""
    partitions: list = field(default_factory=list)

    @property
    def usable(self) -> bool:
        """Takes new work: idle/mixed/allocated and not down, drained, failing or not responding."""
        flags = self.state.lower().replace("*", "+not_responding").split("+")
        bad = {"down", "drain", "drained", "draining", "fail", "failing", "not_responding", "maint", "reboot_issued"}
        return flags[0] in USABLE and not (set(flags) & bad)

    @property
    def kind(self) -> str:
        """Nodes of one kind give the same profile: same GPU type, CPUs and memory (the GPU count may differ)."""
        return f"gpu={self.gpu_type or 'gpu'} cpus={self.cpus} mem={self.memory_mb} features={self.features or '-'}"

    def to_dict(self) -> dict:
        return {"id": self.id, "gpus": self.gpus, "state": self.state, "usable": self.usable, "kind": self.kind,
                "cpus": self.cpus, "gpu_type": self.gpu_type, "partitions": list(self.partitions)}


def settings(overrides: Optional[dict] = None) -> dict:
    env = os.environ
    s = {"partition": env.get("SATURN_SLURM_PARTITION") or None, "account": env.get("SATURN_SLURM_ACCOUNT") or None,
         "time": env.get("SATURN_SLURM_TIME") or None,
         "cpus_per_gpu": int(env.get("SATURN_SLURM_CPUS_PER_GPU") or 1),
         "extra": env.get("SATURN_SLURM_EXTRA") or ""}
    for k, v in (overrides or {}).items():
        if v not in (None, ""):
            s[k] = v
    return s


def missing_commands() -> list[str]:
    return [c for c in COMMANDS if shutil.which(c) is None]


def _run(args: list[str], timeout: float = TIMEOUT_S, check: bool = True) -> subprocess.CompletedProcess:
    try:
        res = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise SlurmError(f"SLURM client commands are missing ({', '.join(missing_commands() or args[:1])}): install "
                         f"slurm-client and set SLURM_CONF, or pick the local backend (SATURN_BACKEND=local)") from None
    except subprocess.TimeoutExpired:
        raise SlurmError(f"`{' '.join(args[:2])}` did not answer within {timeout:.0f} s: is slurmctld running "
                         f"(scontrol ping)? SLURM_CONF={os.environ.get('SLURM_CONF', '(system default)')}") from None
    if check and res.returncode != 0:
        msg = (res.stderr or res.stdout).strip().splitlines()
        raise SlurmError(f"`{' '.join(args[:3])}` failed (exit {res.returncode}): {msg[-1] if msg else 'no output'}")
    return res


def ping() -> None:
    """Raise ``SlurmError`` unless the controller answers."""
    res = _run(["scontrol", "ping"], timeout=10, check=False)
    if "UP" not in res.stdout:
        raise SlurmError(f"the SLURM controller does not answer `scontrol ping` "
                         f"({(res.stdout or res.stderr).strip()[:200]}); SLURM_CONF="
                         f"{os.environ.get('SLURM_CONF', '(system default)')}")


def parse_kv(line: str) -> dict:
    """``A=1 B=x y C=z`` (scontrol -o) -> dict; a value runs until the next `` Key=``."""
    out = {}
    for m in re.finditer(r"(\S+?)=(.*?)(?=\s+\S+?=|$)", line.strip()):
        out[m.group(1)] = m.group(2).strip()
    return out


def _gpu_gres(gres: str) -> tuple[int, str]:
    """``gpu:4`` / ``gpu:a100:8(S:0-1)`` / ``gpu:a100:4,shard:8`` -> (count, type)."""
    for part in (gres or "").split(","):
        m = re.match(r"gpu(?::([A-Za-z][\w.-]*))?:(\d+)", part.strip())
        if m:
            return int(m.group(2)), m.group(1) or ""
    return 0, ""


def nodes(partition: Optional[str] = None, name: Optional[str] = None) -> list[Node]:
    """Every node SLURM knows (``scontrol show node -o``; only ``name`` when given), with its GPU GRES and state."""
    out = _run(["scontrol", "show", "node", "-o", *([name] if name else [])]).stdout
    result = []
    for line in out.splitlines():
        kv = parse_kv(line)
        if "NodeName" not in kv:
            continue
        parts = [p for p in (kv.get("Partitions") or "").split(",") if p]
        if partition and partition not in parts:
            continue
        gpus, gtype = _gpu_gres(kv.get("Gres", ""))
        result.append(Node(id=kv["NodeName"], gpus=gpus, state=kv.get("State", "UNKNOWN").lower(),
                           cpus=int(kv.get("CPUTot") or 0), gpu_type=gtype,
                           memory_mb=int(kv.get("RealMemory") or 0),
                           features=(kv.get("AvailableFeatures") or "").replace("(null)", ""), partitions=parts))
    return result


_states_cache: dict = {"at": 0.0, "nodes": None}


def node_states(max_age_s: float = 2.0) -> list[dict]:
    """Nodes with their state for the dispatcher (cached for ``max_age_s``); [] when SLURM cannot be asked."""
    if _states_cache["nodes"] is not None and time.monotonic() - _states_cache["at"] < max_age_s:
        return _states_cache["nodes"]
    try:
        found = [n.to_dict() for n in nodes(settings()["partition"])]
    except SlurmError:
        found = []
    _states_cache.update(at=time.monotonic(), nodes=found)
    return found


def node(node_id: str) -> Node:
    try:
        found = nodes(name=node_id)
    except SlurmError as err:
        raise SlurmError(f"SLURM has no node {node_id!r} (scontrol show node): {err}") from None
    for n in found:
        if n.id == node_id:
            return n
    raise SlurmError(f"SLURM has no node {node_id!r} (scontrol show node)")


def gpu_idx(text: str) -> list[int]:
    """``gpu:2(IDX:0-1)`` / ``gpu:a100:3(IDX:0,2-3)`` -> [0, 1] / [0, 2, 3]."""
    m = re.search(r"IDX:([0-9,\-]+)", text or "")
    ids: list[int] = []
    for part in (m.group(1).split(",") if m else []):
        if "-" in part:
            a, b = part.split("-")
            ids += list(range(int(a), int(b) + 1))
        elif part:
            ids.append(int(part))
    return ids


def live_jobs(job_ids) -> set:
    """Which of ``job_ids`` SLURM still has queued or running, in one ``squeue`` call (a job it no longer lists has
    ended or been forgotten). Raises SlurmError when SLURM cannot be asked."""
    ids = sorted(set(job_ids))
    out = _run(["squeue", "-h", "-o", "%i %T", "-j", ",".join(ids)]).stdout
    live = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ids and parts[1] not in FINAL:
            live.add(parts[0])
    return live


def job(job_id: str) -> Optional[dict]:
    """``scontrol show job -d`` of one job: state, node, GPU indexes, times, exit code (None once SLURM forgot it)."""
    res = _run(["scontrol", "show", "job", "-d", "-o", str(job_id)], check=False)
    if res.returncode != 0:
        if "Invalid job id" in (res.stderr + res.stdout):
            return None
        raise SlurmError(f"`scontrol show job {job_id}` failed: {(res.stderr or res.stdout).strip()[:200]}")
    line = res.stdout.strip()
    kv = parse_kv(line)
    nodes_gres = re.search(r"Nodes=(\S+) CPU_IDs=\S+ Mem=\S+ GRES=(\S+)", line)
    return {"id": kv.get("JobId"), "name": kv.get("JobName"), "state": (kv.get("JobState") or "").split()[0],
            "reason": kv.get("Reason"), "node": kv.get("NodeList") if kv.get("NodeList") != "(null)" else None,
            "gpu_ids": gpu_idx(nodes_gres.group(2)) if nodes_gres else [],
            "start": kv.get("StartTime"), "end": kv.get("EndTime"), "exit_code": kv.get("ExitCode"),
            "restarts": int(kv.get("Restarts") or 0)}


def submit(*, name: str, node_id: str, gpus: int, command: list[str], output: str,
           env: Optional[dict] = None, options: Optional[dict] = None) -> str:
    """``sbatch`` one task on ``node_id`` with ``gpus`` GPU GRES; SLURM does not requeue it (Saturn re-plans)."""
    args = ["sbatch", "--parsable", *_allocation(name, node_id, gpus, options), "--no-requeue",
            "--open-mode=append", "-o", output, "-e", output]
    exports = ",".join(f"{k}={v}" for k, v in (env or {}).items() if "," not in str(v))
    args.append("--export=ALL" + ("," + exports if exports else ""))
    args += ["--wrap", "exec " + " ".join(shlex.quote(c) for c in command)]
    res = _run(args)
    job_id = res.stdout.strip().split(";")[0]
    if not job_id.isdigit():
        raise SlurmError(f"sbatch gave no job id: {res.stdout.strip()[:200]}")
    return job_id


def cancel(job_id: str) -> None:
    _run(["scancel", str(job_id)], check=False)


def srun_prefix(node_id: str, gpus: int, name: str, options: Optional[dict] = None) -> list[str]:
    """Argv prefix that runs a command as a SLURM step on ``node_id`` with ``gpus`` GPUs (profiling trials)."""
    return ["srun", "--quiet", *_allocation(name, node_id, gpus, options)]


def _allocation(name: str, node_id: str, gpus: int, options: Optional[dict]) -> list[str]:
    """What sbatch and srun are asked for: one task on ``node_id``, its CPUs and GPUs, and the user's settings."""
    s = settings(options)
    args = ["-J", name, "-w", node_id, "-N", "1", "-n", "1", "-c", str(max(1, int(s["cpus_per_gpu"]) * max(1, gpus)))]
    if gpus > 0:
        args.append(f"--gres=gpu:{gpus}")
    for key, flag in (("partition", "-p"), ("account", "-A"), ("time", "-t")):
        if s.get(key):
            args += [flag, str(s[key])]
    return args + shlex.split(s.get("extra") or "")
