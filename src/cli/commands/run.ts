import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../../config/index.js';
import { systemClock } from '../../adapters/clock.js';
import { readCompanies, isInputError, inputFormatOf } from '../../adapters/input.js';
import type { Company } from '../../domain/index.js';
import { createRuntime, type Runtime } from '../../runtime.js';
import type { RunProgress } from '../../streams/run/runJob.js';
import { explainDisabledReason } from '../../streams/odoo/session.js';
import { createInspector, type InspectMode, type RunInspector } from '../../adapters/inspect.js';
import { createProgressReporter } from '../progress.js';
import { summaryFromReport } from '../reportSummary.js';
import { renderSummary, summaryToJson } from '../summary.js';
import { UsageError, cliLogger, intOption } from '../context.js';

interface RunOptions {
  tenant?: string;
  input?: string;
  resume?: string;
  staleDays?: string;
  concurrency?: string;
  dryRun?: boolean;
  inspect?: boolean | string;
  inspectPort?: string;
  json?: boolean;
}

/** Exit code of an interrupted run: the shell convention for SIGINT (128 + 2). */
export const EXIT_INTERRUPTED = 130;

/** Reads the input file, reporting every malformed row on stderr with its line number. */
async function* inputCompanies(path: string, tenantId: number, counter: { malformed: number }): AsyncGenerator<Company> {
  for await (const record of readCompanies(path, { tenantId })) {
    if ('company' in record) yield record.company;
    else {
      counter.malformed += 1;
      process.stderr.write(`lead-enrich: ${path}:${record.malformed.line}: skipped malformed row: ${record.malformed.reason}\n`);
    }
  }
}

/**
 * Reads the input's head (a CSV header, the opening of a JSON array, the first record) before a run
 * is created, so that an input that cannot be read at all is a usage error (exit 2) that leaves no
 * run behind. Malformed rows are not errors here; they are skipped and reported by the run.
 */
async function checkInputHead(path: string, tenantId: number): Promise<void> {
  const records = readCompanies(path, { tenantId })[Symbol.asyncIterator]();
  try {
    await records.next();
  } catch (error) {
    if (isInputError(error)) throw new UsageError(`--input ${path}: ${error.message}`);
    throw error;
  } finally {
    await records.return?.(undefined);
  }
}

