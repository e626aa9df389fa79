"""Saturn's own MILP for SPASE (our reading of Nagrecha & Kumar, VLDB 2024), solved with PuLP + CBC.

The paper's formulation selects a (parallelism, GPU count) configuration per job,
places the job on one node and on concrete GPUs of it, and orders every pair of
jobs that share a GPU with big-M disjunctions; the objective is the makespan:

  x[j,k]   binary  job j runs configuration k            sum_k x[j,k] = 1
  y[j,n]   binary  job j runs on node n                  sum_n y[j,n] = 1
  a[j,n,g] binary  job j holds GPU g of node n           a[j,n,g] <= y[j,n]
                   sum_{n,g} a[j,n,g] = sum_k gpus_k x[j,k];  x[j,k] = 0 if gpus_k fits no node,
                   sum_g a[j,n,g] <= cap_n y[j,n]
  s_j >= 0, d_j = sum_k (startup_k + runtime_k) x[j,k],  C >= s_j + d_j
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
import signal
import sys
import tempfile
import threading
import time

import pulp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spase_common import check_plan, dur, load_instances, lower_bound, machine_meta, merge_result  # noqa: E402


def build(inst):
    """The model above. Rows are built as coefficient lists (PuLP's operator arithmetic copies every
    expression and took minutes on the 128-job instances); the rows and columns are the same."""
    nodes = inst['cluster']['nodes']
    jobs = inst['jobs']
    mx = max(n['gpus'] for n in nodes)
    M = float(inst['greedy_makespan_s'])
    prob = pulp.LpProblem('saturn_spase', pulp.LpMinimize)
    C = pulp.LpVariable('C', 0, M)
    prob += C
    x, y, a, s, d = {}, {}, {}, {}, {}
    GE, EQ, LE = pulp.LpConstraintGE, pulp.LpConstraintEQ, pulp.LpConstraintLE

    def row(terms, sense, rhs):
        prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms), sense=sense, rhs=rhs))

    for j, job in enumerate(jobs):
        ks = [k for k, o in enumerate(job['options']) if o['gpus'] <= mx]
        for k in ks:
            x[j, k] = pulp.LpVariable(f'x_{j}_{k}', cat='Binary')
        row([(x[j, k], 1) for k in ks], EQ, 1)
        for n, nd in enumerate(nodes):
            y[j, n] = pulp.LpVariable(f'y_{j}_{n}', cat='Binary')
            for g in range(nd['gpus']):
                a[j, n, g] = pulp.LpVariable(f'a_{j}_{n}_{g}', cat='Binary')
                row([(a[j, n, g], 1), (y[j, n], -1)], LE, 0)
            row([(a[j, n, g], 1) for g in range(nd['gpus'])] + [(y[j, n], -nd['gpus'])], LE, 0)
        row([(y[j, n], 1) for n in range(len(nodes))], EQ, 1)
        row([(a[j, n, g], 1) for n, nd in enumerate(nodes) for g in range(nd['gpus'])]
            + [(x[j, k], -job['options'][k]['gpus']) for k in ks], EQ, 0)
        s[j] = pulp.LpVariable(f's_{j}', 0, M)
        d[j] = [(x[j, k], dur(job['options'][k])) for k in ks]
        row([(C, 1), (s[j], -1)] + [(v, -c) for v, c in d[j]], GE, 0)
    for i in range(len(jobs)):
        for j in range(i + 1, len(jobs)):
            o = pulp.LpVariable(f'o_{i}_{j}', cat='Binary')
            for n, nd in enumerate(nodes):
                for g in range(nd['gpus']):
                    # s_j >= s_i + d_i - M (3 - o - a_ing - a_jng)
                    row([(s[j], 1), (s[i], -1)] + [(v, -c) for v, c in d[i]]
                        + [(o, -M), (a[i, n, g], -M), (a[j, n, g], -M)], GE, -3 * M)
                    # s_i >= s_j + d_j - M (2 + o - a_ing - a_jng)
                    row([(s[i], 1), (s[j], -1)] + [(v, -c) for v, c in d[j]]
                        + [(o, M), (a[i, n, g], -M), (a[j, n, g], -M)], GE, -2 * M)
    return prob, x, y, a, s


def cbc_summary(text):
    """The lines of CBC's log that say how the run ended (result, incumbent or none, bound, nodes, times)."""
    keep = ('Result -', 'No feasible solution', 'Objective value', 'Lower bound', 'Gap', 'Enumerated nodes',
            'Total iterations', 'Time (CPU seconds)', 'Time (Wallclock seconds)', 'Integer solution of')
    lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith(keep) or 'Integer solution of' in ln]
    return lines[-14:]


def own_children():
    """Process ids whose parent is this process (the cbc that PuLP started)."""
    me = os.getpid()
    out = []
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open(f'/proc/{d}/stat') as f:
                    if int(f.read().rsplit(')', 1)[1].split()[1]) == me:
                        out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return out


