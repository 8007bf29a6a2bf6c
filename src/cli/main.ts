import { Command, CommanderError } from 'commander';
import { describeConfig, isConfigError, loadConfig } from '../config/index.js';
import { createLogger } from '../adapters/logger.js';
import { openDatabase } from '../adapters/postgres/index.js';
import { registerMachines } from './commands/machines.js';
import { registerReport } from './commands/report.js';
import { registerRun } from './commands/run.js';
import { registerDemo } from './commands/demo.js';
import { registerWorker } from './commands/worker.js';
import { registerServe } from './commands/serve.js';
import { startMetricsServer } from '../runtime.js';
import { isUsageError } from './context.js';

/** Exit codes of DESIGN.md "Command line". */
export const EXIT = { ok: 0, fatal: 1, usage: 2 } as const;

function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('lead-enrich')
    .description('Enrich B2B companies from flaky vendors, persist every degradation, export to Odoo.')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('config')
    .description('print the effective configuration, secrets masked')
    .option('--json', 'print as JSON')
    .action((options: { json?: boolean }) => {
      loadConfig();
      const rows = describeConfig();
      if (options.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const width = Math.max(...rows.map((r) => r.variable.length));
      for (const row of rows) {
        process.stdout.write(`${row.variable.padEnd(width)}  ${row.value === '' ? '(empty)' : row.value}${row.source === 'env' ? '' : '  (default)'}\n`);
      }
    });

  program
    .command('migrate')
    .description('apply pending database migrations (DATABASE_URL, or the embedded PostgreSQL)')
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, destination: process.stderr });
      const db = await openDatabase(config, { logger, migrate: true });
      try {
        const result = db.migrations;
        for (const m of result?.applied ?? []) process.stdout.write(`applied ${String(m.version).padStart(3, '0')}_${m.name}\n`);
        process.stdout.write(`${db.url}: ${result?.applied.length ?? 0} applied, ${result?.skipped.length ?? 0} already applied\n`);
      } finally {
        await db.close();
      }
    });
  registerRun(program, setExit);
  registerWorker(program, setExit, { startMetrics: (runtime, port) => startMetricsServer(runtime, port) });
  registerDemo(program, setExit);
  registerReport(program, setExit);
  registerServe(program, setExit);
  registerMachines(program, setExit);
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    // Validate before any work, whatever the command (DESIGN.md: exit 2 on bad configuration).
    const wantsHelp = argv.slice(2).some((a) => a === '--help' || a === '-h') || argv.length <= 2;
    if (!wantsHelp) loadConfig();
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (isConfigError(error)) {
      process.stderr.write(`lead-enrich: ${error.message}\n`);
      return EXIT.usage;
    }
    if (isUsageError(error)) {
      process.stderr.write(`lead-enrich: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    process.stderr.write(`lead-enrich: fatal: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.fatal;
  }
}