/** The options of a run after validation. */
export interface RunPlan {
  tenantId: number | null;
  resumeRunId: number | null;
  input: string | null;
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

/** Validates the run options (exit 2 on misuse, before any work). */
export function planRun(options: RunOptions): RunPlan {
  const resumeRunId = intOption('--resume', options.resume, 1) ?? null;
  const tenantId = intOption('--tenant', options.tenant, 0, 2147483647) ?? null;
  if (resumeRunId === null && tenantId === null) throw new UsageError('run needs --tenant <id> (with --input <file> or without), or --resume <run_id>');
  if (resumeRunId !== null && (tenantId !== null || options.input !== undefined || options.staleDays !== undefined || options.dryRun === true)) {
    // A resumed run keeps its own --dry-run: a dry run resumed for real (or the reverse) would mix both in one run.
    throw new UsageError('--resume <run_id> takes no --tenant, --input, --stale-days or --dry-run: the run remembers them');
  }
  if (options.input !== undefined && options.staleDays !== undefined) throw new UsageError('--stale-days applies only without --input');
  if (options.input !== undefined && !existsSync(options.input)) throw new UsageError(`--input ${options.input}: no such file`);
  if (options.input !== undefined) {
    try {
      inputFormatOf(options.input);
    } catch (error) {
      throw new UsageError(`--input ${options.input}: ${(error as Error).message}`);
    }
  }
  return {
    tenantId,
    resumeRunId,
    input: options.input ?? null,
    staleDays: intOption('--stale-days', options.staleDays, 0) ?? null,
    concurrency: intOption('--concurrency', options.concurrency, 1, 4096),
    dryRun: options.dryRun === true,
  };
}

/**
 * Executes a run against an open runtime: records and enriches the input, exports, finalises,
 * shows progress, handles SIGINT/SIGTERM (drain, flush, mark interrupted), prints the summary.
 * Resolves to the exit code.
 */
export async function executeRun(runtime: Runtime, plan: RunPlan, out: { json?: boolean; inspect?: RunInspector | null } = {}): Promise<number> {
  const counter = { malformed: 0 };
  let tenantId = plan.tenantId;
  let companies: AsyncIterable<Company> | Iterable<Company> | undefined;
  if (plan.resumeRunId !== null) {
    const run = await runtime.runs.getRun(plan.resumeRunId);
    if (!run) throw new UsageError(`run ${plan.resumeRunId} does not exist`);
    tenantId = run.tenantId;
    if (run.status === 'completed') {
      process.stderr.write(`lead-enrich: run ${run.runId} is already completed; nothing to resume\n`);
    }
    const inputPath = typeof run.params.inputPath === 'string' ? run.params.inputPath : null;
    if (run.params.inputRecorded !== true) {
      // Killed while the input was being recorded: record it again (companies already recorded are
      // kept once), or the companies not yet recorded would silently drop out of the run.
      if (inputPath) companies = inputCompanies(inputPath, run.tenantId, counter);
      else companies = runtime.runs.tenantCompanies(run.tenantId, { staleDays: typeof run.params.staleDays === 'number' ? run.params.staleDays : null });
    }
    plan = { ...plan, dryRun: run.params.dryRun === true, concurrency: plan.concurrency ?? (typeof run.params.concurrency === 'number' ? run.params.concurrency : undefined) };
  } else if (plan.input) {
    await checkInputHead(plan.input, tenantId as number);
    companies = inputCompanies(plan.input, tenantId as number, counter);
  } else {
    companies = runtime.runs.tenantCompanies(tenantId as number, { staleDays: plan.staleDays });
  }
  const params: Record<string, unknown> = { inputPath: plan.input, concurrency: plan.concurrency ?? runtime.config.runConcurrency, dryRun: plan.dryRun, staleDays: plan.staleDays };

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
  const handle = runtime.run({
    tenantId: tenantId as number,
    ...(companies ? { companies } : {}),
    ...(plan.resumeRunId !== null ? { resumeRunId: plan.resumeRunId } : {}),
    params,
    concurrency: plan.concurrency ?? runtime.config.runConcurrency,
    dryRun: plan.dryRun,
    onProgress,
  });

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals === 1) {
      process.stderr.write(`\nlead-enrich: ${signal}: stopping intake; companies in flight get ${runtime.config.shutdownGraceMs} ms to finish (again to force)\n`);
      handle.interrupt();
    } else {
      process.stderr.write(`lead-enrich: ${signal} again: exiting now; resume with: lead-enrich run --resume ${handle.progress.runId ?? '<run_id>'}\n`);
      const runId = handle.progress.runId;
      if (signals > 2 || runId === null) process.exit(EXIT_INTERRUPTED);
      // The run is recorded interrupted (at most 1 s; a third signal exits at once) rather than left
      // `running`: what the sink still held is lost, and a resume redoes those companies.
      const exit = (): never => process.exit(EXIT_INTERRUPTED);
      setTimeout(exit, 1000).unref();
      void runtime.runs.markRun(runId, 'interrupted').then(exit, exit);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
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
        process.stdout.write(out.json ? `${JSON.stringify(summaryToJson(summary), null, 2)}\n` : renderSummary(summary, { colour: process.stdout.isTTY === true }));
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
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Registers `lead-enrich run`. `setExit` receives the command's exit code. */
export function registerRun(program: Command, setExit: (code: number) => void): void {
  program
    .command('run')
    .description('enrich a tenant\'s companies, persist everything, export to Odoo, print a summary')
    .option('--tenant <id>', 'tenant id (integer)')
    .option('--input <file>', 'companies to enrich: .csv (name,domain|website,company_id), .json array or .jsonl')
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
      const { logger, logFile } = cliLogger(config);
      const inspectMode = inspectModeOf(options.inspect);
      const inspectPort = inspectPortOf(options);
      const inspector = inspectMode ? await createInspector({ mode: inspectMode, port: inspectPort }) : null;
      if (inspector) process.stderr.write(`${inspector.instructions}\n`);
      let runtime: Runtime | null = null;
      try {
        runtime = await createRuntime(config, { logger, ...(inspector ? { inspect: inspector.inspect } : {}) });
        setExit(await executeRun(runtime, plan, { json: options.json === true, inspect: inspector }));
        if (logFile) process.stderr.write(`logs: ${logFile}\n`);
      } catch (error) {
        if (isInputError(error)) throw new UsageError(error.message);
        throw error;
      } finally {
        await runtime?.close();
        await inspector?.stop();
      }
    });
}
