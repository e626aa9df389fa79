"""The saturn package is layered: each layer imports only the layers below it (docs/architecture.md).

    core → techniques → profiling → execution → backends → control → bridge → entry modules

Every import of a saturn module counts, at the top of a file or inside a function (a function-local import that
points up a layer is the same cycle, only hidden). The entry modules (``saturn``, ``saturn.runner``,
``saturn.gpu_check``, ``saturn._version``) may import any layer; nothing imports them, except ``_version``.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "saturn"
LAYERS = ["core", "techniques", "profiling", "execution", "backends", "control", "bridge"]
ENTRY = {"saturn", "saturn.runner", "saturn.gpu_check"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every saturn import in the file, wherever it stands."""
    mod = _module_name(path)
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "saturn"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "saturn":
                continue
            if node.module is None or target in ("saturn",) + tuple(f"saturn.{x}" for x in LAYERS):
                # `from . import x` / `from ..core import store`: the names may be modules
                out += [(node.lineno, f"{target}.{a.name}") for a in node.names]
            else:
                out.append((node.lineno, target))
    return out


def layer_of(module: str) -> int:
    """Index in LAYERS; len(LAYERS) for entry modules; -1 for _version (importable from anywhere)."""
    parts = module.split(".")
    if module == "saturn._version":
        return -1
    if len(parts) >= 2 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return len(LAYERS)


def _files() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "labextension" not in p.parts]


def test_every_module_sits_in_a_layer_or_is_an_entry_module():
    stray = [_module_name(p) for p in _files()
             if layer_of(_module_name(p)) == len(LAYERS) and _module_name(p) not in ENTRY]
    assert stray == [], f"modules outside the layers (move them into one): {stray}"


def test_no_import_points_up_a_layer():
    upward = []
    for path in _files():
        mine = layer_of(_module_name(path))
        for line, target in _imports(path):
            if layer_of(target) > mine:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target} "
                              f"({LAYERS[mine] if mine < len(LAYERS) else 'entry'} -> "
                              f"{LAYERS[layer_of(target)] if layer_of(target) < len(LAYERS) else 'entry'})")
    assert upward == [], "imports that point up a layer:\n" + "\n".join(upward)


def test_the_package_has_no_import_cycle():
    graph: dict[str, set] = {}
    for path in _files():
        graph[_module_name(path)] = set()
    for path in _files():
        for _line, target in _imports(path):
            # `from ..core import store` names the module saturn.core.store; a plain attribute names its package
            while target not in graph and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in graph and target != _module_name(path):
                graph[_module_name(path)].add(target)
    # a package's __init__ importing its own submodules is not a cycle of the layers; drop parent edges
    for mod, deps in graph.items():
        graph[mod] = {d for d in deps if not mod.startswith(d + ".")}
    seen, stack, cycles = set(), [], []

    def visit(node):
        if node in stack:
            cycles.append(stack[stack.index(node):] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        stack.pop()

    for node in sorted(graph):
        visit(node)
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles[:5])


def test_the_checker_sees_a_function_local_upward_import(tmp_path):
    """The walk finds imports inside functions too (what held the old cycles together)."""
    src = tmp_path / "saturn" / "core" / "x.py"
    src.parent.mkdir(parents=True)
    src.write_text("def f():\n    from ..control import autopilot\n    return autopilot\n")
    global PACKAGE
    old, PACKAGE = PACKAGE, tmp_path / "saturn"
    try:
        assert [t for _l, t in _imports(src)] == ["saturn.control.autopilot"]
        assert layer_of("saturn.control.autopilot") > layer_of("saturn.core.x")
    finally:
        PACKAGE = old
