#!/usr/bin/env node
/**
 * Writes every benchmark instance (bench/instances plus the generated ones,
 * fixed seeds) as JSON into a folder, for the offline reference solvers:
 *   npx tsc -p tsconfig.node.json && node bench/export-instances.js /tmp/spase-bench
 */
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { loadInstances } = require('../lib-node/cli/bench');
const { compile } = require('../lib-node/spase/problem');
const { firstCandidate } = require('../lib-node/spase/solve');

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: node bench/export-instances.js OUTDIR\n');
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });
for (const inst of loadInstances(false)) {
  const text = JSON.stringify(inst);
  const sha = crypto.createHash('sha256').update(text).digest('hex').slice(0, 16);
  // the greedy makespan: a valid horizon (big-M) for the reference MILP
  const greedy = firstCandidate(compile(inst)).sched.makespan;
  fs.writeFileSync(path.join(out, `${inst.name}.json`), JSON.stringify({ ...inst, sha256_16: sha, greedy_makespan_s: greedy }));
  process.stdout.write(`${inst.name} ${inst.jobs.length} jobs ${sha}\n`);
}
