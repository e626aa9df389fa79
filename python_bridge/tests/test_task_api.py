import pytest
import torch

import saturn
import tinymodels as tm
from saturn.core.task import TaskError


def test_register_list_rebuild_importable_functions(saturn_env):
    saturn.register(saturn.Task("mlp", model=tm.make_mlp, data=tm.mlp_data, batch_size=8, steps=50, lr=0.1))
    listed = saturn.tasks()
    assert listed.names() == ["mlp"]
    assert listed[0]["param_count"] == sum(p.numel() for p in tm.make_mlp().parameters())
    assert "mlp" in repr(listed) and "<table>" in listed._repr_html_()
    task = saturn.get_task("mlp")
    out = task.build_model()(next(task.batches())[0])
    assert out.shape == (8, 4)


def test_closures_travel_by_value(saturn_env):
    width = 24

    def model():
        return torch.nn.Sequential(torch.nn.Linear(16, width), torch.nn.ReLU(), torch.nn.Linear(width, 4))

    saturn.register(saturn.Task("closure", model=model, data=lambda bs: tm.mlp_data(bs), batch_size=4, epochs=2))
    spec = saturn.tasks()[0]
    assert spec["steps_per_epoch"] == 4 and spec["total_steps"] == 8  # len(loader) * epochs


def test_signature_ignores_weights_and_lr(saturn_env):
    a = saturn.register(saturn.Task("a", model=tm.make_mlp, data=tm.mlp_data, batch_size=8, steps=5, lr=0.1))
    b = saturn.register(saturn.Task("b", model=tm.make_mlp, data=tm.mlp_data, batch_size=8, steps=5, lr=0.001))
    c = saturn.register(saturn.Task("c", model=tm.make_transformer, data=tm.transformer_data, batch_size=8, steps=5))
    assert a.signature == b.signature != c.signature


def test_unbuildable_model_is_refused_with_name_and_cause(saturn_env):
    with pytest.raises(TaskError) as info:
        saturn.register(saturn.Task("broken", model=tm.broken_model, data=tm.mlp_data, batch_size=8, steps=5))
    message = str(info.value)
    assert "'broken'" in message and "missing weights file" in message
    assert saturn.tasks() == []


def test_shape_mismatch_is_refused(saturn_env):
    with pytest.raises(TaskError, match="'mismatch'.*RuntimeError"):
        saturn.register(saturn.Task("mismatch", model=tm.make_mlp, data=tm.transformer_data, batch_size=4, steps=5))


@pytest.mark.parametrize("kwargs, fragment", [
    ({"steps": 5, "epochs": 1}, "exactly one of"),
    ({"steps": 5, "batch_size": 0}, "batch_size"),
    ({"steps": 5, "gpu_range": (3, 1)}, "gpu_range"),
    ({"steps": 5, "optimizer": "lion"}, "optimizer"),
])
def test_malformed_tasks(kwargs, fragment):
    args = {"model": tm.make_mlp, "data": tm.mlp_data, "batch_size": 8, **kwargs}
    with pytest.raises(TaskError, match=fragment):
        saturn.Task("bad", **args)


def test_unregister(saturn_env):
    saturn.register(saturn.Task("x", model=tm.make_mlp, data=tm.mlp_data, batch_size=8, steps=5))
    assert saturn.unregister("x") and not saturn.unregister("x")
    assert saturn.tasks() == []
