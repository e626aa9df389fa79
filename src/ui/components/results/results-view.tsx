/**
 * The Results view (main area): the latest run's leaderboard, learning curves and, for a grid, parallel coordinates,
 * all for one picked metric, live while the run goes on. Selecting a row, a curve or a line selects the job in every
 * view (the Gantt chart's block too) through SaturnModel.selection. The rules live in ../../models/leaderboard.ts
 * and ../../models/results-state.ts, the plots' geometry in ./curve-geometry.ts and ./parallel-geometry.ts.
 */
import * as React from 'react';
import { ReactWidget } from '@jupyterlab/apputils';
import { CommandIDs, ICommandRunner } from '../commands';
import { saturnIcon } from '../icons';
import {
  bestTask,
  cellValue,
  columns,
  defaultSort,
  formatValue,
  ISort,
  metricChoices,
  modeOf,
  nextSort,
  rankKey,
  sortRows,
  TRAIN_LOSS,
  varyingHparams
} from '../../models/leaderboard';
import { allRungSteps, IJobRungs } from '../../models/early-stopping';
import { seriesOf } from '../../models/results-state';
import type { SaturnModel } from '../../models/saturn-model';
import { useWidth } from '../gantt/use-width';
import { useSignal } from '../use-signal';
import { LeaderboardTable } from './leaderboard-table';
import { LearningCurves, metricTitle } from './learning-curves';
import { ParallelCoords } from './parallel-coords';

/** The plots' widths in a view `width` px wide: side by side when both fit (≥ 420 px each), else one above the other. */
export function plotWidths(width: number, parallel: boolean): { curves: number; parallel: number } {
  const inner = Math.max(280, width - 26);
  if (!parallel) {
    return { curves: inner, parallel: 0 };
  }
  if (inner < 2 * 420 + 16) {
    return { curves: inner, parallel: inner };
  }
  const curves = Math.floor((inner - 16) * 0.56);
  return { curves, parallel: inner - 16 - curves };
}

export interface IResultsViewProps {
  model: SaturnModel;
  commands: ICommandRunner;
}

