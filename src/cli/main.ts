/**
 * saturn CLI (stable for scripts):
 *   saturn plan FILE [--time-limit S] [--strategy NAME] [--seed N] [--iterations N]
 *       (--iterations: a deterministic search budget instead of the wall clock)
 *       prints the plan JSON on stdout, exit 0; bad input: exit 2 and one line on stderr.
 *   saturn bench [--quick]
 *       runs the SPASE benchmark, prints a table, writes docs/solver-bench.{md,svg}.
 *   saturn run --server URL [--token T] [--time-limit S] [--introspection-interval S] [--threshold S] [--names a,b]
 *       profiles the registered tasks (or uses cached profiles), plans, dispatches through kernel
 *       sessions, waits, and prints a JSON summary; exit 0 when every job is done.
 *   saturn --help, saturn plan --help, saturn run --help
 *       print the usage on stdout, exit 0.
 */
import * as fs from 'fs';
import { solve } from '../spase/solve';
import { InfeasibleError, STRATEGIES, Strategy, ValidationError } from '../spase/types';
import { validateInstance } from '../spase/validate';

class UsageError extends Error {}

const PLAN_USAGE = 'usage: saturn plan FILE [--time-limit S] [--strategy NAME] [--seed N] [--iterations N]';

function parseNum(flag: string, v: string | undefined, positive: boolean): number {
  const x = Number(v);
  if (v === undefined || !Number.isFinite(x) || (positive ? x <= 0 : x < 0)) {
    throw new UsageError(`${flag}: expected a ${positive ? 'positive ' : 'non-negative '}number, got ${v ?? 'nothing'}`);
  }
  return x;
}

async function planCmd(args: string[]): Promise<void> {
  let file: string | undefined;
  let timeLimitS = 10;
  let strategy: Strategy = 'hybrid';
  let seed = 1;
  let iterations: number | undefined;
  let timeGiven = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--time-limit') {
      timeLimitS = parseNum(a, args[++i], true);
      timeGiven = true;
    } else if (a === '--strategy') {
      const s = args[++i];
      if (!STRATEGIES.includes(s as Strategy)) {
        throw new UsageError(`--strategy: unknown strategy "${s ?? ''}" (expected one of: ${STRATEGIES.join(', ')})`);
      }
      strategy = s as Strategy;
    } else if (a === '--seed') {
      seed = Math.floor(parseNum(a, args[++i], false));
    } else if (a === '--iterations') {
      iterations = Math.floor(parseNum(a, args[++i], false));
    } else if (a.startsWith('--')) {
      throw new UsageError(`unknown option ${a}`);
    } else if (file === undefined) {
      file = a;
    } else {
      throw new UsageError(`unexpected argument ${a}`);
    }
  }
  if (!file) {
    throw new UsageError(PLAN_USAGE);
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${file}: cannot read file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let inst: unknown;
  try {
    inst = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file}: invalid JSON (${(e as Error).message})`);
  }
  const errs = validateInstance(inst);
  if (errs.length) {
    throw new UsageError(`${file}: ${errs[0]}${errs.length > 1 ? ` (and ${errs.length - 1} more)` : ''}`);
  }
  const plan = await solve(inst, {
    timeLimitS: iterations !== undefined && !timeGiven ? undefined : timeLimitS,
    strategy,
    seed,
    iterations
  });
  process.stdout.write(JSON.stringify(plan, null, 1) + '\n');
}

const HELP = [
  'usage: saturn plan|bench|run ...',
  '',
  `  ${PLAN_USAGE.replace(/^usage: /, '')}`,
  '      Solve the SPASE instance in FILE; print the plan JSON on stdout.',
  `      --strategy: ${STRATEGIES.join(', ')} (default hybrid)`,
  '      --iterations: a deterministic search budget instead of the clock (--time-limit, default 10 s).',
  '  saturn bench [--quick]',
  '      Run the solver benchmark; print a table, write docs/solver-bench.{md,svg}.',
  '  saturn run --server URL [--token T] ...',
  '      Profile the registered tasks, plan, run every job through kernel sessions of a Jupyter server, re-plan while',
  '      it runs, and print a JSON summary (planned_makespan_s, realised_makespan_s, jobs). `saturn run --help` lists',
  '      its options (early stopping among them).',
  '',
  'Bad input: exit 2 and one line on stderr.'
].join('\n');

const wantsHelp = (args: string[]) => args.includes('--help') || args.includes('-h');

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    if (cmd === 'plan' && wantsHelp(rest)) {
      process.stdout.write(PLAN_USAGE + '\n');
      return 0;
    }
    if (cmd === 'run' && wantsHelp(rest)) {
      const { RUN_USAGE } = await import('../executor/cli-run');
      process.stdout.write(RUN_USAGE + '\n');
      return 0;
    }
    if (cmd === 'plan') {
      await planCmd(rest);
      return 0;
    }
    if (cmd === 'bench') {
      const { runBench } = await import('./bench');
      await runBench({ quick: rest.includes('--quick') });
      return 0;
    }
    if (cmd === 'run') {
      const { runCommand } = await import('../executor/cli-run');
      return await runCommand(rest);
    }
    throw new UsageError(
      `${cmd === undefined ? 'no command' : `unknown command ${JSON.stringify(cmd)}`}: expected plan, bench or run (saturn --help says more)`
    );
  } catch (e) {
    if (e instanceof UsageError || e instanceof ValidationError || e instanceof InfeasibleError) {
      process.stderr.write(`saturn: ${e.message.replace(/\s*\n\s*/g, ' ')}\n`);
      return 2;
    }
    process.stderr.write(`saturn: internal error: ${(e as Error)?.stack ?? e}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(code => process.exit(code));
}

export { main };
