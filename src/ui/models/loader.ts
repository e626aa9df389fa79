/**
 * Loading and keeping current: connect to the bridge, load the feed, restore the plan and the run after a page
 * reload, then poll the store's events (with backoff, paused while the page is hidden). A bridge that did not answer
 * is tried again by the same poll; tasks with no profile on screen make it look for a finished profile again.
 */
import { Poll } from '@lumino/polling';
import type { Instance } from '../../spase/types';
import type { BridgeFeed } from './bridge-feed';
import { IBridge, ISaturnSettings } from './interfaces';
import type { PlanStore } from './plan-store';
import type { RunMirror } from './run-mirror';

export interface ILoaderHooks {
  /** Something the panel shows changed. */
  changed(): void;
  /** Tell the user (`err`: the details). */
  say(message: string, err?: unknown): void;
  settings(): ISaturnSettings;
}

export class Loader {
  constructor(
    private readonly bridge: IBridge,
    private readonly feed: BridgeFeed,
    private readonly plans: PlanStore,
    private readonly runs: RunMirror,
    private readonly hooks: ILoaderHooks
  ) {}

  /** Whether everything was loaded once. */
  get loaded(): boolean {
    return this._loaded;
  }

  /** Connect to the bridge and load everything (again); one load at a time. */
  refresh(): Promise<void> {
    if (!this._refreshing) {
      this._refreshing = this._refresh().finally(() => {
        this._refreshing = null;
      });
    }
    return this._refreshing;
  }

  /** Poll at the settings' interval from now on (when polling already). */
  reschedule(): void {
    if (this._poll) {
      void this._poll.schedule({ interval: this.hooks.settings().eventPollIntervalS * 1000 } as any).catch(() => undefined);
    }
  }

  dispose(): void {
    this._poll?.dispose();
  }

  private async _refresh(): Promise<void> {
    if (!(await this.feed.connect())) {
      // The poll below tries again (with backoff): a bridge too busy to answer now is not gone for good.
      this._startPolling();
      this.hooks.changed();
      return;
    }
    try {
      const status = await this.feed.load(this.hooks.settings());
      try {
        if (!this._loaded) {
          await this._restore();
        }
      } finally {
        // The bridge's own latest profile, shown also when the store's could not be read (the next refresh tries
        // the restore again).
        if (!this.plans.instance && status.instance) {
          this.plans.setInstance(status.instance as Instance);
          this.hooks.changed();
        }
      }
      this._loaded = true;
      this.hooks.changed();
      await this.runs.restore();
    } catch (err) {
      this.hooks.say('Saturn could not load its state from the bridge.', err);
    }
    this._startPolling();
  }

  /**
   * After a reload: the latest profiled instance (from the store's events) and the latest saved plan. The events
   * read count as seen on the first load only (`advance`).
   */
  private _restore(advance = true): Promise<void> {
    return this.plans.restore(() => this.feed.latestProfiled(advance));
  }

  private _startPolling(): void {
    if (this._poll) {
      return;
    }
    this._poll = new Poll({
      factory: () => this._pollEvents(),
      frequency: { interval: this.hooks.settings().eventPollIntervalS * 1000, backoff: true, max: 30_000 },
      standby: 'when-hidden',
      name: 'saturn:events'
    });
  }

  private async _pollEvents(): Promise<void> {
    if (this.bridge.state === 'connecting') {
      return;
    }
    if (this.bridge.state !== 'connected' || !this._loaded) {
      // The first load failed (e.g. the bridge was too busy to answer): try again.
      await this.refresh();
      return;
    }
    if (!this.plans.instance && (this.feed.state.tasks?.length ?? 0) > 0 && Date.now() - this._lastRestore > 10_000) {
      // Tasks but no profile on screen: look for a finished profile in the store again (self-healing).
      this._lastRestore = Date.now();
      await this._restore(false);
      this.hooks.changed();
    }
    await this.feed.readEvents();
  }

  private _loaded = false;
  private _refreshing: Promise<void> | null = null;
  private _lastRestore = 0;
  private _poll: Poll | null = null;
}
