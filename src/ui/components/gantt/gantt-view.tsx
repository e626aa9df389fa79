import * as React from 'react';
import { ReactWidget } from '@jupyterlab/apputils';
import { CommandIDs, ICommandRunner } from '../commands';
import { saturnIcon } from '../icons';
import type { IJobStatus } from '../../models/interfaces';
import { formatDelta, IEditResult } from '../../models/plan-model';
import { gainText } from '../plan-summary';
import type { SaturnModel } from '../../models/saturn-model';
import { useSignal } from '../use-signal';
import { fitPlan, GUTTER, lastMoment } from './chart-layout';
import { EditStatus } from './edit-status';
import { GanttChart } from './gantt-chart';
import { clampStart, formatDuration, ITimeScale, zoomAt } from './geometry';
import { JobInspector } from './job-inspector';
import { PlanTable } from './plan-table';
import { useNow } from './use-now';
import { useWidth } from './use-width';

export type PlanViewMode = 'chart' | 'table';

export interface IGanttViewProps {
  model: SaturnModel;
  commands: ICommandRunner;
  /** Chart or table, when the owner keeps it (the widget does, for the toggle command); else the view keeps it. */
  view?: PlanViewMode;
  onViewChange?: (view: PlanViewMode) => void;
}

/** The main-area view of the plan: figures, toolbar, chart or table, the selected job, the last edit. */
export function GanttView(props: IGanttViewProps): JSX.Element {
  const { model, commands } = props;
  useSignal(model.changed);
  const pm = model.planModel;
  useSignal(pm?.changed);
  const box = React.useRef<HTMLDivElement>(null);
  const width = useWidth(box);
  const [scale, setScale] = React.useState<ITimeScale | null>(null);
  // the selection is shared with the plan table and the Results view (SaturnModel.selection)
  useSignal(model.selection.changed);
  const selected = model.selection.job;
  const setSelected = (job: string | null): void => model.selection.select(job, 'gantt');
  const [preview, setPreview] = React.useState<IEditResult | null>(null);
  const [ownView, setOwnView] = React.useState<PlanViewMode>('chart');
  const view = props.view ?? ownView;
  const setView = (v: PlanViewMode): void => (props.onViewChange ? props.onViewChange(v) : setOwnView(v));
  const run = model.run;
  const running = !!run && (run.phase === 'running' || run.phase === 'starting');
  const now_s = useNow(running, run ? run.started_at_ms : null);

  if (!pm || !model.instance) {
    return (
      <div className="jp-Saturn-gantt jp-Saturn-ganttEmpty" ref={box}>
        <h2>No plan yet</h2>
        <p>
          Register tasks in a notebook, press <strong>Profile</strong> in the Saturn panel, then <strong>Optimize</strong>.
          The plan appears here: one lane per GPU, one block per job.
        </p>
        {model.solving ? <p role="status">Solving…</p> : null}
      </div>
    );
  }
  const plan = pm.plan;
  const statuses = new Map<string, IJobStatus>((run?.jobs ?? []).map(j => [j.job, j]));
  const hasRungs = (run?.jobs ?? []).some(j => j.rungs);
  const stopped = (run?.jobs ?? []).filter(j => j.state === 'stopped_early').length;
  // a finished run: when its last job really ended, against the plan's makespan
  const realised = run?.phase === 'done' ? lastMoment(statuses, null) : null;
  const y = model.yardsticks;
  const gain = gainText(plan.makespan_s, y.currentPractice);
  const exec = (id: string) => () => void commands.execute(id);
  const setClamped = (s: ITimeScale): void => setScale(clampStart(s, -12 / s.pxPerS));
  const zoom = (f: number) => () =>
    setClamped(zoomAt(scale ?? fitPlan(plan, width, lastMoment(statuses, running ? now_s : null)), f, GUTTER + 2));
  const history = pm.history;
  const last = history.length ? history[history.length - 1] : null;

  return (
    <div className="jp-Saturn-gantt" ref={box}>
      <div className="jp-Saturn-ganttHeader">
        <dl className="jp-Saturn-figures jp-Saturn-figuresInline">
          <dt>Makespan</dt>
          <dd data-saturn-makespan={plan.makespan_s}>{formatDuration(plan.makespan_s)}</dd>
          <dt>Lower bound</dt>
          <dd>{y.lowerBound === null ? '–' : formatDuration(y.lowerBound)}</dd>
          <dt>Gain</dt>
          <dd>{gain ?? '–'}</dd>
          {last ? (
            <>
              <dt>Last edit</dt>
              <dd>
                {last.label} ({formatDelta(last.delta_s)})
              </dd>
            </>
          ) : null}
          {run ? (
            <>
              <dt>Run</dt>
              <dd data-saturn-run={run.phase}>
                {run.phase}
                {now_s !== null && running ? ` · ${formatDuration(now_s)} elapsed` : ''}
                {stopped ? ` · ${stopped} stopped early` : ''}
                {realised !== null ? (
                  <span data-saturn-realised-end={realised}>
                    {` · ended at ${formatDuration(realised)} (${(realised / plan.makespan_s).toFixed(2)}× the plan's makespan)`}
                  </span>
                ) : null}
              </dd>
            </>
          ) : null}
        </dl>
        <div className="jp-Saturn-toolbar" role="toolbar" aria-label="Plan tools">
          <button className="jp-mod-styled" onClick={exec(CommandIDs.undo)} disabled={!pm.canUndo} title="Undo the last edit">
            Undo
          </button>
          <button className="jp-mod-styled" onClick={exec(CommandIDs.redo)} disabled={!pm.canRedo} title="Redo">
            Redo
          </button>
          <button className="jp-mod-styled" onClick={exec(CommandIDs.reoptimize)} disabled={model.activity !== 'idle'} title="Solve again; pinned jobs stay where they are">
            Re-optimize
          </button>
          <span className="jp-Saturn-toolbarSep" />
          <button className="jp-mod-styled" onClick={zoom(1.5)} aria-label="Zoom in" title="Zoom in (Ctrl + wheel)">
            +
          </button>
          <button className="jp-mod-styled" onClick={zoom(1 / 1.5)} aria-label="Zoom out" title="Zoom out (Ctrl + wheel)">
            −
          </button>
          <button className="jp-mod-styled" onClick={() => setScale(null)} title="Fit the whole plan">
            Fit
          </button>
          <span className="jp-Saturn-toolbarSep" />
          <button className="jp-mod-styled" aria-pressed={view === 'table'} onClick={() => setView(view === 'chart' ? 'table' : 'chart')}>
            {view === 'chart' ? 'Table view' : 'Chart view'}
          </button>
          <button className="jp-mod-styled" onClick={exec(CommandIDs.openResults)} title="Leaderboard and learning curves of the latest run">
            Results
          </button>
        </div>
      </div>
      {model.deviceNotices.length ? (
        // where planned and real bars are compared: why they may not meet (e.g. more CPU devices than cores)
        <div className="jp-Saturn-notice" role="note" aria-label="Device notice">
          {model.deviceNotices.map(n => (
            <p key={n}>{n}</p>
          ))}
        </div>
      ) : null}
      <div className="jp-Saturn-ganttBody">
        {view === 'chart' ? (
          <GanttChart
            plan={plan}
            nodes={pm.instance.cluster.nodes}
            statuses={statuses}
            stateOf={j => pm.stateOf(j)}
            isPinned={j => pm.isPinned(j)}
            now_s={running ? now_s : null}
            width={width}
            scale={scale}
            onScale={setClamped}
            selected={selected}
            onSelect={setSelected}
            preview={e => pm.preview(e)}
            apply={e => pm.apply(e)}
            onPreview={setPreview}
          />
        ) : (
          <PlanTable plan={plan} stateOf={j => pm.stateOf(j)} isPinned={j => pm.isPinned(j)} statuses={statuses} selected={selected} onSelect={setSelected} />
        )}
      </div>
      <EditStatus preview={preview} last={pm.lastResult} />
      {selected ? <JobInspector model={pm} instance={pm.instance} job={selected} onClose={() => setSelected(null)} /> : null}
      <p className="jp-Saturn-hint jp-Saturn-ganttHelp">
        Drag a block in time or onto other GPUs; Ctrl + wheel zooms, drag the background or Shift + wheel pans. With the
        keyboard: Tab to a block, arrows move it, P pins it. Dashed line: makespan; red line: now; dark bar under a
        block: when it really ran (its lighter start: launch to first step); dashed outline: pinned; dotted outline: not started yet.
        {hasRungs
          ? ' Early stopping: a block is a job\'s work to its next rung; lines across it are rungs (▲ promoted there, ○ waiting for the decision, ■ stopped early there), and a hatched block was stopped early.'
          : ''}
      </p>
    </div>
  );
}

/** The main-area widget holding the Gantt view; it keeps the chart/table choice for the toggle command. */
export class GanttWidget extends ReactWidget {
  constructor(private readonly props: Omit<IGanttViewProps, 'view' | 'onViewChange'> & { onViewChange?: (view: PlanViewMode) => void }) {
    super();
    this.id = 'jp-saturn-gantt';
    this.title.label = 'Saturn plan';
    this.title.icon = saturnIcon;
    this.title.closable = true;
    this.addClass('jp-Saturn-ganttWidget');
  }

  get view(): PlanViewMode {
    return this._view;
  }
  set view(v: PlanViewMode) {
    if (v !== this._view) {
      this._view = v;
      this.update();
      this.props.onViewChange?.(v);
    }
  }

  render(): JSX.Element {
    return <GanttView {...this.props} view={this._view} onViewChange={v => (this.view = v)} />;
  }

  private _view: PlanViewMode = 'chart';
}
