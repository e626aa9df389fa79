jest.mock('../../solver/create-worker', () => ({ createSolverWorker: jest.fn() }));
import * as React from 'react';
import { Signal } from '@lumino/signaling';
import { fitPlan, lastMoment } from '../components/gantt/chart-layout';
import { GanttChart } from '../components/gantt/gantt-chart';
import { GanttView } from '../components/gantt/gantt-view';
import { saturnLabel } from '../components/commands';
import { JobInspector } from '../components/gantt/job-inspector';
import { PlanTable } from '../components/gantt/plan-table';
import { PlanModel } from '../models/plan-model';
import { JobSelection } from '../models/selection';
import { IJobStatus } from '../models/interfaces';
import { act, button, click, render } from './render';
import { chartProps, smallInstance, smallPlan } from './fixtures';


describe('GanttChart', () => {
  it('draws one block per job and contiguous run of lanes, with the data attributes scripts read', () => {
    const plan = smallPlan();
    plan.jobs[0] = { ...plan.jobs[0], gpu_ids: [0, 2] }; // A on non-contiguous GPUs 0 and 2
    plan.jobs[1] = { ...plan.jobs[1], gpu_ids: [1, 3] };
    const pm = new PlanModel(smallInstance(), plan);
    const r = render(<GanttChart {...chartProps(pm)} />);
    const blocks = Array.from(r.container.querySelectorAll('[data-saturn-job]'));
    expect(blocks.map(b => b.getAttribute('data-saturn-job'))).toEqual(['A', 'A', 'B', 'B', 'C']);
    const a = blocks.filter(b => b.getAttribute('data-saturn-job') === 'A');
    expect(a.map(b => b.getAttribute('data-saturn-gpus'))).toEqual(['0,2', '0,2']);
    expect(a.map(b => b.getAttribute('data-saturn-lanes'))).toEqual(['0', '2']);
    expect(a[0].getAttribute('data-saturn-node')).toBe('node0');
    expect(a[0].getAttribute('data-saturn-state')).toBe('planned');
    expect(a[0].getAttribute('aria-label')).toContain('A · ddp · 2 GPUs on node0 GPU 0, 2');
    expect(r.container.querySelectorAll('[data-saturn-lane]')).toHaveLength(4);
    expect(r.container.querySelector('.jp-Saturn-nowLine')).toBeNull();
    r.unmount();
  });

  it('shows run state: now-line, progress inside running blocks, actual bars, failed jobs marked', () => {
    const pm = new PlanModel(smallInstance(), smallPlan());
    pm.setStates(new Map([['A', 'done'], ['B', 'running'], ['C', 'failed']]));
    const statuses = new Map<string, IJobStatus>([
      ['A', { job: 'A', state: 'done', actual_start_s: 0, actual_end_s: 90 }],
      ['B', { job: 'B', state: 'running', progress: 0.5, actual_start_s: 2 }]
    ]);
    const r = render(<GanttChart {...chartProps(pm, { statuses, now_s: 60 })} />);
    expect(r.container.querySelector('[data-saturn-now="60"]')).not.toBeNull();
    const b = r.container.querySelector('[data-saturn-job="B"]')!;
    expect(b.getAttribute('data-saturn-state')).toBe('running');
    expect(b.querySelector('.jp-Saturn-blockProgress')).not.toBeNull();
    expect(b.querySelector('.jp-Saturn-actual')).not.toBeNull();
    expect(r.container.querySelector('[data-saturn-job="C"] .jp-Saturn-blockFailed')).not.toBeNull();
    expect(r.container.querySelector('[data-saturn-job="A"]')!.getAttribute('aria-label')).toContain('done');
    r.unmount();
  });

  it('edits with the keyboard: arrows move, P pins; invalid moves are rejected', () => {
    const pm = new PlanModel(smallInstance(), smallPlan());
    const r = render(<GanttChart {...chartProps(pm)} />);
    // Press a key on C's block, then show the model's plan again (what GanttView does on every change).
    const press = (key: string, shiftKey = false): void => {
      const c = r.container.querySelector('[data-saturn-job="C"]')!;
      act(() => {
        c.dispatchEvent(new KeyboardEvent('keydown', { key, shiftKey, bubbles: true }));
      });
      r.rerender(<GanttChart {...chartProps(pm)} />);
    };
    const cNow = () => ({ ...pm.plan.jobs.find(j => j.id === 'C')! });
    press('ArrowRight');
    expect(pm.lastResult!.ok).toBe(true);
    expect(cNow().start_s).toBeGreaterThan(100);
    press('p');
    expect(pm.isPinned('C')).toBe(true);
    // GPU 1 is A's until 100 s and C now starts after it: allowed.
    press('ArrowDown');
    expect(pm.lastResult!.ok).toBe(true);
    const moved = cNow();
    expect(moved.gpu_ids).toEqual([1]);
    expect(moved.start_s).toBeLessThan(120);
    // Down again: GPU 2 is B's until 120 s and C starts before that, so the move is refused and nothing changes.
    press('ArrowDown');
    expect(pm.lastResult!.ok).toBe(false);
    expect(pm.lastResult!.reasons.join(' ')).toContain('busy with "B"');
    expect(cNow()).toEqual(moved);
    // Shift+Left: back into A's time on GPU 1, refused as well.
    press('ArrowLeft', true);
    expect(pm.lastResult!.ok).toBe(false);
    expect(pm.lastResult!.reasons.join(' ')).toContain('busy with "A"');
    expect(cNow()).toEqual(moved);
    const block = r.container.querySelector('[data-saturn-job="C"]')!;
    expect(block.getAttribute('data-saturn-gpus')).toBe('1');
    expect(Number(block.getAttribute('data-saturn-start'))).toBe(moved.start_s);
    r.unmount();
  });

  it('after a run slower than its plan, fits when the jobs really ran, not only the plan', () => {
    const pm = new PlanModel(smallInstance(), smallPlan()); // makespan 150 s
    pm.setStates(new Map([['A', 'done'], ['B', 'done'], ['C', 'done']]));
    const statuses = new Map<string, IJobStatus>([
      ['A', { job: 'A', state: 'done', actual_start_s: 10, actual_end_s: 140 }],
      ['B', { job: 'B', state: 'done', actual_start_s: 20, actual_end_s: 260 }],
      ['C', { job: 'C', state: 'done', actual_start_s: 150, actual_end_s: 300 }]
    ]);
    expect(lastMoment(statuses, null)).toBe(300);
    expect(lastMoment(statuses, 400)).toBe(400);
    expect(lastMoment(new Map(), null)).toBeNull();
    const r = render(<GanttChart {...chartProps(pm, { statuses, width: 800 })} />);
    const bars = Array.from(r.container.querySelectorAll('.jp-Saturn-actual'));
    expect(bars).toHaveLength(3);
    for (const b of bars) {
      expect(Number(b.getAttribute('x')) + Number(b.getAttribute('width'))).toBeLessThanOrEqual(800);
    }
    r.unmount();
  });

  it('fits the plan into the width', () => {
    const s = fitPlan(smallPlan(), 800);
    expect(s.t0).toBe(0);
    expect(s.pxPerS).toBeCloseTo((800 - 96 - 12) / (150 * 1.04));
  });
});

