import { createDeferredContactsStore } from '../../adapters/postgres/contacts.js';
import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { openDatabase } from '../../adapters/postgres/index.js';
import { runReport } from '../../adapters/postgres/report.js';
import { verifyDeferred } from '../../streams/verifyDeferred.js';
import { createZeroBounceClient } from '../../adapters/zerobounce.js';
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
      const db = await openDatabase(config, { logger });
      try {
        const report = await runReport(db.pool, runId);
        if (!report) throw new UsageError(`run ${runId} does not exist`);
        const summary = summaryFromReport(report);
        process.stdout.write(options.json ? `${JSON.stringify(summaryToJson(summary), null, 2)}\n` : renderSummary(summary, { colour: process.stdout.isTTY === true }));
        setExit(0);
      } finally {
        await db.close();
      }
    });

  program
    .command('verify-deferred')
    .description('re-verify the e-mail addresses deferred by ZEROBOUNCE_DEFER (status unknown)')
    .requiredOption('--tenant <id>', 'tenant id')
    .action(async (options: { tenant: string }) => {
      const config = loadConfig();
      const tenantId = intOption('--tenant', options.tenant, 0, 2147483647) as number;
      if (!config.vendors.zerobounce.apiKey) throw new UsageError('ZEROBOUNCE_API_KEY is empty: ZeroBounce is off, nothing can be verified');
      const { logger } = cliLogger(config);
      // The runtime's breakers: transitions are logged and persisted, and a breaker left open is respected.
      const runtime = await createRuntime(config, { logger });
      try {
        const r = await verifyDeferred({ store: createDeferredContactsStore(runtime.database.pool), guard: runtime.guard, verifier: createZeroBounceClient(config) }, tenantId);
        process.stdout.write(`tenant ${tenantId}: ${r.deferred} deferred, ${r.verified} verified, ${r.stillDeferred} still deferred${r.circuitOpen ? ' (ZeroBounce breaker open: try again after CB_COOL_OFF_S)' : ''}\n`);
        setExit(0);
      } finally {
        await runtime.close();
      }
    });
}
