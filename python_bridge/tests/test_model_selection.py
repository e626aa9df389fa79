"""Model selection: validation in the training process for every technique, each job's history in the store,
results / best / history / load_model in the notebook, grids registered in one call and profiled once per setting."""
from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

import saturn
import tinymodels as tm
from saturn.core.jobs import JobStore
from saturn.core.task import TaskError

STEPS, EVERY = 20, 5
TECHNIQUES = [("ddp", 2, {}), ("fsdp", 2, {}), ("pipeline", 2, {}), ("spilling", 1, {"partitions": 2})]


def _register(name, lr, gpus, model=tm.make_residual):
    saturn.register(saturn.Task(name, model=model, data=tm.residual_data, batch_size=8, steps=STEPS,
                                optimizer="adam", lr=lr, gpu_range=gpus, validate=tm.residual_validate,
                                eval_every=EVERY, keep_best="val_loss"))


def _run_in_a_kernel(start_kernel, store, job_ids):
    kc = start_kernel(SATURN_DB=str(store.path))
    code = "import saturn.runner\n" + "".join(f"print(saturn.runner.run_job({j!r})['state'])\n" for j in job_ids)
    reply = kc.execute_interactive(code, timeout=600, output_hook=lambda msg: None)
    assert reply["content"]["status"] == "ok", reply["content"]


