import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../../..');
const MAIN = path.join(ROOT, 'lib-node/cli/main.js');
const DIR = process.env.SATURN_SPASE_INSTANCES ?? path.resolve(ROOT, 'bench/instances');

const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60000 });

describe('saturn CLI (end to end)', () => {
  let tmp: string;
  beforeAll(() => {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.node.json')], {
      cwd: ROOT
    });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'saturn-cli-'));
  }, 120000);

  it('plans paper-fig4 and prints the plan JSON', () => {
    const r = run('plan', path.join(DIR, 'paper-fig4.json'), '--time-limit', '1');
    expect(r.status).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.format).toBe('spase-plan/1');
    expect(plan.makespan_s).toBe(108000);
    expect(plan.jobs).toHaveLength(3);
  }, 60000);

  it('search beats the first candidate on txt-like-2x8 (deterministic --iterations budget)', () => {
    const inst = path.join(DIR, 'txt-like-2x8.json');
    const a = run('plan', inst, '--iterations', '20000', '--seed', '1');
    expect(a.status).toBe(0);
    const plan = JSON.parse(a.stdout);
    // first greedy candidate: 116163.2 s; annealing + MILP windows reach below 110000 s
    expect(plan.makespan_s).toBeLessThan(110000);
    const b = run('plan', inst, '--iterations', '20000', '--seed', '1');
    expect(JSON.parse(b.stdout).jobs).toEqual(plan.jobs);
  }, 120000);

  it('runs a baseline by name', () => {
    const r = run('plan', path.join(DIR, 'paper-fig4.json'), '--strategy', 'current-practice');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).makespan_s).toBe(111600);
  }, 60000);

  it('prints its usage on stdout for --help (exit 0), and names a missing or unknown command (exit 2)', () => {
    const top = run('--help');
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/saturn plan FILE/);
    expect(top.stdout).toMatch(/saturn run --server URL/);
    expect(run('plan', '--help').stdout).toMatch(/^usage: saturn plan FILE .*--iterations N/);
    const runHelp = run('run', '-h');
    expect(runHelp.status).toBe(0);
    expect(runHelp.stdout).toMatch(/--early-stopping asha\|sha --metric NAME/);
    for (const [args, re] of [[[], /no command: expected plan, bench or run/], [['plot'], /unknown command "plot"/]] as const) {
      const r = run(...args);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim()).toMatch(re);
    }
  }, 60000);

  it('exits 2 with one line on stderr for bad input', () => {
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, '{"format": "spase-instance/1", "name": "x", "cluster": {"nodes": [{"id": "n", "gpus": 8}]}, "jobs": [{"id": "a", "options": [{"parallelism": "ddp", "gpus": -1, "runtime_s": 5}]}]}');
    const malformed = path.join(tmp, 'malformed.json');
    fs.writeFileSync(malformed, '{"format": ');
    const cases: [string[], RegExp][] = [
      [['plan', bad], /jobs\[0\]\.options\[0\]\.gpus: must be a positive integer/],
      [['plan', malformed], /invalid JSON/],
      [['plan', path.join(tmp, 'missing.json')], /cannot read file/],
      [['plan', path.join(DIR, 'paper-fig4.json'), '--strategy', 'gurobi'], /unknown strategy "gurobi"/],
      [['plan', path.join(DIR, 'paper-fig4.json'), '--time-limit', 'abc'], /--time-limit/]
    ];
    for (const [args, re] of cases) {
      const r = run(...args);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(re);
    }
  }, 60000);
});
