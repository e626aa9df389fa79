/**
 * `saturn run --server URL [--token T] [--time-limit S] [--introspection-interval S] [--threshold S] [--names a,b]
 *             [--max-retries N] [--checkpoint-every S] [--poll S] [--max-wait S] [--kernel NAME]
 *             [--reconnect-timeout S] [--prewarm N] [--no-autopilot] [--backend local|slurm]
 *             [--early-stopping asha|sha --metric NAME [--mode min|max] --rungs A,B,C [--eta N] [--rung-unit steps|epochs]
 *              [--move-survivors]]`
 *
 * Headless "Optimize & Run" against a running Jupyter server: profile the registered tasks through the store (cached
 * profiles are reused), plan with the SPASE solver (`--time-limit`: solver budget, default 10 s), dispatch every job
 * in its own kernel session, re-plan every `--introspection-interval` seconds (default 1000; 0 = off) when better by
 * `--threshold` seconds (default 500), survive a server restart (reconnect + reconcile), and print a JSON summary:
 * planned vs realised makespan and per-job status. With early stopping every job trains to its next rung, validates and
 * is judged there (SHA/ASHA over `--metric`): the losers stop early, the survivors go on, every rung a re-plan.
 * Exit 0 when every job is done (or stopped early), 1 otherwise, 2 on bad usage.
 */
import { KernelManager, ServerConnection, SessionManager } from '@jupyterlab/services';
import { solve } from '../spase/solve';
import { Dispatcher, IPlanLike, jobsFromPlan } from './dispatcher';
import { IInstanceLike, Introspector, SolveFn } from './introspection';
import { KernelJobLauncher, KernelJobStore, StoreRequestError } from './kernel-backend';
import { firstSegments, nextStepInS, rungSettings, RunLoop } from './run-loop';
import { IEarlyStopping } from './rungs';
import { systemClock } from './types';

// Node globals, declared here so that the browser build (no Node types) also type-checks this file.
declare const process: any;
declare const require: any;
declare const module: any;

class UsageError extends Error {}

export interface IRunArgs {
  server: string;
  token: string;
  timeLimitS: number;
  introspectionIntervalS: number;
  thresholdS: number;
  names: string[] | null;
  maxRetries: number;
  checkpointEveryS: number;
  pollS: number;
  maxWaitS: number;
  kernel: string;
  reconnectS: number;
  prewarm: number;
  autopilot: boolean;
  /** Plan as if jobs started instantly (start-up costs dropped from the instance): to measure what they change. */
  ignoreStartup: boolean;
  /** Where jobs train: local (this machine) or slurm (SLURM jobs on the planned nodes); default SATURN_BACKEND. */
  backend?: 'local' | 'slurm';
  earlyStopping: IEarlyStopping | null;
  /** `--early-stopping none` was given: off even when Python set early stopping (saturn.set_early_stopping). */
  earlyStoppingOff?: boolean;
}

export const RUN_USAGE =
  'usage: saturn run --server URL [--token T] [--time-limit S] [--introspection-interval S] [--threshold S] ' +
  '[--names a,b] [--max-retries N] [--checkpoint-every S] [--poll S] [--max-wait S] [--kernel NAME] ' +
  '[--reconnect-timeout S] [--prewarm N] [--no-autopilot] [--backend local|slurm] [--ignore-startup-cost] ' +
  '[--early-stopping asha|sha --metric NAME [--mode min|max] --rungs A,B,C [--eta N] [--rung-unit steps|epochs] [--move-survivors]]';

