/**
 * The Results view's data, kept live: the latest run's rows (bridge request `results`) and every job's history
 * (`history`, read once), then each `job.metrics` point the store's events bring (through ./bridge-feed.ts) appended
 * with the pure rules of ./results-state.ts. Job state changes read the rows again (state, runtime, a new run), at
 * most once per `throttleMs`; a point of another run, or a reconnected bridge, reads everything again. Nothing is
 * asked of the bridge until a view follows the results.
 */
import { ISignal, Signal } from '@lumino/signaling';
import type { BridgeReply, MetricPoint, ReplyHistory, ReplyResults } from '../../bridge/wire';
import { IBridge } from './interfaces';
import { addPoints, EMPTY_RESULTS, fromReplies, IResultsState, knowsTask, withRows } from './results-state';

export interface IResultsModelOptions {
  /** The least time between two reads of the rows caused by events (ms). */
  throttleMs?: number;
}

type Want = 'none' | 'rows' | 'all';

export class ResultsModel {
  constructor(
    private readonly bridge: IBridge,
    private readonly options: IResultsModelOptions = {}
  ) {}

  get state(): IResultsState {
    return this._state;
  }
  get changed(): ISignal<this, void> {
    return this._changed;
  }
  /** Whether the results were read once. */
  get loaded(): boolean {
    return this._loaded;
  }
  get loading(): boolean {
    return this._loading !== null;
  }
  /** Why the last read failed (null: it did not). */
  get error(): string | null {
    return this._error;
  }

  /** A view shows the results: read them now (or once the bridge is connected) and keep them current. */
  follow(): void {
    this._following = true;
    if (this.bridge.state === 'connected' && !this._loaded && !this._loading) {
      void this.refresh();
    }
  }

  /** Read the latest run's rows and its whole history again. */
  refresh(): Promise<void> {
    if (this._loading) {
      this._again = true;
      return this._loading;
    }
    this._loading = this._load().finally(() => {
      this._loading = null;
      if (this._again) {
        this._again = false;
        void this.refresh();
      }
    });
    this._changed.emit();
    return this._loading;
  }

  /** A history point from the store's events. */
  point(p: MetricPoint): void {
    if (!this._following) {
      return;
    }
    if (this._loading) {
      this._buffer.push(p);
      return;
    }
    if (!this._loaded) {
      return;
    }
    if (p.run_id && p.run_id !== this._state.runId) {
      this._buffer.push(p); // kept for the read of the new run
      this._schedule('all');
      return;
    }
    this._state = addPoints(this._state, [p]);
    if (!knowsTask(this._state, p.task)) {
      this._schedule('rows');
    }
    this._changed.emit();
  }

  /** A job changed (state, a new run): read the rows again soon. */
  jobsChanged(): void {
    if (this._following && this._loaded) {
      this._schedule('rows');
    }
  }

  /** The bridge is connected (again): points may have been missed meanwhile, so everything is read again. */
  connected(): void {
    if (this._following) {
      void this.refresh();
    }
  }

  /** Resolves when no read is due or under way (for tests). */
  async whenIdle(): Promise<void> {
    while (this._timer !== null || this._loading || this._rowsLoading) {
      await (this._loading ?? this._rowsLoading ?? new Promise(r => setTimeout(r, 5)));
    }
  }

  dispose(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    Signal.clearData(this);
  }

  private async _load(): Promise<void> {
    try {
      const results = await this.bridge.request<ReplyResults & BridgeReply>({ type: 'results', run_id: null });
      const history = results.run_id ? await this.bridge.request<ReplyHistory & BridgeReply>({ type: 'history', run_id: results.run_id, since: 0 }) : null;
      const state = fromReplies(results, history);
      const late = this._buffer.filter(p => !p.run_id || p.run_id === state.runId);
      this._state = addPoints(state, late);
      this._loaded = true;
      this._error = null;
      if (this._buffer.length !== late.length) {
        this._again = true; // points of a newer run came in meanwhile
      }
    } catch (err) {
      this._error = (err as Error).message ?? String(err);
    }
    this._buffer = [];
    this._changed.emit();
  }

  private async _loadRows(): Promise<void> {
    try {
      const results = await this.bridge.request<ReplyResults & BridgeReply>({ type: 'results', run_id: null });
      if (results.run_id !== this._state.runId) {
        await this.refresh();
        return;
      }
      this._state = withRows(this._state, results);
      this._error = null;
    } catch (err) {
      this._error = (err as Error).message ?? String(err);
    }
    this._changed.emit();
  }

  private _schedule(want: Want): void {
    if (want === 'all' || this._want === 'none') {
      this._want = want;
    }
    if (this._timer !== null) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      const w = this._want;
      this._want = 'none';
      if (w === 'all') {
        void this.refresh();
      } else if (w === 'rows' && !this._loading) {
        this._rowsLoading = this._loadRows().finally(() => (this._rowsLoading = null));
      } else if (w === 'rows') {
        this._again = true;
      }
    }, this.options.throttleMs ?? 1000);
  }

  private _state: IResultsState = EMPTY_RESULTS;
  private _changed = new Signal<this, void>(this);
  private _following = false;
  private _loaded = false;
  private _loading: Promise<void> | null = null;
  private _rowsLoading: Promise<void> | null = null;
  private _again = false;
  private _error: string | null = null;
  private _buffer: MetricPoint[] = [];
  private _want: Want = 'none';
  private _timer: ReturnType<typeof setTimeout> | null = null;
}
