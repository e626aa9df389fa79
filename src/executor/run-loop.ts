/**
 * The one run loop, shared by the page (`src/ui/adapters/executor-starter.ts`) and the CLI (`cli-run.ts`). Each
 * `step()`:
 *
 *   [early stopping: judge the rungs] → tick (the dispatch rules) → lost nodes → give-ups → introspection → apply
 *   the new plan
 *
 * Jobs stranded on a node the cluster reports unusable, and jobs given up, force a re-plan of the remaining work
 * whatever the introspection setting (the threshold is 0 then: the rest must be planned again); the periodic
 * introspection runs every `introspectionIntervalS` (0 = never) and switches only when better by `thresholdS`; with
 * it on, a job that finishes while others still wait to start also re-plans at once, switching only for a plan
 * shorter by `EVENT_SWITCH_FRAC` (and `EVENT_SWITCH_S`): a job that ran shorter than profiled frees its GPUs early.
 *
 * With early stopping (`earlyStopping`: SHA or ASHA, `rungs.ts`), every job trains to its next rung (`info.rung_at`),
 * validates and checkpoints there, and waits on its GPUs for the verdict (`rungSettings`: `rung_hold_s`); each step
 * judges the jobs that reported at a rung: a promoted job gets its next rung (or runs to its end) and trains on where
 * it is (one paused at its rung waits to be resumed), a job that must wait for the others is paused (it frees its
 * GPUs), a job that lost stops early (`stopped_early`, checkpoint and history kept).
 * Every judgement forces a re-plan at once, so the GPUs the stopped jobs freed and the survivors' remaining work are
 * planned together (a survivor may get more GPUs or another technique through its checkpoint). With early stopping
 * every re-plan aims at the time until the best job is done (`Introspector.ranked`: the survivors first, in ASHA's
 * order, then the new trials in job order; nothing under way moves, so the plan is always taken); should it fail,
 * the makespan re-plan above stands in.
 */
import { Dispatcher } from './dispatcher';
import { IInstanceLike, IReplanDecision, Introspector } from './introspection';
import { JobState } from './job-state';
import { holdingAt, unusableNodes } from './rules';
import { IEarlyStopping, nextRung, rungSteps, segmentSeconds, survivors, valueAtRung, verdictActions } from './rungs';
import { IJobRecord, ISnapshot } from './types';

/** A re-plan at an event (a rung's judgement, a job's end) switches when at least this share sooner than carrying on (and `EVENT_SWITCH_S`). */
const EVENT_SWITCH_FRAC = 0.03;
const EVENT_SWITCH_S = 1;

export interface IRunLoopOptions {
  /** Seconds between periodic re-plans; 0 = only the forced ones (lost nodes, give-ups). */
  introspectionIntervalS: number;
  /** A periodic re-plan is applied only when it finishes this many seconds sooner. */
  thresholdS: number;
  /** SHA/ASHA over a validation metric; null or absent: every job runs to its end. */
  earlyStopping?: IEarlyStopping | null;
  log?: (message: string) => void;
}

/** What early stopping did, for the summary and the chart. */
export interface IRungEvent {
  at: number;
  job: string;
  rung: number;
  decision: 'promoted' | 'stopped';
  value: number | null;
  next: number | null;
}

/**
 * Seconds until the loop should step again: `idleS`, or sooner when a running job's reported ETA (its progress, on
 * the store's clock) says it ends before then, and then every `soonS` until it has: the GPUs it frees go to the next
 * job without waiting out a whole poll interval.
 */
export function nextStepInS(snap: ISnapshot, idleS: number, soonS = 0.2): number {
  let wait = idleS;
  for (const j of snap.jobs) {
    if (holdingAt(j) !== null) {
      return Math.min(soonS, idleS); // waiting on its GPUs for a verdict
    }
    const p = j.info.progress;
    if (j.state !== JobState.Running || typeof p?.eta_s !== 'number') {
      continue;
    }
    const left = p.eta_s - (typeof p.at === 'number' ? Math.max(0, snap.now - p.at) : 0);
    wait = Math.min(wait, Math.max(soonS, left));
  }
  return Math.max(Math.min(soonS, idleS), wait);
}

export class RunLoop {
  constructor(
    readonly dispatcher: Dispatcher,
    /** Null when there is no solver (nothing can be re-planned; the plan runs as it is). */
    readonly introspector: Introspector | null,
    private readonly options: IRunLoopOptions
  ) {}