export function parseRunArgs(argv: string[]): IRunArgs {
  const a: IRunArgs = {
    server: '',
    token: process.env.JUPYTER_TOKEN ?? '',
    timeLimitS: 10,
    introspectionIntervalS: 1000,
    thresholdS: 500,
    names: null,
    maxRetries: 2,
    checkpointEveryS: 60,
    pollS: 1,
    maxWaitS: 7 * 24 * 3600,
    kernel: 'saturn-bridge',
    reconnectS: 600,
    prewarm: 2,
    autopilot: true,
    ignoreStartup: false,
    earlyStopping: null
  };
  const es: Omit<Partial<IEarlyStopping>, 'kind'> & { kind?: string } = {};
  const num = (flag: string, v: string | undefined, min = 0): number => {
    const x = Number(v);
    if (v === undefined || !Number.isFinite(x) || x < min) {
      throw new UsageError(`${flag}: expected a number >= ${min}, got ${v ?? 'nothing'}`);
    }
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) {
        throw new UsageError(`${f}: missing value`);
      }
      return argv[++i];
    };
    switch (f) {
      case '--server': a.server = v(); break;
      case '--token': a.token = v(); break;
      case '--time-limit': a.timeLimitS = num(f, v(), 0.01); break;
      case '--introspection-interval': a.introspectionIntervalS = num(f, v()); break;
      case '--threshold': a.thresholdS = num(f, v()); break;
      case '--names': a.names = v().split(',').map(s => s.trim()).filter(Boolean); break;
      case '--max-retries': a.maxRetries = Math.floor(num(f, v())); break;
      case '--checkpoint-every': a.checkpointEveryS = num(f, v(), 0.01); break;
      case '--poll': a.pollS = num(f, v(), 0.05); break;
      case '--max-wait': a.maxWaitS = num(f, v(), 1); break;
      case '--kernel': a.kernel = v(); break;
      case '--reconnect-timeout': a.reconnectS = num(f, v()); break;
      case '--prewarm': a.prewarm = Math.floor(num(f, v())); break;
      case '--no-autopilot': a.autopilot = false; break;
      case '--ignore-startup-cost': a.ignoreStartup = true; break;
      case '--early-stopping': {
        const k = v();
        if (k !== 'asha' && k !== 'sha' && k !== 'none') {
          throw new UsageError(`--early-stopping must be asha, sha or none, not ${JSON.stringify(k)}\n${RUN_USAGE}`);
        }
        es.kind = k;
        break;
      }
      case '--metric': es.metric = v(); break;
      case '--mode': {
        const m = v();
        if (m !== 'min' && m !== 'max') {
          throw new UsageError(`--mode must be min or max, not ${JSON.stringify(m)}`);
        }
        es.mode = m;
        break;
      }
      case '--rungs': {
        const text = v();
        es.rungs = text.split(',').map(x => num('--rungs', x.trim(), 0));
        if (!es.rungs.length || es.rungs.some(r => !(r > 0)) || es.rungs.some((r, i) => i > 0 && r <= es.rungs![i - 1])) {
          throw new UsageError(`--rungs: expected increasing positive numbers, e.g. 100,300,600; got ${text}`);
        }
        break;
      }
      case '--eta': es.eta = num(f, v(), 1.000001); break;
      case '--rung-unit': {
        const u = v();
        if (u !== 'steps' && u !== 'epochs') {
          throw new UsageError(`--rung-unit must be steps or epochs, not ${JSON.stringify(u)}`);
        }
        es.unit = u;
        break;
      }
      case '--move-survivors': es.move_survivors = true; break;
      case '--backend': {
        const b = v();
        if (b !== 'local' && b !== 'slurm') {
          throw new UsageError(`--backend must be local or slurm, not ${JSON.stringify(b)}\n${RUN_USAGE}`);
        }
        a.backend = b;
        break;
      }
      default: throw new UsageError(`unknown option ${f}\n${RUN_USAGE}`);
    }
  }
  if (!a.server) {
    throw new UsageError(`--server is required\n${RUN_USAGE}`);
  }
  if (es.kind && es.kind !== 'none') {
    if (!es.metric || !es.rungs) {
      throw new UsageError(`--early-stopping ${es.kind} needs --metric NAME and --rungs A,B,C\n${RUN_USAGE}`);
    }
    a.earlyStopping = {
      kind: es.kind as 'asha' | 'sha',
      metric: es.metric,
      mode: es.mode ?? 'min',
      rungs: es.rungs,
      eta: es.eta ?? 2,
      unit: es.unit ?? 'steps',
      ...(es.move_survivors ? { move_survivors: true } : {})
    };
  } else if (es.kind === 'none') {
    a.earlyStoppingOff = true;
  }
  if (!a.earlyStopping && (es.metric || es.rungs || es.mode || es.eta || es.unit || es.move_survivors)) {
    throw new UsageError('--metric, --mode, --rungs, --eta, --rung-unit and --move-survivors go with --early-stopping asha|sha');
  }
  return a;
}

const sleep = (s: number) => new Promise(r => setTimeout(r, s * 1000));

/**
 * `fn()` again and again while the server is unreachable (it was restarted, the network dropped), up to `maxS`
 * seconds; an answer that is an error from the store itself (`StoreRequestError`) is not retried. `onLost` runs once per
 * outage (e.g. to forget kernels that went with the old server).
 */
