import * as React from 'react';
import { ActionBar } from '../components/action-bar';
import { BridgeUnavailable } from '../components/bridge-unavailable';
import { DeviceList } from '../components/device-list';
import { ProfileProgress } from '../components/profile-progress';
import { ProfileTable } from '../components/profile-table';
import { PlanSummary, gainText } from '../components/plan-summary';
import { TaskList, taskProfileState } from '../components/task-list';
import { IProfileState } from '../models/interfaces';
import { button, click, render } from './render';
import { smallInstance, smallPlan } from './fixtures';

const profile = (over: Partial<IProfileState> = {}): IProfileState => ({
  run_id: 'r1', running: true, done: 3, total: 12, cached: 1, eta_s: 75, tasks: ['A', 'B'], trials: { A: [{ task: 'A', parallelism: 'ddp', gpus: 1, feasible: true }] }, error: null, cancelled: false, ...over
});

describe('ActionBar', () => {
  const noop = (): void => undefined;
  it('has the four primary buttons with their exact names, enabled by state', () => {
    const calls: string[] = [];
    const r = render(
      <ActionBar activity="idle" hasTasks hasProfile canRun onProfile={() => calls.push('p')} onOptimize={() => calls.push('o')} onOptimizeAndRun={() => calls.push('r')} onCancel={noop} />
    );
    expect(Array.from(r.container.querySelectorAll('button')).map(b => b.textContent)).toEqual(['Profile', 'Optimize', 'Optimize & Run', 'Cancel']);
    expect(button(r.container, 'Cancel').disabled).toBe(true);
    click(button(r.container, 'Profile'));
    click(button(r.container, 'Optimize & Run'));
    expect(calls).toEqual(['p', 'r']);
    r.rerender(<ActionBar activity="profiling" hasTasks hasProfile canRun onProfile={noop} onOptimize={noop} onOptimizeAndRun={noop} onCancel={noop} />);
    expect(button(r.container, 'Profile').disabled).toBe(true);
    expect(button(r.container, 'Cancel').disabled).toBe(false);
    r.rerender(<ActionBar activity="idle" hasTasks={false} hasProfile={false} canRun={false} onProfile={noop} onOptimize={noop} onOptimizeAndRun={noop} onCancel={noop} />);
    expect(button(r.container, 'Profile').disabled).toBe(true);
    expect(button(r.container, 'Optimize').title).toBe('Register a task first');
    r.unmount();
  });
});

describe('TaskList', () => {
  it('loading, empty (with a snippet to copy) and data states', () => {
    const r = render(<TaskList tasks={null} profile={null} instance={null} />);
    expect(r.container.textContent).toContain('loading');
    r.rerender(<TaskList tasks={[]} profile={null} instance={null} />);
    expect(r.container.textContent).toContain('No task registered yet');
    expect(r.container.querySelector('pre')!.textContent).toContain('saturn.register(saturn.Task(');
    expect(button(r.container, 'Copy snippet')).toBeTruthy();
    r.rerender(<TaskList tasks={[{ name: 'A', batch_size: 8, total_steps: 100, param_count: 12000 }, { name: 'Z', batch_size: 4 }]} profile={profile()} instance={null} />);
    const a = r.container.querySelector('[data-saturn-task="A"]')!;
    expect(a.getAttribute('data-saturn-profile-state')).toBe('profiling');
    expect(a.textContent).toContain('12.0k params');
    expect(a.textContent).toContain('1 trial measured');
    expect(r.container.querySelector('[data-saturn-task="Z"]')!.getAttribute('data-saturn-profile-state')).toBe('not profiled');
    r.unmount();
  });

  it('derives each task\'s profiling state', () => {
    const inst = { ...smallInstance(), unschedulable: [{ id: 'U', options: [] }] };
    expect(taskProfileState('B', profile(), null)).toBe('queued');
    expect(taskProfileState('A', null, inst)).toBe('profiled');
    expect(taskProfileState('U', null, inst)).toBe('no feasible option');
    expect(taskProfileState('Q', null, inst)).toBe('not profiled');
  });
});

describe('ProfileProgress', () => {
  it('shows nothing, a bar with the ETA, an error, or a cancellation', () => {
    const r = render(<ProfileProgress profile={null} />);
    expect(r.container.innerHTML).toBe('');
    r.rerender(<ProfileProgress profile={profile()} />);
    const bar = r.container.querySelector('[role="progressbar"]')!;
    expect(bar.getAttribute('aria-valuenow')).toBe('25');
    expect(r.container.textContent).toContain('3 / 12 trials (1 cached) · about 1m 15s left');
    r.rerender(<ProfileProgress profile={profile({ running: false, error: 'boom' })} />);
    expect(r.container.querySelector('[role="alert"]')!.textContent).toContain('boom');
    r.rerender(<ProfileProgress profile={profile({ running: false, cancelled: true })} />);
    expect(r.container.textContent).toContain('cancelled');
    r.unmount();
  });
});

describe('ProfileTable', () => {
  it('empty, profiling, and a technique × GPU table with infeasible options greyed with their reason', () => {
    const r = render(<ProfileTable instance={null} />);
    expect(r.container.textContent).toContain('No profile yet');
    r.rerender(<ProfileTable instance={null} profiling />);
    expect(r.container.textContent).toContain('Measuring');
    const inst = smallInstance();
    inst.jobs[1].infeasible = [{ parallelism: 'fsdp', gpus: 2, reason: 'out of memory: CUDA OOM' }];
    r.rerender(<ProfileTable instance={inst} />);
    const b = r.container.querySelector('[data-saturn-profile-job="B"]')!;
    expect(b.querySelector('caption')!.textContent).toBe('B');
    const bad = b.querySelector('[data-saturn-option="fsdp/2"]')!;
    expect(bad.className).toContain('jp-Saturn-cell-infeasible');
    expect(bad.getAttribute('title')).toBe('out of memory: CUDA OOM');
    expect(b.querySelector('[data-saturn-option="ddp/2"]')!.textContent).toBe('2m 00s');
    expect(b.querySelector('details')!.textContent).toContain('fsdp on 2 GPU(s)');
    r.unmount();
  });
});

