import { BridgeClient, BridgeRequestError, BridgeUnavailableError, BRIDGE_COMM_TARGET, BRIDGE_KERNEL_NAME } from '../client';
import { BridgeEvent } from '../wire';

/**
 * A stand-in for the Jupyter transport only: the kernel side answers comm messages with a
 * scripted function, so the client's protocol handling (correlation, errors, versions, events,
 * kernel death) is exercised without a server. The real path is covered by the UI tests.
 */
type Responder = (request: any, push: (data: any) => void) => any | undefined;

function fakeServices(opts: { specs?: string[]; respond: Responder; info?: Promise<any> }) {
  const sent: any[] = [];
  let statusHandler: ((s: any, status: string) => void) | null = null;
  let comm: any;
  const comms: any[] = [];
  const kernel = {
    name: BRIDGE_KERNEL_NAME,
    info: opts.info ?? Promise.resolve({ status: 'ok' }),
    createComm: (target: string) => {
      expect(target).toBe(BRIDGE_COMM_TARGET);
      comm = {
        isDisposed: false,
        closed: false,
        onMsg: null as any,
        onClose: null as any,
        open: () => undefined,
        dispose() {
          this.isDisposed = true;
        },
        close() {
          this.closed = true;
          this.onClose?.({});
          this.dispose();
        },
        send(data: any) {
          sent.push({ ...data, comm: comms.indexOf(this) });
          const push = (payload: any) => comm.onMsg({ content: { data: payload } });
          const reply = opts.respond(data, push);
          if (reply !== undefined) {
            setTimeout(() => push({ ...reply, id: data.id }), 0);
          }
        }
      };
      comms.push(comm);
      return comm;
    }
  };
  const session = {
    isDisposed: false,
    kernel,
    kernelChanged: { connect: () => undefined },
    statusChanged: { connect: (fn: any) => (statusHandler = fn) },
    shutdown: async () => undefined,
    dispose: () => undefined
  };
  const specs = opts.specs ?? [BRIDGE_KERNEL_NAME, 'python3'];
  const services: any = {
    ready: Promise.resolve(),
    kernelspecs: {
      ready: Promise.resolve(),
      specs: { default: 'python3', kernelspecs: Object.fromEntries(specs.map(s => [s, { name: s }])) }
    },
    sessions: {
      findByPath: async () => undefined,
      startNew: jest.fn(async () => session),
      connectTo: () => session
    }
  };
  return { services, sent, comms, die: () => statusHandler?.(session, 'dead') };
}

const hello = { v: 1, ok: true, saturn_version: '0.1.0', wire_version: 1, pid: 1, store: '/x/.saturn/saturn.db', device_kind: 'cpu', schema_version: 1 };

