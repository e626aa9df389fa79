/**
 * The executor's kernels, over @jupyterlab/services (browser or Node):
 * - `KernelJobStore`: the job store, reached over the `saturn.bridge` comm of one control kernel session
 *   (`.saturn/dispatcher.saturn`): each store operation is a wire request of `schema/wire/bridge.schema.json`
 *   (`jobs_snapshot`, `job_transition`, …) answered by the bridge service, exactly as the panel's requests are.
 * - `KernelJobLauncher`: one kernel session per job, path `.saturn/jobs/<job id>.saturn` (so it shows in JupyterLab's
 *   Running panel under the job's name), executing `saturn.runner.run_job('<job id>')`: the run the user asked for.
 * Both use the `saturn-bridge` kernelspec (the server's Python, which has the saturn package and loads its comm).
 */
import { Kernel, KernelMessage, Session } from '@jupyterlab/services';
import { BRIDGE_COMM_TARGET, BRIDGE_PROTOCOL_VERSION as BRIDGE_WIRE_VERSION, EventKind, RequestBody, RequestDispatcherHeartbeat } from '../bridge/wire';
import { JobState } from './job-state';
import { IAutopilotOptions, IJobInfo, IJobLauncher, IJobRecord, IJobStore, INewJob, ISnapshot, LaunchStatus, StopReason } from './types';

export const EXECUTOR_KERNEL_NAME = 'saturn-bridge';
export const CONTROL_SESSION_PATH = '.saturn/dispatcher.saturn';

export function jobSessionPath(jobId: string): string {
  return `.saturn/jobs/${jobId}.saturn`;
}

/** What a pre-warmed job kernel runs before its GPUs are free: the imports that make a cold start slow. */
export const PREWARM_CODE =
  'import saturn.runner, saturn.techniques, saturn.core.task\ntry:\n    import torch\nexcept Exception:\n    pass';

export function runnerCode(jobId: string): string {
  const id = JSON.stringify(jobId);
  return `import saturn.runner\nsaturn.runner.run_job(${id})`;
}

/** The store answered with an error (a bad request, an illegal transition, a failing profile): retrying will not help. */
export class StoreRequestError extends Error {
  constructor(
    readonly code: string,
    message: string
  ) {
    super(message);
    this.name = 'StoreRequestError';
  }
}

/** Seconds a request may wait on a kernel connection that is not connected (the server went away) before failing. */
const LOST_AFTER_S = 20;
/** Seconds a new kernel may take to answer its first kernel_info request (boot on a loaded machine) before we give up on it. */
export const KERNEL_BOOT_S = 120;

/**
 * `done`, or a rejection once the kernel is dead, its connection has not been up for LOST_AFTER_S, or `limitS` seconds
 * have passed: a request sent while the server restarts would otherwise wait forever on a connection that keeps
 * retrying a kernel that is gone, and a kernel_info request that is never answered would hang its caller for good.
 */
export function untilDoneOrLost<T>(kernel: Kernel.IKernelConnection, done: Promise<T>, limitS = Infinity): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const start = Date.now();
    let downSince: number | null = null;
    let everUp = false;
    const timer = setInterval(() => {
      const dead = kernel.isDisposed || kernel.status === 'dead';
      const up = kernel.connectionStatus === 'connected';
      everUp = everUp || up;
      downSince = up ? null : (downSince ?? Date.now());
      const late = Date.now() - start > limitS * 1000;
      // a kernel that has not connected yet may still be booting (a loaded machine): it gets the boot limit
      const lostAfterS = everUp ? LOST_AFTER_S : KERNEL_BOOT_S;
      if (dead || late || (downSince !== null && Date.now() - downSince > lostAfterS * 1000)) {
        clearInterval(timer);
        reject(
          new Error(
            dead
              ? `kernel ${kernel.id} died`
              : late
                ? `kernel ${kernel.id} did not answer within ${limitS} s`
                : `no connection to kernel ${kernel.id} for ${lostAfterS} s`
          )
        );
      }
    }, 1000);
    done.then(
      v => {
        clearInterval(timer);
        resolve(v);
      },
      e => {
        clearInterval(timer);
        reject(e);
      }
    );
  });
}

/** The kernel's first kernel_info reply, or a rejection (see untilDoneOrLost): never an endless wait. */
export function kernelReady(kernel: Kernel.IKernelConnection, limitS = KERNEL_BOOT_S): Promise<unknown> {
  return untilDoneOrLost(kernel, kernel.info, limitS);
}

