"""Each job's history as TensorBoard event files, when the ``tensorboard`` package is installed.

``.saturn/tensorboard/<run id>/<task>/``: ``train/loss`` and ``val/<metric>`` over steps, written from the store's
history when the job ends or stops (so they hold exactly what the store holds, a resumed job's points once each).
Open them with ``tensorboard --logdir <Jupyter root>/.saturn/tensorboard``. Without tensorboard nothing is written.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

from ..core.checkpoint import safe_name
from ..core.paths import saturn_dir
from ..core.store import Store


def tensorboard_dir(store: Store, run_id: Optional[str], task: str) -> Path:
    return saturn_dir(store) / "tensorboard" / safe_name(run_id or "run") / safe_name(task)


def export(store: Store, job_id: str, task: str, run_id: Optional[str]) -> Optional[Path]:
    """Write the job's history as event files; the folder is replaced. None when tensorboard is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except Exception:  # noqa: BLE001 - tensorboard is optional
        return None
    folder = tensorboard_dir(store, run_id, task)
    shutil.rmtree(folder, ignore_errors=True)
    writer = SummaryWriter(log_dir=str(folder))
    try:
        for p in store.metrics(job=job_id):
            prefix = "train" if p["kind"] == "train" else "val"
            for name, value in p["metrics"].items():
                writer.add_scalar(f"{prefix}/{name}", value, p["step"], walltime=p["at"])
    finally:
        writer.close()
    return folder
