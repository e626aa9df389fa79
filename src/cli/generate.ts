/**
 * Deterministic generator of SPASE instances shaped like real profiles:
 * larger models do not fit on few GPUs, spilling runs on one GPU only and is
 * slow, scaling is sub-linear and worsens as the per-GPU batch shrinks.
 */
import { Rng } from '../spase/rng';
import { Instance, Job, Option } from '../spase/types';

export interface GenSpec {
  name: string;
  jobs: number;
  nodes: number[];
  seed: number;
}

export function generate(spec: GenSpec): Instance {
  const rng = new Rng(spec.seed);
  const maxCap = Math.max(...spec.nodes);
  const counts = [1, 2, 3, 4, 6, 8, 12, 16].filter(g => g <= maxCap);
  const jobs: Job[] = [];
  for (let j = 0; j < spec.jobs; j++) {
    const size = rng.next(); // model size class
    const minGpus = size < 0.45 ? 1 : size < 0.8 ? 2 : 4;
    const work = 3600 * (4 + 60 * Math.pow(rng.next(), 1.5)) * (minGpus === 4 ? 2.5 : minGpus === 2 ? 1.6 : 1);
    const decay = 0.02 + 0.1 * rng.next(); // scaling loss per extra GPU
    const options: Option[] = [];
    for (const g of counts) {
      const eff = 1 / (1 + decay * (g - 1) * (1 + g / 16));
      const base = work / (g * eff);
      if (g >= minGpus) {
        if (minGpus === 1) {
          options.push({ parallelism: 'ddp', gpus: g, runtime_s: Math.round(base) });
        }
        options.push({ parallelism: 'fsdp', gpus: g, runtime_s: Math.round(base * (1.05 + 0.1 * rng.next())) });
        if (g >= 2) {
          options.push({ parallelism: 'pipeline', gpus: g, runtime_s: Math.round(base * (0.95 + 0.25 * rng.next())) });
        }
      } else if (g === 1) {
        options.push({ parallelism: 'spilling', gpus: 1, runtime_s: Math.round(work * (2.5 + 1.5 * rng.next())) });
      }
    }
    jobs.push({ id: `job${String(j).padStart(3, '0')}`, options });
  }
  return {
    format: 'spase-instance/1',
    name: spec.name,
    cluster: { nodes: spec.nodes.map((g, i) => ({ id: `node${i}`, gpus: g })) },
    jobs
  };
}

export const GENERATED: GenSpec[] = [
  { name: 'gen-8-1x8', jobs: 8, nodes: [8], seed: 11 },
  { name: 'gen-12-1x8', jobs: 12, nodes: [8], seed: 12 },
  { name: 'gen-16-2+2+4+8', jobs: 16, nodes: [2, 2, 4, 8], seed: 13 },
  { name: 'gen-24-2x8', jobs: 24, nodes: [8, 8], seed: 14 },
  { name: 'gen-32-4+4+8', jobs: 32, nodes: [4, 4, 8], seed: 15 },
  { name: 'gen-48-2+2+4+8', jobs: 48, nodes: [2, 2, 4, 8], seed: 16 },
  { name: 'gen-64-3x8', jobs: 64, nodes: [8, 8, 8], seed: 17 },
  { name: 'gen-96-4x8', jobs: 96, nodes: [8, 8, 8, 8], seed: 18 },
  { name: 'gen-128-4x8', jobs: 128, nodes: [8, 8, 8, 8], seed: 19 },
  // multi-node: many jobs over few nodes, where the node choice matters
  { name: 'gen-32-4x8', jobs: 32, nodes: [8, 8, 8, 8], seed: 21 },
  { name: 'gen-64-2x8', jobs: 64, nodes: [8, 8], seed: 22 },
  { name: 'gen-96-4+4+8+8', jobs: 96, nodes: [4, 4, 8, 8], seed: 23 },
  { name: 'gen-128-2x8', jobs: 128, nodes: [8, 8], seed: 24 }
];

export const GENERATED_QUICK: GenSpec[] = GENERATED.filter(g =>
  ['gen-8-1x8', 'gen-16-2+2+4+8', 'gen-128-4x8'].includes(g.name)
);
