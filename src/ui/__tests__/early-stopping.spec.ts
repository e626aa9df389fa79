/**
 * Early stopping in the page, the pure parts: the configuration from the settings (or from Python), the checks that
 * refuse a run it cannot judge, what a job record says about its rungs, where the marks go on a Gantt block and on
 * the learning curves, and the run mirror treating jobs stopped early as over.
 */
import * as fs from 'fs';
import * as path from 'path';
import { rungMarks, rungSummary, segmentBars } from '../components/gantt/rung-marks';
import { curveLayout, rungLines } from '../components/results/curve-geometry';
import {
  allRungSteps,
  checkEarlyStopping,
  describeEarlyStopping,
  EarlyStoppingError,
  earlyStoppingFromSettings,
  jobRungs,
  parseRungs,
  resolveEarlyStopping,
  segmentProgress,
  stateWithRung
} from '../models/early-stopping';
import { DEFAULT_SETTINGS } from '../models/interfaces';
import { PlanStore } from '../models/plan-store';
import { snapshotFromJobs } from '../models/run-controller';
import { fitInstance, RunMirror } from '../models/run-mirror';
import type { IEarlyStopping } from '../../executor/rungs';
import type { Plan } from '../../spase/types';
import { ashaJobs, asFirstPlan, ES } from './es-fixtures';
import { FakeBridge } from './fake-bridge';
import { smallInstance, smallPlan } from './fixtures';

const thrown = (f: () => unknown): EarlyStoppingError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EarlyStoppingError);
    return e as EarlyStoppingError;
  }
  throw new Error('nothing was thrown');
};

describe('the early stopping settings', () => {
  it('has the schema\'s defaults, and the schema says what each setting means', () => {
    const schema = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../schema/settings/plugin.json'), 'utf8'));
    const props = schema.properties;
    for (const [key, value] of Object.entries(DEFAULT_SETTINGS)) {
      expect([key, props[key]?.default]).toEqual([key, value]);
      expect(props[key].title).toBeTruthy();
      expect(props[key].description.length).toBeGreaterThan(40);
    }
    expect(props.earlyStopping.oneOf.map((o: any) => o.const)).toEqual(['python', 'off', 'asha', 'sha']);
    expect(props.earlyStopping.oneOf[0].title).toBe('As set from Python (saturn.set_early_stopping; off when not set)');
    expect(props.earlyStoppingEta.exclusiveMinimum).toBe(1);
    const text = new RegExp(props.earlyStoppingRungs.oneOf[0].pattern);
    expect(['', '100,300,600', ' 10, 30 ', '1.5,3'].every(t => text.test(t))).toBe(true);
    expect(['100,', 'a,b', '-1'].some(t => text.test(t))).toBe(false);
    expect(schema.additionalProperties).toBe(false);
  });

  it('reads rungs as text or as a list, and refuses what is not increasing and positive', () => {
    expect(parseRungs('100,300,600')).toEqual([100, 300, 600]);
    expect(parseRungs(' 1.5; 3 ')).toEqual([1.5, 3]);
    expect(parseRungs([10, 30])).toEqual([10, 30]);
    expect(thrown(() => parseRungs('')).message).toMatch(/needs its rungs.*100,300,600/);
    expect(thrown(() => parseRungs('300,100')).message).toMatch(/increasing positive/);
    expect(thrown(() => parseRungs([0, 10])).message).toMatch(/increasing positive/);
  });

  it('gives the configuration: off, as set from Python (the default), or ASHA/SHA from the fields', async () => {
    expect(earlyStoppingFromSettings(DEFAULT_SETTINGS)).toBe('python');
    expect(earlyStoppingFromSettings({ ...DEFAULT_SETTINGS, earlyStopping: 'off' })).toBeNull();
    expect(earlyStoppingFromSettings({ ...DEFAULT_SETTINGS, earlyStopping: 'sha', earlyStoppingRungs: '100,300', earlyStoppingMode: 'max', earlyStoppingMetric: 'val_acc', earlyStoppingEta: 3 })).toEqual({
      kind: 'sha',
      metric: 'val_acc',
      mode: 'max',
      rungs: [100, 300],
      eta: 3,
      unit: 'steps'
    });
    expect(thrown(() => earlyStoppingFromSettings({ ...DEFAULT_SETTINGS, earlyStopping: 'asha', earlyStoppingRungs: '10', earlyStoppingEta: 1 })).message).toMatch(/greater than 1/);
    // survivors under way may move only when the setting says so, and the run's one-line description says it
    const moving = earlyStoppingFromSettings({ ...DEFAULT_SETTINGS, earlyStopping: 'asha', earlyStoppingRungs: '10', earlyStoppingMoveSurvivors: true });
    expect(moving).toMatchObject({ kind: 'asha', move_survivors: true });
    expect(describeEarlyStopping(moving as IEarlyStopping)).toBe('ASHA on val_loss (lower is better), rungs at 10 steps, eta 2, survivors under way may move');
    const staying = earlyStoppingFromSettings({ ...DEFAULT_SETTINGS, earlyStopping: 'asha', earlyStoppingRungs: '10' }) as IEarlyStopping;
    expect(staying.move_survivors).toBeUndefined();
    expect(describeEarlyStopping(staying)).toBe('ASHA on val_loss (lower is better), rungs at 10 steps, eta 2');
    let asked = 0;
    const python = async () => (asked++, ES);
    expect(await resolveEarlyStopping(DEFAULT_SETTINGS, python)).toEqual(ES);
    expect(await resolveEarlyStopping({ ...DEFAULT_SETTINGS, earlyStopping: 'off' }, python)).toBeNull();
    expect(asked).toBe(1);
  });
});