export async function retryOnLoss<T>(
  fn: () => Promise<T>,
  what: string,
  opts: { maxS: number; waitS?: number; log?: (m: string) => void; onLost?: () => void; now?: () => number; sleepS?: (s: number) => Promise<unknown> }
): Promise<T> {
  const now = opts.now ?? (() => Date.now() / 1000);
  const pause = opts.sleepS ?? sleep;
  const start = now();
  let lost = false;
  for (;;) {
    try {
      const value = await fn();
      if (lost) {
        opts.log?.(`${what}: the server is back`);
      }
      return value;
    } catch (e) {
      if (e instanceof StoreRequestError || now() - start > opts.maxS) {
        throw e;
      }
      if (!lost) {
        opts.log?.(`${what}: lost the server (${(e as Error).message}); retrying`);
        opts.onLost?.();
      }
      lost = true;
      await pause(opts.waitS ?? 2);
    }
  }
}
const err = (m: string) => process.stderr.write(`saturn run: ${m}\n`);

/**
 * Profile the registered tasks through the control kernel's bridge (cached profiles are reused) and wait for the
 * instance: the request starts profiling in the bridge's background thread, `profile_status` is asked until it ends.
 */
async function profileAndWait(store: KernelJobStore, args: IRunArgs): Promise<IInstanceLike> {
  const started = await store.call({ type: 'profile', names: args.names, use_cache: true, backend: args.backend ?? null });
  for (;;) {
    const st = await store.call({ type: 'profile_status', run_id: started.run_id });
    if (!st.running) {
      if (st.error || !st.instance) {
        throw new StoreRequestError('failed', `profiling failed: ${st.error ?? 'it ended without an instance'}`);
      }
      return st.instance;
    }
    await sleep(Math.min(1, args.pollS));
  }
}

export function nodeServerSettings(server: string, token: string): ServerConnection.ISettings {
  const WebSocket = require('ws');
  const baseUrl = server.endsWith('/') ? server : `${server}/`;
  return ServerConnection.makeSettings({
    baseUrl,
    wsUrl: baseUrl.replace(/^http/, 'ws'),
    token,
    appendToken: true,
    WebSocket,
    fetch: globalThis.fetch.bind(globalThis),
    Request: globalThis.Request,
    Headers: globalThis.Headers
  } as Partial<ServerConnection.ISettings>);
}

