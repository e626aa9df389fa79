"""Shared helpers of the offline SPASE reference solvers (CP-SAT, Saturn's MILP with CBC).

Instances come from `node bench/export-instances.js DIR`; results are merged per
instance into a JSON file in bench/reference/ so that a partial run keeps what it
has and a rerun of one instance replaces only that entry.
"""
import json
import os
import platform
import sys
import time


def load_instances(folder, only=None):
    out = []
    for f in sorted(os.listdir(folder)):
        if f.endswith('.json'):
            inst = json.load(open(os.path.join(folder, f)))
            if not only or inst['name'] in only:
                out.append(inst)
    out.sort(key=lambda i: (len(i['jobs']), i['name']))
    return out


def dur(o):
    """An option's duration on its GPUs: start-up (launch to first step) plus training runtime."""
    return o.get('startup_s', 0) + o['runtime_s']


def dominant_options(options, cap):
    """Per GPU count the fastest technique, then drop counts not faster than a smaller one.

    Exact for makespan: a dropped option is replaced by one with no more GPUs and
    no longer runtime, which keeps any plan feasible.
    """
    best = {}
    for k, o in enumerate(options):
        if o['gpus'] > cap:
            continue
        b = best.get(o['gpus'])
        if b is None or dur(o) < dur(b[1]):
            best[o['gpus']] = (k, o)
    kept = []
    for g in sorted(best):
        k, o = best[g]
        if not kept or dur(o) < dur(kept[-1][1]):
            kept.append((k, o))
    return kept


def time_scale(inst):
    """Smallest power of ten that makes every runtime an integer (exact CP time units)."""
    for s in (1, 10, 100, 1000):
        if all(abs(dur(o) * s - round(dur(o) * s)) < 1e-6 for j in inst['jobs'] for o in j['options']):
            return s
    return 1000


def lower_bound(inst):
    """The lower bound of docs/spase-format.md."""
    caps = [n['gpus'] for n in inst['cluster']['nodes']]
    mx = max(caps)
    path = max(min(dur(o) for o in j['options'] if o['gpus'] <= mx) for j in inst['jobs'])
    energy = sum(min(o['gpus'] * dur(o) for o in j['options'] if o['gpus'] <= mx) for j in inst['jobs'])
    return max(path, energy / sum(caps))


def check_plan(inst, rows):
    """rows: (job_id, option_index, node_index, gpu_ids, start) -> list of problems (empty when valid)."""
    errs = []
    nodes = inst['cluster']['nodes']
    seen = set()
    per_gpu = {}
    for jid, k, n, ids, s in rows:
        job = next(j for j in inst['jobs'] if j['id'] == jid)
        o = job['options'][k]
        seen.add(jid)
        if len(set(ids)) != o['gpus'] or any(g < 0 or g >= nodes[n]['gpus'] for g in ids):
            errs.append(f'{jid}: bad gpu ids {ids}')
        for g in ids:
            per_gpu.setdefault((n, g), []).append((s, s + dur(o), jid))
    for key, iv in per_gpu.items():
        iv.sort()
        for a, b in zip(iv, iv[1:]):
            if b[0] < a[1] - 1e-6 * max(1.0, a[1]):
                errs.append(f'{a[2]} and {b[2]} overlap on {key}')
    if len(seen) != len(inst['jobs']):
        errs.append('missing jobs')
    return errs


def assign_ids(inst, placed):
    """placed: (job_id, option_index, node_index, start) with a cumulative-feasible schedule.

    GPU ids in start order (a schedule that respects each node's GPU count always admits this).
    """
    nodes = inst['cluster']['nodes']
    free = [[0.0] * n['gpus'] for n in nodes]
    rows = []
    for jid, k, n, s in sorted(placed, key=lambda r: (r[3], r[0])):
        job = next(j for j in inst['jobs'] if j['id'] == jid)
        o = job['options'][k]
        avail = sorted((g for g in range(nodes[n]['gpus']) if free[n][g] <= s + 1e-6 * max(1.0, s)), key=lambda g: (-free[n][g], g))
        ids = avail[: o['gpus']]
        if len(ids) < o['gpus']:
            return None
        for g in ids:
            free[n][g] = s + dur(o)
        rows.append((jid, k, n, ids, s))
    return rows


def merge_result(path, solver_key, meta, name, entry):
    data = {}
    if os.path.exists(path):
        data = json.load(open(path))
    data.setdefault('solver', solver_key)
    data['meta'] = meta
    data.setdefault('instances', {})[name] = entry
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write('\n')
    os.replace(tmp, path)


def machine_meta(command):
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        'command': command,
        'python': sys.version.split()[0],
        'platform': platform.platform(),
        'cpus': os.cpu_count(),
        'loadavg_at_write': load,
        'written': time.strftime('%Y-%m-%dT%H:%M:%S'),
    }