describe('a run early stopping cannot judge', () => {
  const inst = (jobs: Array<Record<string, unknown>>) => ({ jobs: jobs.map(j => ({ options: [], ...j })) as any });

  it('is refused naming the tasks without validation and what to do', () => {
    const e = thrown(() =>
      checkEarlyStopping(inst([{ id: 'a', total_steps: 60, validates: true }, { id: 'b', total_steps: 60, validates: false }, { id: 'c', total_steps: 60, validates: false }]), ES)
    );
    expect(e.message).toContain('these tasks have no validation: b, c');
    expect(e.message).toContain('validate=');
    expect(e.message).toContain('Early stopping: Off');
    expect(e.message).toContain('saturn.set_early_stopping(None)');
    expect(e.message).toContain('Nothing was started');
    expect(e.details).toContain('ASHA on val_loss');
  });

  it('is refused when no rung falls before a task\'s end, or rungs in epochs meet a task without epochs', () => {
    expect(thrown(() => checkEarlyStopping(inst([{ id: 'a', total_steps: 8, validates: true }]), ES)).message).toMatch(/No rung \(10, 30 steps\).*8 steps/);
    const epochs = { ...ES, unit: 'epochs' as const, rungs: [1] };
    expect(thrown(() => checkEarlyStopping(inst([{ id: 'a', total_steps: 60, validates: true }]), epochs)).message).toMatch(/steps per epoch; a has none/);
    expect(() => checkEarlyStopping(inst([{ id: 'a', total_steps: 60, validates: true, steps_per_epoch: 20 }]), epochs)).not.toThrow();
    // a task whose rungs are all past its end runs to its end, unjudged, beside one that is judged
    expect(() => checkEarlyStopping(inst([{ id: 'a', total_steps: 60, validates: true }, { id: 'b', total_steps: 5, validates: true }]), ES)).not.toThrow();
  });
});

