/**
 * KernelJobLauncher against a stand-in session manager (the real one needs a Jupyter server). This launcher meets
 * real kernels only end to end: in `saturn run` (the CLI) of test_server_restart_e2e.py and in the page during the UI
 * specs' Optimize & Run. test_executor_kernels.py runs jobs in real kernels from Python (jupyter_client), without it.
 * What is checked here are the waits that must end: a job kernel that never answers kernel_info, and a superseded
 * launch that ends late.
 */
import { KernelJobLauncher, PREWARM_CODE } from '../kernel-backend';

interface IFakeKernel {
  id: string;
  status: string;
  connectionStatus: string;
  isDisposed: boolean;
  info: Promise<unknown>;
  executed: string[];
  futures: Array<{ done: Promise<unknown>; onIOPub: any }>;
  finish: () => void;
  requestExecute: (c: { code: string }) => { done: Promise<unknown>; onIOPub: unknown };
}

function fakeKernel(id: string, answers: boolean): IFakeKernel {
  let finish = () => undefined as void;
  const done = new Promise<unknown>(r => (finish = () => r(undefined)));
  const k: IFakeKernel = {
    id,
    status: 'idle',
    connectionStatus: 'connected',
    isDisposed: false,
    info: answers ? Promise.resolve({}) : new Promise(() => undefined),
    executed: [],
    futures: [],
    finish: () => finish(),
    requestExecute: ({ code }) => {
      k.executed.push(code);
      const future = { done: code.includes('run_job') ? done : Promise.resolve(undefined), onIOPub: null };
      k.futures.push(future);
      return future;
    }
  };
  return k;
}

function fakeSessions(answers: boolean[]) {
  const kernels: IFakeKernel[] = [];
  const shutDown: string[] = [];
  const shutDownById: string[] = [];
  const sessions = {
    // the server's view: the newest session of the path, whether or not it was shut down meanwhile
    findByPath: async () => (kernels.length ? { id: `s-${kernels[kernels.length - 1].id}` } : undefined),
    shutdown: async (id: string) => {
      shutDownById.push(id);
    },
    startNew: async () => {
      const kernel = fakeKernel(`k${kernels.length}`, answers[kernels.length] ?? true);
      kernels.push(kernel);
      return {
        kernel,
        isDisposed: false,
        statusChanged: { connect: () => undefined },
        shutdown: async () => {
          shutDown.push(kernel.id);
          kernel.status = 'dead';
        }
      };
    }
  };
  return { sessions: sessions as any, kernels, shutDown, shutDownById };
}

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) {
      throw new Error('condition not met in time');
    }
    await new Promise(r => setTimeout(r, 20));
  }
};

describe('KernelJobLauncher', () => {
  it('gives up on a job kernel that never answers kernel_info: shut down, launch ended, reason logged', async () => {
    const f = fakeSessions([false]);
    const log: string[] = [];
    const launcher = new KernelJobLauncher(f.sessions, 'saturn-bridge', m => log.push(m), 0.5);
    await launcher.launch('j1');
    expect(launcher.status('j1')).toBe('running');
    await until(() => launcher.status('j1') === 'ended');
    expect(f.shutDown).toEqual(['k0']);
    expect(f.kernels[0].executed).toEqual([]); // the job never ran in it
    expect(log.join('\n')).toMatch(/j1: could not start its kernel: kernel k0 did not answer within 0.5 s/);
    // launched again, it runs in a new kernel
    await launcher.launch('j1');
    await until(() => f.kernels.length === 2 && f.kernels[1].executed.length === 1);
    expect(f.kernels[1].executed[0]).toContain("run_job(\"j1\")");
    expect(launcher.status('j1')).toBe('running');
  }, 10000);

  it('a superseded launch that ends late does not mark the current launch ended', async () => {
    const f = fakeSessions([true, true]);
    const launcher = new KernelJobLauncher(f.sessions, 'saturn-bridge', () => undefined, 5);
    await launcher.launch('j1');
    await until(() => f.kernels[0]?.executed.length === 1);
    launcher.forget(); // a reconnect: that kernel went with the old server
    await launcher.launch('j1');
    await until(() => f.kernels[1]?.executed.length === 1);
    f.kernels[0].finish(); // the old launch's execute settles only now
    await new Promise(r => setTimeout(r, 50));
    expect(launcher.status('j1')).toBe('running');
    f.kernels[1].finish();
    await until(() => launcher.status('j1') === 'ended');
  });

  it('warms a job\'s next segment in a new kernel once its runner ended, shutting the old one down, and resumes there', async () => {
    const f = fakeSessions([true, true]);
    const launcher = new KernelJobLauncher(f.sessions, 'saturn-bridge', () => undefined, 5);
    await launcher.launch('j1');
    await until(() => f.kernels[0]?.executed.length === 1);
    await launcher.prewarm('j1'); // still running: nothing to warm
    expect(f.kernels).toHaveLength(1);
    f.kernels[0].finish(); // paused at its rung: the runner returned
    await until(() => launcher.status('j1') === 'ended');
    await launcher.prewarm('j1');
    expect(f.shutDown).toEqual(['k0']); // not reused: CUDA may be initialised there on other GPUs
    expect(f.kernels[1].executed).toEqual([PREWARM_CODE]);
    await launcher.launch('j1');
    await until(() => f.kernels[1].executed.length === 2);
    expect(f.kernels[1].executed[1]).toContain('run_job("j1")');
    expect(f.kernels).toHaveLength(2); // the resume booted no kernel
    f.kernels[1].finish();
    await until(() => launcher.status('j1') === 'ended');
    // paused again and warmed, then stopped early: the warm kernel is shut down once, nothing twice
    await launcher.prewarm('j1');
    await launcher.release('j1');
    expect(f.shutDown).toEqual(['k0', 'k1', 'k2']);
    expect(f.shutDownById).toEqual([]);
  });

  it('does not report the interrupt the server sends before shutting a released kernel down as the job\'s error', async () => {
    const f = fakeSessions([true]);
    const log: string[] = [];
    const launcher = new KernelJobLauncher(f.sessions, 'saturn-bridge', m => log.push(m), 5);
    await launcher.launch('j1');
    await until(() => f.kernels[0]?.futures.length === 1);
    const error = (ename: string) => ({ header: { msg_type: 'error' }, content: { ename, evalue: 'x', traceback: [] } });
    f.kernels[0].futures[0].onIOPub(error('ValueError'));
    expect(log).toEqual(['job j1: ValueError: x']);
    f.kernels[0].futures[0].onIOPub(error('KeyboardInterrupt')); // an interrupt while it runs is reported
    expect(log).toHaveLength(2);
    await launcher.release('j1');
    f.kernels[0].futures[0].onIOPub(error('KeyboardInterrupt'));
    expect(log).toHaveLength(2);
  });
});
