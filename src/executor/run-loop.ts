/**
 * The one run loop, shared by the page (`src/ui/adapters/executor-starter.ts`) and the CLI (`cli-run.ts`). Each
 * `step()`:
 *
 *   tick (the dispatch rules) → lost nodes → give-ups → introspection → apply the new plan
 *
 * Jobs stranded on a node the cluster reports unusable, and jobs given up, force a re-plan of the remaining work
 * whatever the introspection setting (the threshold is 0 then: the rest must be planned again); the periodic
 * introspection runs every `introspectionIntervalS` (0 = never) and switches only when better by `thresholdS`.
 */
import { Dispatcher } from './dispatcher';
import { IReplanDecision, Introspector } from './introspection';
import { unusableNodes } from './rules';
import { ISnapshot } from './types';

export interface IRunLoopOptions {
  /** Seconds between periodic re-plans; 0 = only the forced ones (lost nodes, give-ups). */
  introspectionIntervalS: number;
  /** A periodic re-plan is applied only when it finishes this many seconds sooner. */
  thresholdS: number;
  log?: (message: string) => void;
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

  /** Re-plans decided so far (for the summary). */
  get decisions(): readonly IReplanDecision[] {
    return this.introspector?.decisions ?? [];
  }

  async step(): Promise<ISnapshot> {
    const d = this.dispatcher;
    const intro = this.introspector;
    const snap = await d.tick();
    const asked = d.takeReplan();
    let force = false;
    if (asked?.cause === 'lost_node' && intro?.lostNodesDue(snap, snap.now)) {
      this.log(`node(s) ${[...unusableNodes(snap)].join(', ')} unusable: re-planning ${asked.jobs.join(', ')}`);
      force = true;
    } else if (asked?.cause === 'given_up') {
      this.log(`job(s) ${asked.jobs.join(', ')} given up: re-planning the rest`);
      force = true;
    }
    const periodic = this.options.introspectionIntervalS > 0 && !!intro?.due(snap.now);
    if (intro && !d.finished && (force || periodic)) {
      const decision = await intro.check(snap, snap.now, force ? 0 : this.options.thresholdS);
      this.log(`introspection: ${decision.reason}`);
      if (decision.switched && decision.plan) {
        await d.applyPlan({ ...decision.plan, origin_s: snap.now }, intro.knobsOf);
      }
    }
    return snap;
  }

  private log(message: string): void {
    this.options.log?.(message);
  }
}
