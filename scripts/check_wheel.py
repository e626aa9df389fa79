"""Checks that a built wheel carries what a JupyterLab 4 user needs from `pip install`."""
import json
import re
import sys
import zipfile

NAME = "jupyterlab-saturn"
EXT = f"share/jupyter/labextensions/{NAME}/"


def check(path):
    with zipfile.ZipFile(path) as whl:
        names = whl.namelist()
        data = [n for n in names if ".data/data/" in n]
        shared = {n.split(".data/data/", 1)[1] for n in data}
        problems = []
        if f"{EXT}package.json" not in shared:
            problems.append(f"{EXT}package.json is missing")
        else:
            meta = json.loads(whl.read(next(n for n in data if n.endswith(f"{EXT}package.json"))))
            load = meta.get("jupyterlab", {}).get("_build", {}).get("load", "")
            if f"{EXT}{load}" not in shared:
                problems.append(f"the remoteEntry named in package.json ({load}) is missing")
        if not any(re.fullmatch(re.escape(EXT) + r"static/remoteEntry\.[0-9a-f]+\.js", n) for n in shared):
            problems.append(f"{EXT}static/remoteEntry.*.js is missing")
        if f"{EXT}install.json" not in shared:
            problems.append(f"{EXT}install.json is missing (`jupyter labextension list` then says nothing of the package)")
        if f"{EXT}schemas/{NAME}/plugin.json" not in shared:
            problems.append(f"{EXT}schemas/{NAME}/plugin.json (settings schema) is missing")
        if "share/jupyter/kernels/saturn-bridge/kernel.json" not in shared:
            problems.append("the saturn-bridge kernelspec is missing")
        for module in ("saturn/__init__.py", "saturn/bridge/magics.py", "saturn/core/store.py"):
            if module not in names:
                problems.append(f"{module} is missing")
        if not any(n.startswith("saturn/wire_schema/") and n.endswith(".json") for n in names):
            problems.append("the wire schema (saturn/wire_schema/*.json) is missing")
    return names, problems


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check_wheel.py WHEEL")
    names, problems = check(sys.argv[1])
    if problems:
        print(f"wheel {sys.argv[1]}: " + "; ".join(problems), file=sys.stderr)
        sys.exit(1)
    print(f"wheel {sys.argv[1]}: {len(names)} files; labextension, settings schema, kernelspec, saturn package and wire schema present")


if __name__ == "__main__":
    main()
