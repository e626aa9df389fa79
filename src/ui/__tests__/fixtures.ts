import type { PlanModel } from '../models/plan-model';
import { IJobStatus } from '../models/interfaces';
import { Instance, Plan } from '../../spase/types';

/** 1 node × 4 GPUs, three jobs; A on GPUs 0–1, B on 2–3, C on 0 after A. */
export function smallInstance(): Instance {
  return {
    format: 'spase-instance/1',
    name: 'small',
    cluster: { nodes: [{ id: 'node0', gpus: 4 }] },
    jobs: [
      { id: 'A', options: [{ parallelism: 'ddp', gpus: 2, runtime_s: 100 }, { parallelism: 'ddp', gpus: 1, runtime_s: 180 }, { parallelism: 'fsdp', gpus: 4, runtime_s: 60 }] },
      { id: 'B', options: [{ parallelism: 'ddp', gpus: 2, runtime_s: 120 }, { parallelism: 'pipeline', gpus: 1, runtime_s: 200 }] },
      { id: 'C', options: [{ parallelism: 'spilling', gpus: 1, runtime_s: 50 }, { parallelism: 'ddp', gpus: 2, runtime_s: 30 }] }
    ]
  };
}

export function smallPlan(): Plan {
  return {
    format: 'spase-plan/1',
    instance: 'small',
    makespan_s: 150,
    jobs: [
      { id: 'A', parallelism: 'ddp', gpus: 2, node: 'node0', gpu_ids: [0, 1], start_s: 0, end_s: 100 },
      { id: 'B', parallelism: 'ddp', gpus: 2, node: 'node0', gpu_ids: [2, 3], start_s: 0, end_s: 120 },
      { id: 'C', parallelism: 'spilling', gpus: 1, node: 'node0', gpu_ids: [0], start_s: 100, end_s: 150 }
    ],
    solver: { name: 'test', status: 'heuristic', time_s: 0.01, bound_s: 100 }
  };
}

/** Props of a GanttChart over `pm`, with `over` replacing any of them. */
export function chartProps(pm: PlanModel, over: Record<string, unknown> = {}): any {
  return {
    plan: pm.plan,
    nodes: pm.instance.cluster.nodes,
    statuses: new Map<string, IJobStatus>(),
    stateOf: (j: string) => pm.stateOf(j),
    isPinned: (j: string) => pm.isPinned(j),
    now_s: null,
    width: 800,
    scale: null,
    onScale: () => undefined,
    selected: null,
    onSelect: () => undefined,
    preview: (e: any) => pm.preview(e),
    apply: (e: any) => pm.apply(e),
    onPreview: () => undefined,
    ...over
  };
}
