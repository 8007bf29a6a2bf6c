import type { Observable } from 'rxjs';
import type { Logger } from 'pino';
import type { InspectionEvent, Observer } from 'xstate';
import type { Config } from './config/index.js';
import type { BreakerTransition, Clock, Company, EnrichmentOutput } from './domain/index.js';
import { VendorError } from './domain/errors.js';
import type { ContactSourcePort, EmailVerifierPort, ExtractorPort, SearchPort } from './domain/ports.js';
import { systemClock } from './adapters/clock.js';
import { createLogger } from './adapters/logger.js';
import { createOdooClient } from './adapters/odoo/client.js';
import { createPgPartnerMap } from './adapters/odoo/partnerMapPg.js';
import { openDatabase, type Database } from './adapters/postgres/database.js';
import { createObservability, type Observability } from './adapters/postgres/observability.js';
import { runReport, type RunReport } from './adapters/postgres/report.js';
import { createRunsRepository, type RunsRepository } from './adapters/postgres/runs.js';
import { createVendorAdapters } from './adapters/vendors.js';
import { createBreakerRegistry, type BreakerRegistry } from './streams/breakerRegistry.js';
import { enrichCompany, type EnrichmentPorts } from './streams/enrichCompany.js';
import { createGuardedCaller } from './streams/guardedCall.js';
import type { BreakerInfo, GuardedCaller } from './streams/guard.types.js';
import { startRun, type RunHandle, type RunRequest } from './streams/run/runJob.js';
import { createSink, type Sink } from './streams/sink.js';

/** Options of {@link createRuntime}. */
export interface RuntimeOptions {
  /** Logger; default a pino logger at LOG_LEVEL on stderr-compatible stdout. */
  logger?: Logger;
  /** Time source; default the system clock. */
  clock?: Clock;
  /** XState inspection of every actor (breakers, enrichment, run): e.g. `createInspector().inspect`. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** An open database to use instead of opening one from `config.database` (not closed by the runtime). */
  database?: Database;
}

/** The running system a runner process or the CLI holds: database, sink, breakers, adapters. */
export interface Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly database: Database;
  readonly sink: Sink;
  readonly obs: Observability;
  readonly runs: RunsRepository;
  readonly breakers: BreakerRegistry;
  /** The guarded caller every vendor call of this runtime goes through. */
  readonly guard: GuardedCaller;
  /** Every breaker transition as it happens. */
  readonly transitions$: Observable<BreakerTransition>;
  /** Every breaker's state now. */
  listBreakers(): BreakerInfo[];
  /** Enriches one company without a run (nothing persisted); never rejects because of a vendor. */
  enrich(company: Company, options?: { signal?: AbortSignal }): Promise<EnrichmentOutput>;
  /** Starts a run (or resumes one); see {@link RunRequest}. */
  run(request: Omit<RunRequest, 'concurrency' | 'dryRun' | 'params'> & Partial<Pick<RunRequest, 'concurrency' | 'dryRun' | 'params'>>): RunHandle;
  /** What `report --run` shows. */
  report(runId: number): Promise<RunReport | null>;
  /** Flushes the sink and closes the database (and stops an embedded server). Idempotent. */
  close(): Promise<void>;
}

function offPort(vendor: string): never {
  throw new VendorError({ vendor: 'crawler', kind: 'bad_request', detail: `${vendor} is off (no key)` });
}

/** The ports of the chain; a vendor without its key gets a port that is never called (its step is skipped). */
export function enrichmentPorts(config: Config): EnrichmentPorts {
  const a = createVendorAdapters(config);
  return {
    crawler: a.crawler,
    search: a.tavily ?? ({ search: () => offPort('tavily') } satisfies SearchPort),
    extractor: a.openai ?? ({ extract: () => offPort('openai') } satisfies ExtractorPort),
    apify: a.apifyLinkedin ?? ({ findContacts: () => offPort('apify_linkedin') } satisfies ContactSourcePort),
    lusha: a.lusha ?? ({ findContacts: () => offPort('lusha') } satisfies ContactSourcePort),
    verifier: a.zerobounce ?? ({ verify: () => offPort('zerobounce') } satisfies EmailVerifierPort),
  };
}

/**
 * Builds the runtime from a validated configuration: opens (or starts the embedded) PostgreSQL and
 * applies migrations, creates the sink, the Feature 8 hooks, the breaker registry, the guarded
 * caller and the vendor adapters. The composition root of the CLI and of the library API.
 *
 * @throws Error when the database cannot be opened or migrated
 */
export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  const inspect = options.inspect
    ? typeof options.inspect === 'function'
      ? options.inspect
      : (event: InspectionEvent) => (options.inspect as Observer<InspectionEvent>).next?.(event)
    : undefined;
  const database = options.database ?? (await openDatabase(config, { logger }));
  const sink = createSink({ pool: database.pool, config: config.sink, logger });
  const obs = createObservability({ sink, pool: database.pool, clock, logger });
  const runs = createRunsRepository(database.pool);
  const breakers = createBreakerRegistry({
    breaker: config.breaker,
    clock,
    probeTimeoutMs: config.vendorTimeoutMs,
    ...(inspect ? { inspect } : {}),
  });
  const guard = createGuardedCaller({ config, clock, registry: breakers });
  const ports = enrichmentPorts(config);
  const partnerMap = createPgPartnerMap(database.pool);
  let closed: Promise<void> | null = null;

  return {
    config,
    logger,
    database,
    sink,
    obs,
    runs,
    breakers,
    guard,
    transitions$: breakers.transitions$,
    listBreakers: () => breakers.list(),
    enrich: (company, opts = {}) =>
      enrichCompany(company, { config, guard, ports, clock, ...(opts.signal ? { signal: opts.signal } : {}), ...(inspect ? { inspect } : {}) }),
    run: (request) =>
      startRun(
        {
          config,
          clock,
          pool: database.pool,
          sink,
          obs,
          runs,
          guard,
          ports,
          logger,
          odoo: { partnerMap, createClient: (target) => createOdooClient(target, { timeoutMs: config.vendorTimeoutMs }), logger },
          ...(inspect ? { inspect } : {}),
        },
        { concurrency: config.runConcurrency, dryRun: false, params: {}, ...request },
      ),
    report: (runId) => runReport(database.pool, runId),
    close: () =>
      (closed ??= (async () => {
        try {
          await sink.close({ deadlineMs: config.shutdownGraceMs });
        } finally {
          if (!options.database) await database.close();
        }
      })()),
  };
}
