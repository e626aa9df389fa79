"""Every technique computes what plain single-process training computes: same seed, same global batches, a few
steps, the same weights (float tolerance) -- on 2 CPU processes (gloo) for DDP, FSDP2 and the pipeline, on one
device for spilling."""
import pytest
import torch

import tinymodels as tm
from saturn.core.task import Task
from saturn.techniques import DDP, FSDP, Pipeline, Spilling
from saturn.techniques._driver import Session, seed_all

STEPS = 3


@pytest.fixture
def two_cpu_devices(monkeypatch):
    from saturn.core import devices
    monkeypatch.setenv("SATURN_FAKE_GPUS", "2")
    monkeypatch.setenv("SATURN_DEVICE_KIND", "cpu")
    devices._cache["key"] = None


def residual_task(optimizer="sgd", model=tm.make_residual, lr=0.1):
    return Task("res", model=model, data=tm.residual_data, batch_size=8, steps=STEPS, optimizer=optimizer, lr=lr)


def plain_training(task, steps=STEPS, seed=0):
    seed_all(seed)
    model = task.build_model()
    opt = task.make_optimizer(model.parameters())
    batches = task.batches()
    for _ in range(steps):
        x, y = next(batches)
        opt.zero_grad()
        task.loss_fn()(model(x), y).backward()
        opt.step()
    return model.state_dict()


def trained(tech, task, devices, knobs, steps=STEPS):
    with Session(tech, task, devices) as session:
        res = session.run(knobs, steps, final_state=True)
    return res


def assert_close(got, want, atol=1e-5):
    assert got.keys() == want.keys()
    worst = max((got[k] - want[k]).abs().max().item() for k in want)
    assert worst <= atol, f"largest weight difference {worst}"
    # and training did move the weights (a technique that skipped the optimizer would not pass)
    assert any(not torch.equal(want[k], v) for k, v in tm.make_residual().state_dict().items())


def test_ddp_on_two_processes_matches_single_process_training(two_cpu_devices):
    task = residual_task()
    res = trained(DDP(), task, [0, 1], {"bucket_cap_mb": 25})
    assert res["applied_knobs"]["backend"] == "gloo" and res["applied_knobs"]["per_device_batch"] == 4
    assert_close(res["state"]["model"], plain_training(task))


@pytest.mark.parametrize("knobs", [
    {"reshard_after_forward": True, "activation_checkpointing": False, "cpu_offload": False},
    {"reshard_after_forward": False, "activation_checkpointing": True, "cpu_offload": True},
], ids=["default", "recompute-offload"])
def test_fsdp2_on_two_processes_matches_single_process_training(two_cpu_devices, knobs):
    # SGD: a gradient summed instead of averaged over the 2 ranks (Adam would hide it) doubles every update
    task = residual_task()
    res = trained(FSDP(), task, [0, 1], knobs)
    assert res["applied_knobs"] == knobs
    assert_close(res["state"]["model"], plain_training(task))
    assert len(res["state"]["optimizer"]["param_groups"][0]["params"]) == len(res["state"]["model"])


@pytest.mark.parametrize("schedule, chunks", [("gpipe", 2), ("1f1b", 4)])
def test_pipeline_on_two_processes_matches_single_process_training(two_cpu_devices, schedule, chunks):
    task = residual_task()
    knobs = {"balance": [3, 2], "chunks": chunks, "schedule": schedule}
    res = trained(Pipeline(), task, [0, 1], knobs)
    assert res["applied_knobs"] == knobs
    assert_close(res["state"]["model"], plain_training(task))
    # the loss reached rank 0: the last step's loss of the trained model on that batch
    assert res["loss"] is not None and res["loss"] > 0


def test_spilling_with_dropout_matches_single_process_training(two_cpu_devices):
    task = residual_task(model=tm.make_residual_dropout)
    res = trained(Spilling(), task, [0], {"partitions": 3, "balance": [2, 2, 1]})
    assert res["applied_knobs"] == {"partitions": 3, "balance": [2, 2, 1]}
    assert_close(res["state"]["model"], plain_training(task))


def test_execute_with_a_checkpoint_file_continues_where_it_stopped(two_cpu_devices, tmp_path):
    """``Technique.execute`` runs through the driver; 2 steps then 1 more from its checkpoint file are 3 steps."""
    task = residual_task(optimizer="adam", model=tm.make_residual_dropout, lr=0.01)
    knobs = {"partitions": 2}
    path = str(tmp_path / "ck.pt")
    first = Spilling().execute(task, [0], knobs, 2, checkpoint=path)
    second = Spilling().execute(task, [0], knobs, 1, checkpoint=path)
    assert len(first.step_times) == 2 and len(second.step_times) == 1
    assert first.knobs["partitions"] == 2
    got = torch.load(path, weights_only=False)
    assert got["step"] == 3
    want = trained(Spilling(), task, [0], knobs)["state"]["model"]
    assert all(torch.equal(got["model"][k], want[k]) for k in want)
