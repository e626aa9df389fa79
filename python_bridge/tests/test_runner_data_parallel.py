"""Jobs of DDP and of a user technique: trained with the knobs the profiler chose (as
applied by the technique, in the job's info), and an interrupted job resumes to the weights of an uninterrupted one."""
import saturn
from saturn.techniques import _loop
from saturn.core.task import split_batch

from techjobs import check_technique


def test_ddp_job_trains_with_the_profiled_knobs_and_resumes_exactly_after_a_pause(saturn_env, monkeypatch):
    option = check_technique(saturn_env, monkeypatch, "ddp", 2)
    assert option["knobs"]["per_device_batch"] == 4


class HandDP(saturn.Technique):
    """A user technique: data parallel by hand (gradients all-reduced and clipped), one process per device."""
    name = "hand-dp"
    description = "all-reduce by hand"

    def world(self, k):
        return k

    def search(self, task, devices):
        return {"grad_clip": 0.5 if len(devices) > 1 else 1.0}

    def prepare(self, ctx):
        return HandExecutor(ctx)


class HandExecutor(_loop.StandardExecutor):
    def __init__(self, ctx):
        model = ctx.task.build_model()
        super().__init__(ctx.task, model, ctx.task.make_optimizer(model.parameters()), ctx.device,
                         applied_knobs={"grad_clip": float(ctx.knobs["grad_clip"])})
        self.world, self.clip = ctx.world, float(ctx.knobs["grad_clip"])

    def step(self, batch):
        import torch
        import torch.distributed as dist
        x, y = split_batch(batch)
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        for p in self.model.parameters():
            dist.all_reduce(p.grad)
            p.grad /= self.world
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
        self.optimizer.step()
        total = loss.detach().clone()
        dist.all_reduce(total)
        return float(total) / self.world


def test_user_technique_is_profiled_and_trained_on_two_processes_with_its_knobs(saturn_env, monkeypatch):
    saturn.register_technique(HandDP)
    option = check_technique(saturn_env, monkeypatch, "hand-dp", 2)
    assert option["knobs"] == {"grad_clip": 0.5}
