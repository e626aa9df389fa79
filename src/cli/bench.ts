/**
 * SPASE benchmark: every public instance in bench/instances (copied from the shared spase instances) (or
 * $SATURN_SPASE_INSTANCES) plus generated ones; the paper's Fig. 5 comparison.
 * Writes docs/solver-bench.md and docs/solver-bench.svg.
 *
 * Reference figures (offline, see bench/cpsat_reference.py and
 * bench/saturn_milp_cbc.py) are read from bench/reference/{cpsat,cbc}.json;
 * an entry counts only when its instance hash matches the instance here.
 * The hybrid runs as a portfolio of worker threads (one per core, at most two).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { lowerBound } from '../spase/bounds';
import { solve } from '../spase/solve';
import { Instance, Plan, Strategy } from '../spase/types';
import { validatePlan } from '../spase/validate';
import { generate, GENERATED, GENERATED_QUICK } from './generate';
import { defaultWorkers, solvePortfolio } from './portfolio';

interface Row {
  name: string;
  jobs: number;
  gpus: string;
  lb: number;
  base: Record<string, number>;
  h1?: Plan;
  h10?: Plan;
  first1Ms?: number;
  first1CpuMs?: number;
  cpsat?: RefEntry;
  cbc?: RefEntry;
  rssMb: number;
  invalid: string[];
}

interface RefEntry {
  best_s?: number | null;
  bound_s?: number | null;
  status?: string;
  cbc_result?: string;
  sha256_16?: string;
  limit_s?: number;
  /** Non-empty when the solver's values did not form a valid plan (then it counts as no solution). */
  plan_errors?: string[];
  /** CBC: whether it reported an integer solution (false: its values were the LP relaxation's). */
  incumbent?: boolean;
  /** The command that produced this entry (older entries: the file's meta command). */
  command?: string;
  /** CP-SAT: the makespan of the plan it was warm-started from (solution hint), if any. */
  hint_s?: number;
  time_s?: number;
  cpu_s?: number;
  build_s?: number;
  rows?: number;
}

interface RefFile {
  meta?: { command?: string; loadavg_at_write?: number[]; cpus?: number };
  instances: Record<string, RefEntry>;
}

function readRef(name: string): RefFile | null {
  const f = path.resolve(__dirname, '../../bench/reference', name);
  return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')) as RefFile) : null;
}

export function instanceHash(inst: Instance): string {
  return crypto.createHash('sha256').update(JSON.stringify(inst)).digest('hex').slice(0, 16);
}

const BASELINES: Strategy[] = ['current-practice', 'min-heuristic', 'optimus-greedy', 'randomized'];

function clock(): number {
  return performance.now();
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const f3 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(3));

export function instancesDir(): string {
  return process.env.SATURN_SPASE_INSTANCES ?? path.resolve(__dirname, '../../bench/instances');
}

export function loadInstances(quick: boolean): Instance[] {
  const dir = instancesDir();
  const pub = fs
    .readdirSync(dir)
    .filter(f => f.endsWith('.json'))
    .sort()
    .map(f => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Instance);
  return [...pub, ...(quick ? GENERATED_QUICK : GENERATED).map(generate)];
}

async function timed(
  inst: Instance,
  strategy: Strategy,
  t: number,
  workers = 1
): Promise<{ plan: Plan; firstMs: number; firstCpuMs: number; totalMs: number }> {
  const t0 = clock();
  const c0 = process.cpuUsage();
  let firstMs = -1;
  let firstCpuMs = -1;
  const plan = await solvePortfolio(inst, {
    workers,
    strategy,
    timeLimitS: t,
    onPlan: () => {
      if (firstMs < 0) {
        firstMs = clock() - t0;
        // CPU time of this process until then (the first plan comes from this thread, before any worker starts)
        const c = process.cpuUsage(c0);
        firstCpuMs = (c.user + c.system) / 1000;
      }
    }
  });
  return { plan, firstMs, firstCpuMs, totalMs: clock() - t0 };
}

