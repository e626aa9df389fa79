/**
 * Early stopping (SHA / ASHA, src/executor/rungs.ts) as the page sees it, in pure functions: the configuration from
 * the settings (or, by default, from Python: `saturn.set_early_stopping`), the checks that refuse a run it cannot
 * judge (naming the tasks and what to do), and what a job record says about its rungs: where they are, which it
 * reported at, where it was promoted, where it waits or stopped, and which steps its planned block covers.
 */
import type { IEarlyStopping } from '../../executor/rungs';
import { rungSteps } from '../../executor/rungs';
import type { Instance } from '../../spase/types';
import type { ISaturnSettings } from './interfaces';

/** Settings → Saturn → Early stopping: as set from Python (default), off, or ASHA/SHA with the settings' fields. */
export type EarlyStoppingSetting = 'python' | 'off' | 'asha' | 'sha';

/** A configuration that cannot work: its message says what is wrong and what to do; nothing was started. */
export class EarlyStoppingError extends Error {
  constructor(
    message: string,
    readonly details?: string
  ) {
    super(message);
    this.name = 'EarlyStoppingError';
  }
}

const OFF_HINT = 'or turn early stopping off (Settings → Saturn → Early stopping: Off; from Python: saturn.set_early_stopping(None))';

/** Rungs as the settings hold them (text "100,300,600" or a list of numbers), checked: increasing and positive. */
export function parseRungs(value: unknown): number[] {
  const parts = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,;]+/).filter(Boolean) : [];
  const rungs = parts.map(p => (typeof p === 'number' ? p : Number(p)));
  if (!rungs.length) {
    throw new EarlyStoppingError(`Early stopping needs its rungs: set Settings → Saturn → Early stopping rungs (e.g. 100,300,600), ${OFF_HINT}.`);
  }
  if (rungs.some(r => !Number.isFinite(r) || r <= 0) || rungs.some((r, i) => i > 0 && r <= rungs[i - 1])) {
    throw new EarlyStoppingError(`The early stopping rungs must be increasing positive numbers, e.g. 100,300,600; got ${JSON.stringify(value)}.`);
  }
  return rungs;
}

/** The configuration the settings give: null (off), 'python' (ask the store), or SHA/ASHA from the fields. */
export function earlyStoppingFromSettings(s: Partial<ISaturnSettings>): IEarlyStopping | null | 'python' {
  const kind = s.earlyStopping ?? 'python';
  if (kind === 'off') {
    return null;
  }
  if (kind !== 'asha' && kind !== 'sha') {
    return 'python';
  }
  const eta = Number(s.earlyStoppingEta ?? 2);
  if (!(eta > 1)) {
    throw new EarlyStoppingError(`The early stopping reduction factor (eta) must be greater than 1, got ${s.earlyStoppingEta}.`);
  }
  const metric = (s.earlyStoppingMetric ?? '').trim();
  if (!metric) {
    throw new EarlyStoppingError(`Early stopping needs the validation metric it ranks jobs by (Settings → Saturn → Early stopping metric, e.g. val_loss), ${OFF_HINT}.`);
  }
  return {
    kind,
    metric,
    mode: s.earlyStoppingMode === 'max' ? 'max' : 'min',
    rungs: parseRungs(s.earlyStoppingRungs),
    eta,
    unit: s.earlyStoppingUnit === 'epochs' ? 'epochs' : 'steps',
    ...(s.earlyStoppingMoveSurvivors === true ? { move_survivors: true } : {})
  };
}

/** The early stopping of a run started now: the settings', or by default what Python set (`fromPython`). */
export async function resolveEarlyStopping(s: Partial<ISaturnSettings>, fromPython: () => Promise<IEarlyStopping | null>): Promise<IEarlyStopping | null> {
  const cfg = earlyStoppingFromSettings(s);
  return cfg === 'python' ? await fromPython() : cfg;
}

/** One line: "ASHA on val_loss (lower is better), rungs at 100, 300 steps, eta 2" (", survivors under way may move"). */
export function describeEarlyStopping(es: IEarlyStopping): string {
  return (
    `${es.kind.toUpperCase()} on ${es.metric} (${es.mode === 'min' ? 'lower' : 'higher'} is better), rungs at ${es.rungs.join(', ')} ${es.unit}, eta ${es.eta}` +
    (es.move_survivors ? ', survivors under way may move' : '')
  );
}

function listed(names: string[]): string {
  return names.length > 6 ? `${names.slice(0, 6).join(', ')} and ${names.length - 6} more` : names.join(', ');
}

