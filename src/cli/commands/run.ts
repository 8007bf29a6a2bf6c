import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../../config/index.js';
import { systemClock } from '../../adapters/clock.js';
import { isInputError, inputFormatOf, parseInputFormat, type InputFormat } from '../../adapters/input.js';
import { createRuntime, type Runtime } from '../../runtime.js';
import type { RunProgress } from '../../streams/run/runJob.js';
import { explainDisabledReason } from '../../streams/odoo/session.js';
import { createInspector, type InspectMode, type RunInspector } from '../../adapters/inspect.js';
import { createProgressReporter } from '../progress.js';
import { summaryFromReport } from '../reportSummary.js';
import { renderSummary, summaryToJson } from '../summary.js';
import { UsageError, cliLogger, intOption } from '../context.js';
import { runSource } from '../runSource.js';
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

/**
 * Executes a run against an open runtime: records and enriches the input, exports, finalises,
 * shows progress, handles SIGINT/SIGTERM (drain, flush, mark interrupted), prints the summary.
 * Resolves to the exit code.
 * @param out.signals the command's signal handlers when it installed them earlier (else installed here).
 */
export async function executeRun(runtime: Runtime, plan: RunPlan, out: { json?: boolean; inspect?: RunInspector | null; signals?: RunSignals } = {}): Promise<number> {
  const signals = out.signals ?? watchRunSignals();
  try {
    return await executeWith(runtime, plan, signals, out.json === true);
  } finally {
    if (!out.signals) signals.dispose();
  }
}

async function executeWith(runtime: Runtime, requested: RunPlan, signals: RunSignals, json: boolean): Promise<number> {
  const counter = { malformed: 0 };
  if (signals.stop.aborted) return stoppedBeforeRun();
  const source = await runSource(runtime, requested, signals.stop, counter);
  if (source === null || signals.stop.aborted) {
    source?.input?.close();
    return stoppedBeforeRun();
  }
  const { tenantId, plan, companies } = source;
  const params: Record<string, unknown> = {
    ...(source.input ? source.input.params : { inputPath: null }),
    concurrency: plan.concurrency ?? runtime.config.runConcurrency,
    dryRun: plan.dryRun,
    staleDays: plan.staleDays,
  };

  const progressOut = process.stderr;
  const reporter = createProgressReporter({ out: progressOut, clock: systemClock });
  const openBreakers = (): number => runtime.listBreakers().filter((b) => b.tenantId === tenantId && b.state !== 'closed').length;
  // The first count of the run (total known) is what earlier sessions did: the rate leaves it out.
  let doneAtStart: number | null = null;
  const onProgress = (p: RunProgress): void => {
    if (doneAtStart === null && p.total !== null) doneAtStart = p.done;
    const exported = Object.values(p.exported).reduce((a, b) => a + (b ?? 0), 0);
    reporter.update({ done: p.done, total: p.total, degraded: p.degraded, openBreakers: openBreakers(), doneAtStart: doneAtStart ?? 0, phase: p.phase, exported });
  };
  let handle: ReturnType<Runtime['run']>;
  try {
    handle = runtime.run({
      tenantId,
      ...(companies ? { companies } : {}),
      ...(plan.resumeRunId !== null ? { resumeRunId: plan.resumeRunId } : {}),
      params,
      concurrency: plan.concurrency ?? runtime.config.runConcurrency,
      dryRun: plan.dryRun,
      onProgress,
    });
  } catch (error) {
    source.input?.close();
    throw error;
  }
  signals.attach({ handle, graceMs: runtime.config.shutdownGraceMs, markInterrupted: (runId) => runtime.runs.markRun(runId, 'interrupted') });

  try {
    const result = await handle.done;
    reporter.stop();
    if (counter.malformed > 0 && result.runId !== null) {
      await runtime.runs.addMalformedRows(result.runId, counter.malformed);
    }
    if (result.runId !== null) {
      const report = await runtime.report(result.runId);
      if (report) {
        const summary = summaryFromReport(report);
        process.stdout.write(json ? `${JSON.stringify(summaryToJson(summary), null, 2)}\n` : renderSummary(summary, { colour: process.stdout.isTTY === true }));
        // Also on stderr, where an operator watching the run looks: the export did not happen, and why.
        if (summary.odooExportDisabled) {
          process.stderr.write(`lead-enrich: run ${summary.runId}: Odoo export disabled for tenant ${summary.tenantId}: ${explainDisabledReason(summary.odooExportDisabledReason)}\n`);
        }
      }
    }
    if (result.status === 'failed') {
      process.stderr.write(`lead-enrich: run failed: ${result.error ?? 'unknown error'}\n`);
      return 1;
    }
    if (result.status === 'interrupted') {
      // Also on stderr: stdout may be a file or a pipe (--json), and the operator must learn how to go on.
      process.stderr.write(`lead-enrich: run ${result.runId ?? '<run_id>'} interrupted; resume with: lead-enrich run --resume ${result.runId ?? '<run_id>'}\n`);
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