  get finished(): boolean {
    return this.dispatcher.finished;
  }

  /** Promotions and early stops so far. */
  readonly rungEvents: IRungEvent[] = [];

  /** Re-plans decided so far (for the summary). */
  get decisions(): readonly IReplanDecision[] {
    return this.introspector?.decisions ?? [];
  }

  async step(): Promise<ISnapshot> {
    const d = this.dispatcher;
    const es = this.options.earlyStopping;
    // judge inside the tick, before the dispatch rules run: a survivor paused at its rung keeps its place against the
    // new trials that wait for its GPUs (judged after the tick, one could take them the moment it was promoted), and
    // it is not resumed where it paused before the re-plan below has placed it (more GPUs, another technique); the
    // GPUs of the jobs stopped early go to the next work in this tick
    let judged = false;
    const snap = await d.tick(
      es
        ? async pre => {
            const promoted = await this.judgeRungs(pre, es);
            judged = promoted !== null;
            return promoted;
          }
        : undefined
    );
    const asked = d.takeReplan();
    let force = false;
    if (asked?.cause === 'lost_node' && this.introspector?.lostNodesDue(snap, snap.now)) {
      this.log(`node(s) ${[...unusableNodes(snap)].join(', ')} unusable: re-planning ${asked.jobs.join(', ')}`);
      force = true;
    } else if (asked?.cause === 'given_up') {
      this.log(`job(s) ${asked.jobs.join(', ')} given up: re-planning the rest`);
      force = true;
    }
    const on = this.options.introspectionIntervalS > 0;
    const periodic = on && !!this.introspector?.due(snap.now);
    // a job that just finished freed its GPUs: with work still waiting to start, plan it again now (a job that ran
    // shorter than profiled leaves its GPUs idle until the next periodic re-plan otherwise); as at a rung, the new
    // plan is taken only when it is really shorter
    const freed = this.newlyDone(snap) && snap.jobs.some(j => j.state === JobState.Pending);
    const event = judged || (on && freed);
    if (force || event || periodic) {
      await this.replan(snap, force ? 'forced' : event ? 'event' : 'periodic', judged);
    }
    return snap;
  }

  /**
   * Plan the remaining work again. With early stopping, for the time to best (`Introspector.ranked`), whose plan is
   * taken; without it, or should that fail, for the makespan: a forced re-plan (lost nodes, give-ups) switches for any
   * gain, one at an event (a judgement, a job's end) only for a plan really shorter, a periodic one by `thresholdS`.
   * After a judgement a plan that is not taken still gives the survivors' next segments their times.
   */
  private async replan(snap: ISnapshot, kind: 'forced' | 'event' | 'periodic', judged: boolean): Promise<void> {
    const d = this.dispatcher;
    const intro = this.introspector;
    if (!intro || d.finished) {
      return;
    }
    const es = this.options.earlyStopping;
    const ranked = es ? await intro.ranked(snap, snap.now, survivors(snap.jobs, es)) : null;
    if (ranked?.error) {
      this.log(`introspection: ${ranked.reason}; planning for the makespan instead`);
    }
    const decision =
      ranked && !ranked.error
        ? ranked
        : kind === 'forced'
          ? await intro.check(snap, snap.now, 0)
          : kind === 'event'
            ? await intro.check(snap, snap.now, Math.min(this.options.thresholdS, EVENT_SWITCH_S), EVENT_SWITCH_FRAC)
            : await intro.check(snap, snap.now, this.options.thresholdS);
    this.log(`introspection: ${decision.reason}`);
    if (decision.switched && decision.plan) {
      await d.applyPlan({ ...decision.plan, origin_s: snap.now }, intro.knobsOf);
    } else if (judged && decision.current) {
      // kept: the survivors' next segments where they are, at the times carrying on gives them
      await d.applyTimes({ ...decision.current, origin_s: snap.now });
    }
  }

  /** True when a job is done that was not at the previous step. */
  private newlyDone(snap: ISnapshot): boolean {
    let fresh = false;
    for (const j of snap.jobs) {
      if (j.state === JobState.Done && !this.done.has(j.id)) {
        this.done.add(j.id);
        fresh = true;
      }
    }
    return fresh;
  }

  private readonly done = new Set<string>();

