/**
 * The TypeScript wire types are generated from the wire schema (scripts/wire-types.js), never kept by hand: the
 * committed src/bridge/wire-types.ts must be exactly what the schema gives now. (The generator runs in its own
 * Node process: its formatter loads ES modules, which jest's module system does not.)
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

describe('wire types', () => {
  it('are what scripts/wire-types.js generates from schema/wire/bridge.schema.json', () => {
    const root = path.join(__dirname, '../../..');
    const run = spawnSync(process.execPath, [path.join(root, 'scripts/wire-types.js'), '--check'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  }, 60000);
});
