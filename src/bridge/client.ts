/**
 * The one module that talks to kernels.
 *
 * Saturn's bridge is an ordinary Jupyter kernel started from the `saturn-bridge` kernelspec, whose
 * IPython loads the `saturn` extension at start-up (so nothing is executed on the user's behalf).
 * The extension registers the comm target `saturn.bridge`; over one comm each request
 * `{v, type, id, …}` gets one reply `{v, ok, id, …}` with the same id, and the bridge pushes
 * `{v, type: 'event', event}` messages on its own.
 */
import { KernelMessage, Kernel, Session, ServiceManager } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';
import { BRIDGE_COMM_TARGET, BRIDGE_PROTOCOL_VERSION, BridgeEvent, BridgeReply, BridgeRequest, IHelloReply } from './wire';

export const BRIDGE_KERNEL_NAME = 'saturn-bridge';
export const BRIDGE_SESSION_PATH = '.saturn/bridge.saturn';
export { BRIDGE_COMM_TARGET };

/** Why the bridge cannot be used, phrased for the person who must fix it. */
export class BridgeUnavailableError extends Error {
  constructor(
    message: string,
    readonly hint: string
  ) {
    super(message);
    this.name = 'BridgeUnavailableError';
  }
}

/** A reply the bridge sent with `ok: false`. */
export class BridgeRequestError extends Error {
  constructor(
    message: string,
    readonly hint?: string
  ) {
    super(message);
    this.name = 'BridgeRequestError';
  }
}

export type BridgeState = 'disconnected' | 'connecting' | 'connected' | 'unavailable';

interface IPending {
  resolve: (reply: BridgeReply) => void;
  reject: (err: Error) => void;
}

export interface IBridgeClientOptions {
  /** How long a single request may take before it fails (ms). */
  requestTimeoutMs?: number;
  /** How long the bridge may take to answer the first `hello` (ms); includes kernel start-up. */
  helloTimeoutMs?: number;
}

export class BridgeClient {
  constructor(
    private readonly services: ServiceManager.IManager,
    private readonly options: IBridgeClientOptions = {}
  ) {}

  get state(): BridgeState {
    return this._state;
  }

  /** Emits whenever `state` changes. */
  get stateChanged(): ISignal<this, BridgeState> {
    return this._stateChanged;
  }

  /** Events the bridge pushes (task registered, profiling progress, job updates…). */
  get events(): ISignal<this, BridgeEvent> {
    return this._events;
  }

  /** The error that made the bridge unavailable, if any. */
  get lastError(): BridgeUnavailableError | null {
    return this._lastError;
  }

  /** Start (or re-attach to) the bridge kernel session and open the comm. */
  async connect(): Promise<void> {
    if (this._connecting) {
      return this._connecting;
    }
    this._connecting = this._connect().finally(() => {
      this._connecting = null;
    });
    return this._connecting;
  }

  /** What the bridge said when the channel opened (its version, Python, root folder). */
  get hello(): IHelloReply | null {
    return this._hello;
  }

  /** Send one request; resolves with the reply, rejects with BridgeRequestError when `ok` is false. */
  async request<T extends BridgeReply = BridgeReply>(request: Omit<BridgeRequest, 'v'>, timeoutMs?: number): Promise<T> {
    if (this._unanswered && this._comm && !this._comm.isDisposed) {
      // The last request on this channel got no answer: the channel may be lost on the kernel's side (every later
      // request would then time out too). Open a new one; replies still due on the old one are not awaited.
      this._unanswered = false;
      const old = this._comm;
      this._comm = null;
      try {
        old.close();
      } catch {
        // a channel whose kernel is gone cannot be closed: it is dropped all the same
      }
    }
    if (!this._comm || this._comm.isDisposed) {
      await this.connect();
    }
    return this._send<T>(this._comm!, request, timeoutMs ?? this.options.requestTimeoutMs ?? 60_000);
  }