  /**
   * Judge the jobs that reported at a rung: paused there, or waiting there on their GPUs (`holdingAt`); when a job
   * was promoted or stopped, the jobs promoted (possibly none; null: nothing was decided). A promoted job that waits on its GPUs trains on there
   * (its runner sees the promotion); a job judged out, or one whose GPUs other work waits for, is asked to pause (it
   * frees them; judged out, it is stopped early once paused, by the same rule); the others go on waiting for the jobs
   * still to report.
   */
  private async judgeRungs(snap: ISnapshot, es: IEarlyStopping): Promise<string[] | null> {
    const d = this.dispatcher;
    const byId = new Map(snap.jobs.map(j => [j.id, j]));
    const promoted: string[] = [];
    let stopped = 0;
    for (const a of verdictActions(snap.jobs, es)) {
      const rec = byId.get(a.job)!;
      if (a.kind === 'promote') {
        const promotions = [...(rec.info.promotions ?? []), { rung: a.rung, at: snap.now }];
        await d.store.update(a.job, { rung_at: a.rung_at, stopped: null, promotions }, 'job.promoted');
        this.record(snap.now, rec, a.rung, 'promoted', a.rung_at, es);
        promoted.push(a.job);
      } else if (a.kind === 'stop_early') {
        await d.store.transition(a.job, JobState.StoppedEarly, { stopped_early: { rung: a.rung, at: snap.now, metric: es.metric } }, [JobState.Preempted]);
        this.record(snap.now, rec, a.rung, 'stopped', null, es);
        stopped++;
      } else {
        await d.store.requestStop(a.job, 'rung');
      }
    }
    return promoted.length + stopped > 0 ? promoted : null;
  }

  private record(at: number, rec: IJobRecord, rung: number, decision: IRungEvent['decision'], next: number | null, es: IEarlyStopping): void {
    const job = rec.id;
    const v = valueAtRung(rec, rung, es.metric);
    this.rungEvents.push({ at, job, rung, decision, value: v, next });
    this.log(`early stopping: ${job} ${decision} at step ${rung} (${es.metric} ${v ?? 'missing'})` + (next !== null ? `, next rung at step ${next}` : ''));
  }

  private log(message: string): void {
    this.options.log?.(message);
  }
}

/** Seconds a runner waits on its GPUs at a rung for the verdict before it pauses (a dispatcher judges every step). */
export const RUNG_HOLD_S = 10;

/**
 * What a job records of early stopping when its run starts: its first rung (`rung_at`), its rung steps, the
 * configuration it is judged by (the page draws them; a reloaded page judges alike) and how long it waits at a rung.
 */
export function rungSettings(es: IEarlyStopping, totalSteps: number | null | undefined, stepsPerEpoch: number | null, firstRung: number | null): Record<string, unknown> {
  const steps = totalSteps ? rungSteps(es, totalSteps, stepsPerEpoch) : [];
  return { rung_at: firstRung, rung_steps: steps, early_stopping: es, rung_hold_s: RUNG_HOLD_S };
}

/**
 * Early stopping for a run that starts: each job's first rung (`rung_at`, into its job settings) and the instance
 * the first plan is made from, whose runtimes end at each job's first rung (a job's planned work is one segment; every
 * rung is a re-plan). Throws when a task cannot be judged (no validation metric) or its rungs need epochs it lacks.
 */
export function firstSegments(instance: IInstanceLike, es: IEarlyStopping): { instance: IInstanceLike; rungAt: Record<string, number | null> } {
  const rungAt: Record<string, number | null> = {};
  const blind = instance.jobs.filter(j => j.validates === false).map(j => j.id);
  if (blind.length) {
    throw new Error(`early stopping needs a validation metric from every task; ${blind.join(', ')} ha${blind.length > 1 ? 've' : 's'} no validate=`);
  }
  const jobs = instance.jobs.map(j => {
    const total = Number(j.total_steps ?? 0);
    const first = total ? nextRung(rungSteps(es, total, (j.steps_per_epoch as number | undefined) ?? null), 0) : null;
    rungAt[j.id] = first;
    return { ...j, options: j.options.map(o => ({ ...o, runtime_s: Math.max(1e-9, segmentSeconds(o.runtime_s, 0, first ?? total, total)) })) };
  });
  return { instance: { ...instance, jobs }, rungAt };
}
