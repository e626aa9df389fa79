/**
 * The plan being looked at and edited: the current plan, pins, undo/redo, and edits that are validated (geometry
 * conflicts first, then the SPASE validator) before they are applied. Pure TypeScript: no DOM, no JupyterLab.
 */
import { ISignal, Signal } from '@lumino/signaling';
import { Instance, Pin, Plan, PlannedJob } from '../../spase/types';
import { sameAssignment } from '../../executor/dispatcher';
import { isActive } from '../../executor/job-state';
import { validatePlan } from '../../spase/validate';
import { describeConflicts, findConflicts } from './conflicts';
import { formatDuration } from './format';

/** Job states as the chart shows them (the executor's states, plus `planned` before a run). */
export type JobState =
  | 'planned'
  | 'pending'
  | 'waiting'
  | 'running'
  | 'checkpointing'
  | 'preempted'
  | 'done'
  | 'failed'
  | 'cancelled'
  | 'stopped_early';

/** `instance` without the jobs `ids` (and their pins). */
function withoutJobs(instance: Instance, ids: ReadonlySet<string>): Instance {
  if (!ids.size) {
    return instance;
  }
  return {
    ...instance,
    jobs: instance.jobs.filter(j => !ids.has(j.id)),
    pins: instance.pins?.filter(p => !ids.has(p.job)),
    running: instance.running?.filter(r => !ids.has(r.job))
  };
}

/** Jobs in these states cannot be edited any more. */
export const LOCKED_STATES: ReadonlySet<JobState> = new Set<JobState>([
  'running',
  'checkpointing',
  'done',
  'failed',
  'cancelled',
  'stopped_early'
]);

export type PlanEdit =
  | { kind: 'move'; job: string; start_s: number; node?: string; gpu_ids?: number[] }
  | { kind: 'option'; job: string; parallelism: string; gpus: number }
  | { kind: 'pin'; job: string }
  | { kind: 'unpin'; job: string };

export interface IEditResult {
  ok: boolean;
  /** Why the edit cannot be applied (empty when ok). */
  reasons: string[];
  /** The plan after the edit (also given when not ok, for previews). */
  plan: Plan;
  /** New makespan minus old makespan (s). */
  delta_s: number;
  /** One line describing the edit, e.g. `Move "A" to node0 GPU 2–3 at 1m 20s`. */
  label: string;
}

interface ISnapshot {
  plan: Plan;
  pins: Pin[];
  label: string;
  delta_s: number;
}

export function makespanOf(jobs: PlannedJob[]): number {
  return jobs.reduce((m, j) => Math.max(m, j.end_s), 0);
}

function idsLabel(ids: number[]): string {
  const s = [...ids].sort((a, b) => a - b);
  return s.length > 1 && s[s.length - 1] - s[0] === s.length - 1 ? `${s[0]}–${s[s.length - 1]}` : s.join(', ');
}

export function formatDelta(delta: number): string {
  if (Math.abs(delta) < 0.05) {
    return '±0s';
  }
  return `${delta > 0 ? '+' : '−'}${formatDuration(Math.abs(delta))}`;
}

/** The pin that keeps a planned job exactly where it is. */
export function pinFor(j: PlannedJob): Pin {
  return {
    job: j.id,
    parallelism: j.parallelism,
    gpus: j.gpus,
    node: j.node,
    gpu_ids: [...j.gpu_ids].sort((a, b) => a - b),
    start_s: j.start_s
  };
}

