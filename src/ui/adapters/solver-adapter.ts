/** ISolver over src/solver's SolverClient (the Web Worker): created on first use; cancel keeps the best plan. */
import type { Instance, Plan } from '../../spase/types';
import type { SolverClient } from '../../solver/client';
import { ISolveOptions, ISolver } from '../models/interfaces';

export class WorkerSolver implements ISolver {
  constructor(private readonly makeClient: () => SolverClient) {}

  async solve(instance: Instance, options: ISolveOptions, onPlan: (plan: Plan) => void): Promise<Plan> {
    this._client = this._client ?? this.makeClient();
    this._cancelled = false;
    let best: Plan | null = null;
    try {
      return await this._client.solve(instance, { timeLimitS: options.timeLimitS, strategy: options.strategy }, p => {
        best = p.plan;
        onPlan(p.plan);
      });
    } catch (err) {
      if (this._cancelled && best) {
        return best;
      }
      throw err;
    }
  }

  cancel(): void {
    this._cancelled = true;
    this._client?.cancel();
  }

  dispose(): void {
    this._client?.dispose();
    this._client = null;
  }

  private _client: SolverClient | null = null;
  private _cancelled = false;
}