  private async _send<T extends BridgeReply>(
    comm: Kernel.IComm,
    request: Omit<BridgeRequest, 'v'>,
    timeoutMs: number
  ): Promise<T> {
    const id = `req-${++this._counter}-${Date.now()}`;
    const full = { v: BRIDGE_PROTOCOL_VERSION, ...request } as BridgeRequest;
    const reply = await new Promise<BridgeReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(id);
        if (comm === this._comm) {
          this._unanswered = true;
        }
        console.warn(`saturn: the bridge did not answer "${request.type}" (${id}) within ${timeoutMs / 1000} s`);
        reject(new BridgeRequestError(`The Saturn bridge did not answer "${request.type}" within ${timeoutMs / 1000} s.`));
      }, timeoutMs);
      this._pending.set(id, {
        resolve: r => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: e => {
          clearTimeout(timer);
          reject(e);
        }
      });
      comm.send({ ...full, id } as any);
    });
    if (!reply.ok) {
      throw new BridgeRequestError(reply.error?.message ?? 'The bridge refused the request.', reply.error?.hint);
    }
    return reply as T;
  }

  /** Shut the bridge kernel down (used by tests and "Restart bridge"). */
  async shutdown(): Promise<void> {
    const session = this._session;
    this._dropComm(new BridgeRequestError('The bridge was shut down.'));
    this._session = null;
    if (session && !session.isDisposed) {
      await session.shutdown();
    }
    this._setState('disconnected');
  }

  dispose(): void {
    this._dropComm(new BridgeRequestError('The bridge client was disposed.'));
    this._session?.dispose();
    this._session = null;
  }

  private async _connect(): Promise<void> {
    this._setState('connecting');
    try {
      await this.services.ready;
      await this.services.kernelspecs.ready;
      const specs = this.services.kernelspecs.specs;
      if (!specs || !specs.kernelspecs[BRIDGE_KERNEL_NAME]) {
        throw new BridgeUnavailableError(
          `The Saturn bridge kernel ("${BRIDGE_KERNEL_NAME}") is not installed in this Jupyter server.`,
          'Install the Python package in the server\'s environment: pip install jupyterlab-saturn ' +
            '(in this repository: bash scripts/start.sh sets it up), then reload the page.'
        );
      }
      const session = await this._session_();
      const kernel = session.kernel;
      if (!kernel) {
        throw new BridgeUnavailableError('The bridge session has no kernel.', 'Restart the Saturn bridge from the Saturn panel.');
      }
      const comm = await this._openComm(kernel);
      let hello: IHelloReply;
      try {
        hello = await this._send<IHelloReply>(comm, { type: 'hello' }, this.options.helloTimeoutMs ?? 30_000);
      } catch (err) {
        throw new BridgeUnavailableError(
          `The bridge kernel started but Saturn did not answer: ${(err as Error).message}`,
          'The "saturn" Python package must import in the bridge kernel: run  python -c "import saturn"  in the ' +
            'server\'s environment, fix what it reports, then press Retry.'
        );
      }
      if (hello.wire_version !== BRIDGE_PROTOCOL_VERSION) {
        throw new BridgeUnavailableError(
          `The Saturn bridge speaks protocol ${hello.wire_version} (saturn ${hello.saturn_version}) but this page speaks ` +
            `protocol ${BRIDGE_PROTOCOL_VERSION}.`,
          'Install the same version of the Python package and the extension (pip install -U jupyterlab-saturn), ' +
            'restart Jupyter and reload the page.'
        );
      }
      this._hello = hello;
      this._lastError = null;
      this._setState('connected');
    } catch (err) {
      const e =
        err instanceof BridgeUnavailableError
          ? err
          : new BridgeUnavailableError(
              `Could not reach the Saturn bridge: ${(err as Error).message ?? err}`,
              'Check that the Jupyter server is running and that the "saturn" Python package imports in the bridge kernel.'
            );
      this._lastError = e;
      this._setState('unavailable');
      throw e;
    }
  }

  private async _session_(): Promise<Session.ISessionConnection> {
    if (this._session && !this._session.isDisposed && this._session.kernel) {
      return this._session;
    }
    const sessions = this.services.sessions;
    const existing = await sessions.findByPath(BRIDGE_SESSION_PATH);
    let session: Session.ISessionConnection;
    if (existing && existing.kernel?.name === BRIDGE_KERNEL_NAME) {
      session = sessions.connectTo({ model: existing });
    } else {
      session = await sessions.startNew({
        path: BRIDGE_SESSION_PATH,
        name: 'Saturn bridge',
        type: 'saturn',
        kernel: { name: BRIDGE_KERNEL_NAME }
      });
    }
    session.kernelChanged.connect(() => this._dropComm(new BridgeRequestError('The bridge kernel changed.')));
    session.statusChanged.connect((_, status) => {
      if (status === 'dead') {
        this._dropComm(new BridgeRequestError('The bridge kernel died. It will be restarted on the next request.'));
        this._session = null;
        this._setState('disconnected');
      } else if (status === 'restarting' || status === 'autorestarting') {
        this._dropComm(new BridgeRequestError('The bridge kernel is restarting.'));
      }
    });
    this._session = session;
    return session;
  }

  private async _openComm(kernel: Kernel.IKernelConnection): Promise<Kernel.IComm> {
    const waitMs = this.options.helloTimeoutMs ?? 30_000;
    const info = await withTimeout(kernel.info, waitMs, () =>
      new BridgeUnavailableError(
        `The bridge kernel did not answer its kernel_info request within ${waitMs / 1000} s.`,
        'The kernel may still be starting or be stuck: press Retry, or restart the Saturn bridge from the Saturn panel.'
      )
    );
    if (info.status !== 'ok') {
      throw new BridgeUnavailableError('The bridge kernel did not start.', 'Open the kernel logs in the server console.');
    }
    const comm = kernel.createComm(BRIDGE_COMM_TARGET);
    comm.onMsg = (msg: KernelMessage.ICommMsgMsg) => this._onMessage(msg.content.data as any);
    comm.onClose = () => {
      if (this._comm === comm) {
        this._dropComm(new BridgeRequestError('The bridge closed its channel.'));
        this._setState('disconnected');
      }
    };
    comm.open({ v: BRIDGE_PROTOCOL_VERSION } as any);
    this._comm = comm;
    return comm;
  }

  private _onMessage(data: (BridgeReply & { id?: string }) | { type: 'event'; event: BridgeEvent }): void {
    if ((data as any).type === 'event' && (data as any).event) {
      this._events.emit((data as any).event);
      return;
    }
    const reply = data as BridgeReply & { id?: string };
    const pending = reply.id ? this._pending.get(reply.id) : undefined;
    if (pending) {
      this._pending.delete(reply.id!);
      pending.resolve(reply);
    }
  }

  private _dropComm(reason: Error): void {
    const comm = this._comm;
    this._comm = null;
    this._unanswered = false;
    if (comm && !comm.isDisposed) {
      comm.dispose();
    }
    for (const [, p] of this._pending) {
      p.reject(reason);
    }
    this._pending.clear();
  }

  private _setState(state: BridgeState): void {
    if (state !== this._state) {
      this._state = state;
      this._stateChanged.emit(state);
    }
  }

  private _state: BridgeState = 'disconnected';
  private _stateChanged = new Signal<this, BridgeState>(this);
  private _events = new Signal<this, BridgeEvent>(this);
  private _session: Session.ISessionConnection | null = null;
  private _comm: Kernel.IComm | null = null;
  private _pending = new Map<string, IPending>();
  private _counter = 0;
  private _connecting: Promise<void> | null = null;
  private _lastError: BridgeUnavailableError | null = null;
  private _hello: IHelloReply | null = null;
  /** A request on the current channel timed out: open a new channel before the next one. */
  private _unanswered = false;
}

/** `promise`, or the error `fail()` makes when it has not settled within `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number, fail: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(fail()), ms);
    promise.then(
      v => {
        clearTimeout(timer);
        resolve(v);
      },
      e => {
        clearTimeout(timer);
        reject(e);
      }
    );
  });
}