describe('BridgeClient', () => {
  it('says what to install when the bridge kernelspec is missing', async () => {
    const { services } = fakeServices({ specs: ['python3'], respond: () => hello });
    const client = new BridgeClient(services);
    await expect(client.connect()).rejects.toBeInstanceOf(BridgeUnavailableError);
    expect(client.state).toBe('unavailable');
    expect(client.lastError?.hint).toMatch(/pip install jupyterlab-saturn/);
  });

  it('connects, says hello and matches replies to their requests', async () => {
    const { services, sent } = fakeServices({
      respond: req => (req.type === 'hello' ? hello : { v: 1, ok: true, echo: req.type })
    });
    const client = new BridgeClient(services);
    const [a, b] = await Promise.all([client.request({ type: 'devices' }), client.request({ type: 'tasks' })]);
    expect(client.state).toBe('connected');
    expect(client.hello?.saturn_version).toBe('0.1.0');
    expect(a.echo).toBe('devices');
    expect(b.echo).toBe('tasks');
    expect(sent.every(m => m.v === 1 && typeof m.id === 'string')).toBe(true);
  });

  it('turns an error reply into a BridgeRequestError with its hint', async () => {
    const { services } = fakeServices({
      respond: req =>
        req.type === 'hello' ? hello : { v: 1, ok: false, error: { message: 'no task "x"', hint: 'register it first' } }
    });
    const client = new BridgeClient(services);
    const err = await client.request({ type: 'profile', names: ['x'] }).catch(e => e);
    expect(err).toBeInstanceOf(BridgeRequestError);
    expect(err.message).toBe('no task "x"');
    expect(err.hint).toBe('register it first');
  });

  it('refuses a bridge that speaks another protocol version, naming both', async () => {
    const { services } = fakeServices({ respond: () => ({ ...hello, wire_version: 2, saturn_version: '9.0.0' }) });
    const client = new BridgeClient(services);
    const err = await client.connect().catch(e => e);
    expect(err).toBeInstanceOf(BridgeUnavailableError);
    expect(err.message).toMatch(/protocol 2 \(saturn 9\.0\.0\).*protocol 1/);
  });

  it('fails a request that gets no answer within its timeout', async () => {
    const { services } = fakeServices({ respond: req => (req.type === 'hello' ? hello : undefined) });
    const client = new BridgeClient(services, { requestTimeoutMs: 50 });
    await expect(client.request({ type: 'devices' })).rejects.toThrow(/did not answer "devices"/);
  });

  it('opens a new channel after a request went unanswered, so one lost channel does not fail every later request', async () => {
    let answerDevices = false;
    const { services, sent, comms } = fakeServices({
      respond: req => (req.type === 'hello' || answerDevices ? { ...hello, type: req.type } : undefined)
    });
    const client = new BridgeClient(services, { requestTimeoutMs: 50 });
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    await expect(client.request({ type: 'devices' })).rejects.toThrow(/did not answer "devices"/);
    expect(warn.mock.calls[0][0]).toMatch(/did not answer "devices"/);
    warn.mockRestore();
    answerDevices = true;
    const reply = await client.request({ type: 'devices' });
    expect(reply.type).toBe('devices');
    expect(comms).toHaveLength(2);
    expect(comms[0].closed).toBe(true); // the kernel is told, so it stops pushing events on the old channel
    expect(sent.filter(m => m.type === 'devices').map(m => m.comm)).toEqual([0, 1]);
    expect(sent.filter(m => m.type === 'hello').map(m => m.comm)).toEqual([0, 1]);
    expect(client.state).toBe('connected');
    // answered requests keep their channel
    await client.request({ type: 'tasks' });
    expect(comms).toHaveLength(2);
  });

  it('reports a bridge kernel that never answers kernel_info as unavailable instead of connecting forever', async () => {
    const { services } = fakeServices({ respond: () => hello, info: new Promise(() => undefined) });
    const client = new BridgeClient(services, { helloTimeoutMs: 50 });
    const err = await client.connect().catch(e => e);
    expect(err).toBeInstanceOf(BridgeUnavailableError);
    expect(err.message).toMatch(/kernel_info/);
    expect(client.state).toBe('unavailable');
  });

  it('reports an unresponsive bridge kernel as unavailable with what to check', async () => {
    const { services } = fakeServices({ respond: () => undefined });
    const client = new BridgeClient(services, { helloTimeoutMs: 50 });
    const err = await client.connect().catch(e => e);
    expect(err).toBeInstanceOf(BridgeUnavailableError);
    expect(err.hint).toMatch(/import saturn/);
  });

  it('forwards pushed events and rejects pending requests when the kernel dies', async () => {
    let pushEvent: (d: any) => void = () => undefined;
    const { services, die } = fakeServices({
      respond: (req, push) => {
        pushEvent = push;
        return req.type === 'hello' ? hello : undefined;
      }
    });
    const client = new BridgeClient(services);
    await client.connect();
    const seen: BridgeEvent[] = [];
    client.events.connect((_, e) => seen.push(e));
    pushEvent({ v: 1, type: 'event', event: { type: 'task_registered', name: 'mlp' } });
    expect(seen).toEqual([{ type: 'task_registered', name: 'mlp' }]);
    const pending = client.request({ type: 'profile' });
    die();
    await expect(pending).rejects.toThrow(/died/);
    expect(client.state).toBe('disconnected');
  });
});
