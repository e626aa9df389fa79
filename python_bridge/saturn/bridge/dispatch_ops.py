"""The dispatcher's requests (the TypeScript ``Dispatcher`` of the page or ``saturn run``, through the control
kernel's comm): read a run, create its jobs, checked state changes, stop requests, reconcile, the heartbeat and the
autopilot. Part of ``BridgeService``; every request and reply is checked against the wire schema like the others."""
from __future__ import annotations

from ..control import autopilot
from ..control.reconcile import reconcile
from ..control.snapshot import snapshot
from ..core.jobs import JobStore


def _beat(store, beat) -> None:
    if isinstance(beat, dict) and beat.get("run_id"):
        store.put_heartbeat(beat["run_id"], float(beat.get("poll_s") or 1.0), paused=bool(beat.get("paused")),
                            owner=str(beat.get("owner") or ""))


class DispatchOps:
    """Mixed into ``BridgeService``, whose ``store`` property these handlers use."""

    def _on_jobs_snapshot(self, req) -> dict:
        _beat(self.store, req.get("heartbeat"))  # a running dispatcher's heartbeat rides on its snapshot
        return snapshot(JobStore(self.store), req.get("run_id"), brief=bool(req.get("brief")))

    def _on_jobs_create(self, req) -> dict:
        js = JobStore(self.store)
        run_id = req["run_id"]
        created = [js.create(j["id"], j["task"], j["assignment"], run_id=run_id, order=j.get("order", i),
                             total_steps=j.get("total_steps"), settings=j.get("settings"))
                   for i, j in enumerate(req["jobs"])]
        if req.get("plan") is not None:
            self.store.save_plan(run_id, {**req["plan"], "saturn_run": run_id})
        return {"jobs": created}

    def _on_job_transition(self, req) -> dict:
        expect = tuple(req["expect"]) if req.get("expect") else None
        return {"job": JobStore(self.store).set_state(req["job"], req["to"], expect=expect, **(req.get("info") or {}))}

    def _on_job_update(self, req) -> dict:
        return {"job": JobStore(self.store).update_info(req["job"], req.get("event"), **(req.get("info") or {}))}

    def _on_job_request_stop(self, req) -> dict:
        return {"job": JobStore(self.store).request_stop(req["job"], req["reason"])}

    def _on_jobs_reconcile(self, req) -> dict:
        return {"report": reconcile(self.store, run_id=req.get("run_id"))}

    def _on_dispatcher_heartbeat(self, req) -> dict:
        return {"at": self.store.put_heartbeat(req["run_id"], float(req.get("poll_s") or 1.0),
                                               paused=bool(req.get("paused")), owner=str(req.get("owner") or ""))}

    def _on_autopilot_start(self, req) -> dict:
        _beat(self.store, req.get("heartbeat"))  # first: the new autopilot must not take over from its dispatcher
        opts = {k: req.get(k) for k in ("max_retries", "grace_factor", "min_grace_s")}
        return {"autopilot": autopilot.ensure_started(req["run_id"], self.store, **opts).describe()}

    def _on_autopilot_status(self, req) -> dict:
        return {"autopilots": autopilot.status(req.get("run_id"))}
