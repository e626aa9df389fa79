/**
 * `saturn run`'s early-stopping options as a user types them (parseRunArgs): what reaches the run, and the messages
 * for options given without --early-stopping.
 */
import { parseRunArgs } from '../cli-run';

const base = ['--server', 'http://127.0.0.1:8888'];

describe('saturn run: early-stopping options', () => {
  it('builds the configuration, with the defaults for what was not given', () => {
    const a = parseRunArgs([...base, '--early-stopping', 'asha', '--metric', 'val_loss', '--rungs', '100,300,600']);
    expect(a.earlyStopping).toEqual({ kind: 'asha', metric: 'val_loss', mode: 'min', rungs: [100, 300, 600], eta: 2, unit: 'steps' });
  });

  it('--move-survivors lets the re-plan move survivors under way; absent, it is off', () => {
    const on = parseRunArgs([...base, '--early-stopping', 'sha', '--metric', 'acc', '--mode', 'max', '--rungs', '1,3', '--rung-unit', 'epochs', '--eta', '3', '--move-survivors']);
    expect(on.earlyStopping).toEqual({ kind: 'sha', metric: 'acc', mode: 'max', rungs: [1, 3], eta: 3, unit: 'epochs', move_survivors: true });
    const off = parseRunArgs([...base, '--early-stopping', 'asha', '--metric', 'val_loss', '--rungs', '10']);
    expect(off.earlyStopping!.move_survivors).toBeUndefined();
  });

  it('refuses early-stopping options without --early-stopping, naming them', () => {
    expect(() => parseRunArgs([...base, '--move-survivors'])).toThrow(/--move-survivors go with --early-stopping asha\|sha/);
    expect(() => parseRunArgs([...base, '--early-stopping', 'none', '--move-survivors'])).toThrow(/go with --early-stopping asha\|sha/);
  });
});
