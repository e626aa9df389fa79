/** Planned vs realised in the Gantt chart: each block's real start-up and training bars, and what its tooltip says. */
import * as React from 'react';
import { realisedText } from '../components/gantt/gantt-block';
import { GanttChart } from '../components/gantt/gantt-chart';
import { PlanModel } from '../models/plan-model';
import { IJobStatus } from '../models/interfaces';
import { render } from './render';
import { chartProps, smallInstance, smallPlan } from './fixtures';


describe('planned vs realised', () => {
  it('a finished job shows its start-up (launch to first step) and its training as two bars under its block', () => {
    const pm = new PlanModel(smallInstance(), smallPlan());
    pm.setStates(new Map([['A', 'done'], ['B', 'done']]));
    const statuses = new Map<string, IJobStatus>([
      ['A', { job: 'A', state: 'done', actual_launch_s: 1, actual_start_s: 4, actual_end_s: 101 }],
      ['B', { job: 'B', state: 'done', actual_start_s: 0, actual_end_s: 120 }] // no launch time known: one bar
    ]);
    const r = render(<GanttChart {...chartProps(pm, { statuses })} />);
    const a = r.container.querySelector('[data-saturn-job="A"]')!;
    expect(a.querySelector('.jp-Saturn-actualStartup')!.getAttribute('data-saturn-actual-launch')).toBe('1');
    const bar = a.querySelector('.jp-Saturn-actual')!;
    expect(bar.getAttribute('data-saturn-actual-start')).toBe('4');
    expect(bar.getAttribute('data-saturn-actual-end')).toBe('101');
    expect(bar.textContent).toContain('started 1s late');
    expect(r.container.querySelector('[data-saturn-job="B"] .jp-Saturn-actualStartup')).toBeNull();
    r.unmount();
  });

  it('the tooltip words planned against realised', () => {
    expect(realisedText({ start_s: 0, end_s: 100 }, 0, 100)).toBe(
      'Planned 0s to 1m 40s; really 0s to 1m 40s: started on time, took 1m 40s (planned 1m 40s)'
    );
    expect(realisedText({ start_s: 10, end_s: 20 }, 13, undefined)).toContain('started 3s late, still running');
  });
});
