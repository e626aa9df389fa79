import saturn
import tinymodels as tm
from saturn.core.spase import validate_instance
from saturn.techniques import _loop


def _options(instance, job_id):
    job = next(j for j in instance["jobs"] + instance["unschedulable"] if j["id"] == job_id)
    return {(o["parallelism"], o["gpus"]): o for o in job["options"]}, \
           {(x["parallelism"], x["gpus"]): x["reason"] for x in job["infeasible"]}


def test_profile_mlp_and_transformer_on_two_cpu_devices(saturn_env):
    saturn.register(saturn.Task("mlp", model=tm.make_mlp, data=tm.mlp_data, batch_size=8, steps=1000))
    saturn.register(saturn.Task("tf", model=tm.make_transformer, data=tm.transformer_data, batch_size=8, epochs=3))
    seen = []
    instance = saturn.profile(progress=seen.append)
    assert validate_instance(instance) == []
    assert instance["cluster"] == {"nodes": [{"id": "node0", "gpus": 2}]}
    for name, total in (("mlp", 1000), ("tf", 12)):
        options, infeasible = _options(instance, name)
        assert set(options) == {("ddp", 1), ("ddp", 2), ("fsdp", 1), ("fsdp", 2), ("pipeline", 2), ("spilling", 1)}
        for opt in options.values():
            assert opt["step_time_s"] > 0 and opt["peak_mem_bytes"] > 0 and not opt["cached"]
            assert abs(opt["runtime_s"] - opt["step_time_s"] * total) < 1e-3 * opt["runtime_s"] + 1e-6
        assert set(options[("fsdp", 2)]["knobs"]) == {"reshard_after_forward", "activation_checkpointing",
                                                      "cpu_offload"}
        assert "at least 2" in infeasible[("pipeline", 1)] and ("spilling", 2) in infeasible
        assert options[("pipeline", 2)]["knobs"]["chunks"] >= 2
        assert sum(options[("pipeline", 2)]["knobs"]["balance"]) == len(_loop.layers_of(
            saturn.get_task(name), saturn.get_task(name).build_model()))
        assert options[("ddp", 2)]["knobs"]["per_device_batch"] == 4  # global batch kept
    assert seen[-1]["done"] == seen[-1]["total"] == instance["saturn"]["trials"] == 12
    kinds = [e["kind"] for e in saturn_env.events_since(0)]
    assert "profile.started" in kinds and "profile.finished" in kinds

    # the cache: an LR variant of the MLP and a re-profile run no trial
    saturn.register(saturn.Task("mlp-lr", model=tm.make_mlp, data=tm.mlp_data, batch_size=8, steps=500, lr=0.5))
    again = saturn.profile()
    assert again["saturn"]["cached"] == again["saturn"]["trials"] == 18
    variant, _ = _options(again, "mlp-lr")
    first, _ = _options(instance, "mlp")
    assert variant[("ddp", 2)]["step_time_s"] == first[("ddp", 2)]["step_time_s"]
    assert "cached" in repr(again)


class SlowSingle(saturn.Technique):
    """A user technique: plain training on one device, defined in the test (travels by value)."""
    name = "single"
    description = "one device, no tricks"
    max_gpus = 1

    def search(self, task, devices):
        return {"note": "nothing to choose"}

    def execute(self, task, devices, knobs, steps, checkpoint=None, on_step=None):
        model = task.build_model()
        opt = task.make_optimizer(model.parameters())
        step = _loop.standard_step(task, model, opt, task.batches(), None)
        times, loss = _loop.timed_steps(steps, step, None, on_step)
        return saturn.ExecResult(steps=steps, step_times=times, peak_mem_bytes=1, last_loss=loss)


def test_failing_trials_are_infeasible_and_profiling_goes_on(saturn_env):
    saturn.register_technique(SlowSingle)
    common = {"data": tm.mlp_data, "batch_size": 8, "steps": 100, "gpu_range": 1}
    saturn.register(saturn.Task("good", model=tm.make_mlp, **common))
    saturn.register(saturn.Task("oom", model=tm.make_failing("oom"), **common))
    saturn.register(saturn.Task("raises", model=tm.make_failing("raise"), **common))
    saturn.register(saturn.Task("hangs", model=tm.make_failing("hang"), hints={"trial_timeout": 6}, **common))
    instance = saturn.profile(techniques=["spilling", "single"])  # the hanging trial is stopped at its 6 s limit
    assert validate_instance(instance) == []
    good, _ = _options(instance, "good")
    assert set(good) == {("spilling", 1), ("single", 1)} and good[("single", 1)]["knobs"] == {"note": "nothing to choose"}
    _, oom = _options(instance, "oom")
    assert oom[("spilling", 1)].startswith("out of memory") and "CUDA out of memory" in oom[("spilling", 1)]
    _, raises = _options(instance, "raises")
    assert "boom in forward" in raises[("single", 1)]
    _, hangs = _options(instance, "hangs")
    assert "timed out after 6" in hangs[("spilling", 1)]
    assert [j["id"] for j in instance["unschedulable"]] == ["oom", "raises", "hangs"]
    # only the out-of-memory verdicts are cached with the feasible ones; errors and timeouts are retried
    assert saturn_env.count_profiles() == 4



def test_a_trial_times_its_measuring_seconds_of_steps_but_never_more_steps_than_the_task_trains(saturn_env):
    """Millisecond steps: three of them say little. A trial keeps timing until measure_s seconds are measured, and
    a task that trains fewer steps than that takes is timed over all of them, not more."""
    saturn.register(saturn.Task("long", model=tm.make_mlp, data=tm.mlp_data, batch_size=8, steps=200000))
    saturn.register(saturn.Task("short", model=tm.make_mlp, data=tm.mlp_data, batch_size=4, steps=40))
    instance = saturn.profile(techniques=["ddp"], measure=3, measure_s=0.5, use_cache=False)
    long_opt, short_opt = _options(instance, "long")[0][("ddp", 1)], _options(instance, "short")[0][("ddp", 1)]
    # about 0.5 s of millisecond steps: hundreds, where 3 were asked for
    assert long_opt["timed_steps"] > 50
    assert long_opt["timed_steps"] * long_opt["step_time_s"] >= 0.45
    # the short task trains 40 steps: the second run times at most 40 more (3 + 40 in all)
    assert 3 < short_opt["timed_steps"] <= 43
    # measure_s=0: the few steps asked for, their median
    few = saturn.profile(["short"], techniques=["ddp"], measure=3, measure_s=0, use_cache=False)
    assert _options(few, "short")[0][("ddp", 1)]["timed_steps"] == 3