describe('PlanSummary', () => {
  const ys = { lowerBound: 100, currentPractice: 300 };
  it('empty, solving, plan figures, and run completion', () => {
    const r = render(<PlanSummary plan={null} yardsticks={ys} run={null} solving={false} onOpenGantt={() => undefined} />);
    expect(r.container.textContent).toContain('No plan yet');
    r.rerender(<PlanSummary plan={null} yardsticks={ys} run={null} solving onOpenGantt={() => undefined} />);
    expect(r.container.textContent).toContain('Solving');
    let opened = 0;
    r.rerender(
      <PlanSummary
        plan={smallPlan()}
        yardsticks={ys}
        run={{ phase: 'done', started_at_ms: 0, plan: null, jobs: [{ job: 'A', state: 'done' }, { job: 'B', state: 'done' }, { job: 'C', state: 'failed' }] }}
        solving={false}
        onOpenGantt={() => opened++}
      />
    );
    expect(r.container.textContent).toContain('2m 30s');
    expect(r.container.textContent).toContain('2.00× faster than current practice');
    expect(r.container.querySelector('[data-saturn-run]')!.textContent).toBe('Run complete: 2 of 3 jobs done, 1 failed.');
    click(button(r.container, 'Open Gantt chart'));
    expect(opened).toBe(1);
    r.unmount();
  });

  it('words the gain', () => {
    expect(gainText(100, null)).toBeNull();
    expect(gainText(100, 100)).toBe('same as current practice');
    expect(gainText(200, 100)).toContain('slower');
  });
});

describe('DeviceList and BridgeUnavailable', () => {
  it('SLURM nodes: node groups with their GPUs, a down node said to take no jobs, an empty partition explained', () => {
    const nodes = [
      { id: 'n1', gpus: 4, state: 'mixed', usable: true },
      { id: 'n2', gpus: 2, state: 'down+not_responding', usable: false, gpu_type: 'a100' }
    ];
    const r = render(<DeviceList devices={[]} nodes={nodes} />);
    expect(r.container.textContent).toContain('SLURM: 2 nodes, 4 usable GPUs');
    expect(r.container.querySelectorAll('[data-saturn-node="n1"] [data-saturn-device]')).toHaveLength(4);
    const down = r.container.querySelector('[data-saturn-node="n2"]')!;
    expect(down.getAttribute('data-saturn-node-usable')).toBe('false');
    expect(down.textContent).toContain('2 a100s');
    expect(down.textContent).toContain('re-planned onto the other nodes');
    r.rerender(<DeviceList devices={[]} nodes={[]} />);
    expect(r.container.textContent).toContain('check the partition');
    r.unmount();
  });

  it('devices: waiting, none, and memory in use', () => {
    const r = render(<DeviceList devices={null} />);
    expect(r.container.textContent).toContain('waiting');
    r.rerender(<DeviceList devices={[]} />);
    expect(r.container.textContent).toContain('SATURN_FAKE_GPUS=4');
    r.rerender(<DeviceList devices={[{ id: 0, name: 'cpu0', kind: 'cpu', memory_total_bytes: 4 * 2 ** 30, memory_used_bytes: 2 ** 30 }]} busy={new Map([[0, 'A']])} />);
    expect(r.container.querySelector('[data-saturn-device="0"]')!.textContent).toContain('1.0 GiB / 4.0 GiB');
    expect(r.container.textContent).toContain('running A');
    r.unmount();
  });

  it('a device notice shows once above the devices, as a note and not an alert', () => {
    const dev = [{ id: 0, name: 'cpu0', kind: 'cpu', memory_total_bytes: 2 ** 30, memory_used_bytes: 0 }];
    const r = render(<DeviceList devices={dev} notices={['4 CPU devices are declared on a machine with 2 cores']} />);
    const notes = r.container.querySelectorAll('[role="note"]');
    expect(notes).toHaveLength(1);
    expect(notes[0].textContent).toContain('4 CPU devices are declared');
    expect(r.container.querySelector('[role="alert"]')).toBeNull();
    r.rerender(<DeviceList devices={dev} notices={[]} />);
    expect(r.container.querySelector('[role="note"]')).toBeNull();
    r.unmount();
  });

  it('the bridge screen says exactly what to run', () => {
    let retried = 0;
    const r = render(
      <BridgeUnavailable
        state="unavailable"
        error={{ message: 'The Saturn bridge kernel ("saturn-bridge") is not installed.', hint: 'Install it: pip install jupyterlab-saturn (in this repository: bash scripts/start.sh sets it up), then reload.' }}
        onRetry={() => retried++}
      />
    );
    expect(r.container.querySelector('[role="alert"] h3')!.textContent).toContain('cannot reach');
    expect(Array.from(r.container.querySelectorAll('pre')).map(p => p.textContent)).toEqual(['pip install jupyterlab-saturn', 'bash scripts/start.sh']);
    click(button(r.container, 'Retry'));
    expect(retried).toBe(1);
    r.unmount();
  });
});
