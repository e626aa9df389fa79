"""The Python takeover (saturn.control.autopilot) on real SQLite and real detached runner processes."""
import os
import time

import pytest

from saturn.control import autopilot
from saturn.core.jobs import JobStore, pid_alive
from saturn.control.reconcile import reconcile
from saturn.core.store import Store
from test_runner import exploding_data, register

ASSIGN = {"parallelism": "spilling", "knobs": {"partitions": 1}, "node": "n0"}


@pytest.fixture
def store(tmp_path, monkeypatch):
    from saturn.core import devices
    monkeypatch.setenv("SATURN_FAKE_GPUS", "2")
    monkeypatch.setenv("SATURN_TORCH_THREADS", "1")
    monkeypatch.setenv("SATURN_DB", str(tmp_path / "s" / "saturn.db"))
    devices._cache["key"] = None
    s = Store(tmp_path / "s" / "saturn.db")
    yield s
    s.close()


def plan(store, jobs, run_id="r1"):
    js = JobStore(store)
    for order, (jid, task, ids) in enumerate(jobs):
        js.create(jid, task, {**ASSIGN, "gpus": len(ids), "gpu_ids": ids}, run_id=run_id, order=order,
                  settings={"checkpoint_every_steps": 5})
    return js


def held_intervals(store):
    held, open_ = [], {}
    for e in store.events_since(0, 100000):
        if e["kind"] == "lease.acquired":
            open_[e["data"]["holder"]] = (e["ts"], e["data"]["devices"])
        elif e["kind"] == "lease.released" and e["data"]["holder"] in open_:
            s, devs = open_.pop(e["data"]["holder"])
            held.append((e["data"]["holder"], s, e["ts"], devs))
    return held


def test_without_a_heartbeat_the_autopilot_runs_the_plan_to_the_end_without_overlap(store):
    register(store, "t", steps=20)
    js = plan(store, [("j0", "t", [0]), ("j1", "t", [1]), ("j2", "t", [0])])
    pilot = autopilot.Autopilot("r1", store, interval_s=0.1, min_grace_s=0.5)
    pilot.run(timeout_s=150)  # returns once the run has settled (the limit only bounds a hang)
    jobs = {j["id"]: j for j in js.list("r1")}
    assert {j: x["state"] for j, x in jobs.items()} == {"j0": "done", "j1": "done", "j2": "done"}, \
        {j: x["info"].get("error") for j, x in jobs.items()}
    for j in jobs.values():
        info = j["info"]
        assert info["launched_by"] == "autopilot" and info["pid"] == info["autopilot_pid"]
        assert info["lease_env"]["SATURN_CPU_DEVICES"] == ",".join(map(str, info["assignment"]["gpu_ids"]))
        assert os.path.exists(info["weights"]) and os.path.exists(info["log"])
    spans = held_intervals(store)
    assert sorted(s[0] for s in spans) == ["j0", "j1", "j2"]
    for a in spans:
        for b in spans:
            if a[0] < b[0] and set(a[3]) & set(b[3]):
                assert a[2] <= b[1] or b[2] <= a[1], (a, b)
    # plan order on GPU 0: j2 only after j0
    assert jobs["j2"]["info"]["claimed_at"] >= jobs["j0"]["info"]["finished_at"]
    assert js.leases() == []


ES = {"kind": "asha", "metric": "val_loss", "mode": "min", "rungs": [8], "eta": 2, "unit": "steps"}


