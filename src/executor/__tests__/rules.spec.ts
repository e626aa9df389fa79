/**
 * The dispatch rules (`rules.ts`) against the shared conformance cases (`schema/conformance/dispatch/*.json`), which
 * pytest runs against the Python rules (`python_bridge/saturn/control/rules.py`) too: the two decide alike.
 */
import * as fs from 'fs';
import * as path from 'path';
import { decide } from '../rules';

const DIR = path.join(__dirname, '../../../schema/conformance/dispatch');
const files = fs.readdirSync(DIR).filter(f => f.endsWith('.json')).sort();

describe('dispatch rules (shared conformance cases)', () => {
  it('has cases for every rule', () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
  });

  it.each(files)('%s', file => {
    const c = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'));
    const o = c.options ?? {};
    const v = c.view ?? {};
    const got = decide(
      c.snapshot,
      { paused: v.paused, launches: v.launches, deadTicks: v.dead_ticks, released: v.released, placing: v.placing },
      {
        ...(o.max_retries !== undefined ? { maxRetries: o.max_retries } : {}),
        ...(o.dead_grace_ticks !== undefined ? { deadGraceTicks: o.dead_grace_ticks } : {}),
        ...(o.relaunch_backoff_s !== undefined ? { relaunchBackoffS: o.relaunch_backoff_s } : {})
      }
    );
    expect({ actions: got.actions, dead_ticks: got.deadTicks }).toEqual(c.expect);
  });
});