export class KernelJobStore implements IJobStore {
  constructor(
    private readonly sessions: Session.IManager,
    private readonly kernelName = EXECUTOR_KERNEL_NAME
  ) {}

  /**
   * One wire request (`{type, …}` of the bridge schema; `v` and `id` are added) to the control kernel's bridge.
   * Rejects with `StoreRequestError` when the bridge answers `ok: false`, with another error when the kernel or the
   * server is gone (the next call finds or starts the control kernel again, and `epoch` changes).
   */
  async call<T = any>(request: RequestBody): Promise<T> {
    const run = this.queue.then(async () => {
      try {
        const { kernel, comm } = await this.channel();
        return (await this.send(kernel, comm, request)) as T;
      } catch (err) {
        if (!(err instanceof StoreRequestError)) {
          this.drop(err as Error); // e.g. the server went away: find or start the control kernel again next time
        }
        throw err;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async snapshot(runId?: string): Promise<ISnapshot> {
    const beat = this.pendingBeat;
    this.pendingBeat = null;
    return this.call({ type: 'jobs_snapshot', run_id: runId ?? null, brief: true, ...(beat ? { heartbeat: beat } : {}) });
  }

  async createJobs(runId: string, jobs: INewJob[], plan?: unknown): Promise<void> {
    await this.call({ type: 'jobs_create', run_id: runId, jobs, plan: plan ?? null });
  }

  async transition(jobId: string, to: JobState, info: Partial<IJobInfo> = {}, expect?: JobState[]): Promise<IJobRecord> {
    return (await this.call({ type: 'job_transition', job: jobId, to, info, expect: expect ?? null })).job;
  }

  async update(jobId: string, info: Partial<IJobInfo>, event: EventKind = 'job.updated'): Promise<IJobRecord> {
    return (await this.call({ type: 'job_update', job: jobId, info, event })).job;
  }

  async requestStop(jobId: string, reason: StopReason): Promise<void> {
    await this.call({ type: 'job_request_stop', job: jobId, reason });
  }

  async reconcile(runId?: string): Promise<unknown> {
    return (await this.call({ type: 'jobs_reconcile', run_id: runId ?? null })).report;
  }

  /**
   * A running dispatcher's heartbeat rides on its next snapshot (the tick reads one right after), saving a round trip
   * per tick; a pause is written at once.
   */
  async heartbeat(runId: string, pollS: number, paused: boolean): Promise<void> {
    const beat = { run_id: runId, poll_s: pollS, paused, owner: 'dispatcher' };
    if (paused) {
      this.pendingBeat = null;
      await this.call({ type: 'dispatcher_heartbeat', ...beat });
    } else {
      this.pendingBeat = beat;
    }
  }

  async startAutopilot(runId: string, options: IAutopilotOptions = {}): Promise<unknown> {
    const beat = this.pendingBeat;
    this.pendingBeat = null;
    return (await this.call({ type: 'autopilot_start', run_id: runId, ...options, ...(beat ? { heartbeat: beat } : {}) })).autopilot;
  }

  async dispose(): Promise<void> {
    const s = this.session;
    this.drop(new Error('the job store was disposed'));
    this.session = null;
    if (s && !s.isDisposed) {
      await s.shutdown().catch(() => undefined);
    }
  }

  /** How many times the control kernel session was looked for (the first time, then after each loss; see IJobStore). */
  get epoch(): number {
    return this._epoch;
  }

  /** The control kernel and an open comm to its bridge (found, or started, and greeted when needed). */
  private async channel(): Promise<{ kernel: Kernel.IKernelConnection; comm: Kernel.IComm }> {
    if (!this.session || this.session.isDisposed || !this.session.kernel || this.session.kernel.status === 'dead') {
      this._epoch++;
      this.comm = null;
      const existing = await this.sessions.findByPath(CONTROL_SESSION_PATH);
      this.session =
        existing && existing.kernel
          ? this.sessions.connectTo({ model: existing })
          : await this.sessions.startNew({
              path: CONTROL_SESSION_PATH,
              name: 'Saturn dispatcher',
              type: 'saturn',
              kernel: { name: this.kernelName }
            });
    }
    const kernel = this.session.kernel!;
    await kernelReady(kernel);
    if (!this.comm || this.comm.isDisposed || this.commKernel !== kernel) {
      const comm = kernel.createComm(BRIDGE_COMM_TARGET);
      comm.onMsg = (msg: KernelMessage.ICommMsgMsg) => {
        const data = msg.content.data as { id?: string; type?: string };
        const pending = data.id !== undefined ? this.pending.get(String(data.id)) : undefined;
        if (pending) {
          this.pending.delete(String(data.id));
          pending.resolve(data);
        }
      };
      comm.onClose = () => {
        if (this.comm === comm) {
          this.drop(new Error(`the control kernel ${kernel.id} closed Saturn's channel`));
        }
      };
      comm.open({ v: BRIDGE_WIRE_VERSION, push: false } as any);
      this.comm = comm;
      this.commKernel = kernel;
      try {
        await this.send(kernel, comm, { type: 'hello' }, KERNEL_BOOT_S);
      } catch (err) {
        throw new Error(
          `the kernel "${this.kernelName}" does not answer Saturn's bridge requests (${(err as Error).message}): ` +
            'it must be the saturn-bridge kernel (IPython with --ext=saturn) of an environment where "import saturn" works'
        );
      }
    }
    return { kernel, comm: this.comm };
  }

  private async send(kernel: Kernel.IKernelConnection, comm: Kernel.IComm, request: RequestBody, limitS = Infinity): Promise<any> {
    const id = `store-${++this.counter}`;
    const reply = new Promise<any>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    comm.send({ v: BRIDGE_WIRE_VERSION, ...request, id } as any);
    try {
      const r = await untilDoneOrLost(kernel, reply, limitS);
      if (!r.ok) {
        const e = r.error ?? {};
        throw new StoreRequestError(e.code ?? 'failed', `${e.message ?? 'the store refused the request'}${e.hint ? ` (${e.hint})` : ''}`);
      }
      return r;
    } finally {
      this.pending.delete(id);
    }
  }

  private drop(reason: Error): void {
    const comm = this.comm;
    this.comm = null;
    this.commKernel = null;
    if (comm && !comm.isDisposed) {
      comm.dispose();
    }
    for (const p of this.pending.values()) {
      p.reject(reason);
    }
    this.pending.clear();
    this.session = null;
  }

  private session: Session.ISessionConnection | null = null;
  private comm: Kernel.IComm | null = null;
  private commKernel: Kernel.IKernelConnection | null = null;
  private pending = new Map<string, { resolve: (r: any) => void; reject: (e: Error) => void }>();
  private counter = 0;
  private _epoch = 0;
  private pendingBeat: Omit<RequestDispatcherHeartbeat, 'v' | 'type' | 'id'> | null = null;
  private queue: Promise<unknown> = Promise.resolve();
}

export class KernelJobLauncher implements IJobLauncher {
  constructor(
    private readonly sessions: Session.IManager,
    private readonly kernelName = EXECUTOR_KERNEL_NAME,
    private readonly log: (m: string) => void = () => undefined,
    /** Seconds a job kernel may take to boot before it is shut down and the launch counts as ended. */
    private readonly bootS = KERNEL_BOOT_S
  ) {}

  /** Starts the job's kernel in the background (the dispatcher's tick does not wait for a kernel to boot). */
  async launch(jobId: string): Promise<void> {
    const launch = (this.launches.get(jobId) ?? 0) + 1;
    this.launches.set(jobId, launch);
    this.status_.set(jobId, 'running');
    void this.start(jobId, launch);
  }

  /**
   * Start the job's kernel session now and import saturn and torch in it, before its GPUs are free; `launch` then
   * runs the job in this warm kernel. No lease is taken and the job's state is not touched.
   */
  async prewarm(jobId: string): Promise<void> {
    if (this.warm.has(jobId) || (this.live.has(jobId) && this.status(jobId) !== 'ended')) {
      return;
    }
    // The kernel of its last segment (ended) is shut down, not reused: CUDA may be initialised there on other GPUs
    // than the next lease's, and the runner pins devices by environment.
    const last = this.live.get(jobId);
    this.live.delete(jobId);
    const ready = (async (): Promise<Session.ISessionConnection | null> => {
      let session: Session.ISessionConnection | null = null;
      try {
        if (last) {
          await this.shutDown(last);
        }
        session = await this.startSession(jobId);
        await kernelReady(session.kernel!, this.bootS);
        const future = session.kernel!.requestExecute({ code: PREWARM_CODE, store_history: false });
        await untilDoneOrLost(session.kernel!, future.done, this.bootS);
        return session;
      } catch (err) {
        if (session) {
          await this.shutDown(session);
        }
        this.log(`job ${jobId}: could not pre-warm its kernel: ${(err as Error).message}`);
        return null;
      }
    })();
    this.warm.set(jobId, ready);
    await ready;
  }

  private startSession(jobId: string): Promise<Session.ISessionConnection> {
    return this.sessions.startNew({
      path: jobSessionPath(jobId),
      name: jobId,
      type: 'saturn-job',
      kernel: { name: this.kernelName }
    });
  }

  private async takeWarm(jobId: string): Promise<Session.ISessionConnection | null> {
    const ready = this.warm.get(jobId);
    if (!ready) {
      return null;
    }
    this.warm.delete(jobId);
    const session = await ready;
    if (session && !session.isDisposed && session.kernel && session.kernel.status !== 'dead') {
      return session;
    }
    return null;
  }

  /**
   * Run the job in a kernel (a warm one when there is one). `launch` numbers this job's launches: what an earlier,
   * superseded launch learns later (its kernel died, its future was cancelled by a reconnect) must not mark the
   * current launch ended, or the dispatcher would start the job a second time while its kernel boots.
   */
  private async start(jobId: string, launch: number): Promise<void> {
    const ended = () => {
      if (this.launches.get(jobId) === launch) {
        this.status_.set(jobId, 'ended');
      }
    };
    let session: Session.ISessionConnection | null = null;
    try {
      session = await this.takeWarm(jobId);
      if (!session) {
        await this.release(jobId); // a leftover session of an earlier attempt
        session = await this.startSession(jobId);
      }
      this.live.set(jobId, session);
      const kernel = session.kernel!;
      session.statusChanged.connect((_, status) => {
        if (status === 'dead') {
          ended();
        }
      });
      await kernelReady(kernel, this.bootS);
      const future = kernel.requestExecute({ code: runnerCode(jobId), store_history: false });
      const own = session;
      future.onIOPub = msg => {
        // the server interrupts a kernel before it shuts it down: that interrupt, after the job was released, is not
        // the job's error
        if (KernelMessage.isErrorMsg(msg) && !(msg.content.ename === 'KeyboardInterrupt' && this.shutting.has(own))) {
          this.log(`job ${jobId}: ${msg.content.ename}: ${msg.content.evalue}`);
        }
      };
      future.done.then(ended, ended);
    } catch (err) {
      // e.g. its kernel never answered: give that kernel up (the dispatcher relaunches the job after its back-off)
      if (session) {
        if (this.live.get(jobId) === session) {
          this.live.delete(jobId);
        }
        await this.shutDown(session);
      }
      ended();
      this.log(`job ${jobId}: could not start its kernel: ${(err as Error).message}`);
    }
  }

  /** Forget what was launched (after a reconnect: those kernels are gone with the old server); launch numbers stay. */
  forget(): void {
    this.live.clear();
    this.warm.clear();
    this.status_.clear();
  }

  status(jobId: string): LaunchStatus {
    return this.status_.get(jobId) ?? 'unknown';
  }

  async release(jobId: string): Promise<void> {
    const warm = this.warm.get(jobId);
    this.warm.delete(jobId);
    const known = [await warm, this.live.get(jobId)].filter((s): s is Session.ISessionConnection => !!s && !s.isDisposed);
    this.live.delete(jobId);
    if (known.length) {
      // its sessions are known (looked up by path again afterwards, the server would say they are gone)
      for (const s of known) {
        await this.shutDown(s);
      }
      return;
    }
    try {
      // a session this launcher does not know of (an earlier attempt's)
      const existing = await this.sessions.findByPath(jobSessionPath(jobId));
      if (existing) {
        await this.sessions.shutdown(existing.id);
      }
    } catch {
      // already gone
    }
  }

  /** Shut a job kernel's session down; the interrupt the server sends it first is then not the job's error. */
  private async shutDown(session: Session.ISessionConnection): Promise<void> {
    if (!session.isDisposed) {
      this.shutting.add(session);
      await session.shutdown().catch(() => undefined);
    }
  }

  async dispose(): Promise<void> {
    for (const id of new Set([...this.live.keys(), ...this.warm.keys()])) {
      await this.release(id);
    }
  }

  private warm = new Map<string, Promise<Session.ISessionConnection | null>>();
  private live = new Map<string, Session.ISessionConnection>();
  private status_ = new Map<string, LaunchStatus>();
  /** Job kernels this launcher is shutting down (released). */
  private shutting = new WeakSet<Session.ISessionConnection>();
  private launches = new Map<string, number>();
}
