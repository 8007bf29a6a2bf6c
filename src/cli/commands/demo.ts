import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfigWith, maskUrl } from '../../config/index.js';
import { startSimulator, type Simulator } from '../../sim/index.js';
import { startFakeOdoo, type FakeOdoo } from '../../sim/fakeOdoo.js';
import { openDatabase, type Database } from '../../adapters/postgres/index.js';
import { createRuntime, serveWindow, type Runtime, type ServeHandle } from '../../runtime.js';
import { cliLogger, intOption } from '../context.js';
import { demoCsv } from '../demo/data.js';
import { EXIT_INTERRUPTED, executeRun, planRun } from './run.js';

/** The demo's tuning: short timeouts and cool-off so that a breaker opens and closes within seconds. */
export const DEMO_SETTINGS: Record<string, string> = {
  CB_COOL_OFF_S: '1',
  CB_ERROR_THRESHOLD: '3',
  RETRY_BASE_DELAY_MS: '20',
  RETRY_MAX_DELAY_MS: '200',
  VENDOR_TIMEOUT_MS: '400',
  CRAWL_TIMEOUT_MS: '400',
  COMPANY_DEADLINE_MS: '1000',
  ENABLE_LUSHA_FALLBACK: 'true',
  RUN_CONCURRENCY: '6',
  SHUTDOWN_GRACE_MS: '3000',
  ODOO_URL: '',
  // Quotas at work (issue 14): OpenAI held to 10 calls a second, so some companies wait for their
  // turn (the summary's rate-limits line; the plans' own limits, e.g. Lusha's 40 a minute, would
  // hold the demo's one-second deadlines). Tenant 2's run also has a budget (DEMO_BUDGET_USD).
  VENDOR_RATE_LIMITS: 'tavily=20/s,openai=10/s,lusha=20/s,apify_linkedin=30/s',
};

/**
 * Tenant 2's run budget, USD: it runs out part of the way (its summary's budget line, and
 * BUDGET_EXHAUSTED on the companies after it). Tenant 1's run has none, so that its Apify breaker
 * is seen to recover.
 */
export const DEMO_BUDGET_USD = 2;

/** Fault profile of the simulators: every reason code, a breaker that opens and recovers. */
async function startDemoSimulators(): Promise<{ sim: Simulator; odoo: FakeOdoo }> {
  const sim = await startSimulator({
    seed: 7,
    latencyMs: 20,
    profiles: {
      tavily: { fault: 'quota', probability: 0.25 }, // TAVILY_FAIL (quota: not retried)
      openai: { fault: 'malformed', probability: 0.12 }, // OPENAI_FAIL → deterministic extraction
      apify_linkedin: { fault: 'quota', firstMs: 700 }, // credits run out, topped up 0.7 s later: open → halfOpen → closed
      lusha: { fault: 'schema', probability: 0.2 }, // LUSHA_FAIL
      zerobounce: { fault: 'rate_limit', probability: 0.15, retryAfterS: 30 }, // Retry-After too long: ZEROBOUNCE_DEFER
    },
  });
  const odoo = await startFakeOdoo();
  // Tenant 1's Odoo lacks autopost_bills (no Accounting): the first write faults, the stripped retry lands.
  odoo.addDatabase('acme', { login: 'demo@acme.example', apiKey: 'demo-odoo-key' }, { unknownFields: ['autopost_bills'] });
  // Tenant 2's database does not exist: its export is disabled for the run, the run goes on.
  return { sim, odoo };
}

