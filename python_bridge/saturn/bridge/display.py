"""Tables that render as HTML in a notebook (``_repr_html_``) and as plain text elsewhere (``__repr__``).
No IPython import: IPython finds these methods itself."""
from __future__ import annotations

import html
from typing import Any, Sequence


class Table:
    def __init__(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], empty: str = "(none)"):
        self.title, self.columns, self.rows, self.empty = title, list(columns), [list(r) for r in rows], empty

    @staticmethod
    def _cell(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value)

    @staticmethod
    def _short(text: str, limit: int = 100) -> str:
        return text if len(text) <= limit else text[: limit - 3] + "..."

    def __repr__(self) -> str:
        if not self.rows:
            return f"{self.title}: {self.empty}"
        cells = [self.columns] + [[self._short(self._cell(v)) for v in row] for row in self.rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.columns))]
        lines = [self.title]
        for n, row in enumerate(cells):
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
            if n == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        if not self.rows:
            body = f'<tr><td colspan="{len(self.columns)}">{html.escape(self.empty)}</td></tr>'
        else:
            body = "".join("<tr>" + "".join(f"<td>{html.escape(self._cell(v))}</td>" for v in row) + "</tr>"
                           for row in self.rows)
        return (f'<div class="jp-Saturn-output"><strong>{html.escape(self.title)}</strong>'
                f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


class TaskList(list):
    """A list of task specs that shows as a table."""

    def table(self) -> Table:
        rows = []
        for s in self:
            length = f"{s['steps']} steps" if s.get("steps") else f"{s.get('epochs')} epochs"
            rng = s.get("gpu_range") or [1, None]
            rows.append([s["name"], s.get("param_count"), s["batch_size"], length, s.get("total_steps"), s.get("lr"),
                         f"{rng[0]}..{rng[1] if rng[1] else 'all'}"])
        return Table("Saturn tasks", ["name", "params", "batch", "length", "total steps", "lr", "GPUs"], rows,
                     empty="no tasks registered")

    def names(self) -> list[str]:
        return [s["name"] for s in self]

    def __repr__(self) -> str:
        return repr(self.table())

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()


def device_table(devices: list) -> Table:
    rows = [[d.id, d.kind, d.name, f"{d.memory_total_bytes / 2**30:.1f} GiB",
             f"{d.memory_used_bytes / 2**30:.1f} GiB"] for d in devices]
    return Table("Saturn devices", ["id", "kind", "name", "memory", "used by others"], rows,
                 empty="no devices (no NVIDIA GPU found; set SATURN_FAKE_GPUS=N for N CPU devices)")


class ProfileReport(dict):
    """A ``spase-instance/1`` document (a dict) that shows as a table of options and infeasible trials."""

    def table(self) -> Table:
        rows = []
        for job in list(self.get("jobs", [])) + list(self.get("unschedulable", [])):
            for o in job["options"]:
                rows.append([job["id"], o["parallelism"], o["gpus"], o["step_time_s"], o["runtime_s"],
                             f"{o.get('peak_mem_bytes', 0) / 2**20:.0f} MiB", "cached" if o.get("cached") else ""])
            for x in job.get("infeasible", []):
                rows.append([job["id"], x["parallelism"], x["gpus"], None, None, None, "infeasible: " + x["reason"]])
        meta = self.get("saturn", {})
        title = (f"Saturn profile ({meta.get('trials', 0)} trials, {meta.get('cached', 0)} cached, "
                 f"{meta.get('wall_s', 0)} s)")
        return Table(title, ["task", "technique", "GPUs", "step s", "runtime s", "peak mem", "note"], rows)

    def __repr__(self) -> str:
        return repr(self.table())

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()
