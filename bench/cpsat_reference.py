"""Exact CP-SAT model of SPASE: the reference optimum / bound for the solver benchmark.

Per job one optional fixed-size interval per (option, node) the option fits on,
all sharing the job's start variable, exactly one present; a cumulative per node
over GPUs (a cumulative-feasible schedule always admits concrete GPU ids, assigned
afterwards in start order and checked); minimise the makespan. Redundant per-node
energy cuts. Options dominated on the same job (more GPUs and no faster) are
dropped, which is exact for the makespan. Times are scaled to integers exactly.

  node bench/export-instances.js /tmp/spase-bench
  nice -n 19 .venv-bench/bin/python bench/cpsat_reference.py /tmp/spase-bench --limit 60
writes bench/reference/cpsat.json (merged per instance).
"""
import argparse
import os
import sys
import time

from ortools.sat.python import cp_model

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spase_common import (assign_ids, check_plan, dominant_options, load_instances, lower_bound,  # noqa: E402
                          machine_meta, merge_result, time_scale)


def solve(inst, limit_s, workers, seed):
    nodes = inst['cluster']['nodes']
    mx = max(n['gpus'] for n in nodes)
    S = time_scale(inst)
    jobs = inst['jobs']
    opts = [dominant_options(j['options'], mx) for j in jobs]
    horizon = sum(max(round(o['runtime_s'] * S) for _, o in oj) for oj in opts)
    m = cp_model.CpModel()
    C = m.NewIntVar(0, horizon, 'C')
    per_node = [[] for _ in nodes]
    lits = []
    for ji, j in enumerate(jobs):
        s = m.NewIntVar(0, horizon, f's{ji}')
        alts = []
        for k, o in opts[ji]:
            d = round(o['runtime_s'] * S)
            for n, nd in enumerate(nodes):
                if o['gpus'] > nd['gpus']:
                    continue
                b = m.NewBoolVar(f'b{ji}_{k}_{n}')
                iv = m.NewOptionalFixedSizeIntervalVar(s, d, b, f'i{ji}_{k}_{n}')
                per_node[n].append((iv, o['gpus'], b, d))
                m.Add(C >= s + d).OnlyEnforceIf(b)
                alts.append((b, k, n))
        m.AddExactlyOne([a[0] for a in alts])
        lits.append((s, alts))
    for n, nd in enumerate(nodes):
        if per_node[n]:
            m.AddCumulative([x[0] for x in per_node[n]], [x[1] for x in per_node[n]], nd['gpus'])
            m.Add(sum(x[1] * x[3] * x[2] for x in per_node[n]) <= nd['gpus'] * C)
    m.Add(sum(x[1] * x[3] * x[2] for pn in per_node for x in pn) <= sum(n['gpus'] for n in nodes) * C)
    m.Minimize(C)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit_s
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    t0 = time.time()
    st = solver.Solve(m)
    took = time.time() - t0
    entry = {
        'status': solver.StatusName(st),
        'time_s': round(took, 2),
        'limit_s': limit_s,
        'workers': workers,
        'scale': S,
        'bound_s': solver.BestObjectiveBound() / S,
        'lb_s': lower_bound(inst),
        'sha256_16': inst.get('sha256_16'),
        'jobs': len(jobs),
    }
    if st in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        placed = []
        for ji, (s, alts) in enumerate(lits):
            for b, k, n in alts:
                if solver.Value(b):
                    placed.append((jobs[ji]['id'], k, n, solver.Value(s) / S))
        rows = assign_ids(inst, placed)
        errs = ['gpu id assignment failed'] if rows is None else check_plan(inst, rows)
        mk = max(r[4] + jobs[[j['id'] for j in jobs].index(r[0])]['options'][r[1]]['runtime_s'] for r in rows) if rows else None
        entry.update({'best_s': mk, 'objective_s': solver.ObjectiveValue() / S, 'plan_errors': errs[:3]})
    return entry


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('folder')
    ap.add_argument('--limit', type=float, default=60.0, help='seconds per instance')
    ap.add_argument('--workers', type=int, default=1)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--only', nargs='*')
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'reference', 'cpsat.json'))
    a = ap.parse_args()
    cmd = f'nice -n 19 .venv-bench/bin/python bench/cpsat_reference.py DIR --limit {a.limit:g} --workers {a.workers} --seed {a.seed}'
    for inst in load_instances(a.folder, a.only):
        e = solve(inst, a.limit, a.workers, a.seed)
        merge_result(a.out, f'cp-sat (ortools)', machine_meta(cmd), inst['name'], e)
        print(inst['name'], e['status'], e.get('best_s'), e['bound_s'], e['time_s'], e.get('plan_errors'), flush=True)


if __name__ == '__main__':
    main()