export async function runBench(o: { quick: boolean }): Promise<string> {
  const out: string[] = [];
  const log = (s: string) => {
    out.push(s);
    process.stdout.write(s + '\n');
  };
  const insts = loadInstances(o.quick);
  const rows: Row[] = [];
  const workers = defaultWorkers();
  const cpsat = readRef('cpsat.json');
  const cbc = readRef('cbc.json');
  const load0 = os.loadavg();
  log(`# SPASE solver benchmark${o.quick ? ' (quick)' : ''}`);
  log('');
  log(
    `Node ${process.version}, ${process.platform}/${process.arch}, ${os.cpus().length} CPUs; the hybrid runs as a portfolio of ${workers} worker thread(s). ` +
      `Load average at the start: ${load0.map(x => x.toFixed(2)).join(' / ')} (1/5/15 min). ` +
      'Baselines: makespan / LB (the lower bound of docs/spase-format.md). References: "CP-SAT" = best makespan of the exact CP-SAT model, ' +
      '"CP-SAT bound" its proven lower bound (both / LB); "CBC" = Saturn\'s MILP formulation with PuLP + CBC at 5 minutes; ' +
      'hybrid ratios are makespan / CP-SAT best (< 1: better than CP-SAT found) and hybrid 10 s / CBC (< 1: the hybrid wins).'
  );
  const commands = (f: RefFile | null) =>
    [...new Set(Object.values(f?.instances ?? {}).map(e => (e.command ?? f?.meta?.command ?? '-').replace(/ --only .*$/, '')))];
  if (cpsat || cbc) {
    log('');
    log(
      `Reference runs (offline, one thread each, niced, instances from \`node bench/export-instances.js DIR\`, \`--only\` naming them; ` +
        `per-instance figures, commands and CBC log lines in bench/reference/): CP-SAT ${commands(cpsat).map(c => `\`${c}\``).join(', ')}; ` +
        `CBC ${commands(cbc).map(c => `\`${c}\``).join(', ')}. HINTS = bench/reference/hints/ (the hybrid's plan from ` +
        '`saturn plan FILE --time-limit 30 --seed 1`, one thread, before the node-decomposed search), a CP-SAT solution hint: CP-SAT starts ' +
        'from it, so its best is never worse than that plan; the 60 s entries are the cold runs that were proven optimal.'
    );
    log('');
    log(
      'How to read the references. CP-SAT best is the best makespan known, not always an optimum: where its status is FEASIBLE it ' +
        'is what CP-SAT reached from the hint in its 300 s (the hint and best columns below say whether it improved on it; the CPU s ' +
        'column, how much of the 300 s the loaded machine gave it), and a hybrid ratio below 1 means the hybrid beat that plan. CBC runs Saturn\'s formulation (binary GPU assignment per job, big-M ordering of ' +
        'every pair of jobs on every GPU, M = the greedy makespan); "no incumbent" means CBC reported no integer solution in its 5 ' +
        'minutes (its solution file said "no integer solution - continuous used": the values PuLP hands back are the LP relaxation\'s, ' +
        'fractional GPU assignments, not a plan). Non-contiguous GPU ids are not the cause: the format allows any distinct ids. With ' +
        'M = 2x the greedy makespan CBC does find integer solutions on gen-12-1x8 within 30 s, but about 2x longer than the optimum.'
    );
  }
  log('');
  const head = o.quick
    ? '| instance | jobs | GPUs | LB (s) | CP/LB | Optimus*/LB | CP-SAT/LB | CP-SAT bound/LB | CBC/CP-SAT | hyb 1s/CP-SAT | 1s first plan (ms) | RSS MB |'
    : '| instance | jobs | GPUs | LB (s) | CP/LB | Min/LB | Optimus*/LB | Rand/LB | CP-SAT/LB | CP-SAT bound/LB | CBC 5min/CP-SAT | hyb 1s/CP-SAT | hyb 10s/CP-SAT | hyb 10s/CBC | hyb 10s/LB | bound/LB | RSS MB |';
  log(head);
  log(head.replace(/[^|]+/g, '---'));
  for (const inst of insts) {
    const lb = lowerBound(inst);
    const hash = instanceHash(inst);
    const ref = (f: RefFile | null) => {
      const e = f?.instances[inst.name];
      if (!e || e.sha256_16 !== hash) {
        return undefined;
      }
      const incumbent = e.incumbent ?? (e.status !== 'Not Solved' && !e.plan_errors?.length);
      return e.plan_errors?.length || !incumbent ? { ...e, incumbent, best_s: null } : { ...e, incumbent };
    };
    const row: Row = {
      name: inst.name,
      jobs: inst.jobs.length,
      gpus: inst.cluster.nodes.map(n => n.gpus).join('+'),
      lb,
      base: {},
      cpsat: ref(cpsat),
      cbc: ref(cbc),
      rssMb: 0,
      invalid: []
    };
    for (const b of BASELINES) {
      const r = await timed(inst, b, 1);
      row.base[b] = r.plan.makespan_s;
      const e = validatePlan(inst, r.plan);
      if (e.length) {
        row.invalid.push(`${b}: ${e[0]}`);
      }
    }
    const r1 = await timed(inst, 'hybrid', 1, workers);
    row.h1 = r1.plan;
    row.first1Ms = r1.firstMs;
    row.first1CpuMs = r1.firstCpuMs;
    const e1 = validatePlan(inst, r1.plan);
    if (e1.length) {
      row.invalid.push(`hybrid-1s: ${e1[0]}`);
    }
    if (!o.quick) {
      const r10 = await timed(inst, 'hybrid', 10, workers);
      row.h10 = r10.plan;
      const e10 = validatePlan(inst, r10.plan);
      if (e10.length) {
        row.invalid.push(`hybrid-10s: ${e10[0]}`);
      }
    }
    row.rssMb = process.memoryUsage().rss / 2 ** 20;
    rows.push(row);
    const cp = row.base['current-practice'];
    const last = row.h10 ?? row.h1!;
    const bound = last.solver.bound_s;
    const boundTxt = bound === undefined ? '-' : `${f3(bound / lb)}${last.solver.status === 'optimal' ? ' opt' : ''}`;
    const best = row.cpsat?.best_s ?? undefined;
    const cpsatBound = row.cpsat?.bound_s ?? undefined;
    const cbcBest = row.cbc ? (row.cbc.best_s ?? Infinity) : undefined;
    const cpTxt = best === undefined ? '-' : `${f3(best / lb)}${row.cpsat?.status === 'OPTIMAL' ? ' opt' : ''}`;
    const cbcTxt = cbcBest === undefined ? '-' : cbcBest === Infinity ? 'no incumbent' : f3(cbcBest / (best ?? NaN));
    const vsCp = (pl: Plan | undefined) => (pl && best ? f3(pl.makespan_s / best) : '-');
    if (o.quick) {
      log(
        `| ${[row.name, row.jobs, row.gpus, lb.toFixed(0), f3(cp / lb), f3(row.base['optimus-greedy'] / lb), cpTxt,
          cpsatBound === undefined ? '-' : f3(cpsatBound / lb), cbcTxt, vsCp(row.h1), row.first1Ms!.toFixed(0), row.rssMb.toFixed(0)].join(' | ')} |`
      );
    } else {
      const vsCbc = cbcBest === undefined ? '-' : cbcBest === Infinity ? 'hybrid (CBC: none in 5 min)' : f3(row.h10!.makespan_s / cbcBest);
      log(
        `| ${[row.name, row.jobs, row.gpus, lb.toFixed(0), f3(cp / lb), f3(row.base['min-heuristic'] / lb),
          f3(row.base['optimus-greedy'] / lb), f3(row.base['randomized'] / lb), cpTxt,
          cpsatBound === undefined ? '-' : f3(cpsatBound / lb), cbcTxt, vsCp(row.h1), vsCp(row.h10), vsCbc,
          f3(row.h10!.makespan_s / lb), boundTxt, row.rssMb.toFixed(0)].join(' | ')} |`
      );
    }
  }
  log('');
  const withRef = rows.filter(r => r.cpsat?.best_s);
  const ratio = (r: Row, pl: Plan | undefined) => pl!.makespan_s / r.cpsat!.best_s!;
  if (withRef.length) {
    const q1 = withRef.map(r => ratio(r, r.h1));
    log(`Hybrid 1 s / CP-SAT best (${withRef.length} instances): median ${f3(median(q1))}, worst ${f3(Math.max(...q1))}.`);
    if (!o.quick) {
      const q10 = withRef.map(r => ratio(r, r.h10));
      const worst = withRef[q10.indexOf(Math.max(...q10))];
      log(`Hybrid 10 s / CP-SAT best: median ${f3(median(q10))}, worst ${f3(Math.max(...q10))} (${worst.name}); ` +
        `target median <= 1.010, worst <= 1.030: ${median(q10) <= 1.01 && Math.max(...q10) <= 1.03 ? 'met' : 'NOT met'}.`);
      const big = rows.filter(r => r.jobs > 8);
      const lost = big.filter(r => !r.cbc || (r.cbc.best_s != null && r.h10!.makespan_s >= r.cbc.best_s));
      const none = big.filter(r => r.cbc && r.cbc.best_s == null);
      const beat = big.filter(r => r.cbc?.best_s != null && r.h10!.makespan_s < r.cbc.best_s);
      log(
        `Hybrid 10 s vs Saturn's MILP with CBC at 5 min on the ${big.length} instances with more than 8 jobs: ` +
          (lost.length
            ? `not beaten or not measured on ${lost.map(r => r.name + (r.cbc ? '' : ' (no CBC figure)')).join(', ')}; `
            : 'the hybrid is better on every one; ') +
          `CBC found no integer solution in its 5 minutes on ${none.length} (${none.map(r => r.name).join(', ') || '-'})` +
          (beat.length
            ? `; where it found one, hybrid 10 s / CBC = ${beat.map(r => `${f3(r.h10!.makespan_s / r.cbc!.best_s!)} (${r.name})`).join(', ')}.`
            : '.')
      );
    }
  }
  const scored = rows.filter(r => r.name !== 'paper-fig4');
  const r1 = scored.map(r => r.h1!.makespan_s / r.lb);
  log(`Hybrid 1 s (paper-fig4 aside, ${scored.length} instances): median ${f3(median(r1))}x LB, worst ${f3(Math.max(...r1))}x LB.`);
  if (!o.quick) {
    const r10 = scored.map(r => r.h10!.makespan_s / r.lb);
    log(`Hybrid 10 s: median ${f3(median(r10))}x LB, worst ${f3(Math.max(...r10))}x LB.`);
  }
  const cpR = scored.map(r => r.base['current-practice'] / r.lb);
  log(`Current practice: median ${f3(median(cpR))}x LB (range ${f3(Math.min(...cpR))}-${f3(Math.max(...cpR))}).`);
  const fig4 = rows.find(r => r.name === 'paper-fig4');
  if (fig4) {
    const p = fig4.h10 ?? fig4.h1!;
    log(`paper-fig4: makespan ${p.makespan_s} s (status ${p.solver.status}, bound ${p.solver.bound_s}).`);
  }
  const invalid = rows.flatMap(r => r.invalid.map(e => `${r.name}: ${e}`));
  log(`Plans failing the validator: ${invalid.length}${invalid.length ? ' — ' + invalid.join('; ') : ''}.`);

  // re-solve after one pin on a 12-job / 8-GPU instance
  const twelve = insts.find(i => i.jobs.length === 12 && i.cluster.nodes.length === 1 && i.cluster.nodes[0].gpus === 8);
  if (twelve) {
    const base = await solve(twelve, { timeLimitS: 1 });
    const sorted = base.jobs.slice().sort((a, b) => a.start_s - b.start_s);
    const j = sorted[Math.floor(sorted.length / 2)];
    const pinned: Instance = {
      ...twelve,
      pins: [
        {
          job: j.id,
          parallelism: j.parallelism,
          gpus: j.gpus,
          node: j.node,
          gpu_ids: j.gpu_ids,
          start_s: Math.round(j.start_s + 0.05 * base.makespan_s)
        }
      ]
    };
    const r = await timed(pinned, 'hybrid', 1);
    const e = validatePlan(pinned, r.plan);
    log(
      `Re-solve after one pin (${twelve.name}, job ${j.id} moved by 5% of the makespan): first valid plan ${r.firstMs.toFixed(0)} ms ` +
        `(${r.firstCpuMs.toFixed(0)} ms of CPU; load average then ${os.loadavg()[0].toFixed(2)}), ` +
        `final ${r.totalMs.toFixed(0)} ms, makespan ${f3(r.plan.makespan_s / lowerBound(pinned))}x LB, ${e.length ? 'INVALID ' + e[0] : 'valid'}.`
    );
  }
  const big = rows.find(r => r.jobs === 128 && r.gpus.split('+').length === 4);
  if (big) {
    log(`128 jobs x 4 nodes (${big.name}): first valid plan ${big.first1Ms!.toFixed(0)} ms (${big.first1CpuMs!.toFixed(0)} ms of CPU).`);
  }
  if (!o.quick && rows.some(r => r.cpsat || r.cbc)) {
    log('');
    log('Reference runs per instance (makespans in s; CPU s of the solver process; CBC rows of its model):');
    log('');
    log('| instance | CP-SAT limit s | hint s | CP-SAT best | CP-SAT bound | status | CPU s | CBC result | CBC incumbent | CBC bound | rows | build s |');
    log('|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      const c = r.cpsat;
      const b = r.cbc;
      const n = (x: number | null | undefined, d = 0) => (x == null || !Number.isFinite(x) ? '-' : x.toFixed(d));
      log(
        `| ${[r.name, n(c?.limit_s), n(c?.hint_s, 1), n(c?.best_s, 1), n(c?.bound_s, 1), c?.status ?? '-', n(c?.cpu_s),
          b?.cbc_result ?? '-', b ? (b.best_s != null ? n(b.best_s, 1) : 'none') : '-', n(b?.bound_s, 1), n(b?.rows), n(b?.build_s, 1)].join(' | ')} |`
      );
    }
    log('');
  }
  log(`Load average at the end: ${os.loadavg().map(x => x.toFixed(2)).join(' / ')}.`);
  log(`Peak RSS of the whole benchmark process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB.`);
  const docs = path.resolve(__dirname, '../../docs');
  fs.mkdirSync(docs, { recursive: true });
  const md =
    out.join('\n') +
    '\n\n![makespan / CP-SAT best per instance](solver-bench.svg)\n\n' +
    'Regenerate with `npm run bench:spase` (full, ~7 min on 2 loaded cores) or `node lib-node/cli/main.js bench --quick`.\n';
  if (!o.quick || !fs.existsSync(path.join(docs, 'solver-bench.md'))) {
    fs.writeFileSync(path.join(docs, 'solver-bench.md'), md);
    fs.writeFileSync(path.join(docs, 'solver-bench.svg'), svg(rows, o.quick));
  }
  return out.join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

