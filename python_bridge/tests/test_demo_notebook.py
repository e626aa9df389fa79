"""The demo notebook that `scripts/start.sh` copies into the Jupyter root: a valid notebook, and every code cell runs
in a real kernel as it ships (nbclient, as Run All Cells would), registering the tasks its text names."""
from __future__ import annotations

import os
import warnings

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import BRIDGE, REPO, TESTS

DEMO = REPO / "demo" / "saturn-demo.ipynb"


def test_the_demo_notebook_is_valid_and_every_cell_has_an_id():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nbformat warns (MissingIDFieldWarning) where a later version will refuse
        nb = nbformat.read(DEMO, as_version=4)
        nbformat.validate(nb)
    ids = [c.get("id") for c in nb.cells]
    assert all(ids) and len(set(ids)) == len(ids), ids


def test_every_cell_of_the_demo_notebook_runs_and_registers_its_tasks(tmp_path, monkeypatch):
    db = tmp_path / "saturn.db"
    monkeypatch.setenv("SATURN_DB", str(db))
    monkeypatch.setenv("SATURN_FAKE_GPUS", "2")
    monkeypatch.delenv("SATURN_ROOT", raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(BRIDGE), str(TESTS)]))
    nb = nbformat.read(DEMO, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, naming the cell, when one fails
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"], "the demo prints to stderr"

    from saturn.core.store import Store
    store = Store(str(db))
    try:
        names = sorted(t["name"] for t in store.list_tasks())
    finally:
        store.close()
    assert names == sorted(["small-mlp", "wide-mlp", "tiny-conv", "tiny-transformer",
                            "mlp-lr0.01", "mlp-lr0.05", "mlp-lr0.2"])


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-q"]))
