"""Start-up costs in the profile: every measured option carries what a job pays before its first step, and a
finished job's measured start-up (the dispatcher's launch to the runner's first step) replaces the trial's."""
import saturn
import tinymodels as tm
from saturn.core.jobs import JobStore
from saturn.core.spase import validate_instance


def _option(instance, task, parallelism, gpus):
    job = next(j for j in instance["jobs"] if j["id"] == task)
    return next(o for o in job["options"] if o["parallelism"] == parallelism and o["gpus"] == gpus)


def test_profiled_options_carry_a_start_up_cost_and_a_finished_jobs_measurement_replaces_it(saturn_env):
    saturn.register(saturn.Task("mlp", model=tm.make_mlp, data=tm.mlp_data, batch_size=8, steps=100))
    instance = saturn.profile(techniques=["ddp", "spilling"])
    assert validate_instance(instance) == []
    one, two = _option(instance, "mlp", "ddp", 1), _option(instance, "mlp", "ddp", 2)
    # a fresh process imports torch and builds the model before its first step: that takes real time
    assert one["startup_s"] > 0.2 and two["startup_s"] > 0.2
    assert _option(instance, "mlp", "spilling", 1)["startup_s"] > 0.2

    js = JobStore(saturn_env)
    js.create("r-mlp", "mlp", {"parallelism": "ddp", "gpus": 2, "gpu_ids": [0, 1], "knobs": {}}, run_id="r")
    js.set_state("r-mlp", "waiting")
    js.set_state("r-mlp", "running", pid=1)
    js.update_info("r-mlp", launched_at=1000.0, first_step_at=1004.25)
    js.set_state("r-mlp", "done", finished_at=1010.0)
    again = saturn.profile(techniques=["ddp", "spilling"])
    assert _option(again, "mlp", "ddp", 2)["startup_s"] == 4.25  # what the job really took
    assert _option(again, "mlp", "ddp", 1)["startup_s"] == one["startup_s"]  # no job ran this option: the trial's
    assert _option(again, "mlp", "ddp", 2)["cached"]
