"""IPython magics (``%load_ext saturn``). A thin layer over ``saturn.api``.

Line magic ``%saturn SUBCOMMAND``:
- ``register VAR [VAR ...]``: register the ``saturn.Task`` objects held by these variables.
- ``list``: the registered tasks.           - ``devices``: the devices Saturn may use.
- ``unregister NAME``                       - ``techniques``: built-in and user techniques.
- ``profile [NAME ...] [--timeout S] [--parallel N] [--no-cache] [--techniques a,b]``: profile (all tasks when no name is given);
  shows live progress, returns the ``spase-instance/1`` document (a table in a notebook).
- ``status``: store, devices, tasks, cached profiles, running jobs, last events.

Cell magic ``%%saturn task NAME``: runs the cell in the notebook's namespace, then registers
- the ``saturn.Task`` the cell created (exactly one; it is renamed NAME), or, when it created none,
- ``saturn.Task(NAME, model=model, data=data, ...)`` from the variables the cell defined among ``model``, ``data``,
  ``loss``, ``optimizer``, ``batch_size``, ``epochs``, ``steps``, ``hints``, ``gpu_range``, ``lr`` (``model`` and
  ``data`` are required; they are the loader callables).

Results are objects with ``_repr_html_`` (a table in a notebook) and ``__repr__`` (plain text elsewhere).
"""
from __future__ import annotations

import argparse
import shlex

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from . import api
from . import results as results_mod
from ..core import devices as devices_mod
from .display import ProfileReport, Table, TaskList, device_table
from ..core.jobs import JobStore
from ..core.store import default_store
from ..core.task import Task, TaskError
from ..techniques import list_techniques

TASK_FIELDS = ("model", "data", "loss", "optimizer", "batch_size", "epochs", "steps", "hints", "gpu_range", "lr")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"%saturn {self.prog}: {message}")


