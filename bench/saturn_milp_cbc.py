"""Saturn's own MILP for SPASE (our reading of Nagrecha & Kumar, VLDB 2024), solved with PuLP + CBC.

The paper's formulation selects a (parallelism, GPU count) configuration per job,
places the job on one node and on concrete GPUs of it, and orders every pair of
jobs that share a GPU with big-M disjunctions; the objective is the makespan:

  x[j,k]   binary  job j runs configuration k            sum_k x[j,k] = 1
  y[j,n]   binary  job j runs on node n                  sum_n y[j,n] = 1
  a[j,n,g] binary  job j holds GPU g of node n           a[j,n,g] <= y[j,n]
                   sum_{n,g} a[j,n,g] = sum_k gpus_k x[j,k];  x[j,k] = 0 if gpus_k fits no node,
                   sum_g a[j,n,g] <= cap_n y[j,n]
  s_j >= 0, d_j = sum_k runtime_k x[j,k],  C >= s_j + d_j
  o[i,j]   binary  i before j (i < j); for every node n and GPU g:
      s_j >= s_i + d_i - M (3 - o[i,j] - a[i,n,g] - a[j,n,g])
      s_i >= s_j + d_j - M (2 + o[i,j] - a[i,n,g] - a[j,n,g])
  minimise C

with a bounded big-M: M = the horizon given by the project's greedy makespan
(exported with the instance), not 1e10; C <= M as well. All configurations of
the instance are kept (no dominance reduction), as in the paper.

  node bench/export-instances.js /tmp/spase-bench
  nice -n 19 .venv-bench/bin/python bench/saturn_milp_cbc.py /tmp/spase-bench --limit 300
writes bench/reference/cbc.json (merged per instance).
"""
import argparse
import os
import re
import sys
import tempfile
import time

import pulp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spase_common import check_plan, load_instances, lower_bound, machine_meta, merge_result  # noqa: E402


def build(inst):
    nodes = inst['cluster']['nodes']
    jobs = inst['jobs']
    mx = max(n['gpus'] for n in nodes)
    M = float(inst['greedy_makespan_s'])
    prob = pulp.LpProblem('saturn_spase', pulp.LpMinimize)
    C = pulp.LpVariable('C', 0, M)
    prob += C
    x, y, a, s, d = {}, {}, {}, {}, {}
    for j, job in enumerate(jobs):
        ks = [k for k, o in enumerate(job['options']) if o['gpus'] <= mx]
        for k in ks:
            x[j, k] = pulp.LpVariable(f'x_{j}_{k}', cat='Binary')
        prob += pulp.lpSum(x[j, k] for k in ks) == 1
        for n, nd in enumerate(nodes):
            y[j, n] = pulp.LpVariable(f'y_{j}_{n}', cat='Binary')
            for g in range(nd['gpus']):
                a[j, n, g] = pulp.LpVariable(f'a_{j}_{n}_{g}', cat='Binary')
                prob += a[j, n, g] <= y[j, n]
            prob += pulp.lpSum(a[j, n, g] for g in range(nd['gpus'])) <= nd['gpus'] * y[j, n]
        prob += pulp.lpSum(y[j, n] for n in range(len(nodes))) == 1
        prob += pulp.lpSum(a[j, n, g] for n, nd in enumerate(nodes) for g in range(nd['gpus'])) == pulp.lpSum(
            job['options'][k]['gpus'] * x[j, k] for k in ks)
        s[j] = pulp.LpVariable(f's_{j}', 0, M)
        d[j] = pulp.lpSum(job['options'][k]['runtime_s'] * x[j, k] for k in ks)
        prob += C >= s[j] + d[j]
    for i in range(len(jobs)):
        for j in range(i + 1, len(jobs)):
            o = pulp.LpVariable(f'o_{i}_{j}', cat='Binary')
            for n, nd in enumerate(nodes):
                for g in range(nd['gpus']):
                    prob += s[j] >= s[i] + d[i] - M * (3 - o - a[i, n, g] - a[j, n, g])
                    prob += s[i] >= s[j] + d[j] - M * (2 + o - a[i, n, g] - a[j, n, g])
    return prob, x, y, a, s


def solve(inst, limit_s, threads):
    t0 = time.time()
    prob, x, y, a, s = build(inst)
    build_s = time.time() - t0
    nodes = inst['cluster']['nodes']
    jobs = inst['jobs']
    log = tempfile.NamedTemporaryFile('w', suffix='.log', delete=False).name
    t1 = time.time()
    prob.solve(pulp.PULP_CBC_CMD(timeLimit=limit_s, threads=threads, msg=False, logPath=log))
    took = time.time() - t1
    text = open(log).read()
    os.unlink(log)
    bound = None
    for pat in (r'Lower bound:\s*([-0-9.eE+]+)', r'best possible\s*([-0-9.eE+]+)'):
        found = re.findall(pat, text)
        if found:
            bound = float(found[-1])
            break
    if re.search(r'Result - Optimal solution found', text) and pulp.value(prob.objective) is not None:
        bound = float(pulp.value(prob.objective))
    entry = {
        'status': pulp.LpStatus[prob.status],
        'cbc_result': (re.findall(r'Result - (.*)', text) or ['?'])[-1].strip(),
        'time_s': round(took, 2),
        'build_s': round(build_s, 2),
        'limit_s': limit_s,
        'threads': threads,
        'big_m_s': inst['greedy_makespan_s'],
        'rows': len(prob.constraints),
        'cols': len(prob.variables()),
        'bound_s': bound,
        'lb_s': lower_bound(inst),
        'sha256_16': inst.get('sha256_16'),
        'jobs': len(jobs),
        'best_s': None,
    }
    have = all(v.varValue is not None for v in x.values()) and all(v.varValue is not None for v in s.values())
    if have:
        rows = []
        for j, job in enumerate(jobs):
            k = max((kk for (jj, kk) in x if jj == j), key=lambda kk: x[j, kk].varValue)
            n = max(range(len(nodes)), key=lambda nn: y[j, nn].varValue)
            ids = [g for g in range(nodes[n]['gpus']) if a[j, n, g].varValue > 0.5]
            rows.append((job['id'], k, n, ids, float(s[j].varValue)))
        errs = check_plan(inst, rows)
        ends = [r[4] + next(jj for jj in jobs if jj['id'] == r[0])['options'][r[1]]['runtime_s'] for r in rows]
        # on a time limit without an integer solution CBC hands back the relaxation's values: not a plan
        entry.update({'best_s': None if errs else max(ends), 'reported_s': max(ends), 'plan_errors': errs[:3]})
    return entry


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('folder')
    ap.add_argument('--limit', type=float, default=300.0, help='CBC seconds per instance')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--only', nargs='*')
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'reference', 'cbc.json'))
    a = ap.parse_args()
    cmd = f'nice -n 19 .venv-bench/bin/python bench/saturn_milp_cbc.py DIR --limit {a.limit:g} --threads {a.threads}'
    for inst in load_instances(a.folder, a.only):
        e = solve(inst, a.limit, a.threads)
        merge_result(a.out, 'saturn-milp (pulp + cbc)', machine_meta(cmd), inst['name'], e)
        print(inst['name'], e['cbc_result'], e['best_s'], e['bound_s'], e['time_s'], e['build_s'], e.get('plan_errors'), flush=True)


if __name__ == '__main__':
    main()