describe('PlanTable and JobInspector', () => {
  it('lists the plan as text, and picks a job', () => {
    const pm = new PlanModel(smallInstance(), smallPlan());
    pm.apply({ kind: 'pin', job: 'B' });
    let picked = '';
    const r = render(
      <PlanTable plan={pm.plan} stateOf={j => pm.stateOf(j)} isPinned={j => pm.isPinned(j)} statuses={new Map()} selected={null} onSelect={j => (picked = j)} />
    );
    const rows = Array.from(r.container.querySelectorAll('tbody tr'));
    expect(rows.map(x => x.getAttribute('data-saturn-row'))).toEqual(['A', 'B', 'C']);
    expect(rows[1].textContent).toContain('(pinned)');
    expect(rows[2].textContent).toContain('spilling');
    click(button(r.container, 'C'));
    expect(picked).toBe('C');
    r.unmount();
  });

  it('changes the option with the makespan delta of each, and pins', () => {
    const pm = new PlanModel(smallInstance(), smallPlan());
    const r = render(<JobInspector model={pm} instance={pm.instance} job="C" onClose={() => undefined} />);
    const opts = Array.from(r.container.querySelectorAll('option')).map(o => o.textContent);
    expect(opts).toEqual(['spilling × 1 GPU — 50s (current)', 'ddp × 2 GPUs — 30s (makespan −20s)']);
    const select = r.container.querySelector('select')!;
    act(() => {
      select.value = 'ddp/2';
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(pm.plan.jobs.find(j => j.id === 'C')!.gpus).toBe(2);
    r.rerender(<JobInspector model={pm} instance={pm.instance} job="C" onClose={() => undefined} />);
    click(button(r.container, 'Pin'));
    expect(pm.isPinned('C')).toBe(true);
    r.rerender(<JobInspector model={pm} instance={pm.instance} job="C" onClose={() => undefined} />);
    expect(button(r.container, 'Unpin')).toBeTruthy();
    pm.setStates(new Map([['C', 'running']]));
    r.rerender(<JobInspector model={pm} instance={pm.instance} job="C" onClose={() => undefined} />);
    expect(r.container.querySelector('select')!.disabled).toBe(true);
    r.unmount();
  });
});

describe('GanttView', () => {
  function fakeModel(pm: PlanModel | null): any {
    return {
      changed: new Signal<any, void>({}),
      planModel: pm,
      instance: pm ? pm.instance : null,
      yardsticks: { lowerBound: 100, currentPractice: 300 },
      run: null,
      solving: false,
      activity: 'idle',
      selection: new JobSelection(),
      deviceNotices: []
    };
  }

  it('says beside the plan why real bars may not meet it (more CPU devices than cores), and nothing otherwise', () => {
    const pm = new PlanModel(smallInstance(), smallPlan());
    const commands = { execute: async () => undefined, isEnabled: () => true };
    const r = render(<GanttView model={fakeModel(pm)} commands={commands} />);
    expect(r.container.querySelector('[aria-label="Device notice"]')).toBeNull();
    const notice = '4 CPU devices are declared (1 thread each) on a machine with 2 cores: runs will take longer than planned.';
    r.rerender(<GanttView model={{ ...fakeModel(pm), deviceNotices: [notice] }} commands={commands} />);
    expect(r.container.querySelector('[role="note"][aria-label="Device notice"]')!.textContent).toBe(notice);
    r.unmount();
  });

  it('a finished run says when its last job really ended, against the plan', () => {
    const pm = new PlanModel(smallInstance(), smallPlan());
    const commands = { execute: async () => undefined, isEnabled: () => true };
    const jobs = [
      { job: 'A', state: 'done', actual_start_s: 10, actual_end_s: 140 },
      { job: 'B', state: 'done', actual_start_s: 20, actual_end_s: 165 }
    ];
    const running = { phase: 'running', started_at_ms: 0, plan: null, jobs: [{ ...jobs[0] }, { job: 'B', state: 'running', actual_start_s: 20 }] };
    const r = render(<GanttView model={{ ...fakeModel(pm), run: running }} commands={commands} />);
    expect(r.container.querySelector('[data-saturn-realised-end]')).toBeNull(); // not over yet
    r.rerender(<GanttView model={{ ...fakeModel(pm), run: { ...running, phase: 'done', jobs } }} commands={commands} />);
    const end = r.container.querySelector('[data-saturn-run="done"] [data-saturn-realised-end]')!;
    expect(end.getAttribute('data-saturn-realised-end')).toBe('165');
    expect(end.textContent).toBe(" · ended at 2m 45s (1.10× the plan's makespan)");
    r.unmount();
  });

  it('empty state explains the next step', () => {
    const r = render(<GanttView model={fakeModel(null)} commands={{ execute: async () => undefined, isEnabled: () => true }} />);
    expect(r.container.textContent).toContain('No plan yet');
    expect(r.container.textContent).toContain('Profile');
    r.unmount();
  });

  it('shows the figures, runs the commands and switches to the table view', () => {
    const pm = new PlanModel(smallInstance(), smallPlan());
    const ran: string[] = [];
    const r = render(<GanttView model={fakeModel(pm)} commands={{ execute: async (id: string) => ran.push(id), isEnabled: () => true }} />);
    expect(r.container.querySelector('dd[data-saturn-makespan="150"]')!.textContent).toBe('2m 30s');
    expect(r.container.textContent).toContain('2.00× faster than current practice');
    expect(button(r.container, 'Undo').disabled).toBe(true);
    click(button(r.container, 'Re-optimize'));
    expect(ran).toEqual(['saturn:reoptimize']);
    act(() => {
      pm.apply({ kind: 'move', job: 'C', start_s: 10, gpu_ids: [2] });
    });
    const status = r.container.querySelector('.jp-Saturn-editStatus')!;
    expect(status.getAttribute('data-saturn-edit')).toBe('rejected');
    expect(status.textContent).toContain('busy with "B"');
    click(button(r.container, 'Table view'));
    expect(r.container.querySelector('table[aria-label="Plan as a table"]')).not.toBeNull();
    expect(r.container.querySelector('svg')).toBeNull();
    r.unmount();
  });

  it('follows the chart/table choice of its owner (the toggle command) and reports the button to it', () => {
    const pm = new PlanModel(smallInstance(), smallPlan());
    const asked: string[] = [];
    const commands = { execute: async () => undefined, isEnabled: () => true };
    const r = render(<GanttView model={fakeModel(pm)} commands={commands} view="table" onViewChange={v => asked.push(v)} />);
    expect(r.container.querySelector('table[aria-label="Plan as a table"]')).not.toBeNull();
    click(button(r.container, 'Chart view'));
    expect(asked).toEqual(['chart']);
    // The owner decides: until it passes the new view, the table stays.
    expect(r.container.querySelector('table[aria-label="Plan as a table"]')).not.toBeNull();
    r.rerender(<GanttView model={fakeModel(pm)} commands={commands} view="chart" onViewChange={v => asked.push(v)} />);
    expect(r.container.querySelector('svg')).not.toBeNull();
    r.unmount();
  });
});

describe('saturnLabel', () => {
  it('drops the Saturn prefix in the Saturn menu only', () => {
    const label = saturnLabel('Optimize & Run');
    expect(label({ isMenu: true })).toBe('Optimize & Run');
    expect(label({})).toBe('Saturn: Optimize & Run');
  });
});