/**
 * Refuse a run early stopping cannot judge, before anything starts: a task without validation (`validates: false`
 * in the profiled instance), rungs in epochs for a task without steps per epoch, rungs that no task reaches.
 */
export function checkEarlyStopping(instance: Pick<Instance, 'jobs'>, es: IEarlyStopping): void {
  const what = describeEarlyStopping(es);
  const blind = instance.jobs.filter(j => j.validates === false).map(j => j.id);
  if (blind.length) {
    throw new EarlyStoppingError(
      `Early stopping ranks jobs by their validation ${es.metric}, but ${blind.length > 1 ? 'these tasks have' : 'this task has'} no validation: ` +
        `${listed(blind)}. Register ${blind.length > 1 ? 'them' : 'it'} with validate=… (and eval_every=…), ${OFF_HINT}. Nothing was started.`,
      `Early stopping: ${what}.\nTasks without validate=: ${blind.join(', ')}.`
    );
  }
  const noEpochs: string[] = [];
  let judged = 0;
  for (const j of instance.jobs) {
    const total = Number(j.total_steps ?? 0);
    try {
      judged += total && rungSteps(es, total, (j.steps_per_epoch as number | undefined) ?? null).length ? 1 : 0;
    } catch {
      noEpochs.push(j.id);
    }
  }
  if (noEpochs.length) {
    throw new EarlyStoppingError(
      `Rungs in epochs need each task's steps per epoch; ${listed(noEpochs)} ${noEpochs.length > 1 ? 'have' : 'has'} none. ` +
        `Register ${noEpochs.length > 1 ? 'them' : 'it'} with epochs=…, give the rungs in steps, ${OFF_HINT}. Nothing was started.`,
      `Early stopping: ${what}.`
    );
  }
  if (!judged && instance.jobs.length) {
    const steps = [...new Set(instance.jobs.map(j => Number(j.total_steps ?? 0)).filter(Boolean))].sort((a, b) => a - b);
    throw new EarlyStoppingError(
      `No rung (${es.rungs.join(', ')} ${es.unit}) falls before the end of any task${steps.length ? ` (the tasks have ${listed(steps.map(String))} steps)` : ''}: ` +
        `nothing would be judged. Give rungs below the tasks' step counts, ${OFF_HINT}. Nothing was started.`,
      `Early stopping: ${what}.`
    );
  }
}

/** What a job record says about its rungs (null: the job is not under early stopping). */
export interface IJobRungs {
  /** Its rung steps, increasing (each below its total). */
  steps: number[];
  total: number;
  /** The metric it is judged by (null: not recorded). */
  metric: string | null;
  /** The steps its current planned block covers: from the rung it was promoted at (or 0) to its next rung (or end). */
  from: number;
  to: number;
  /** Rung step → the metric's value reported there (null: reported without it). */
  reports: Record<number, number | null>;
  /** The rungs it was promoted at, in order (`at_s`: store clock). */
  promoted: Array<{ rung: number; at_s: number | null }>;
  /** The rung it is paused at, waiting for the decision. */
  waitingAt: number | null;
  /** Where early stopping stopped it, and its metric there. */
  stopped: { rung: number; value: number | null } | null;
  /** The rung it trains to now (null: to its end). */
  next: number | null;
  /** When it really held its GPUs, segment by segment (its state history), each ended by a rung or its end. */
  segments: IRunSegment[];
}

/** One stretch a job held its GPUs (running, checkpoints included), in seconds since the run's start. */
export interface IRunSegment {
  start_s: number;
  /** Null while it runs. */
  end_s: number | null;
  /** How it ended: at a rung (`promoted`, `stopped`, `waiting` for the decision), its end (`done`), or otherwise. */
  ended: RungOutcome | 'done' | 'paused' | 'failed' | 'cancelled' | null;
  /** The step it ended at when known: the rung, or the job's total steps. */
  endStep: number | null;
}

const HOLDING = new Set(['running', 'checkpointing']);

/**
 * A job's segments from its state history (`info.history`: [from, to, time] per transition): each stretch from
 * entering `running` to leaving running/checkpointing. A stretch that ended `preempted` and was followed by a
 * promotion (before the next stretch) ended at that promotion's rung; the last one of a job stopped early or waiting
 * ends at that rung. A promotion during a stretch (the job waited on its GPUs at its rung and trained on) ends a
 * segment there without a gap. The store keeps the last 40 transitions: a long job's first stretches may be
 * missing. Pure.
 */
