import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../../config/index.js';
import { systemClock } from '../../adapters/clock.js';
import { isInputError, inputFormatOf, parseInputFormat, type InputFormat } from '../../adapters/input.js';
import { explainDisabledReason, type RunParams } from '../../domain/index.js';
import { createRuntime, type RunProgress, type RunRequest, type Runtime } from '../../runtime.js';
import { createInspector, type InspectMode, type RunInspector } from '../../adapters/inspect.js';
import { createProgressReporter } from '../progress.js';
import { summaryFromReport } from '../reportSummary.js';
import { renderSummary, summaryToJson } from '../summary.js';
import { UsageError, cliLogger, intOption } from '../context.js';
import { EXIT_INTERRUPTED, watchRunSignals, type RunSignals } from '../runSignals.js';

export { EXIT_INTERRUPTED } from '../runSignals.js';

interface RunOptions {
  tenant?: string;
  input?: string;
  format?: string;
  resume?: string;
  staleDays?: string;
  concurrency?: string;
  dryRun?: boolean;
  enqueueOnly?: boolean;
  inspect?: boolean | string;
  inspectPort?: string;
  json?: boolean;
}

/** The options of a run after validation. */
export interface RunPlan {
  tenantId: number | null;
  resumeRunId: number | null;
  /** `--input` as given: a path (relative to the working directory) or `-` for standard input. */
  input: string | null;
  /** `--format`, or null: from the extension, else sniffed from the first character. */
  format: InputFormat | null;
  staleDays: number | null;
  concurrency: number | undefined;
  dryRun: boolean;
  /** `--enqueue-only`: record and queue the run, print its id, leave it to the workers. */
  enqueueOnly: boolean;
  /** More parameters for a new run's row (e.g. the demo's `budgetUsd` for one tenant's run). */
  params?: RunParams;
}

/** `--inspect [mode]`: null when absent, `server` when given without a mode; a UsageError for an unknown mode. */
export function inspectModeOf(value: boolean | string | undefined): InspectMode | null {
  if (value === undefined || value === false) return null;
  if (value === true) return 'server';
  if (value === 'server' || value === 'browser' || value === 'websocket') return value;
  throw new UsageError(`--inspect expects server, browser or websocket, got ${JSON.stringify(value)}`);
}

/** The inspector's port: `--inspect-port`, 8080 by default; a UsageError when out of range or without `--inspect`. */
export function inspectPortOf(options: Pick<RunOptions, 'inspect' | 'inspectPort'>): number {
  const port = intOption('--inspect-port', options.inspectPort, 1, 65535);
  if (port === undefined) return DEFAULT_INSPECT_PORT;
  if (options.inspect === undefined || options.inspect === false) throw new UsageError('--inspect-port needs --inspect');
  return port;
}

/** The port of the inspector relay when `--inspect-port` is not given (the package's default). */
export const DEFAULT_INSPECT_PORT = 8080;

const asUsage = <T>(option: string, read: () => T): T => {
  try {
    return read();
  } catch (error) {
    throw new UsageError(`${option}: ${(error as Error).message}`);
  }
};

/** Validates the run options (exit 2 on misuse, before any work). */
export function planRun(options: RunOptions): RunPlan {
  const resumeRunId = intOption('--resume', options.resume, 1) ?? null;
  const tenantId = intOption('--tenant', options.tenant, 0, 2147483647) ?? null;
  if (resumeRunId === null && tenantId === null) throw new UsageError('run needs --tenant <id> (with --input <file> or without), or --resume <run_id>');
  if (resumeRunId !== null && (tenantId !== null || options.staleDays !== undefined || options.dryRun === true)) {
    // A resumed run keeps its own --dry-run: a dry run resumed for real (or the reverse) would mix both in one run.
    throw new UsageError('--resume <run_id> takes no --tenant, --stale-days or --dry-run: the run remembers them');
  }
  if (options.input !== undefined && options.staleDays !== undefined) throw new UsageError('--stale-days applies only without --input');
  if (options.format !== undefined && options.input === undefined) throw new UsageError('--format applies only with --input');
  const format = options.format === undefined ? null : parseFormatOption(options.format);
  if (options.input !== undefined && options.input !== '-') {
    if (!existsSync(options.input)) throw new UsageError(`--input ${options.input}: no such file`);
    if (format === null) asUsage(`--input ${options.input}`, () => inputFormatOf(options.input as string));
  }
  return {
    tenantId,
    resumeRunId,
    input: options.input ?? null,
    format,
    staleDays: intOption('--stale-days', options.staleDays, 0) ?? null,
    concurrency: intOption('--concurrency', options.concurrency, 1, 4096),
    dryRun: options.dryRun === true,
    enqueueOnly: options.enqueueOnly === true,
  };
}