def solve(inst, limit_s, threads, hard_s):
    t0 = time.time()
    prob, x, y, a, s = build(inst)
    build_s = time.time() - t0
    nodes = inst['cluster']['nodes']
    jobs = inst['jobs']
    log = tempfile.NamedTemporaryFile('w', suffix='.log', delete=False).name
    # CBC checks its time limit in branch and bound; on the largest models the root LP alone can run
    # past it. The watchdog interrupts the cbc process this run started (by its pid) after hard_s
    # seconds (SIGINT: CBC stops as on ctrl-c and writes what it has), and kills it 120 s later.
    killed = []
    done = threading.Event()

    def watchdog():
        if not done.wait(hard_s):
            for pid in own_children():
                os.kill(pid, signal.SIGINT)
                killed.append(pid)
            if not done.wait(120):
                for pid in own_children():
                    os.kill(pid, signal.SIGKILL)

    threading.Thread(target=watchdog, daemon=True).start()
    t1 = time.time()
    error = None
    try:
        prob.solve(pulp.PULP_CBC_CMD(timeLimit=limit_s, threads=threads, msg=False, logPath=log))
    except pulp.PulpSolverError as e:
        error = str(e)
    done.set()
    took = time.time() - t1
    text = open(log).read() if os.path.exists(log) else ''
    if os.path.exists(log):
        os.unlink(log)
    if error is not None:
        last = [ln.strip() for ln in text.splitlines() if ln.strip()][-6:]
        return {
            'status': 'killed' if killed else 'error',
            'incumbent': any('Integer solution of' in ln for ln in text.splitlines()),
            'error': error.strip()[:200],
            'cbc_result': f'killed by the watchdog after {hard_s + 120:g} s' if killed else 'cbc failed',
            'cbc_log_tail': cbc_summary(text) or last,
            'time_s': round(took, 2), 'build_s': round(build_s, 2), 'limit_s': limit_s, 'threads': threads,
            'big_m_s': inst['greedy_makespan_s'], 'rows': len(prob.constraints), 'cols': len(prob.variables()),
            'bound_s': None, 'lb_s': lower_bound(inst), 'sha256_16': inst.get('sha256_16'), 'jobs': len(jobs),
            'best_s': None, 'plan_errors': ['no plan read back: cbc did not finish'],
        }
    bound = None
    for pat in (r'Lower bound:\s*([-0-9.eE+]+)', r'best possible\s*([-0-9.eE+]+)'):
        found = re.findall(pat, text)
        if found:
            bound = float(found[-1])
            break
    if re.search(r'Result - Optimal solution found', text) and pulp.value(prob.objective) is not None:
        bound = float(pulp.value(prob.objective))
    # PuLP reads CBC's solution file: "Stopped on time - objective value X" is an integer incumbent,
    # "(no integer solution - continuous used)" is the LP relaxation's values, which are not a plan
    incumbent = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    entry = {
        'status': pulp.LpStatus[prob.status],
        'incumbent': incumbent,
        'interrupted_after_s': hard_s if killed else None,
        'cbc_result': (re.findall(r'Result - (.*)', text) or ['?'])[-1].strip(),
        'cbc_log_tail': cbc_summary(text),
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
        ends = [r[4] + dur(next(jj for jj in jobs if jj['id'] == r[0])['options'][r[1]]) for r in rows]
        if incumbent:
            entry.update({'best_s': None if errs else max(ends), 'plan_errors': errs[:3]})
        else:
            entry.update({'relaxation_s': max(ends), 'plan_errors': ['no integer solution: the values are the LP relaxation\'s']})
    return entry


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('folder')
    ap.add_argument('--limit', type=float, default=300.0, help='CBC seconds per instance')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--hard-limit', type=float, default=900.0,
                    help='wall seconds after which the cbc process is killed (it overruns --limit in a long root LP)')
    ap.add_argument('--only', nargs='*')
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'reference', 'cbc.json'))
    a = ap.parse_args()
    cmd = f'nice -n 19 .venv-bench/bin/python bench/saturn_milp_cbc.py DIR --limit {a.limit:g} --threads {a.threads}'
    for inst in load_instances(a.folder, a.only):
        e = solve(inst, a.limit, a.threads, a.hard_limit)
        e['command'] = cmd + (' --only ' + inst['name'] if a.only else '')
        merge_result(a.out, 'saturn-milp (pulp + cbc)', machine_meta(cmd), inst['name'], e)
        print(inst['name'], e['cbc_result'], 'incumbent' if e['incumbent'] else 'NO incumbent', e['best_s'], e['bound_s'],
              e['time_s'], e['build_s'], e.get('plan_errors'), flush=True)


if __name__ == '__main__':
    main()