export function runSegments(
  state: string,
  info: Record<string, any>,
  promoted: Array<{ rung: number; at_s: number | null }>,
  stoppedRung: number | null,
  waitingAt: number | null,
  total: number,
  runStartS: number
): IRunSegment[] {
  const history = Array.isArray(info.history) ? (info.history as unknown[][]) : [];
  const raw: Array<{ start: number; end: number | null; to: string | null }> = [];
  let open: number | null = null;
  for (const h of history) {
    const [from, to, t] = [String(h[0]), String(h[1]), Number(h[2])];
    if (!Number.isFinite(t)) {
      continue;
    }
    if (to === 'running' && from !== 'checkpointing') {
      open = t;
    } else if (HOLDING.has(from) && !HOLDING.has(to) && open !== null) {
      raw.push({ start: open, end: t, to });
      open = null;
    }
  }
  if (open !== null) {
    raw.push({ start: open, end: null, to: null });
  }
  const used = new Set<number>();
  // promoted in place: the stretch splits at the verdict
  const inPlace = new Map<number, number>(); // index into `pieces` → promotion index
  const pieces: typeof raw = [];
  for (const seg of raw) {
    let start = seg.start;
    promoted.forEach((p, k) => {
      if (p.at_s !== null && p.at_s > start + 1e-6 && p.at_s < (seg.end ?? Infinity) - 1e-6) {
        inPlace.set(pieces.length, k);
        used.add(k);
        pieces.push({ start, end: p.at_s, to: null });
        start = p.at_s;
      }
    });
    pieces.push({ ...seg, start });
  }
  const rel = (t: number): number => Math.max(0, t - runStartS);
  return pieces.map((seg, i) => {
    const k = inPlace.get(i);
    if (k !== undefined) {
      return { start_s: rel(seg.start), end_s: rel(seg.end!), ended: 'promoted' as const, endStep: promoted[k].rung };
    }
    const next = pieces[i + 1]?.start ?? Infinity;
    const last = i === pieces.length - 1;
    let ended: IRunSegment['ended'] = null;
    let endStep: number | null = null;
    if (seg.to === 'preempted') {
      const p = promoted.findIndex((x, k) => !used.has(k) && x.at_s !== null && x.at_s >= seg.end! - 1e-6 && x.at_s <= next + 1e-6);
      if (p >= 0) {
        used.add(p);
        ended = 'promoted';
        endStep = promoted[p].rung;
      } else if (last && state === 'stopped_early' && stoppedRung !== null) {
        ended = 'stopped';
        endStep = stoppedRung;
      } else if (last && waitingAt !== null) {
        ended = 'waiting';
        endStep = waitingAt;
      } else {
        ended = 'paused';
      }
    } else if (seg.to === 'done') {
      ended = 'done';
      endStep = total || null;
    } else if (seg.to === 'failed' || seg.to === 'cancelled') {
      ended = seg.to;
    }
    return { start_s: rel(seg.start), end_s: seg.end === null ? null : rel(seg.end), ended, endStep };
  });
}

/** The outcome of one rung of a job, as the chart and the curves draw it. */
export type RungOutcome = 'promoted' | 'stopped' | 'waiting' | 'reported' | 'ahead';

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * A job's rungs from its record (`state`, `info` as the bridge's `jobs` request lists them). `runStartS`: the run's
 * start (store clock), the origin of assignments that carry no `planned_origin_s`. Pure.
 */