describe('a job record\'s rungs', () => {
  const byTask = Object.fromEntries(ashaJobs().map(j => [j.task, j]));
  const rungsOf = (task: string) => jobRungs(byTask[task].state, byTask[task].info, 1000)!;

  it('says where it was promoted and stopped, with its metric there', () => {
    const stopped = rungsOf('g-lr0.1-bs8');
    expect(stopped).toMatchObject({ steps: [10, 30], total: 60, metric: 'val_loss', stopped: { rung: 30, value: 0.41 }, waitingAt: null, next: 30 });
    expect(stopped.promoted).toEqual([{ rung: 10, at_s: 1012 }]);
    expect(stateWithRung('stopped_early', stopped)).toBe('stopped early at step 30');
    expect(rungSummary(stopped)).toBe('stopped early at step 30 (val_loss 0.41); promoted at step 10 (val_loss 0.55)');
    expect(rungsOf('g-lr0.01-bs16').stopped).toEqual({ rung: 10, value: 0.9 });
    expect(jobRungs('done', { total_steps: 60, assignment: {} })).toBeNull();
  });

  it('knows which steps its planned block covers: from the rung it was promoted at before the plan, to the next', () => {
    expect(rungsOf('g-lr0.1-bs16')).toMatchObject({ from: 30, to: 60 }); // re-planned after its promotion at 30
    expect(rungsOf('g-lr0.1-bs8')).toMatchObject({ from: 10, to: 30 }); // re-planned after its promotion at 10
    expect(rungsOf('g-lr0.01-bs8')).toMatchObject({ from: 0, to: 10 }); // the first plan
    // promoted at 10, but its assignment is still the first plan's (the re-plan kept it): the block is 0..10
    const kept = { ...byTask['g-lr0.1-bs8'].info, assignment: { ...byTask['g-lr0.1-bs8'].info!.assignment, planned_origin_s: undefined } };
    expect(jobRungs('running', kept, 1000)).toMatchObject({ from: 0, to: 10 });
    // a job paused at its rung, waiting for the decision
    const waiting = jobRungs('preempted', { total_steps: 60, rung_at: 30, rung_steps: [10, 30], promotions: [{ rung: 10, at: 5 }], stopped: { reason: 'rung', step: 30, at: 9 }, assignment: { planned_origin_s: 5 } }, 0)!;
    expect(waiting).toMatchObject({ waitingAt: 30, from: 10, to: 30 });
    expect(stateWithRung('preempted', waiting)).toBe('waiting at rung 30');
    expect(segmentProgress(waiting, 20)).toBe(0.5);
  });

  it('without recorded rung steps (a run of the CLI), finds them in what the job reported', () => {
    const { rung_steps: _r, early_stopping: _e, ...info } = byTask['g-lr0.1-bs8'].info!;
    const r = jobRungs('stopped_early', info, 1000)!;
    expect(r.steps).toEqual([10, 30]);
    expect(r.metric).toBe('val_loss'); // from stopped_early
    expect(allRungSteps([r, rungsOf('g-lr0.01-bs8'), null])).toEqual([10, 30]);
  });
});

describe('a job\'s segments', () => {
  it('are the stretches it held its GPUs, each ended by its rung (promoted, stopped) or its end', () => {
    const [done, stopped, lost] = ashaJobs().map(j => jobRungs(j.state, j.info, 1000)!);
    expect(done.segments).toEqual([
      { start_s: 1, end_s: 11.5, ended: 'promoted', endStep: 10 }, // a checkpoint inside a stretch does not end it
      { start_s: 13, end_s: 39.5, ended: 'promoted', endStep: 30 },
      { start_s: 41, end_s: 60, ended: 'done', endStep: 60 }
    ]);
    expect(stopped.segments.map(s => [s.ended, s.endStep])).toEqual([
      ['promoted', 10],
      ['stopped', 30]
    ]);
    expect(lost.segments).toEqual([{ start_s: 1, end_s: 11, ended: 'stopped', endStep: 10 }]);
    // paused by a re-plan (no promotion before it runs again), then waiting at its rung; one running now
    const info = {
      total_steps: 60,
      rung_at: 10,
      stopped: { reason: 'rung', step: 10, at: 30 },
      history: [['waiting', 'running', 5], ['running', 'preempted', 8], ['preempted', 'resumed', 9], ['resumed', 'running', 12], ['running', 'preempted', 30]]
    };
    expect(jobRungs('preempted', info, 0)!.segments.map(s => s.ended)).toEqual(['paused', 'waiting']);
    const now = jobRungs('running', { ...info, history: [...info.history.slice(0, 4)] }, 0)!.segments;
    expect(now[1]).toEqual({ start_s: 12, end_s: null, ended: null, endStep: null });
  });

  it('split where the job was promoted while it waited on its GPUs and trained on (one stretch, no gap)', () => {
    const info = {
      total_steps: 60,
      rung_steps: [10, 30],
      promotions: [
        { rung: 10, at: 1012 },
        { rung: 30, at: 1040 }
      ],
      history: [['waiting', 'running', 1001], ['running', 'checkpointing', 1011.5], ['checkpointing', 'running', 1011.6], ['running', 'done', 1060]]
    };
    expect(jobRungs('done', info, 1000)!.segments).toEqual([
      { start_s: 1, end_s: 12, ended: 'promoted', endStep: 10 },
      { start_s: 12, end_s: 40, ended: 'promoted', endStep: 30 },
      { start_s: 40, end_s: 60, ended: 'done', endStep: 60 }
    ]);
    // still training after its first promotion: the open stretch goes on from there
    const now = jobRungs('running', { ...info, promotions: info.promotions.slice(0, 1), history: info.history.slice(0, 3) }, 1000)!.segments;
    expect(now).toEqual([
      { start_s: 1, end_s: 12, ended: 'promoted', endStep: 10 },
      { start_s: 12, end_s: null, ended: null, endStep: null }
    ]);
  });

  it('are drawn on the time scale, each with its rung\'s mark', () => {
    const r = jobRungs('stopped_early', ashaJobs()[1].info, 1000)!;
    const bars = segmentBars({ t0: 0, pxPerS: 2, x0: 100 }, r, null);
    expect(bars.map(b => [b.x, b.width, b.rung])).toEqual([
      [102, 19, { step: 10, outcome: 'promoted' }],
      [128, 44, { step: 30, outcome: 'stopped' }]
    ]);
    expect(bars[0].title).toBe('Held its GPUs 1s to 11s: promoted at step 10 (val_loss 0.55)');
  });
});

