"""The runner under early stopping: a job validates and pauses at its rung with a resumable checkpoint; promoted, it
resumes there and ends exactly as an uninterrupted job; judged out, it stops early with its checkpoint and history."""
from __future__ import annotations

import torch

import saturn
import tinymodels as tm
from saturn.core.jobs import JobStore
from saturn.runner import log_path, run_job, weights_path

STEPS, RUNG = 20, 8


def _setup(store):
    saturn.register(saturn.Task("t", model=tm.make_residual_dropout, data=tm.residual_data, batch_size=8, steps=STEPS,
                                optimizer="adam", lr=0.01, validate=tm.residual_validate, eval_every=5))
    js = JobStore(store)
    for job, rung in (("ref", None), ("j", RUNG), ("k", RUNG)):
        js.create(job, "t", {"parallelism": "ddp", "gpus": 2, "gpu_ids": [0, 1], "node": "node0"}, run_id="r",
                  settings={"rung_at": rung})
    return js


def test_a_job_pauses_at_its_rung_and_resumes_exactly_when_promoted(saturn_env):
    js = _setup(saturn_env)
    assert run_job("ref", saturn_env)["state"] == "done"
    out = run_job("j", saturn_env)
    job = js.get("j")
    assert out == {"job": "j", "state": "preempted", "reason": "rung"}
    assert job["state"] == "preempted" and job["info"]["stopped"]["reason"] == "rung"
    assert job["info"]["stopped"]["step"] == RUNG and job["info"]["checkpoint"]["step"] == RUNG
    # what it reports at the rung: its validation there (the rung is validated although 8 is not a multiple of 5)
    val_at_rung = [p for p in saturn_env.metrics(job="j") if p["kind"] == "val" and p["step"] == RUNG]
    assert len(val_at_rung) == 1 and job["info"]["rung_reports"] == {str(RUNG): val_at_rung[0]["metrics"]}
    assert any(e["kind"] == "job.rung" and e["data"]["id"] == "j" for e in saturn_env.events_since(0, 10000))
    # promoted: no rung left, it resumes from its checkpoint at the rung
    js.update_info("j", "job.promoted", rung_at=None, stopped=None)
    assert run_job("j", saturn_env)["state"] == "done"
    assert f"resuming at step {RUNG}" in log_path(saturn_env, "j").read_text()
    info = js.get("j")["info"]
    last_segment = info["finished_at"] - info["first_step_at"]
    assert info["train_s"] > last_segment  # its training time counts both segments (results' runtime_s)
    want, got = torch.load(weights_path(saturn_env, "ref")), torch.load(weights_path(saturn_env, "j"))
    assert all(torch.equal(got[k], want[k]) for k in want)  # the pause changed nothing (dropout included)
    ref_val = [(p["step"], p["metrics"]) for p in saturn_env.metrics(job="ref") if p["kind"] == "val"]
    j_val = [(p["step"], p["metrics"]) for p in saturn_env.metrics(job="j") if p["kind"] == "val" and p["step"] != RUNG]
    assert j_val == ref_val


def test_a_job_judged_out_at_its_rung_stops_early_and_keeps_its_checkpoint_and_history(saturn_env):
    js = _setup(saturn_env)
    assert run_job("k", saturn_env)["state"] == "preempted"
    js.set_state("k", "stopped_early", expect=("preempted",), stopped_early={"rung": RUNG})
    job = js.get("k")
    assert job["state"] == "stopped_early" and job["info"]["checkpoint"]["step"] == RUNG
    assert [p["step"] for p in saturn_env.metrics(job="k") if p["kind"] == "val"] == [5, RUNG]
    assert run_job("k", saturn_env) == {"job": "k", "state": "stopped_early", "redone": False}  # final: nothing redone
    assert "stopped_early" in saturn.results()["state"].tolist()  # the results show it as such


def test_validating_changes_nothing_of_the_training(saturn_env):
    """A model loader that seeds the RNG (as most do) and dropout: the weights are those of the same job without
    validation, whatever the steps it validates at."""
    js = JobStore(saturn_env)
    common = dict(model=tm.make_residual_dropout, data=tm.residual_data, batch_size=8, steps=12, optimizer="adam",
                  lr=0.01)
    saturn.register(saturn.Task("plain", **common))
    saturn.register(saturn.Task("validated", **common, validate=tm.residual_validate, eval_every=3))
    for task in ("plain", "validated"):
        js.create(task, task, {"parallelism": "spilling", "gpus": 1, "gpu_ids": [0], "knobs": {"partitions": 2},
                               "node": "node0"}, run_id="r")
        assert run_job(task, saturn_env)["state"] == "done"
    assert [p["step"] for p in saturn_env.metrics(job="validated") if p["kind"] == "val"] == [3, 6, 9, 12]
    want, got = torch.load(weights_path(saturn_env, "plain")), torch.load(weights_path(saturn_env, "validated"))
    assert all(torch.equal(got[k], want[k]) for k in want)