export function jobRungs(state: string, info: Record<string, any> | undefined, runStartS = 0): IJobRungs | null {
  if (!info) {
    return null;
  }
  const es = info.early_stopping as Partial<IEarlyStopping> | undefined;
  const reportsRaw = (info.rung_reports ?? {}) as Record<string, Record<string, unknown> | null>;
  const promotedRaw = Array.isArray(info.promotions) ? (info.promotions as Array<{ rung?: unknown; at?: unknown }>) : [];
  const stoppedEarly = info.stopped_early as { rung?: unknown; metric?: unknown } | undefined;
  const under = !!es || 'rung_at' in info || Array.isArray(info.rung_steps) || Object.keys(reportsRaw).length > 0 || promotedRaw.length > 0 || !!stoppedEarly;
  if (!under) {
    return null;
  }
  const total = Number(info.progress?.total_steps ?? info.total_steps ?? 0) || 0;
  const metric = typeof es?.metric === 'string' ? es.metric : typeof stoppedEarly?.metric === 'string' ? stoppedEarly.metric : null;
  const reports: Record<number, number | null> = {};
  for (const [step, metrics] of Object.entries(reportsRaw)) {
    reports[Number(step)] = metric ? num(metrics?.[metric]) : null;
  }
  const promoted = promotedRaw
    .map(p => ({ rung: Number(p.rung), at_s: num(p.at) }))
    .filter(p => Number.isFinite(p.rung))
    .sort((a, b) => a.rung - b.rung);
  const next = num(info.rung_at);
  const stoppedRung = stoppedEarly ? num(stoppedEarly.rung) : null;
  const stopped = state === 'stopped_early' && stoppedRung !== null ? { rung: stoppedRung, value: reports[stoppedRung] ?? null } : null;
  const waitingAt = state === 'preempted' && info.stopped?.reason === 'rung' ? num(info.stopped.step) : null;
  const known = Array.isArray(info.rung_steps)
    ? (info.rung_steps as unknown[]).map(Number)
    : [...Object.keys(reports).map(Number), ...promoted.map(p => p.rung), ...(next !== null ? [next] : []), ...(stoppedRung !== null ? [stoppedRung] : [])];
  const steps = [...new Set(known.filter(s => Number.isFinite(s) && s > 0 && (!total || s < total)))].sort((a, b) => a - b);
  // the planned block is the segment its assignment was made for: the rungs it was promoted at before that moment
  const origin = num(info.assignment?.planned_origin_s) ?? runStartS;
  const from = Math.max(0, ...promoted.filter(p => p.at_s === null || p.at_s <= origin + 1e-6).map(p => p.rung));
  const to = steps.find(s => s > from) ?? (total || Math.max(from, ...steps));
  const segments = runSegments(state, info, promoted, stoppedRung, waitingAt, total, runStartS);
  return { steps, total, metric, from, to, reports, promoted, waitingAt, stopped, next, segments };
}

/** The outcome of rung `step` of a job. */
export function rungOutcome(r: IJobRungs, step: number): RungOutcome {
  if (r.stopped?.rung === step) {
    return 'stopped';
  }
  if (r.promoted.some(p => p.rung === step)) {
    return 'promoted';
  }
  if (r.waitingAt === step) {
    return 'waiting';
  }
  return step in r.reports ? 'reported' : 'ahead';
}

/** The value a job reported at `step` as text for titles: "val_loss 0.41" (empty when unknown). */
export function rungValueText(r: IJobRungs, step: number, format: (v: number) => string = v => String(Number(v.toPrecision(3)))): string {
  const v = r.reports[step];
  return r.metric && typeof v === 'number' ? `${r.metric} ${format(v)}` : '';
}

/** One line about a rung of a job, e.g. "stopped early at step 30 (val_loss 0.41)". */
export function rungText(r: IJobRungs, step: number): string {
  const value = rungValueText(r, step);
  const v = value ? ` (${value})` : '';
  switch (rungOutcome(r, step)) {
    case 'stopped':
      return `stopped early at step ${step}${v}`;
    case 'promoted':
      return `promoted at step ${step}${v}`;
    case 'waiting':
      return `waiting at step ${step} for the rung's decision${v}`;
    case 'reported':
      return `reported at step ${step}${v}`;
    default:
      return `rung at step ${step}`;
  }
}

/** A job's state in words, with its rung when early stopping stopped it or it waits at one. */
export function stateWithRung(state: string, r: IJobRungs | null | undefined): string {
  if (state === 'stopped_early') {
    return r?.stopped ? `stopped early at step ${r.stopped.rung}` : 'stopped early';
  }
  if (r?.waitingAt !== null && r?.waitingAt !== undefined && state === 'preempted') {
    return `waiting at rung ${r.waitingAt}`;
  }
  return state;
}

/** Where a block's planned segment is along its steps, 0..1 (the part of `from`..`to` done at `step`). */
export function segmentProgress(r: IJobRungs, step: number | undefined): number {
  if (step === undefined || r.to <= r.from) {
    return 0;
  }
  return Math.max(0, Math.min(1, (step - r.from) / (r.to - r.from)));
}

/** Every rung step of these jobs (the lines of the learning curves), increasing. */
export function allRungSteps(rungs: Iterable<IJobRungs | null | undefined>): number[] {
  const out = new Set<number>();
  for (const r of rungs) {
    r?.steps.forEach(s => out.add(s));
  }
  return [...out].sort((a, b) => a - b);
}