function svg(rows: Row[], quick: boolean): string {
  const ref = (r: Row) => r.cpsat?.best_s ?? r.lb;
  const series: { label: string; color: string; get: (r: Row) => number }[] = [
    { label: 'CP-SAT bound', color: '#c9c9c9', get: r => (r.cpsat?.bound_s ?? r.lb) / ref(r) },
    { label: 'CBC 5 min (Saturn MILP)', color: '#f0a35e', get: r => (r.cbc ? (r.cbc.best_s ?? Infinity) / ref(r) : NaN) },
    { label: 'hybrid 1 s', color: '#6aa5e0', get: r => r.h1!.makespan_s / ref(r) }
  ];
  if (!quick) {
    series.push({ label: 'hybrid 10 s', color: '#1f5fa8', get: r => r.h10!.makespan_s / ref(r) });
  }
  const W = 60 + rows.length * (series.length * 12 + 16);
  const H = 340;
  const top = 40;
  const bottom = 240;
  const yMin = 0.85;
  const yMax = 1.5;
  const y = (v: number) => bottom - ((Math.max(yMin, Math.min(v, yMax)) - yMin) / (yMax - yMin)) * (bottom - top);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="10">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(
    `<text x="10" y="16" font-size="13">makespan / CP-SAT best (1.0 = the CP-SAT reference; below 1: better; bars clipped to ${yMin}–${yMax})</text>`
  );
  for (const v of [0.9, 1, 1.1, 1.25, 1.5]) {
    parts.push(`<line x1="40" x2="${W - 10}" y1="${y(v)}" y2="${y(v)}" stroke="${v === 1 ? '#888' : '#ddd'}"/>`);
    parts.push(`<text x="8" y="${y(v) + 3}">${v.toFixed(2)}</text>`);
  }
  rows.forEach((r, i) => {
    const x0 = 48 + i * (series.length * 12 + 16);
    series.forEach((s, k) => {
      const v = s.get(r);
      if (Number.isNaN(v)) {
        return;
      }
      const txt = Number.isFinite(v) ? v.toFixed(3) : 'no solution';
      parts.push(
        `<rect x="${x0 + k * 12}" y="${y(v)}" width="11" height="${bottom - y(v)}" fill="${s.color}"><title>${esc(r.name)} ${s.label}: ${txt}</title></rect>`
      );
    });
    parts.push(`<text transform="translate(${x0 + 4},${bottom + 8}) rotate(45)">${esc(r.name)}</text>`);
  });
  series.forEach((s, k) => {
    parts.push(`<rect x="${50 + k * 150}" y="${H - 18}" width="10" height="10" fill="${s.color}"/>`);
    parts.push(`<text x="${64 + k * 150}" y="${H - 9}">${s.label}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