def test_early_stopping_set_from_python_is_what_the_next_runs_read(saturn_env):
    from saturn.bridge.service import BridgeService
    assert saturn.early_stopping() is None
    kept = saturn.set_early_stopping("asha", metric="val_acc", rungs=[1, 3, 6], unit="epochs")
    assert kept == {"kind": "asha", "metric": "val_acc", "mode": "max", "rungs": [1, 3, 6], "eta": 2, "unit": "epochs"}
    reply = BridgeService(saturn_env).handle({"v": 1, "type": "run_config"})
    assert reply["ok"] and reply["early_stopping"] == kept  # what `saturn run` and the page read (schema-checked)
    import pytest
    with pytest.raises(ValueError, match="rungs must be increasing"):
        saturn.set_early_stopping("asha", rungs=[3, 1])
    with pytest.raises(ValueError, match="'asha' or 'sha'"):
        saturn.set_early_stopping("hyperband", rungs=[1])
    # survivors under way may move: kept, and what the next runs read (the wire schema allows it)
    moving = saturn.set_early_stopping("asha", metric="val_loss", rungs=[10], move_survivors=True)
    assert moving["move_survivors"] is True
    assert BridgeService(saturn_env).handle({"v": 1, "type": "run_config"})["early_stopping"] == moving
    with pytest.raises(ValueError, match="move_survivors must be True or False"):
        saturn.set_early_stopping("asha", rungs=[1], move_survivors="yes")
    saturn.set_early_stopping(None)
    assert BridgeService(saturn_env).handle({"v": 1, "type": "run_config"})["early_stopping"] is None


def _judge_when_holding(js, job, verdicts, timeout=120.0):
    """A stand-in for the dispatcher's judge (a thread): each time ``job`` waits on its devices at a rung, apply the
    next verdict, ``("promote", next rung or None)`` or ``("pause", None)``; returns the thread and what it saw."""
    import threading
    import time
    seen = []

    def judge():
        deadline = time.monotonic() + timeout
        todo = list(verdicts)
        while todo and time.monotonic() < deadline:
            info = js.get(job)["info"]
            holding = info.get("holding")
            if holding and holding["step"] not in [s for s, _ in seen]:
                kind, nxt = todo.pop(0)
                seen.append((holding["step"], dict(info.get("rung_reports") or {})))
                if kind == "promote":
                    js.update_info(job, "job.promoted", rung_at=nxt, promotions=[
                        *(info.get("promotions") or []), {"rung": holding["step"], "at": time.time()}])
                else:
                    js.request_stop(job, "rung")
            time.sleep(0.02)

    t = threading.Thread(target=judge, daemon=True)
    t.start()
    return t, seen


def test_a_job_promoted_while_it_waits_on_its_devices_trains_on_there_and_ends_as_an_uninterrupted_job(saturn_env):
    """Two devices (two ranks): the verdict reaches both; promoted at 8 with its next rung at 14, it validates and
    waits again at 14, is promoted through, and finishes in the same attempt with the reference's weights."""
    js = _setup(saturn_env)
    assert run_job("ref", saturn_env)["state"] == "done"
    js.update_info("j", rung_hold_s=60.0)
    judge, seen = _judge_when_holding(js, "j", [("promote", 14), ("promote", None)])
    assert run_job("j", saturn_env)["state"] == "done"
    judge.join(5)
    info = js.get("j")["info"]
    assert [s for s, _ in seen] == [RUNG, 14]
    assert info["attempts"] == 1 and not info.get("holding")  # never paused, never resumed
    assert "resuming" not in log_path(saturn_env, "j").read_text()
    # what it reported at each rung is its validation there, known to the judge while it waited
    val = {p["step"]: p["metrics"] for p in saturn_env.metrics(job="j") if p["kind"] == "val"}
    assert seen[1][1] == {str(RUNG): val[RUNG], "14": val[14]} == info["rung_reports"]
    assert info["checkpoint"]["step"] >= 14
    want, got = torch.load(weights_path(saturn_env, "ref")), torch.load(weights_path(saturn_env, "j"))
    assert all(torch.equal(got[k], want[k]) for k in want)


def test_a_job_told_to_wait_or_given_no_verdict_pauses_at_its_rung_with_its_checkpoint(saturn_env):
    import time
    js = _setup(saturn_env)
    js.update_info("j", rung_hold_s=60.0)
    judge, seen = _judge_when_holding(js, "j", [("pause", None)])
    t0 = time.monotonic()
    assert run_job("j", saturn_env) == {"job": "j", "state": "preempted", "reason": "rung"}
    judge.join(5)
    assert time.monotonic() - t0 < 60  # paused on the request, not at the end of its hold
    for job in ("j", "k"):
        if job == "k":  # nobody judges: it pauses when its hold runs out
            js.update_info("k", rung_hold_s=0.5)
            assert run_job("k", saturn_env) == {"job": "k", "state": "preempted", "reason": "rung"}
        info = js.get(job)["info"]
        assert info["stopped"] == {**info["stopped"], "reason": "rung", "step": RUNG}
        assert info["checkpoint"]["step"] == RUNG and not info.get("holding")
        assert list(info["rung_reports"]) == [str(RUNG)] and not info.get("holding")
        assert sum(e["kind"] == "job.rung" and e["data"]["id"] == job for e in saturn_env.events_since(0, 10000)) == 1


def test_a_job_started_again_at_its_rung_without_a_promotion_goes_back_to_wait_there(saturn_env):
    """As after a runner that died while it waited for the verdict and was retried: its checkpoint is at the rung and
    its next rung is still that one; it must not train a step past it unjudged."""
    js = _setup(saturn_env)
    assert run_job("j", saturn_env)["state"] == "preempted"
    js.update_info("j", holding={"step": RUNG, "at": 0.0})  # what the dead runner left
    steps_before = [p["step"] for p in saturn_env.metrics(job="j")]
    assert run_job("j", saturn_env) == {"job": "j", "state": "preempted", "reason": "rung"}
    info = js.get("j")["info"]
    assert info["stopped"]["step"] == RUNG and info["checkpoint"]["step"] == RUNG and info["attempts"] == 2
    assert [p["step"] for p in saturn_env.metrics(job="j")] == steps_before  # not one step trained past it
    assert list(info["rung_reports"]) == [str(RUNG)] and not info.get("holding")