export async function runCommand(argv: string[]): Promise<number> {
  let args: IRunArgs;
  try {
    args = parseRunArgs(argv);
  } catch (e) {
    err((e as Error).message);
    return 2;
  }
  // stdout carries only the JSON summary: @jupyterlab/services logs ("Starting WebSocket …") go to stderr
  const quiet = (...xs: unknown[]) => {
    if (process.env.SATURN_DEBUG) {
      process.stderr.write(xs.map(String).join(' ') + '\n');
    }
  };
  console.log = quiet;
  console.info = quiet;
  console.debug = quiet;
  const serverSettings = nodeServerSettings(args.server, args.token);
  const kernelManager = new KernelManager({ serverSettings });
  const sessions = new SessionManager({ kernelManager, serverSettings });
  const store = new KernelJobStore(sessions, args.kernel);
  const launcher = new KernelJobLauncher(sessions, args.kernel, err);
  const solveFn: SolveFn = (inst, o) => solve(inst, o) as unknown as Promise<IPlanLike>;
  try {
    err(`profiling registered tasks on ${args.server} (cached profiles are reused)…`);
    // a server restart while profiling: reconnect and profile again (finished trials come from the profile cache)
    const again = { maxS: args.reconnectS, waitS: Math.max(args.pollS, 2), log: err, onLost: () => launcher.forget() };
    const instance = (await retryOnLoss(() => profileAndWait(store, args), 'profiling', again)) as IInstanceLike & {
      unschedulable?: Array<{ id: string }>;
      saturn?: { notices?: string[] };
    };
    for (const notice of instance.saturn?.notices ?? []) {
      err(`notice: ${notice}`);
    }
    if (args.ignoreStartup) {
      for (const job of instance.jobs) {
        job.options = job.options.map(({ startup_s: _dropped, ...o }) => o);
      }
    }
    if (instance.unschedulable?.length) {
      err(`not schedulable (no feasible option): ${instance.unschedulable.map(j => j.id).join(', ')}`);
    }
    if (!instance.jobs.length) {
      err('no registered task can be scheduled: register tasks with saturn.register(...) first');
      return 1;
    }
    if (!args.earlyStopping && !args.earlyStoppingOff) {
      // what a script set with saturn.set_early_stopping(...)
      args.earlyStopping = (await retryOnLoss(() => store.call({ type: 'run_config' }), 'reading the run settings', again)).early_stopping ?? null;
    }
    if (args.earlyStopping) {
      const e = args.earlyStopping;
      err(`early stopping: ${e.kind.toUpperCase()} on ${e.metric} (${e.mode}), rungs ${e.rungs.join(', ')} ${e.unit}, eta ${e.eta}`);
    }
    // with early stopping a job's planned work is its first segment (to its first rung): every rung is a re-plan
    const segments = args.earlyStopping ? firstSegments(instance, args.earlyStopping) : null;
    const plan = await solveFn(segments?.instance ?? instance, { timeLimitS: args.timeLimitS });
    const runId = `run${Date.now().toString(36)}`;
    const intro = new Introspector(instance, {
      intervalS: args.introspectionIntervalS || 1,
      thresholdS: args.thresholdS,
      solve: solveFn
    });
    const d = new Dispatcher(store, launcher, runId, {
      maxRetries: args.maxRetries,
      pollS: args.pollS,
      prewarm: args.prewarm,
      autopilot: args.autopilot,
      log: err
    });
    const loop = new RunLoop(d, intro, {
      introspectionIntervalS: args.introspectionIntervalS,
      thresholdS: args.thresholdS,
      earlyStopping: args.earlyStopping,
      log: err
    });
    const newJobs = jobsFromPlan(plan, instance, runId, {
      checkpoint_every_s: args.checkpointEveryS,
      ...(args.backend ? { backend: args.backend } : {})
    }).map(j => {
      if (!segments || !args.earlyStopping) {
        return j;
      }
      const spec = instance.jobs.find(x => x.id === j.task);
      const es = rungSettings(args.earlyStopping, j.total_steps, (spec?.steps_per_epoch as number | undefined) ?? null, segments.rungAt[j.task] ?? null);
      return { ...j, settings: { ...j.settings, ...es } };
    });
    // The first wave's kernels are warmed before the plan's clock starts, as the dispatcher warms every later job's
    // while GPUs are busy, so all start-ups are those of warm kernels. Before the submit: once a plan is submitted,
    // a dispatcher that does not beat for a while is taken over by the autopilot.
    const prepared0 = systemClock.now();
    const firstWave = await d.warmFirstWave(newJobs);
    const preparedS = systemClock.now() - prepared0;
    await retryOnLoss(() => d.submit(newJobs, { ...plan, instance }), 'submitting the plan', again);
    err(`run ${runId}: ${plan.jobs.length} jobs, planned makespan ${plan.makespan_s.toFixed(1)} s` +
      (firstWave ? ` (kernels of the first ${firstWave} warmed in ${preparedS.toFixed(1)} s)` : ''));
    const t0 = (await retryOnLoss(() => store.snapshot(runId), 'reading the store', again)).now;
    let lost = false;
    const start = systemClock.now();
    let lastOk = start;
    let waitS = args.pollS;
    while (!d.finished) {
      if (systemClock.now() - start > args.maxWaitS) {
        err(`--max-wait ${args.maxWaitS} s reached; jobs keep running in their kernels`);
        break;
      }
      try {
        // after a lost server the store's connection is made anew: the tick itself forgets the launches and reconciles
        const snap = await loop.step();
        waitS = nextStepInS(snap, args.pollS);
        lost = false;
        lastOk = systemClock.now();
        if (process.env.SATURN_DEBUG) {
          err(`tick ${snap.now.toFixed(1)}: ${snap.jobs.map(j => `${j.id}=${j.state}`).join(' ')}`);
        }
      } catch (e) {
        if (!lost) {
          err(`lost the server (${(e as Error).message}); retrying`);
        }
        lost = true;
        if (systemClock.now() - lastOk > args.reconnectS) {
          err(`the server has been unreachable for more than --reconnect-timeout ${args.reconnectS} s`);
          break;
        }
        await sleep(Math.max(args.pollS, 2));
        continue;
      }
      await sleep(waitS);
    }
    const summary = {
      ...d.summary(plan, t0),
      prepared_s: Math.round(preparedS * 1000) / 1000,
      introspection: loop.decisions.map(x => ({ ...x, plan: undefined, current: undefined })),
      ...(args.earlyStopping ? { early_stopping: { ...args.earlyStopping, events: loop.rungEvents.map(e => ({ ...e, at: e.at - t0 })) } } : {})
    };
    await new Promise<void>(resolve => process.stdout.write(JSON.stringify(summary, null, 1) + '\n', () => resolve()));
    await launcher.dispose();
    await store.dispose();
    const over = (summary.counts.done ?? 0) + (summary.counts.stopped_early ?? 0);
    return summary.finished && over === summary.jobs.length ? 0 : 1;
  } catch (e) {
    err((e as Error).message);
    return 1;
  } finally {
    sessions.dispose();
    kernelManager.dispose();
  }
}

if (require.main === module) {
  runCommand(process.argv.slice(2)).then(
    code => process.exit(code),
    e => {
      err(String(e));
      process.exit(1);
    }
  );
}