@magics_class
class SaturnMagics(Magics):
    @line_cell_magic
    def saturn(self, line: str, cell: str = None):
        """Saturn: register, list and profile training tasks. See ``saturn.bridge.magics`` for the subcommands."""
        argv = shlex.split(line)
        if cell is not None:
            if len(argv) < 2 or argv[0] != "task":
                raise UsageError("cell magic usage: %%saturn task NAME")
            return self._cell_task(argv[1], cell)
        if not argv:
            raise UsageError("usage: %saturn register VAR | list | profile [NAMES] | results [RUN_ID] | status | "
                             "devices | unregister NAME | techniques")
        sub, rest = argv[0], argv[1:]
        handler = getattr(self, f"_sub_{sub}", None)
        if handler is None:
            raise UsageError(f"%saturn: unknown subcommand {sub!r}; try list, register, profile, status, devices")
        try:
            return handler(rest)
        except TaskError as err:
            raise UsageError(str(err)) from None

    # -- subcommands ---------------------------------------------------------------------------------------------
    def _sub_register(self, args):
        if not args:
            raise UsageError("usage: %saturn register VAR [VAR ...]")
        done = []
        for var in args:
            if var not in self.shell.user_ns:
                raise UsageError(f"%saturn register: no variable named {var!r}")
            task = self.shell.user_ns[var]
            if not isinstance(task, Task):
                raise UsageError(f"%saturn register: {var} is a {type(task).__name__}, not a saturn.Task")
            done.append(api.register(task).spec())
        return TaskList(done)

    def _sub_list(self, _args):
        return api.tasks()

    def _sub_results(self, args):
        """The latest run's results (one row per task), or those of the run named."""
        if len(args) > 1:
            raise UsageError("usage: %saturn results [RUN_ID]")
        rows, columns = results_mod.flat(results_mod.summary(run_id=args[0] if args else None))
        return results_mod.ResultRows(rows, columns).table()

    def _sub_unregister(self, args):
        if len(args) != 1:
            raise UsageError("usage: %saturn unregister NAME")
        removed = api.unregister(args[0])
        print(f"unregistered task {args[0]!r}" if removed else f"no task named {args[0]!r}")

    def _sub_devices(self, _args):
        return device_table(devices_mod.detect(refresh=True))

    def _sub_techniques(self, _args):
        rows = [[name, t.min_gpus, t.max_gpus or "any", t.description] for name, t in list_techniques().items()]
        return Table("Saturn techniques", ["name", "min GPUs", "max GPUs", "description"], rows)

    def _sub_profile(self, args):
        parser = _Parser(prog="profile", add_help=False)
        parser.add_argument("names", nargs="*")
        parser.add_argument("--timeout", type=float, default=None)
        parser.add_argument("--parallel", type=int, default=None)
        parser.add_argument("--no-cache", action="store_true")
        parser.add_argument("--techniques", default=None, help="comma-separated technique names")
        opts = parser.parse_args(args)
        handle = _progress_display()

        def progress(info):
            text = f"profiling: {info['done']}/{info['total']} trials ({info['cached']} cached)"
            if info.get("eta_s") is not None and info["done"] < info["total"]:
                text += f", about {info['eta_s']:.0f} s left"
            handle(text)

        from ..profiling.profiler import ProfileError
        try:
            return ProfileReport(api.profile(opts.names or None, trial_timeout=opts.timeout,
                                             max_parallel=opts.parallel, use_cache=not opts.no_cache,
                                             techniques=opts.techniques.split(",") if opts.techniques else None,
                                             progress=progress))
        except ProfileError as err:
            raise UsageError(str(err)) from None

    def _sub_status(self, _args):
        store = default_store()
        js = JobStore(store)
        devs = devices_mod.detect()
        jobs = js.list()
        events = store.events_since(max(0, store.last_event_id() - 5))
        rows = [["store", str(store.path)],
                ["devices", f"{len(devs)} ({devices_mod.device_type(devs)})"],
                ["tasks", ", ".join(s["name"] for s in api.tasks()) or "none"],
                ["cached trials", store.count_profiles()],
                ["jobs", ", ".join(f"{j['id']}: {j['state']}" for j in jobs) or "none"],
                ["leases", ", ".join(f"{l['device']}->{l['holder']}" for l in js.leases()) or "none"],
                ["last events", "; ".join(f"#{e['id']} {e['kind']}" for e in events) or "none"]]
        return Table("Saturn status", ["what", "value"], rows)

    # -- cell magic ----------------------------------------------------------------------------------------------
    def _cell_task(self, name: str, cell: str):
        ns = self.shell.user_ns
        before = {k: id(v) for k, v in ns.items()}
        exec(compile(cell, f"<saturn task {name}>", "exec"), ns)  # noqa: S102 - running the user's cell is the point
        changed = [k for k, v in ns.items() if before.get(k) != id(v)]
        made = [ns[k] for k in changed if isinstance(ns[k], Task)]
        try:
            if len(made) > 1:
                raise UsageError(f"%%saturn task {name}: the cell created {len(made)} tasks; keep one")
            if made:
                task = made[0]
                task.name = name
            else:
                fields = {k: ns[k] for k in TASK_FIELDS if k in changed}
                missing = [k for k in ("model", "data") if k not in fields]
                if missing:
                    raise UsageError(f"%%saturn task {name}: the cell must create a saturn.Task, or define "
                                     f"{' and '.join(missing)} (and batch_size, steps or epochs, ...)")
                if "epochs" not in fields and "steps" not in fields:
                    raise UsageError(f"%%saturn task {name}: define steps = N or epochs = N in the cell")
                task = Task(name, **fields)
            return TaskList([api.register(task).spec()])
        except TaskError as err:
            raise UsageError(str(err)) from None


def _progress_display():
    """A callable that shows one updating line (a display in a notebook, stdout otherwise)."""
    try:
        from IPython.display import display
        handle = display("profiling: starting", display_id=True)
    except Exception:  # noqa: BLE001
        handle = None
    if handle is None:
        return lambda text: print(text, flush=True)
    return lambda text: handle.update(text)
