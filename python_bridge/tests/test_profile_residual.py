"""Profiling a small residual model on 2 declared GPUs measures every built-in technique."""
import saturn
import tinymodels as tm
from saturn.core.spase import validate_instance


def test_residual_model_on_two_declared_gpus_has_measured_fsdp_pipeline_ddp_and_spilling(saturn_env):
    saturn.register(saturn.Task("res", model=tm.make_residual, data=tm.residual_data, batch_size=8, steps=100,
                                optimizer="adam"))
    instance = saturn.profile(["res"])
    assert validate_instance(instance) == []
    job = next(j for j in instance["jobs"] if j["id"] == "res")
    options = {(o["parallelism"], o["gpus"]): o for o in job["options"]}
    assert set(options) == {("ddp", 1), ("ddp", 2), ("fsdp", 1), ("fsdp", 2), ("pipeline", 2), ("spilling", 1)}, \
        job["infeasible"]
    for opt in options.values():
        assert opt["step_time_s"] > 0 and opt["peak_mem_bytes"] > 0 and not opt["cached"]
    assert options[("pipeline", 2)]["knobs"]["balance"] in ([3, 2], [2, 3])
    # each trial recorded the knobs the technique applied: the ones the profile reports
    from saturn.profiling.profiler import Profiler
    _records, trials, _ruled_out = Profiler().plan(["res"])
    for trial in trials:
        if (trial.technique, trial.gpus) in options:
            cached = saturn_env.get_profile(trial.key)
            assert cached["applied_knobs"] == cached["knobs"] == options[(trial.technique, trial.gpus)]["knobs"]
