/**
 * SPASE benchmark: every public instance in bench/instances (copied from the shared spase instances) (or
 * $SATURN_SPASE_INSTANCES) plus generated ones; the paper's Fig. 5 comparison.
 * Writes docs/solver-bench.md and docs/solver-bench.svg.
 */
import * as fs from 'fs';
import * as path from 'path';
import { lowerBound } from '../spase/bounds';
import { solve } from '../spase/solve';
import { Instance, Plan, Strategy } from '../spase/types';
import { validatePlan } from '../spase/validate';
import { generate, GENERATED, GENERATED_QUICK } from './generate';

interface Row {
  name: string;
  jobs: number;
  gpus: string;
  lb: number;
  base: Record<string, number>;
  h1?: Plan;
  h10?: Plan;
  first1Ms?: number;
  rssMb: number;
  invalid: string[];
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

async function timed(inst: Instance, strategy: Strategy, t: number): Promise<{ plan: Plan; firstMs: number; totalMs: number }> {
  const t0 = clock();
  let firstMs = -1;
  const plan = await solve(inst, {
    strategy,
    timeLimitS: t,
    onPlan: () => {
      if (firstMs < 0) {
        firstMs = clock() - t0;
      }
    }
  });
  return { plan, firstMs, totalMs: clock() - t0 };
}

export async function runBench(o: { quick: boolean }): Promise<string> {
  const out: string[] = [];
  const log = (s: string) => {
    out.push(s);
    process.stdout.write(s + '\n');
  };
  const insts = loadInstances(o.quick);
  const rows: Row[] = [];
  log(`# SPASE solver benchmark${o.quick ? ' (quick)' : ''}`);
  log('');
  log(
    `Node ${process.version}, ${process.platform}/${process.arch}; one thread. Ratios are makespan / LB (FORMAT.md lower bound) ` +
      'and makespan / current practice (CP). "bound" = the best proven lower bound the hybrid reports (MILP dual bound / energy bound), ' +
      '"opt" when the MILP proved optimality.'
  );
  log('');
  const head = o.quick
    ? '| instance | jobs | GPUs | LB (s) | CP/LB | Min/LB | Optimus*/LB | Rand/LB | hyb 1s/LB | hyb 1s/CP | 1s first plan (ms) | bound/LB | RSS MB |'
    : '| instance | jobs | GPUs | LB (s) | CP/LB | Min/LB | Optimus*/LB | Rand/LB | hyb 1s/LB | hyb 1s/CP | hyb 10s/LB | hyb 10s/CP | 10s time (s) | bound/LB | RSS MB |';
  log(head);
  log(head.replace(/[^|]+/g, '---'));
  for (const inst of insts) {
    const lb = lowerBound(inst);
    const row: Row = {
      name: inst.name,
      jobs: inst.jobs.length,
      gpus: inst.cluster.nodes.map(n => n.gpus).join('+'),
      lb,
      base: {},
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
    const r1 = await timed(inst, 'hybrid', 1);
    row.h1 = r1.plan;
    row.first1Ms = r1.firstMs;
    const e1 = validatePlan(inst, r1.plan);
    if (e1.length) {
      row.invalid.push(`hybrid-1s: ${e1[0]}`);
    }
    let t10 = 0;
    if (!o.quick) {
      const r10 = await timed(inst, 'hybrid', 10);
      row.h10 = r10.plan;
      t10 = r10.totalMs / 1000;
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
    const cells = [
      row.name,
      String(row.jobs),
      row.gpus,
      lb.toFixed(0),
      f3(cp / lb),
      f3(row.base['min-heuristic'] / lb),
      f3(row.base['optimus-greedy'] / lb),
      f3(row.base['randomized'] / lb),
      f3(row.h1!.makespan_s / lb),
      f3(row.h1!.makespan_s / cp)
    ];
    if (o.quick) {
      cells.push(row.first1Ms!.toFixed(0));
    } else {
      cells.push(f3(row.h10!.makespan_s / lb), f3(row.h10!.makespan_s / cp), t10.toFixed(1));
    }
    cells.push(boundTxt, row.rssMb.toFixed(0));
    log(`| ${cells.join(' | ')} |`);
  }
  log('');
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
      `Re-solve after one pin (${twelve.name}, job ${j.id} moved by 5% of the makespan): first valid plan ${r.firstMs.toFixed(0)} ms, ` +
        `final ${r.totalMs.toFixed(0)} ms, makespan ${f3(r.plan.makespan_s / lowerBound(pinned))}x LB, ${e.length ? 'INVALID ' + e[0] : 'valid'}.`
    );
  }
  const big = rows.find(r => r.jobs === 128 && r.gpus.split('+').length === 4);
  if (big) {
    log(`128 jobs x 4 nodes (${big.name}): first valid plan ${big.first1Ms!.toFixed(0)} ms.`);
  }
  log(`Peak RSS of the whole benchmark process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB.`);
  const docs = path.resolve(__dirname, '../../docs');
  fs.mkdirSync(docs, { recursive: true });
  const md =
    out.join('\n') +
    '\n\n![makespan / lower bound per instance](solver-bench.svg)\n\n' +
    'Regenerate with `npm run bench:spase` (full, ~4 min on 2 cores) or `node lib-node/cli/main.js bench --quick`.\n';
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
  const series: { label: string; color: string; get: (r: Row) => number }[] = [
    { label: 'current practice', color: '#9e9e9e', get: r => r.base['current-practice'] / r.lb },
    { label: 'Optimus*-greedy', color: '#f0a35e', get: r => r.base['optimus-greedy'] / r.lb },
    { label: 'hybrid 1 s', color: '#6aa5e0', get: r => r.h1!.makespan_s / r.lb }
  ];
  if (!quick) {
    series.push({ label: 'hybrid 10 s', color: '#1f5fa8', get: r => r.h10!.makespan_s / r.lb });
  }
  const W = 60 + rows.length * (series.length * 12 + 16);
  const H = 320;
  const top = 40;
  const bottom = 230;
  const yMax = 2.5;
  const y = (v: number) => bottom - ((Math.min(v, yMax) - 1) / (yMax - 1)) * (bottom - top);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="10">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="10" y="16" font-size="13">makespan / lower bound (1.0 = the physical limit; bars clipped at ${yMax})</text>`);
  for (const v of [1, 1.25, 1.5, 2, 2.5]) {
    parts.push(`<line x1="40" x2="${W - 10}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="8" y="${y(v) + 3}">${v.toFixed(2)}</text>`);
  }
  rows.forEach((r, i) => {
    const x0 = 48 + i * (series.length * 12 + 16);
    series.forEach((s, k) => {
      const v = s.get(r);
      parts.push(
        `<rect x="${x0 + k * 12}" y="${y(v)}" width="11" height="${bottom - y(v)}" fill="${s.color}"><title>${esc(r.name)} ${s.label}: ${v.toFixed(3)}</title></rect>`
      );
    });
    parts.push(
      `<text transform="translate(${x0 + 4},${bottom + 8}) rotate(45)">${esc(r.name)}</text>`
    );
  });
  series.forEach((s, k) => {
    parts.push(`<rect x="${50 + k * 130}" y="${H - 18}" width="10" height="10" fill="${s.color}"/>`);
    parts.push(`<text x="${64 + k * 130}" y="${H - 9}">${s.label}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