def test_every_technique_validates_and_the_best_model_comes_back(saturn_env, start_kernel):
    js = JobStore(saturn_env)
    lrs = {"ddp": 0.003, "fsdp": 0.03, "pipeline": 0.01, "spilling": 0.0003}
    for tech, gpus, knobs in TECHNIQUES:
        _register(f"t-{tech}", lrs[tech], gpus)
        js.create(f"r1-t-{tech}", f"t-{tech}", {"parallelism": tech, "gpus": gpus, "gpu_ids": list(range(gpus)),
                                                "knobs": knobs, "node": "node0"}, run_id="r1")
    _run_in_a_kernel(start_kernel, saturn_env, [f"r1-t-{t}" for t, _, _ in TECHNIQUES])
    jobs = {j["task"]: j for j in js.list("r1")}
    assert {t: j["state"] for t, j in jobs.items()} == {f"t-{t}": "done" for t, _, _ in TECHNIQUES}, \
        {t: j["info"].get("error") for t, j in jobs.items()}

    rows = saturn.results()
    assert list(rows["task"]) == [f"t-{t}" for t, _, _ in TECHNIQUES]
    for col in ("lr", "batch_size", "state", "parallelism", "gpus", "runtime_s", "loss", "val_loss",
                "best_val_loss", "val_acc", "best_val_acc"):
        assert col in rows.columns, list(rows.columns)
    assert list(rows["parallelism"]) == [t for t, _, _ in TECHNIQUES]
    assert all(rows["best_val_loss"] <= rows["val_loss"] + 1e-12)
    # the best task is the one with the lowest best_val_loss, whichever technique trained it
    winner = saturn.best("val_loss")
    assert winner["task"] == rows.loc[rows["best_val_loss"].idxmin(), "task"]
    assert saturn.best("val_acc")["best_val_acc"] == rows["best_val_acc"].max()

    for tech, _gpus, _knobs in TECHNIQUES:
        task, job = f"t-{tech}", jobs[f"t-{tech}"]
        final = job["info"]["final_metrics"]
        # the weights of the end, evaluated here with the task's own validate, give the recorded final val_loss
        model = saturn.load_model(task)
        with torch.no_grad():
            again = tm.residual_validate(model)
        assert again["val_loss"] == pytest.approx(final["val_loss"], rel=1e-5), tech
        assert rows.loc[rows["task"] == task, "val_loss"].item() == final["val_loss"]
        # the history: a validation every EVERY steps (the last at the end), training losses in between
        hist = saturn.history(task)
        val = hist[hist["kind"] == "val"]
        assert list(val["step"]) == list(range(EVERY, STEPS + 1, EVERY)), tech
        assert len(hist[hist["kind"] == "train"]) >= STEPS // 2
        # the kept best weights are those of the best validation
        best = job["info"]["best"]
        assert best["value"] == pytest.approx(val["val_loss"].min()) and best["step"] in list(val["step"])
        with torch.no_grad():
            assert tm.residual_validate(saturn.load_model(task, which="best"))["val_loss"] == \
                pytest.approx(best["value"], rel=1e-5)
    # TensorBoard event files with the same scalars
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(str(Path(saturn_env.path).parent / "tensorboard" / "r1" / "t-ddp"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("val/val_loss")] == list(range(EVERY, STEPS + 1, EVERY))


def test_a_resumed_job_keeps_its_history_and_computes_the_same_points(saturn_env, monkeypatch):
    from saturn.runner import run_job
    from techjobs import pause_then_resume
    js = JobStore(saturn_env)
    # slow steps (SATURN_TEST_STEP_DELAY): the pause lands mid-run
    _register("t", 0.01, 1, model=tm.make_residual_paused)
    for job in ("ref", "j"):
        js.create(job, "t", {"parallelism": "spilling", "gpus": 1, "gpu_ids": [0], "knobs": {"partitions": 2},
                             "node": "node0"}, run_id="r", settings={"checkpoint_every_steps": 4})
    assert run_job("ref", saturn_env)["state"] == "done"
    stopped = pause_then_resume(saturn_env, "j", monkeypatch)
    assert 4 <= stopped < STEPS
    points = {job: [(p["step"], p["kind"], p["metrics"]) for p in saturn_env.metrics(job=job)] for job in ("ref", "j")}
    assert sorted(points["j"], key=lambda p: (p[0], p[1])) == sorted(points["ref"], key=lambda p: (p[0], p[1]))
    steps = [(s, k) for s, k, _ in points["j"]]
    assert len(steps) == len(set(steps))  # no point twice


def test_a_grid_registers_its_product_and_lr_variants_are_profiled_once(saturn_env):
    t0 = time.monotonic()
    tasks = saturn.grid("mlp", model=tm.make_mlp, data=tm.mlp_data, steps=50, batch_size=8,
                        lr=[0.1, 0.03, 0.01, 0.003, 0.001, 0.0003], hints={"techniques": ["ddp"]}, gpu_range=(1, 2))
    registered_s = time.monotonic() - t0
    assert [t.name for t in tasks] == ["mlp-lr0.1", "mlp-lr0.03", "mlp-lr0.01", "mlp-lr0.003", "mlp-lr0.001",
                                       "mlp-lr0.0003"]
    specs = {s["name"]: s for s in saturn.tasks()}
    assert specs["mlp-lr0.003"]["hparams"] == {"lr": 0.003} and specs["mlp-lr0.003"]["lr"] == 0.003
    assert len({s["signature"] for s in specs.values()}) == 1
    instance = saturn.profile()
    meta = instance["saturn"]
    # 6 tasks x (ddp on 1 and on 2 devices) = 12 options, measured by 2 trials
    assert meta["trials"] == 12 and meta["trials_run"] == 2 and meta["shared"] == 10, meta
    assert saturn_env.count_profiles() == 2
    runtimes = {j["id"]: sorted((o["gpus"], o["runtime_s"]) for o in j["options"]) for j in instance["jobs"]}
    assert len(runtimes) == 6 and len({json.dumps(v) for v in runtimes.values()}) == 1
    print(f"\ngrid of 6 learning rates: registered in {registered_s:.1f} s, 12 options from "
          f"{meta['trials_run']} trials in {meta['wall_s']:.1f} s")


def test_a_grid_of_two_axes_names_its_tasks_and_records_their_hyper_parameters(saturn_env):
    tasks = saturn.grid("res", model=tm.make_residual, data=tm.residual_data, steps=10, lr=[0.01, 0.001],
                        batch_size=[8, 16], validate=tm.residual_validate)
    assert [t.name for t in tasks] == ["res-lr0.01-bs8", "res-lr0.01-bs16", "res-lr0.001-bs8", "res-lr0.001-bs16"]
    assert [t.hparams for t in tasks][1] == {"lr": 0.01, "batch_size": 16}
    with pytest.raises(TaskError, match="axis lr= is an empty list"):
        saturn.grid("x", model=tm.make_residual, data=tm.residual_data, steps=10, lr=[])


def test_a_validate_that_returns_no_metrics_is_refused_at_registration(saturn_env):
    with pytest.raises(TaskError, match="validate must return a non-empty dict"):
        saturn.register(saturn.Task("v", model=tm.make_residual, data=tm.residual_data, steps=5,
                                    validate=tm.not_a_dict_validate))
    with pytest.raises(TaskError, match="eval_every and keep_best need validate="):
        saturn.Task("v", model=tm.make_residual, data=tm.residual_data, steps=5, eval_every=2)


def test_before_any_run_results_is_empty_and_best_history_load_model_say_to_run_first(saturn_env):
    assert len(saturn.results()) == 0
    for call in (lambda: saturn.best("val_loss"), lambda: saturn.history("a"), lambda: saturn.load_model("a")):
        with pytest.raises(KeyError, match="no run yet") as err:
            call()
        assert "Optimize & Run" in str(err.value)


def test_a_grid_task_shows_its_own_setting_in_a_column_only_other_tasks_vary(saturn_env):
    """A grid over lr beside a plain task (whose hyper-parameters are its lr and batch_size): the grid's rows show
    their batch size too, from their task, rather than an empty cell."""
    from saturn.bridge.results import summary
    js = JobStore(saturn_env)
    saturn_env.put_task("g-lr0.1", {"name": "g-lr0.1", "lr": 0.1, "batch_size": 32, "hparams": {"lr": 0.1}}, b"x", "s")
    saturn_env.put_task("plain", {"name": "plain", "lr": 0.05, "batch_size": 64, "hparams": {"lr": 0.05, "batch_size": 64}},
                        b"x", "s")
    for name in ("g-lr0.1", "plain"):
        js.create(f"r7-{name}", name, {"parallelism": "ddp", "gpus": 1, "gpu_ids": [0]}, run_id="r7")
    s = summary(saturn_env, "r7")
    assert s["hparams"] == ["lr", "batch_size"]
    assert {r["task"]: r["hparams"] for r in s["rows"]} == {"g-lr0.1": {"lr": 0.1, "batch_size": 32},
                                                           "plain": {"lr": 0.05, "batch_size": 64}}
    assert list(saturn.results("r7")["batch_size"]) == [32, 64]


def test_results_best_and_history_from_the_store_without_pandas(saturn_env, tmp_path):
    """The best epoch's metric, not the last one; and a list of rows that shows as a table when pandas is absent."""
    js = JobStore(saturn_env)
    for name, lr in (("a", 0.1), ("b", 0.01)):
        saturn_env.put_task(name, {"name": name, "lr": lr, "batch_size": 8, "hparams": {"lr": lr}}, b"x", "sig")
        js.create(f"r9-{name}", name, {"parallelism": "ddp", "gpus": 1, "gpu_ids": [0]}, run_id="r9")
    for step, a, b in ((10, 0.9, 0.7), (20, 0.5, 0.6), (30, 0.8, 0.65)):
        saturn_env.add_metrics("r9-a", "a", step, "val", {"val_loss": a}, run_id="r9")
        saturn_env.add_metrics("r9-b", "b", step, "val", {"val_loss": b}, run_id="r9")
    code = textwrap.dedent(f"""
        import sys, json
        sys.modules["pandas"] = None  # as if pandas were not installed
        import saturn
        from saturn.core.store import Store
        store = Store({str(saturn_env.path)!r})
        rows = saturn.results(store=store)
        print(json.dumps({{"type": type(rows).__name__, "rows": rows, "html": rows._repr_html_(),
                          "best": saturn.best("val_loss", store=store)}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["type"] == "ResultRows"
    by = {r["task"]: r for r in got["rows"]}
    assert by["a"]["val_loss"] == 0.8 and by["a"]["best_val_loss"] == 0.5  # last vs best
    assert by["b"]["val_loss"] == 0.65 and by["b"]["best_val_loss"] == 0.6
    assert got["best"]["task"] == "a"  # the best epoch wins (0.5), although a's last value is worse than b's
    assert "<table>" in got["html"] and "best_val_loss" in got["html"]
    with pytest.raises(KeyError, match="no task of run r9 reported 'val_acc'; validation metrics: val_loss"):
        saturn.best("val_acc")
    assert not math.isnan(saturn.results()["best_val_loss"].min())