def test_without_a_dispatcher_early_stopping_goes_on_the_losers_stop_and_the_survivors_finish(store):
    """The tab is closed during a run with ASHA (eta 2, rung at step 8 of 20): four jobs on two devices, one learning
    rate each. The autopilot judges the rung as the run loop would: the jobs among the best two there train to the
    end, the worst stops early at the rung with its checkpoint, and no device is ever used by two jobs at once."""
    import saturn
    import tinymodels as tm
    lrs = {"j0": 0.02, "j1": 0.0005, "j2": 0.05, "j3": 0.002}
    js = JobStore(store)
    for order, (jid, lr) in enumerate(lrs.items()):
        saturn.register(saturn.Task(f"t-{jid}", model=tm.make_residual_dropout, data=tm.residual_data, batch_size=8,
                                    steps=20, optimizer="adam", lr=lr, validate=tm.residual_validate, eval_every=5))
        js.create(jid, f"t-{jid}", {**ASSIGN, "gpus": 1, "gpu_ids": [order % 2]}, run_id="r1", order=order,
                  settings={"checkpoint_every_steps": 5, "rung_at": 8, "rung_steps": [8], "early_stopping": ES,
                            "rung_hold_s": 2.0})
    pilot = autopilot.Autopilot("r1", store, interval_s=0.1, min_grace_s=0.5)
    pilot.run(timeout_s=240)  # returns once the run has settled
    jobs = {j["id"]: j for j in js.list("r1")}
    states = {j: x["state"] for j, x in jobs.items()}
    assert set(states.values()) <= {"done", "stopped_early"}, {j: x["info"].get("error") for j, x in jobs.items()}
    at_rung = {j: x["info"]["rung_reports"]["8"]["val_loss"] for j, x in jobs.items()}
    ranked = sorted(at_rung, key=at_rung.get)
    # the best two at the rung go on whatever the order they reported in (ASHA may promote one more early); the
    # worst is never among the top half of the jobs that reported before it, so it stops
    assert [states[j] for j in ranked[:2]] == ["done", "done"], (states, at_rung)
    assert states[ranked[-1]] == "stopped_early", (states, at_rung)
    for jid, job in jobs.items():
        info = job["info"]
        assert info["launched_by"] == "autopilot"
        steps = [p["step"] for p in store.metrics(job=jid)]
        if job["state"] == "done":
            assert [p["rung"] for p in info["promotions"]] == [8] and info["rung_at"] is None
            assert max(steps) == 20 and os.path.exists(info["weights"])
        else:
            assert info["stopped_early"]["rung"] == 8 and info["stopped_early"]["metric"] == "val_loss"
            assert info["checkpoint"]["step"] == 8 and max(steps) == 8  # not one step past its rung
            assert not info.get("promotions")
    spans = held_intervals(store)
    for a in spans:
        for b in spans:
            if a is not b and set(a[3]) & set(b[3]):
                assert a[2] <= b[1] or b[2] <= a[1], (a, b)
    assert js.leases() == [] and store.heartbeat("r1") is None


class _Clock:
    """The autopilot's view of the time, moved by the test; ``passes(n)`` waits for n more dispatching passes."""

    def __init__(self, pilot, now: float):
        import threading
        self.now, self.calls, self._cond = now, 0, threading.Condition()
        real = pilot.dispatcher_alive

        def alive(now=None):
            out = real(self.now)
            with self._cond:
                self.calls += 1
                self._cond.notify_all()
            return out
        pilot.dispatcher_alive = alive

    def passes(self, n: int) -> None:
        with self._cond:
            target = self.calls + n
            assert self._cond.wait_for(lambda: self.calls >= target, timeout=60), "the autopilot stopped passing"


def test_the_heartbeat_is_fresh_for_the_grace_period_and_stale_after_it(store):
    plan(store, [("j0", "t", [0])])
    at = autopilot.heartbeat(store, "r1", poll_s=1.0)
    pilot = autopilot.Autopilot("r1", store, min_grace_s=1.5, grace_factor=2.0)
    pilot.started_at = at - 100  # not just started: only the beat counts
    assert pilot.dispatcher_alive(at + 1.99) == (True, False)  # grace: 2 x poll 1 s > the 1.5 s minimum
    assert pilot.dispatcher_alive(at + 2.01) == (False, False)
    at = autopilot.heartbeat(store, "r1", poll_s=0.1)
    assert pilot.dispatcher_alive(at + 1.49) == (True, False)  # grace: the 1.5 s minimum > 2 x poll 0.1 s
    assert pilot.dispatcher_alive(at + 1.51) == (False, False)
    at = autopilot.heartbeat(store, "r1", poll_s=1.0, paused=True)
    assert pilot.dispatcher_alive(at + 5) == (False, True)


def test_a_fresh_heartbeat_keeps_the_autopilot_standing_down_and_a_stale_one_hands_over(store):
    register(store, "t", steps=10)
    js = plan(store, [("j0", "t", [0])])
    at = autopilot.heartbeat(store, "r1", poll_s=1.0)
    pilot = autopilot.Autopilot("r1", store, interval_s=0.05, min_grace_s=1.5, grace_factor=1.5)
    clock = _Clock(pilot, at + 1.0)  # within the grace period of the last beat
    pilot.start()
    try:
        clock.passes(10)
        assert js.get("j0")["state"] == "pending" and pilot.launches == [] and not pilot.active
        # a paused dispatcher that goes away: still nothing starts
        at = autopilot.heartbeat(store, "r1", poll_s=1.0, paused=True)
        clock.now = at + 60
        clock.passes(10)
        assert js.get("j0")["state"] == "pending" and pilot.launches == []
        # the dispatcher stops beating (tab closed): the autopilot takes over
        at = autopilot.heartbeat(store, "r1", poll_s=1.0)
        clock.now = at + 60
        deadline = time.monotonic() + 90
        while js.get("j0")["state"] != "done" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert js.get("j0")["state"] == "done"
        assert [x[0] for x in pilot.launches] == ["j0"]
    finally:
        pilot.stop()


