"""An FSDP2 job trains with the knobs the profiler chose and, killed with SIGKILL mid-run, resumes to the weights of
an uninterrupted run: the gathered checkpoint holds the sharded Adam state, loaded back into the shards."""
from techjobs import check_technique, sigkill_then_resume


def test_fsdp_job_killed_with_sigkill_resumes_exactly_sharded_adam_state_included(saturn_env, monkeypatch):
    option = check_technique(saturn_env, monkeypatch, "fsdp", 2, interrupt=sigkill_then_resume)
    assert set(option["knobs"]) == {"reshard_after_forward", "activation_checkpointing", "cpu_offload"}
