import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { isRunRequestError } from '../../domain/index.js';
import { createRuntime } from '../../runtime.js';
import { summaryFromReport } from '../reportSummary.js';
import { renderSummary, summaryToJson } from '../summary.js';
import { UsageError, cliLogger, intOption } from '../context.js';

/** Registers `report --run <id>` and `verify-deferred --tenant <id>`. */
export function registerReport(program: Command, setExit: (code: number) => void): void {
  program
    .command('report')
    .description('print a run\'s summary from the database')
    .requiredOption('--run <id>', 'run id')
    .option('--json', 'print as JSON')
    .action(async (options: { run: string; json?: boolean }) => {
      const config = loadConfig();
      const runId = intOption('--run', options.run, 1) as number;
      const { logger } = cliLogger(config);
      const runtime = await createRuntime(config, { logger });
      try {
        const report = await runtime.report(runId);
        if (!report) throw new UsageError(`run ${runId} does not exist`);
        const summary = summaryFromReport(report);
        process.stdout.write(options.json ? `${JSON.stringify(summaryToJson(summary), null, 2)}\n` : renderSummary(summary, { colour: process.stdout.isTTY === true }));
        setExit(0);
      } finally {
        await runtime.close();
      }
    });

  program
    .command('verify-deferred')
    .description('re-verify the e-mail addresses deferred by ZEROBOUNCE_DEFER (status unknown)')
    .requiredOption('--tenant <id>', 'tenant id')
    .action(async (options: { tenant: string }) => {
      const config = loadConfig();
      const tenantId = intOption('--tenant', options.tenant, 0, 2147483647) as number;
      const { logger } = cliLogger(config);
      // The runtime's breakers: transitions are logged and persisted, and a breaker left open is respected.
      const runtime = await createRuntime(config, { logger });
      try {
        const r = await runtime.verifyDeferred(tenantId).catch((error: unknown) => {
          throw isRunRequestError(error) ? new UsageError(error.message) : error;
        });
        process.stdout.write(`tenant ${tenantId}: ${r.deferred} deferred, ${r.verified} verified, ${r.stillDeferred} still deferred${r.circuitOpen ? ' (ZeroBounce breaker open: try again after CB_COOL_OFF_S)' : ''}\n`);
        setExit(0);
      } finally {
        await runtime.close();
      }
    });
}
