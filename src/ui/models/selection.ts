/**
 * The job selected across views: the Gantt chart (a block), the plan table and the Results view (a leaderboard row,
 * a curve) all show and set this one selection. Jobs are named as the plan names them (the task's name).
 */
import { ISignal, Signal } from '@lumino/signaling';

export interface ISelectionChange {
  job: string | null;
  /** Which view made the change (e.g. `gantt`, `results`), so a view can tell its own changes from others'. */
  source: string;
}

export class JobSelection {
  get job(): string | null {
    return this._job;
  }

  get changed(): ISignal<this, ISelectionChange> {
    return this._changed;
  }

  /** Select `job` (null: nothing); nothing happens when it is selected already. */
  select(job: string | null, source = ''): void {
    if (job === this._job) {
      return;
    }
    this._job = job;
    this._changed.emit({ job, source });
  }

  private _job: string | null = null;
  private _changed = new Signal<this, ISelectionChange>(this);
}