describe('rung marks', () => {
  it('sit on a block in proportion to the steps it covers, each with its outcome', () => {
    const r = jobRungs('stopped_early', ashaJobs()[1].info, 1000)!; // covers 10..30
    expect(rungMarks({ x: 100, width: 200 }, r)).toEqual([
      { step: 10, x: 100, outcome: 'promoted', title: 'promoted at step 10 (val_loss 0.55)' },
      { step: 30, x: 300, outcome: 'stopped', title: 'stopped early at step 30 (val_loss 0.41)' }
    ]);
    // a whole job (0..60) before its rungs: both ahead, at 1/6 and 1/2
    const fresh = jobRungs('running', { total_steps: 60, rung_at: 10, rung_steps: [10, 30], early_stopping: ES, assignment: {} })!;
    expect(fresh).toMatchObject({ from: 0, to: 10 });
    expect(rungMarks({ x: 0, width: 60 }, { ...fresh, to: 60 }).map(m => [m.step, m.x, m.outcome])).toEqual([
      [10, 10, 'ahead'],
      [30, 30, 'ahead']
    ]);
    expect(rungMarks({ x: 0, width: 60 }, { ...fresh, to: 0 })).toEqual([]);
  });

  it('on the learning curves: a line per rung inside the plotted steps', () => {
    const layout = curveLayout([{ task: 'a', points: [{ step: 0, value: 1 }, { step: 40, value: 0.5 }] }], 456, 260);
    const lines = rungLines(layout, [30, 10, 10, 500]);
    expect(lines.map(l => l.step)).toEqual([10, 30]);
    expect(lines[0].x).toBeCloseTo(layout.box.left + ((layout.box.right - layout.box.left) * 10) / layout.x.d1);
    expect(rungLines(curveLayout([], 400, 260), [10])).toEqual([]);
  });
});

describe('the run mirror under early stopping', () => {
  it('counts jobs stopped early as over: a run whose jobs are done or stopped early is done', () => {
    const s = snapshotFromJobs(ashaJobs())!;
    expect(s.phase).toBe('done');
    expect(s.jobs.map(j => j.state)).toEqual(['done', 'stopped_early', 'stopped_early', 'stopped_early']);
    const stopped = s.jobs[1];
    // it held its GPU until it paused at its rung (not until the decision)
    expect(stopped).toMatchObject({ actual_start_s: 14, actual_end_s: 36, step: 30 });
    expect(stopped.rungs).toMatchObject({ from: 10, to: 30, stopped: { rung: 30 } });
    // the re-planned blocks on the run's time axis: the last segment of the job that finished
    expect(s.plan!.jobs.find(j => j.id === 'g-lr0.1-bs16')).toMatchObject({ start_s: 40, end_s: 60 });
    // blocks planned at different moments: the chart leaves out the yardsticks of one instance
    expect(s.replanned).toBe(true);
    expect(snapshotFromJobs(asFirstPlan(ashaJobs()))!.replanned).toBeUndefined();
    const running = ashaJobs();
    running[0].state = 'running';
    expect(snapshotFromJobs(running)!.phase).toBe('running');
  });
});

