#!/usr/bin/env node
/**
 * Generates src/bridge/wire-types.ts from the wire schema (schema/wire/bridge.schema.json), the one source of the
 * bridge's messages: `node scripts/wire-types.js` writes it, `node scripts/wire-types.js --check` fails when the
 * committed file differs from what the schema gives (a jest spec runs the same comparison).
 */
const fs = require('fs');
const path = require('path');
const { compile } = require('json-schema-to-typescript');

const ROOT = path.resolve(__dirname, '..');
const SCHEMA = path.join(ROOT, 'schema/wire/bridge.schema.json');
const OUT = path.join(ROOT, 'src/bridge/wire-types.ts');

async function generate() {
  const schema = JSON.parse(fs.readFileSync(SCHEMA, 'utf8'));
  const body = await compile(schema, 'BridgeMessage', {
    bannerComment:
      '/* eslint-disable */\n/**\n * Generated from schema/wire/bridge.schema.json by scripts/wire-types.js: do not edit by hand.\n */',
    unreachableDefinitions: true,
    additionalProperties: false,
    strictIndexSignatures: false,
    format: true,
    style: { singleQuote: true, printWidth: 120 }
  });
  const transitions = schema.job_transitions;
  return `${body}\n/** The job state machine's transitions (the schema's \`job_transitions\`). */\nexport const JOB_TRANSITIONS: Record<JobState, JobState[]> = ${JSON.stringify(transitions, null, 2).replace(/"/g, "'")};\n`;
}

module.exports = { generate, OUT };

if (require.main === module) {
  generate().then(text => {
    if (process.argv.includes('--check')) {
      if (!fs.existsSync(OUT) || fs.readFileSync(OUT, 'utf8') !== text) {
        console.error(`${path.relative(ROOT, OUT)} is out of date: run node scripts/wire-types.js`);
        process.exit(1);
      }
    } else {
      fs.writeFileSync(OUT, text);
      console.log(`wrote ${path.relative(ROOT, OUT)}`);
    }
  });
}
