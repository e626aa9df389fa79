"""Jobs of the layer-wise techniques: the pipeline (one stage per process) and spilling (one device, one process)
train with the knobs the profiler chose and resume exactly after a pause."""
from techjobs import check_technique


def test_pipeline_job_trains_with_the_profiled_knobs_and_resumes_exactly_after_a_pause(saturn_env, monkeypatch):
    option = check_technique(saturn_env, monkeypatch, "pipeline", 2)
    assert option["knobs"]["schedule"] in ("gpipe", "1f1b") and 8 % option["knobs"]["chunks"] == 0
    assert sum(option["knobs"]["balance"]) == 6


def test_spilling_job_trains_with_the_profiled_knobs_and_resumes_exactly_after_a_pause(saturn_env, monkeypatch):
    option = check_technique(saturn_env, monkeypatch, "spilling", 1)
    assert option["knobs"]["partitions"] == 2