def test_failed_jobs_are_retried_then_given_up_and_reconcile_sees_detached_runners_alive(store):
    register(store, "t", steps=400)
    register(store, "bad", steps=10, data=exploding_data)
    js = plan(store, [("slow", "t", [0]), ("bad", "bad", [1])])
    pilot = autopilot.Autopilot("r1", store, interval_s=0.1, max_retries=1, relaunch_backoff_s=0.5, min_grace_s=0.5)
    os.environ["SATURN_TEST_STEP_DELAY"] = "0.05"
    try:
        pilot.start()
        deadline = time.monotonic() + 90
        while js.get("slow")["state"] != "running" and time.monotonic() < deadline:
            time.sleep(0.1)
        slow = js.get("slow")
        assert slow["state"] == "running" and pid_alive(slow["info"]["pid"])
        # the TS dispatcher comes back: reconcile must see the detached runner as alive, not interrupted
        report = reconcile(store, run_id="r1")
        assert "slow" in report["alive"] and "slow" not in report["interrupted"]
        while not js.get("bad")["info"].get("given_up") and time.monotonic() < deadline:
            time.sleep(0.1)
        bad = js.get("bad")
        assert bad["state"] == "failed" and bad["info"]["given_up"] and bad["info"]["retries"] == 1
        assert bad["info"]["attempts"] == 2 and "dataset file is missing" in bad["info"]["error"]
        js.request_stop("slow", "cancel")
        while js.get("slow")["state"] != "cancelled" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert js.get("slow")["state"] == "cancelled"
    finally:
        os.environ.pop("SATURN_TEST_STEP_DELAY", None)
        pilot.stop()
        for p in pilot.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait(10)


def test_a_new_autopilot_gives_its_dispatcher_a_grace_period_before_the_first_beat(store):
    plan(store, [("j0", "t", [0])])
    pilot = autopilot.Autopilot("r1", store, min_grace_s=1.0, grace_factor=1.0)
    assert pilot.dispatcher_alive() == (True, False)  # no beat yet, but just started
    assert pilot.dispatcher_alive(time.time() + 2.0) == (False, False)


def test_the_dispatchers_heartbeat_and_autopilot_requests_go_through_the_bridge_service(store):
    from saturn.bridge.service import BridgeService
    service = BridgeService(store)

    def ask(**req):
        reply = service.handle({"v": 1, **req})
        assert reply["ok"], reply
        return reply

    ask(type="dispatcher_heartbeat", run_id="rx", poll_s=0.5, paused=True)
    hb = autopilot.last_heartbeat(store, "rx")
    assert hb["poll_s"] == 0.5 and hb["paused"] == 1
    reply = ask(type="autopilot_start", run_id="rx", max_retries=1, heartbeat={"run_id": "rx", "poll_s": 0.7})
    assert reply["autopilot"]["run_id"] == "rx"
    assert autopilot.last_heartbeat(store, "rx")["poll_s"] == 0.7
    ask(type="autopilot_start", run_id="rx")
    assert len(ask(type="autopilot_status", run_id="rx")["autopilots"]) == 1
    # the heartbeat riding on a snapshot
    before = autopilot.last_heartbeat(store, "rx")["at"]
    time.sleep(0.01)
    ask(type="jobs_snapshot", run_id="rx", heartbeat={"run_id": "rx", "poll_s": 0.3})
    hb = autopilot.last_heartbeat(store, "rx")
    assert hb["at"] > before and hb["poll_s"] == 0.3 and hb["paused"] == 0
    # a request the schema refuses names the field
    bad = service.handle({"v": 1, "type": "job_request_stop", "job": "j0", "reason": "because"})
    assert not bad["ok"] and "reason" in bad["error"]["message"]
    autopilot._pilots.pop("rx").stop()