export function ResultsView(props: IResultsViewProps): JSX.Element {
  const { model, commands } = props;
  const results = model.results;
  useSignal(results.changed);
  useSignal(model.selection.changed);
  useSignal(model.changed); // the run's job records: rungs, promotions, where jobs stopped early
  React.useEffect(() => {
    results.follow();
  }, [results]);
  const [picked, setPicked] = React.useState<string | null>(null);
  const [userSort, setUserSort] = React.useState<ISort | null>(null);
  const [log, setLog] = React.useState(false);
  const box = React.useRef<HTMLDivElement>(null);
  const width = useWidth(box);
  const state = results.state;
  const choices = metricChoices(state.metrics);
  const metric = picked !== null && choices.includes(picked) ? picked : choices[0];
  const series = React.useMemo(() => state.rows.map(r => ({ task: r.task, points: seriesOf(state, r.task, metric) })), [state, metric]);

  if (!state.runId) {
    return (
      <div className="jp-Saturn-results jp-Saturn-resultsEmpty" ref={box}>
        <h2>No results yet</h2>
        {results.error ? (
          <p className="jp-Saturn-error" role="alert">
            Saturn could not read the results: {results.error}
          </p>
        ) : null}
        <p>
          {results.loading && !results.loaded
            ? 'Reading the results…'
            : 'Register tasks (with validate=… for validation metrics), Profile, then Optimize & Run: each task of the run gets a row here, and its learning curves grow as it trains.'}
        </p>
        <button className="jp-mod-styled jp-Saturn-button" onClick={() => void results.refresh()}>
          Refresh
        </button>
      </div>
    );
  }

  const mode = modeOf(state.rows, metric);
  const best = bestTask(state.rows, metric);
  const sort = userSort ?? defaultSort(state.rows, metric);
  const colorIdx = new Map(state.rows.map((r, i) => [r.task, i % 8]));
  const colorOf = (task: string): number => colorIdx.get(task) ?? 0;
  const select = (task: string): void => model.selection.select(task, 'results');
  const selected = model.selection.job;
  const varying = varyingHparams(state.rows, state.hparams);
  const bestRow = state.rows.find(r => r.task === best);
  const running = state.rows.filter(r => r.state === 'running' || r.state === 'checkpointing').length;
  const done = state.rows.filter(r => r.state === 'done').length;
  const plots = plotWidths(width, varying.length >= 2);
  // early stopping: the rungs of this run's jobs, from the run the page follows (the same run)
  const run = model.run;
  const rungsByTask = new Map<string, IJobRungs>(
    (run && run.message === state.runId ? run.jobs : []).filter(j => j.rungs).map(j => [j.job, j.rungs!] as [string, IJobRungs])
  );
  const stoppedRows = state.rows.filter(r => r.state === 'stopped_early');
  const stoppedAt = new Map<string, number>();
  for (const r of stoppedRows) {
    const rung = rungsByTask.get(r.task)?.stopped?.rung;
    if (rung !== undefined) {
      stoppedAt.set(r.task, rung);
    }
  }
  const rungSteps = allRungSteps(rungsByTask.values());
  const bestStopped = bestRow?.state === 'stopped_early';
  const rankedBy = metric === TRAIN_LOSS ? 'the last training loss of each task' : `the best ${metric} each task reached`;
  const basis = `${rankedBy}${stoppedRows.length ? ', tasks stopped early included (up to the rung they stopped at)' : ''}`;
  return (
    <div className="jp-Saturn-results" ref={box}>
      <div className="jp-Saturn-ganttHeader">
        <dl className="jp-Saturn-figures jp-Saturn-figuresInline">
          <dt>Run</dt>
          <dd data-saturn-results-run={state.runId}>{state.runId}</dd>
          <dt>Tasks</dt>
          <dd data-saturn-results-done={done} data-saturn-results-stopped={stoppedRows.length}>
            {state.rows.length} ({done} done{stoppedRows.length ? `, ${stoppedRows.length} stopped early` : ''}
            {running ? `, ${running} running` : ''})
          </dd>
          <dt>Best</dt>
          <dd data-saturn-results-best={best ?? ''} title={`Ranked by ${basis}`}>
            {bestRow ? `${bestRow.task} (${metricTitle(metric)} ${formatValue(cellValue(bestRow, rankKey(metric)))})` : '–'}
            {bestStopped ? ` · stopped early${stoppedAt.has(bestRow!.task) ? ` at step ${stoppedAt.get(bestRow!.task)}` : ''}` : ''}
          </dd>
        </dl>
        <div className="jp-Saturn-toolbar" role="toolbar" aria-label="Results tools">
          <label className="jp-Saturn-field">
            <span>Metric</span>
            <select className="jp-mod-styled" aria-label="Metric" value={metric} onChange={e => (setPicked(e.target.value), setUserSort(null))}>
              {choices.map(m => (
                <option key={m} value={m}>
                  {m === TRAIN_LOSS ? 'loss (training)' : `${m} (${modeOf(state.rows, m) === 'min' ? 'lower' : 'higher'} is better)`}
                </option>
              ))}
            </select>
          </label>
          <button className="jp-mod-styled" onClick={() => void commands.execute(CommandIDs.openGantt)} title="Open the plan's Gantt chart">
            Gantt chart
          </button>
          <button className="jp-mod-styled" onClick={() => void results.refresh()} title="Read the results again">
            Refresh
          </button>
        </div>
      </div>
      {stoppedRows.length || rungSteps.length ? (
        <p className="jp-Saturn-resultsNote" data-saturn-results-basis={metric}>
          Early stopping{rungSteps.length ? ` (rungs at steps ${rungSteps.join(', ')})` : ''}:{' '}
          {stoppedRows.length
            ? `${stoppedRows.length} task${stoppedRows.length > 1 ? 's' : ''} stopped early; their values are those up to the rung they stopped at. `
            : 'no task stopped yet. '}
          ★ best is ranked over all tasks by {rankedBy}.
        </p>
      ) : null}
      <div className="jp-Saturn-leaderboardBox">
        <LeaderboardTable
          rows={sortRows(state.rows, sort)}
          columns={columns(state.hparams, state.metrics)}
          sort={sort}
          onSort={c => setUserSort(nextSort(sort, c, m => modeOf(state.rows, m)))}
          metric={metric}
          best={best}
          selected={selected}
          onSelect={select}
          colorOf={colorOf}
          rungsOf={task => rungsByTask.get(task)}
        />
      </div>
      <div className="jp-Saturn-resultsPlots">
        <div className="jp-Saturn-plotBox">
          <LearningCurves
            series={series}
            metric={metric}
            colorOf={colorOf}
            selected={selected}
            best={best}
            onSelect={select}
            log={log}
            onLog={setLog}
            width={plots.curves}
            rungs={rungSteps}
            stopped={stoppedAt}
          />
        </div>
        {plots.parallel ? (
          <div className="jp-Saturn-plotBox">
            <ParallelCoords
              rows={state.rows.map(r => ({ task: r.task, hparams: r.hparams as Record<string, unknown>, value: cellValue(r, rankKey(metric)) as number | null }))}
              hparams={varying}
              metric={metric}
              mode={mode}
              colorOf={colorOf}
              selected={selected}
              best={best}
              onSelect={select}
              width={plots.parallel}
            />
          </div>
        ) : null}
      </div>
      <p className="jp-Saturn-hint jp-Saturn-ganttHelp">
        Click a column's header to sort by it. Select a row (click, or Tab to the table and use the arrows), a curve or a line: the
        same job is selected in the Gantt chart, and a block selected there selects its row here. ★ marks the best task by the
        picked metric (its best validation; the last loss for the training loss), among all tasks: one stopped early counts with
        the best value it reached before its rung. Under early stopping, dashed lines mark the rungs and a square ends the curve
        of a task stopped there.
      </p>
    </div>
  );
}

/** The main-area widget holding the Results view. */
export class ResultsWidget extends ReactWidget {
  constructor(private readonly props: IResultsViewProps) {
    super();
    this.id = 'jp-saturn-results';
    this.title.label = 'Saturn results';
    this.title.icon = saturnIcon;
    this.title.closable = true;
    this.addClass('jp-Saturn-resultsWidget');
  }

  render(): JSX.Element {
    return <ResultsView {...this.props} />;
  }
}