function parseFormatOption(value: string): InputFormat {
  try {
    return parseInputFormat(value);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Said when a signal came before any run row was created: exit 130, nothing to resume. */
function stoppedBeforeRun(): number {
  process.stderr.write('lead-enrich: interrupted before the run started; nothing was recorded\n');
  return EXIT_INTERRUPTED;
}

/** Says what a named pipe or standard input waits for, so that a silent wait is not a mystery. */
async function tellWhatWeWaitFor(path: string): Promise<void> {
  if (path === '-') {
    if (process.stdin.isTTY) process.stderr.write('lead-enrich: reading companies from standard input (end with Ctrl-D)\n');
    return;
  }
  const stats = await stat(path).catch(() => null);
  if (stats?.isFIFO()) process.stderr.write(`lead-enrich: reading companies from the named pipe ${path} (waiting for a writer)\n`);
}

/** The run request of a plan: a new run of a tenant (its input, or its stored companies), or a resume. */
export function runRequestOf(plan: RunPlan): RunRequest {
  const input = plan.input !== null ? { input: { path: plan.input, format: plan.format } } : {};
  const concurrency = plan.concurrency !== undefined ? { concurrency: plan.concurrency } : {};
  const enqueueOnly = plan.enqueueOnly ? { enqueueOnly: true } : {};
  if (plan.resumeRunId !== null) return { resumeRunId: plan.resumeRunId, ...input, ...concurrency, ...enqueueOnly };
  const params = plan.params ? { params: plan.params } : {};
  return { tenantId: plan.tenantId as number, ...input, ...(plan.input === null ? { stored: { staleDays: plan.staleDays } } : {}), ...concurrency, dryRun: plan.dryRun, ...enqueueOnly, ...params };
}

/**
 * Executes a run against an open runtime: records and enriches the input, exports, finalises,
 * shows progress, reports malformed rows on stderr, lets SIGINT/SIGTERM ask the run to stop,
 * prints the summary. Resolves to the exit code.
 * @param out.signals the command's signal handlers when it installed them earlier (else installed here).
 * @param out.onRunId told the run's id once it ended (the demo lists its runs).
 * @throws {UsageError} when the run cannot start as asked (nothing was written)
 */
export async function executeRun(
  runtime: Runtime,
  plan: RunPlan,
  out: { json?: boolean; inspect?: RunInspector | null; signals?: RunSignals; onRunId?: (runId: number) => void } = {},
): Promise<number> {
  const signals = out.signals ?? watchRunSignals();
  try {
    return await executeWith(runtime, plan, signals, out.json === true, out.onRunId);
  } finally {
    if (!out.signals) signals.dispose();
  }
}

async function executeWith(runtime: Runtime, plan: RunPlan, signals: RunSignals, json: boolean, onRunId?: (runId: number) => void): Promise<number> {
  if (signals.stop.aborted) return stoppedBeforeRun();
  if (plan.input !== null) await tellWhatWeWaitFor(plan.input);
  const reporter = createProgressReporter({ out: process.stderr, clock: systemClock });
  // The first count of the run (total known) is what earlier sessions did: the rate leaves it out.
  let doneAtStart: number | null = null;
  const onProgress = (p: RunProgress): void => {
    if (doneAtStart === null && p.total !== null) doneAtStart = p.done;
    const exported = Object.values(p.exported).reduce((a, b) => a + (b ?? 0), 0);
    const openBreakers = runtime.breakers.list().filter((b) => b.tenantId === p.tenantId && b.state !== 'closed').length;
    reporter.update({ done: p.done, total: p.total, degraded: p.degraded, openBreakers, doneAtStart: doneAtStart ?? 0, phase: p.phase, exported });
  };
  const label = plan.input === '-' ? '<stdin>' : plan.input;
  const handle = runtime.run({
    ...runRequestOf(plan),
    onProgress,
    onMalformedRow: (row, input) => process.stderr.write(`lead-enrich: ${label ?? input}:${row.line}: skipped malformed row: ${row.reason}\n`),
  });
  signals.attach({ handle, graceMs: runtime.config.shutdownGraceMs });

  try {
    const result = await handle.done;
    reporter.stop();
    if (result.refused) throw new UsageError(result.error ?? 'the run could not start as asked');
    if (result.runId === null) return stoppedBeforeRun();
    onRunId?.(result.runId);
    if (result.enqueued) {
      // The run id alone on stdout, for scripts: `RUN=$(lead-enrich run --enqueue-only ...)`.
      process.stdout.write(`${result.runId}\n`);
      process.stderr.write(`lead-enrich: run ${result.runId} queued (${handle.progress.total ?? 0} companies); \`lead-enrich worker\` processes do it\n`);
      return 0;
    }
    if (handle.progress.previousStatus === 'completed') process.stderr.write(`lead-enrich: run ${result.runId} was already completed; nothing was left to resume\n`);
    const report = await runtime.report(result.runId);
    if (report) {
      const summary = summaryFromReport(report);
      process.stdout.write(json ? `${JSON.stringify(summaryToJson(summary), null, 2)}\n` : renderSummary(summary, { colour: process.stdout.isTTY === true }));
      // Also on stderr, where an operator watching the run looks: the export did not happen, and why.
      if (summary.odooExportDisabled) {
        process.stderr.write(`lead-enrich: run ${summary.runId}: Odoo export disabled for tenant ${summary.tenantId}: ${explainDisabledReason(summary.odooExportDisabledReason)}\n`);
      }
    }
    if (result.status === 'failed') {
      process.stderr.write(`lead-enrich: run failed: ${result.error ?? 'unknown error'}\n`);
      return 1;
    }
    if (result.status === 'interrupted') {
      // Also on stderr: stdout may be a file or a pipe (--json), and the operator must learn how to go on.
      process.stderr.write(`lead-enrich: run ${result.runId} interrupted; resume with: lead-enrich run --resume ${result.runId}\n`);
      return EXIT_INTERRUPTED;
    }
    return 0;
  } finally {
    reporter.stop();
  }
}

/** Registers `lead-enrich run`. `setExit` receives the command's exit code. */
export function registerRun(program: Command, setExit: (code: number) => void): void {
  program
    .command('run')
    .description('enrich a tenant\'s companies, persist everything, export to Odoo, print a summary')
    .option('--tenant <id>', 'tenant id (integer)')
    .option('--input <file|->', 'companies to enrich, in UTF-8: a .csv (name,domain|website,company_id), .json (array) or .jsonl file, a named pipe, or - for standard input')
    .option('--format <csv|json|jsonl>', 'the input\'s format; default: from the extension, else from its first character ([ a JSON array, { JSON Lines, else CSV)')
    .option('--stale-days <n>', 'without --input: only companies not enriched for n days (default: never enriched or all)')
    .option('--resume <run_id>', 'resume an interrupted run: enrich the companies without a row, export the rest')
    .option('--concurrency <n>', 'companies enriched at once (default RUN_CONCURRENCY)')
    .option('--dry-run', 'write nothing to Odoo; report what would be written')
    .option('--enqueue-only', 'record the input and queue one job per company, print the run id and exit: `lead-enrich worker` processes do the run')
    .option('--inspect [mode]', 'attach the Stately inspector to every actor: server (default; open http://127.0.0.1:8080), browser (also opens it), websocket (to a relay already running)')
    .option('--inspect-port <port>', `with --inspect: the relay's port on 127.0.0.1 (default ${DEFAULT_INSPECT_PORT})`)
    .option('--json', 'print the summary as JSON')
    .action(async (options: RunOptions) => {
      const config: Config = loadConfig();
      const plan = planRun(options);
      const inspectMode = inspectModeOf(options.inspect);
      const inspectPort = inspectPortOf(options);
      // From here on a signal is handled: before the database is open, while the input is awaited, during the run.
      const signals = watchRunSignals();
      let inspector: RunInspector | null = null;
      let runtime: Runtime | null = null;
      try {
        const { logger, logFile } = cliLogger(config);
        inspector = inspectMode ? await createInspector({ mode: inspectMode, port: inspectPort }) : null;
        if (inspector) process.stderr.write(`${inspector.instructions}\n`);
        runtime = await createRuntime(config, { logger, ...(inspector ? { inspect: inspector.inspect } : {}) });
        setExit(await executeRun(runtime, plan, { json: options.json === true, inspect: inspector, signals }));
        if (logFile) process.stderr.write(`logs: ${logFile}\n`);
      } catch (error) {
        if (isInputError(error)) throw new UsageError(error.message);
        throw error;
      } finally {
        await runtime?.close();
        await inspector?.stop();
        signals.dispose();
      }
    });
}