describe('the run\'s plan of first segments on the chart', () => {
  const segments = (): Plan => {
    const p = smallPlan();
    const [a, b, c] = p.jobs;
    return { ...p, makespan_s: 37.5, jobs: [{ ...a, end_s: 25 }, { ...b, end_s: 30 }, { ...c, start_s: 25, end_s: 37.5 }] };
  };

  it('fits the instance to the work each block plans, the other options scaled alike', () => {
    const fitted = fitInstance(smallInstance(), segments());
    expect(fitted.jobs.map(j => j.options.map(o => o.runtime_s))).toEqual([
      [25, 45, 15],
      [30, 50],
      [12.5, 7.5]
    ]);
    expect(fitInstance(smallInstance(), smallPlan())).toEqual(smallInstance());
    const slow = { ...smallInstance(), jobs: smallInstance().jobs.map(j => ({ ...j, options: j.options.map(o => ({ ...o, startup_s: 10 })) })) };
    const tiny = fitInstance(slow, { ...smallPlan(), jobs: [{ ...smallPlan().jobs[0], end_s: 5 }] }).jobs[0].options[0];
    expect(tiny.runtime_s + tiny.startup_s!).toBeCloseTo(5);
  });

  it('replaces the plan the page ran with the run\'s own, without an error', () => {
    const plans = new PlanStore(new FakeBridge(), null, {
      changed: () => undefined,
      say: () => undefined,
      settings: () => DEFAULT_SETTINGS,
      planReady: () => undefined,
      beforeNewPlan: () => undefined,
      planChanged: () => undefined
    });
    plans.setInstance(smallInstance());
    plans.setPlan(smallInstance(), smallPlan());
    const mirror = new RunMirror({ canStart: true } as any, plans, { changed: () => undefined, say: () => undefined, settings: () => DEFAULT_SETTINGS, devices: () => null });
    mirror.show({ phase: 'running', started_at_ms: 1000, plan: segments(), jobs: [{ job: 'A', state: 'running' }], message: 'r1' });
    const pm = plans.planModel!;
    expect(pm.lastResult).toMatchObject({ ok: true, label: 'Re-planned during the run' });
    expect(pm.plan.jobs.map(j => j.end_s)).toEqual([25, 30, 37.5]);
    // an edit during the run previews on the segments' work
    expect(pm.preview({ kind: 'move', job: 'C', start_s: 40 }).ok).toBe(true);
    expect(plans.instance!.jobs[0].options[0].runtime_s).toBe(100); // the profiled instance is untouched
  });
});

describe('starting a run early stopping refuses', () => {
  it('tells the user what is wrong and what to do, not only that the plan could not start', async () => {
    const said: Array<[string, unknown]> = [];
    const hooks = { changed: () => undefined, say: (m: string, e?: unknown) => void said.push([m, e]), settings: () => DEFAULT_SETTINGS, devices: () => null };
    const plans = new PlanStore(new FakeBridge(), null, { ...hooks, planReady: () => undefined, beforeNewPlan: () => undefined, planChanged: () => undefined });
    plans.setInstance(smallInstance());
    plans.setPlan(smallInstance(), smallPlan());
    plans.save = async () => undefined;
    const refusal = new EarlyStoppingError('Early stopping ranks jobs by their validation val_loss, but this task has no validation: C. …', 'details');
    const runner = { canStart: true, start: async () => Promise.reject(refusal) } as any;
    await new RunMirror(runner, plans, hooks).start();
    expect(said).toEqual([[refusal.message, 'details']]);
  });
});
