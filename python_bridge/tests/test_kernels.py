"""Real IPython kernels (jupyter_client): kernel A registers tasks (API, magics), kernel B sees and rebuilds them."""
import json
import time
import uuid

from conftest import run_cell, text_of

DEFINE_IN_KERNEL = '''
import saturn, torch
from torch import nn

def make_model():                      # defined in the notebook: travels by value
    return nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 4))

def make_data(batch_size):
    return [(torch.randn(batch_size, 16), torch.randint(0, 4, (batch_size,))) for _ in range(3)]

saturn.register(saturn.Task("api-task", model=make_model, data=make_data, batch_size=6, steps=30))
t2 = saturn.Task("var-task", model=make_model, data=make_data, batch_size=6, epochs=2, gpu_range=(1, 2))
'''

CELL_TASK = '''%%saturn task cell-task
import torch
from torch import nn
def model():
    return nn.Sequential(nn.Linear(16, 4))
def data(batch_size):
    return [(torch.randn(batch_size, 16), torch.randint(0, 4, (batch_size,)))]
batch_size = 4
steps = 7
'''


def test_register_in_one_kernel_rebuild_in_another(start_kernel):
    a = start_kernel()
    status, out = run_cell(a, DEFINE_IN_KERNEL)
    assert status == "ok", text_of(out)
    status, out = run_cell(a, "%load_ext saturn\n%saturn register t2")
    assert status == "ok", text_of(out)
    status, out = run_cell(a, CELL_TASK)
    assert status == "ok", text_of(out)
    status, out = run_cell(a, "%saturn list")
    listing = text_of(out)
    assert status == "ok" and all(n in listing for n in ("api-task", "var-task", "cell-task"))
    html = [c["data"].get("text/html", "") for k, c in out if k == "execute_result"]
    assert html and "<table>" in html[0] and "cell-task" in html[0]

    status, out = run_cell(a, "%saturn profile cell-task --techniques spilling")
    report = text_of(out)
    assert status == "ok" and "cell-task  spilling   1" in report and "profiling: 1/1 trials" in report, report
    status, out = run_cell(a, "%saturn devices\n%saturn status")
    assert status == "ok" and "cached trials  1" in text_of(out), text_of(out)

    status, out = run_cell(a, "%%saturn task bad-task\nmodel = lambda: 1/0\ndata = lambda bs: []\nsteps = 3\n")
    assert status == "error" and "'bad-task'" in text_of(out) and "ZeroDivisionError" in text_of(out)

    b = start_kernel()
    code = ('import saturn\nprint(sorted(saturn.tasks().names()))\n'
            't = saturn.get_task("cell-task")\nm = t.build_model()\nx, y = next(t.batches())\n'
            'loss = t.loss_fn()(m(x), y); loss.backward()\nprint("rebuilt", type(m).__name__, tuple(x.shape), t.total_steps)\n'
            'print("epochs", saturn.get_task("var-task").total_steps)')
    status, out = run_cell(b, code)
    text = text_of(out)
    assert status == "ok", text
    assert "['api-task', 'cell-task', 'var-task']" in text
    assert "rebuilt Sequential (4, 16) 7" in text and "epochs 6" in text


def test_the_comm_answers_requests_refuses_other_versions_and_pushes_events(start_kernel):
    kc = start_kernel()
    status, out = run_cell(kc, "%load_ext saturn")
    assert status == "ok", text_of(out)
    comm_id = uuid.uuid4().hex
    kc.shell_channel.send(kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": "saturn.bridge",
                                                       "data": {"v": 1, "type": "hello", "id": "h1"}}))
    hello = _next_comm_msg(kc, comm_id)
    assert hello["ok"] and hello["id"] == "h1" and hello["wire_version"] == 1
    kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"v": 9, "type": "devices"}}))
    refused = _next_comm_msg(kc, comm_id)
    assert not refused["ok"] and "version 9" in refused["error"]["message"]
    kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"v": 1, "type": "devices",
                                                                                    "id": 1}}))
    reply = _next_comm_msg(kc, comm_id)
    assert reply["ok"] and [d["kind"] for d in reply["devices"]] == ["cpu", "cpu"]
    kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"v": 1, "type": "tasks",
                                                                                    "id": 2}}))
    assert _next_comm_msg(kc, comm_id)["tasks"] == []
    # a change in the store (from any process) is pushed to the open comm
    from saturn.core.store import Store
    Store(start_kernel.db).emit("task.registered", {"name": "from-elsewhere"})
    pushed = _next_comm_msg(kc, comm_id)
    assert pushed["type"] == "event" and pushed["event"]["data"] == {"name": "from-elsewhere"}
    # a page that closes its channel (it does after a request went unanswered) gets nothing pushed on it any more
    kc.shell_channel.send(kc.session.msg("comm_close", {"comm_id": comm_id, "data": {}}))
    run_cell(kc, "pass")  # the close is handled before this cell runs
    Store(start_kernel.db).emit("task.registered", {"name": "after-close"})
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=0.5)
        except Exception:  # noqa: BLE001 - queue.Empty: nothing published
            continue
        assert not (msg["msg_type"] == "comm_msg" and msg["content"]["comm_id"] == comm_id), msg["content"]


def test_a_slow_request_is_noted_in_the_log(capsys, monkeypatch):
    from saturn.bridge import comm_adapter

    class Comm:
        sent = []

        def on_msg(self, f): pass
        def on_close(self, f): pass
        def send(self, data): self.sent.append(data)

    class SlowService:
        class store:  # noqa: N801
            @staticmethod
            def last_event_id(): return 0

        def handle(self, data):
            time.sleep(0.05)
            return {"v": 1, "ok": True, "type": data["type"], "id": data["id"]}

    monkeypatch.setattr(comm_adapter, "SLOW_REQUEST_S", 0.01)
    channel = comm_adapter.BridgeChannel(Comm(), service=SlowService(), push=False)
    channel.on_msg({"content": {"data": {"v": 1, "type": "plans", "id": "r1"}}})
    assert channel.comm.sent == [{"v": 1, "ok": True, "type": "plans", "id": "r1"}]
    assert "the 'plans' request took" in capsys.readouterr().err


def _next_comm_msg(kc, comm_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["msg_type"] == "comm_msg" and msg["content"]["comm_id"] == comm_id:
            return msg["content"]["data"]
    raise AssertionError(f"no comm message within {timeout} s: {json.dumps(msg['content'])[:300]}")
