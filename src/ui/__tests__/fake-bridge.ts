/** A bridge that answers each request type from `replies` and records the requests; a solver that streams given plans. */
import { Signal } from '@lumino/signaling';
import { Plan } from '../../spase/types';
import { IBridge, ISolver } from '../models/interfaces';

export class FakeBridge implements IBridge {
  state: any = 'disconnected';
  stateChanged = new Signal<any, any>(this);
  events = new Signal<any, any>(this);
  lastError: any = null;
  hello: any = { saturn_version: '0.1.0' };
  requests: any[] = [];
  replies: Record<string, (req: any) => any> = {
    devices: () => ({ devices: [{ id: 0, name: 'cpu0', kind: 'cpu' }, { id: 1, name: 'cpu1', kind: 'cpu' }] }),
    tasks: () => ({ tasks: [{ name: 'A', batch_size: 8 }] }),
    profile_status: () => ({ running: false }),
    plans: () => ({ plans: [] }),
    events_since: () => ({ events: [], last_id: 0 }),
    // a store from before instances were kept (null): the feed reads the event history instead
    instance: () => ({ instance: null, last_event_id: 0 }),
    profile: () => ({ run_id: 'r1', started: true }),
    plan_save: () => ({ plan_id: 1 }),
    cancel_profile: () => ({ cancelled: true }),
    jobs: () => ({ jobs: [] })
  };
  failConnect = false;
  async connect(): Promise<void> {
    if (this.failConnect) {
      this.state = 'unavailable';
      this.lastError = { message: 'no bridge', hint: 'pip install jupyterlab-saturn' };
      throw new Error('no bridge');
    }
    this.state = 'connected';
  }
  async request<T>(req: any): Promise<T> {
    this.requests.push(req);
    const f = this.replies[req.type];
    if (!f) {
      throw new Error(`unexpected ${req.type}`);
    }
    return { v: 1, ok: true, ...f(req) } as any;
  }
  push(kind: string, data: any, id: number): void {
    this.events.emit({ id, kind, data, type: 'event' });
  }
}

export function fakeSolver(plans: Plan[]): ISolver & { cancelled: boolean } {
  return {
    cancelled: false,
    async solve(_inst, _opts, onPlan) {
      plans.forEach(p => onPlan(p));
      return plans[plans.length - 1];
    },
    cancel() {
      this.cancelled = true;
    }
  };
}