/** Registers `lead-enrich demo` (what `npm start` runs). */
export function registerDemo(program: Command, setExit: (code: number) => void): void {
  program
    .command('demo')
    .description('run the whole system on a fresh machine: vendor simulators, fake Odoo, embedded PostgreSQL, two tenants')
    .option('--companies <n>', 'companies per tenant', '100')
    .option('--port <port>', "port of the operators' window served at the end, on a terminal (0: any free port)", '8790')
    .action(async (options: { companies: string; port: string }) => {
      const port = intOption('--port', options.port, 0, 65535) as number;
      const { sim, odoo } = await startDemoSimulators();
      let runtime: Runtime | null = null;
      let database: Database | null = null;
      let window: ServeHandle | null = null;
      try {
        const config = loadConfigWith({ ...DEMO_SETTINGS, ...sim.overrides, ODOO_KEY_DEMO: 'demo-odoo-key' });
        const { logger, logFile } = cliLogger(config);
        const dir = resolve(config.database.dataDir, 'demo');
        mkdirSync(dir, { recursive: true });
        const count = Math.max(1, Math.min(5000, Number(options.companies) || 100));
        process.stderr.write(`demo: simulators on ${sim.baseUrl}, fake Odoo on ${odoo.url}\n`);
        process.stderr.write(`demo: starting PostgreSQL (${config.database.url ? maskUrl(config.database.url) : `embedded, under ${resolve(config.database.dataDir, 'pg')}`})\n`);
        // One database for the runs and for the operators' window served at the end.
        database = await openDatabase(config, { logger });
        runtime = await createRuntime(config, { logger, database });
        await runtime.upsertTenant({ tenantId: 1, name: 'Acme Holdings (demo)', odooUrl: odoo.url, odooDb: 'acme', odooLogin: 'demo@acme.example', odooKeyEnv: 'ODOO_KEY_DEMO' });
        await runtime.upsertTenant({ tenantId: 2, name: 'Globex Group (demo)', odooUrl: odoo.url, odooDb: 'globex', odooLogin: 'demo@globex.example', odooKeyEnv: 'ODOO_KEY_DEMO' });
        const runIds: number[] = [];
        let worst = 0;
        for (const tenantId of [1, 2]) {
          const input = join(dir, `tenant-${tenantId}.csv`);
          writeFileSync(input, demoCsv(tenantId, count));
          process.stderr.write(`\ndemo: tenant ${tenantId}: enriching ${input}\n`);
          const plan = { ...planRun({ tenant: String(tenantId), input }), ...(tenantId === 2 ? { params: { budgetUsd: DEMO_BUDGET_USD } } : {}) };
          const code = await executeRun(runtime, plan, { onRunId: (runId) => runIds.push(runId) });
          worst = Math.max(worst, code);
          if (code === EXIT_INTERRUPTED) break; // Ctrl-C ends the demo, not just this tenant's run
        }
        process.stdout.write(
          [
            '',
            'Where the data is:',
            `  database: ${runtime.databaseUrl}`,
            `  runs: ${runIds.join(', ')}  (lead-enrich report --run <id>; the embedded server starts again on demand)`,
            `  input files: ${dir}`,
            `  fake Odoo (gone when the demo ends): database acme received ${odoo.objectCalls('acme')} object calls; globex does not exist`,
            ...(logFile ? [`  logs: ${logFile}`] : []),
            '',
          ].join('\n'),
        );
        setExit(worst);
        await runtime.close();
        // On a terminal the demo ends on the operators' window over its runs, until Ctrl-C; in a
        // script or CI (stdout not a terminal) it ends here.
        if (process.stdout.isTTY === true && worst !== EXIT_INTERRUPTED) {
          // The usual port, or any free one when it is taken (another demo, a `serve`).
          window = await serveWindow(config, { database, port, logger }).catch(() => serveWindow(config, { database: database!, port: 0, logger }));
          process.stdout.write(`The operators' window: ${window.url}/runs  (runs ${runIds.join(' and ')}: ${runIds.map((id) => `${window!.url}/runs/${id}`).join(', ')})\nCtrl-C to stop.\n`);
          await new Promise<void>((resolve) => {
            const stop = (): void => {
              process.off('SIGINT', stop);
              process.off('SIGTERM', stop);
              resolve();
            };
            process.on('SIGINT', stop);
            process.on('SIGTERM', stop);
          });
          process.stdout.write('\n');
        } else {
          process.stdout.write(`The operators' window over these runs: lead-enrich serve (then http://127.0.0.1:8790/runs)\n`);
        }
      } finally {
        await window?.close();
        await runtime?.close();
        await database?.close();
        await odoo.close();
        await sim.close();
      }
    });
}
