"""Exact CP-SAT model of SPASE: the reference optimum / bound for the solver benchmark.

Per job one optional fixed-size interval per (option, node) the option fits on,
all sharing the job's start variable, exactly one present; a cumulative per node
over GPUs (a cumulative-feasible schedule always admits concrete GPU ids, assigned
afterwards in start order and checked); minimise the makespan. Redundant per-node
energy cuts. Options dominated on the same job (more GPUs and no faster) are
dropped, which is exact for the makespan. Times are scaled to integers exactly.

--hint-dir DIR warm-starts the search with a solution hint: DIR/NAME.json is a plan
of the instance (e.g. `saturn plan`'s output); each job's option is mapped to the kept
option with the most GPUs not above the plan's (no slower, by dominance), start and
node as planned. A hint only helps CP-SAT; the best and bound stay CP-SAT's own
(the entry records the hint's makespan and whether CP-SAT improved on it).

  node bench/export-instances.js /tmp/spase-bench
  nice -n 19 .venv-bench/bin/python bench/cpsat_reference.py /tmp/spase-bench --limit 300 --hint-dir /tmp/hints
writes bench/reference/cpsat.json (merged per instance).
"""
import argparse
import json
import os
import resource
import sys
import time

from ortools.sat.python import cp_model

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spase_common import (assign_ids, check_plan, dominant_options, dur, load_instances, lower_bound,  # noqa: E402
                          machine_meta, merge_result, time_scale)


class Trace(cp_model.CpSolverSolutionCallback):
    """(seconds, objective) of every improving solution CP-SAT reports."""

    def __init__(self, scale):
        super().__init__()
        self.scale = scale
        self.t0 = time.time()
        self.points = []

    def on_solution_callback(self):
        self.points.append((round(time.time() - self.t0, 2), self.ObjectiveValue() / self.scale))


def hint_rows(inst, plan, opts):
    """The plan as (job index, kept option index, node index, start_s, end_s) in the reduced model."""
    node_ix = {n['id']: i for i, n in enumerate(inst['cluster']['nodes'])}
    by_id = {p['id']: p for p in plan['jobs']}
    out = []
    for ji, j in enumerate(inst['jobs']):
        p = by_id[j['id']]
        kept = [(k, o) for k, o in opts[ji] if o['gpus'] <= p['gpus']]
        k, o = kept[-1]
        out.append((ji, k, node_ix[p['node']], p['start_s'], p['start_s'] + dur(o)))
    return out


def solve(inst, limit_s, workers, seed, hint=None):
    nodes = inst['cluster']['nodes']
    mx = max(n['gpus'] for n in nodes)
    S = time_scale(inst)
    jobs = inst['jobs']
    opts = [dominant_options(j['options'], mx) for j in jobs]
    horizon = sum(max(round(dur(o) * S) for _, o in oj) for oj in opts)
    m = cp_model.CpModel()
    C = m.NewIntVar(0, horizon, 'C')
    per_node = [[] for _ in nodes]
    lits = []
    for ji, j in enumerate(jobs):
        s = m.NewIntVar(0, horizon, f's{ji}')
        alts = []
        for k, o in opts[ji]:
            d = round(dur(o) * S)
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
    hint_info = None
    if hint is not None:
        hr = hint_rows(inst, hint, opts)
        rows = assign_ids(inst, [(jobs[ji]['id'], k, n, st) for ji, k, n, st, _ in hr])
        errs = ['gpu id assignment failed'] if rows is None else check_plan(inst, rows)
        hmk = max(r[4] for r in hr)
        for ji, k, n, st, _ in hr:
            s, alts = lits[ji]
            m.AddHint(s, round(st * S))
            for b, kk, nn in alts:
                m.AddHint(b, kk == k and nn == n)
        m.AddHint(C, round(hmk * S))
        hint_info = {'hint_s': hmk, 'hint_plan_makespan_s': hint['makespan_s'], 'hint_errors': errs[:3]}
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit_s
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    trace = Trace(S)
    t0 = time.time()
    c0 = resource.getrusage(resource.RUSAGE_SELF).ru_utime
    st = solver.Solve(m, trace)
    took = time.time() - t0
    cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - c0
    entry = {
        'status': solver.StatusName(st),
        'time_s': round(took, 2),
        'cpu_s': round(cpu, 2),
        'limit_s': limit_s,
        'workers': workers,
        'scale': S,
        'bound_s': solver.BestObjectiveBound() / S,
        'lb_s': lower_bound(inst),
        'sha256_16': inst.get('sha256_16'),
        'jobs': len(jobs),
        'trace': trace.points[:3] + trace.points[-3:] if len(trace.points) > 6 else trace.points,
    }
    if hint_info:
        entry.update(hint_info)
    if st in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        placed = []
        for ji, (s, alts) in enumerate(lits):
            for b, k, n in alts:
                if solver.Value(b):
                    placed.append((jobs[ji]['id'], k, n, solver.Value(s) / S))
        rows = assign_ids(inst, placed)
        errs = ['gpu id assignment failed'] if rows is None else check_plan(inst, rows)
        mk = max(r[4] + dur(jobs[[j['id'] for j in jobs].index(r[0])]['options'][r[1]]) for r in rows) if rows else None
        entry.update({'best_s': mk, 'objective_s': solver.ObjectiveValue() / S, 'plan_errors': errs[:3]})
    return entry


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('folder')
    ap.add_argument('--limit', type=float, default=60.0, help='seconds per instance')
    ap.add_argument('--workers', type=int, default=1)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--only', nargs='*')
    ap.add_argument('--hint-dir', help='folder of plans NAME.json to warm-start from (solution hints)')
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'reference', 'cpsat.json'))
    a = ap.parse_args()
    cmd = f'nice -n 19 .venv-bench/bin/python bench/cpsat_reference.py DIR --limit {a.limit:g} --workers {a.workers} --seed {a.seed}'
    if a.hint_dir:
        cmd += ' --hint-dir HINTS'
    for inst in load_instances(a.folder, a.only):
        hint = None
        if a.hint_dir and os.path.exists(os.path.join(a.hint_dir, inst['name'] + '.json')):
            hint = json.load(open(os.path.join(a.hint_dir, inst['name'] + '.json')))
        e = solve(inst, a.limit, a.workers, a.seed, hint)
        e['command'] = cmd + (' --only ' + inst['name'] if a.only else '')
        merge_result(a.out, f'cp-sat (ortools)', machine_meta(cmd), inst['name'], e)
        print(inst['name'], e['status'], e.get('best_s'), e['bound_s'], e['time_s'], e.get('hint_s'), e.get('plan_errors'),
              e.get('hint_errors'), flush=True)


if __name__ == '__main__':
    main()