export class PlanModel {
  /**
   * @param instance the instance the plan solves (its own `pins` are ignored: pins live here)
   * @param plan the first plan
   */
  constructor(instance: Instance, plan: Plan) {
    this._instance = { ...instance, pins: undefined };
    this._plan = plan;
    this._pins = new Map((plan.jobs.filter(j => j.pinned).map(j => [j.id, pinFor(j)]) as [string, Pin][]));
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get instance(): Instance {
    return this._instance;
  }

  get plan(): Plan {
    return this._plan;
  }

  get pins(): Pin[] {
    return [...this._pins.values()];
  }

  isPinned(job: string): boolean {
    return this._pins.has(job);
  }

  /** States of jobs during a run; jobs not listed are `planned`. */
  get states(): ReadonlyMap<string, JobState> {
    return this._states;
  }

  stateOf(job: string): JobState {
    return this._states.get(job) ?? 'planned';
  }

  setStates(states: Map<string, JobState>): void {
    this._states = states;
    this._changed.emit();
  }

  get canUndo(): boolean {
    return this._undo.length > 0;
  }

  get canRedo(): boolean {
    return this._redo.length > 0;
  }

  /** Labels and makespan deltas of the applied edits, oldest first. */
  get history(): { label: string; delta_s: number }[] {
    return this._undo.map(s => ({ label: s.label, delta_s: s.delta_s }));
  }

  /** The last edit result (accepted or rejected), for the chart's status line. */
  get lastResult(): IEditResult | null {
    return this._last;
  }

  /** The instance to give the solver for "Re-optimize": pins keep pinned jobs where they are. */
  instanceForSolve(lockStarted = true): Instance {
    // Jobs that already started (or ended) stay where they are: a re-optimized plan may only move the others.
    const pins = new Map(this._pins);
    for (const j of lockStarted ? this._plan.jobs : []) {
      if (LOCKED_STATES.has(this.stateOf(j.id))) {
        pins.set(j.id, pinFor(j));
      }
    }
    const all = [...pins.values()];
    return { ...this._instance, pins: all.length ? all : undefined };
  }

  /** What `edit` would do, without applying it. */
  preview(edit: PlanEdit): IEditResult {
    const old = this._plan;
    const job = old.jobs.find(j => j.id === edit.job);
    if (!job) {
      return this._result(false, [`There is no job "${edit.job}" in this plan.`], old, edit.job);
    }
    const state = this.stateOf(job.id);
    if ((edit.kind === 'move' || edit.kind === 'option') && LOCKED_STATES.has(state)) {
      return this._result(false, [`"${job.id}" is ${state}; only jobs that have not started can be changed.`], old, '');
    }
    if (edit.kind === 'pin' || edit.kind === 'unpin') {
      const pinned = edit.kind === 'pin';
      const jobs = old.jobs.map(j => (j.id === job.id ? { ...j, pinned: pinned || undefined } : j));
      return this._result(true, [], { ...old, jobs }, `${pinned ? 'Pin' : 'Unpin'} "${job.id}"`);
    }
    let next: PlannedJob;
    let label: string;
    if (edit.kind === 'move') {
      const node = edit.node ?? job.node;
      const ids = edit.gpu_ids ?? job.gpu_ids;
      const start = Math.max(0, edit.start_s);
      next = { ...job, node, gpu_ids: [...ids].sort((a, b) => a - b), start_s: start, end_s: start + (job.end_s - job.start_s) };
      label = `Move "${job.id}" to ${node} GPU ${idsLabel(ids)} at ${formatDuration(start)}`;
    } else {
      const jobSpec = this._instance.jobs.find(j => j.id === job.id);
      const opt = jobSpec?.options.find(o => o.parallelism === edit.parallelism && o.gpus === edit.gpus);
      if (!opt) {
        return this._result(
          false,
          [`${edit.parallelism} on ${edit.gpus} GPU(s) was not profiled as feasible for "${job.id}".`],
          old,
          ''
        );
      }
      const cap = this._instance.cluster.nodes.find(n => n.id === job.node)?.gpus ?? 0;
      if (edit.gpus > cap) {
        return this._result(false, [`${job.node} has only ${cap} GPUs.`], old, '');
      }
      // Keep the first GPU where possible and extend upwards; shift down when the node ends.
      const sorted = [...job.gpu_ids].sort((a, b) => a - b);
      const first = Math.min(sorted[0], cap - edit.gpus);
      const ids =
        edit.gpus <= sorted.length ? sorted.slice(0, edit.gpus) : Array.from({ length: edit.gpus }, (_, i) => first + i);
      next = {
        ...job,
        parallelism: opt.parallelism,
        gpus: opt.gpus,
        gpu_ids: ids,
        end_s: job.start_s + opt.runtime_s
      };
      label = `Run "${job.id}" as ${opt.parallelism} on ${opt.gpus} GPU${opt.gpus > 1 ? 's' : ''}`;
    }
    const jobs = old.jobs.map(j => (j.id === job.id ? next : j));
    const plan: Plan = { ...old, jobs, makespan_s: makespanOf(jobs) };
    const conflicts = findConflicts(next, old.jobs);
    if (conflicts.length) {
      return this._result(false, describeConflicts(conflicts), plan, label);
    }
    const errors = validatePlan(this._instance, this._stripForValidation(plan));
    if (errors.length) {
      return this._result(false, errors, plan, label);
    }
    return this._result(true, [], plan, label);
  }

  /** Apply `edit` when it is valid; nothing changes otherwise. Returns the result either way. */
  apply(edit: PlanEdit): IEditResult {
    const res = this.preview(edit);
    this._last = res;
    if (res.ok) {
      this._push(res.label, res.delta_s);
      if (edit.kind === 'pin') {
        this._pins.set(edit.job, pinFor(res.plan.jobs.find(j => j.id === edit.job)!));
      } else if (edit.kind === 'unpin') {
        this._pins.delete(edit.job);
      } else if (this._pins.has(edit.job)) {
        // A pinned job that the user moves stays pinned where it now is.
        const j = res.plan.jobs.find(x => x.id === edit.job)!;
        this._pins.set(edit.job, pinFor(j));
      }
      this._plan = this._markPins(res.plan);
    }
    this._changed.emit();
    return res;
  }

  /**
   * Replace the plan with one from the solver (undoable); pinned jobs must stay where they are. Plans streamed by
   * one solve share a `stream` token: only the first one makes an undo step, the later ones refine it. During a run,
   * a plan that changes a job that already started is refused, except the run's own plan (`stream` 'run'), which may
   * come with the `instance` of the work it plans (a job's segment to its next rung, its remaining work): the model
   * edits on that instance from then on.
   */
  replacePlan(plan: Plan, label = 'Re-optimize', stream?: string, instance?: Instance): IEditResult {
    const old = this._plan;
    // `instance`: the run's plan comes with the work it plans (e.g. a segment to a rung), which replaces the model's
    const against = instance ? { ...instance, pins: this.instanceForSolve(false).pins } : this.instanceForSolve(false);
    // a run's plan: the blocks of jobs that started are history (a job ahead of its plan may end before its block
    // does, and the next block on its GPUs is re-planned from then); only the work still to start must fit together
    const history = stream === 'run' ? new Set(plan.jobs.filter(j => LOCKED_STATES.has(this.stateOf(j.id))).map(j => j.id)) : new Set<string>();
    const future = history.size ? plan.jobs.filter(j => !history.has(j.id)) : plan.jobs;
    const errors = validatePlan(
      withoutJobs(against, history),
      this._stripForValidation(history.size ? { ...plan, jobs: future, makespan_s: Math.max(0, ...future.map(j => j.end_s)) } : plan)
    );
    if (stream !== 'run') {
      errors.push(...this.lockedChanges(plan));
    }
    const continuing = stream !== undefined && stream === this._stream && this._undo.length > 0;
    const base = continuing ? this._undo[this._undo.length - 1].plan : old;
    const delta = plan.makespan_s - base.makespan_s;
    const res: IEditResult = { ok: errors.length === 0, reasons: errors, plan, delta_s: delta, label };
    this._last = res;
    if (res.ok) {
      if (continuing) {
        this._undo[this._undo.length - 1].delta_s = delta;
      } else {
        this._push(label, delta);
      }
      this._stream = stream;
      this._plan = this._markPins(plan);
      if (instance) {
        this._instance = { ...instance, pins: undefined };
      }
    }
    this._changed.emit();
    return res;
  }

  /**
   * Why switching to `plan` would change a job that already started (empty when it would not): a running job may
   * only keep its option and GPUs, a finished job cannot move at all.
   */
  lockedChanges(plan: Plan): string[] {
    const reasons: string[] = [];
    const byId = new Map(plan.jobs.map(j => [j.id, j]));
    for (const cur of this._plan.jobs) {
      const state = this.stateOf(cur.id);
      if (!LOCKED_STATES.has(state)) {
        continue;
      }
      const next = byId.get(cur.id);
      const sameGpus = !!next && sameAssignment(next, cur);
      const active = isActive(state);
      if (!sameGpus || (!active && Math.abs(next!.start_s - cur.start_s) > 1e-6)) {
        reasons.push(
          active
            ? `"${cur.id}" is ${state}: it can only keep its GPUs.`
            : `"${cur.id}" is ${state}: it cannot be moved any more.`
        );
      }
    }
    return reasons;
  }

  undo(): boolean {
    return this._travel(this._undo, this._redo, 'Undo');
  }

  redo(): boolean {
    return this._travel(this._redo, this._undo, 'Redo');
  }

  /** Undo or redo: the top of `from` becomes the plan, the current plan goes onto `to` (unless it is locked). */
  private _travel(from: typeof this._undo, to: typeof this._undo, label: string): boolean {
    const s = from[from.length - 1];
    if (!s || this._refuseLocked(s.plan, label)) {
      return false;
    }
    from.pop();
    this._stream = undefined;
    to.push(this._snapshot(s.label, s.delta_s));
    this._restore(s);
    this._last = null;
    this._changed.emit();
    return true;
  }

  /** Refuse (with the reasons in `lastResult`) a switch to `plan` that would change a job that already started. */
  private _refuseLocked(plan: Plan, label: string): boolean {
    const reasons = this.lockedChanges(plan);
    if (!reasons.length) {
      return false;
    }
    this._last = this._result(false, reasons, plan, label);
    this._changed.emit();
    return true;
  }

  private _push(label: string, delta: number): void {
    this._stream = undefined;
    this._undo.push(this._snapshot(label, delta));
    this._redo = [];
  }

  private _snapshot(label: string, delta: number): ISnapshot {
    return { plan: this._plan, pins: this.pins, label, delta_s: delta };
  }

  private _restore(s: ISnapshot): void {
    this._plan = s.plan;
    this._pins = new Map(s.pins.map(p => [p.job, p]));
  }

  private _markPins(plan: Plan): Plan {
    return {
      ...plan,
      jobs: plan.jobs.map(j => {
        const pinned = this._pins.has(j.id);
        if (!!j.pinned === pinned) {
          return j;
        }
        const { pinned: _drop, ...rest } = j;
        return pinned ? { ...rest, pinned: true } : rest;
      })
    };
  }

  /** The validator checks running jobs against `instance.running`; chart-only fields are dropped. */
  private _stripForValidation(plan: Plan): Plan {
    return { ...plan, solver: { ...plan.solver, bound_s: undefined } };
  }

  private _result(ok: boolean, reasons: string[], plan: Plan, label: string): IEditResult {
    return { ok, reasons, plan, delta_s: plan.makespan_s - this._plan.makespan_s, label };
  }

  private _stream: string | undefined = undefined;
  private _instance: Instance;
  private _plan: Plan;
  private _pins: Map<string, Pin>;
  private _states = new Map<string, JobState>();
  private _undo: ISnapshot[] = [];
  private _redo: ISnapshot[] = [];
  private _last: IEditResult | null = null;
  private _changed = new Signal<this, void>(this);
}
