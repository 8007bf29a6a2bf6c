import { Subject, takeUntil, type Observable } from 'rxjs';
import type { Logger } from 'pino';
import type { InspectionEvent, Observer } from 'xstate';
import type { Config } from './config/index.js';
import type { BreakerTransition, Clock, Company, EnrichmentOutput, RunEvent } from './domain/index.js';
import { VendorError } from './domain/errors.js';
import type { ContactSourcePort, EmailVerifierPort, ExtractorPort, SearchPort } from './domain/ports.js';
import { systemClock } from './adapters/clock.js';
import { createLogger } from './adapters/logger.js';
import { createOdooClient } from './adapters/odoo/client.js';
import { createPgPartnerMap } from './adapters/odoo/partnerMapPg.js';
import { lastOpenBreakerTransitions } from './adapters/postgres/breakers.js';
import { openDatabase, type Database } from './adapters/postgres/database.js';
import { createObservability, type Observability } from './adapters/postgres/observability.js';
import { reconnecting } from './adapters/postgres/reconnect.js';
import { runReport, type RunReport } from './adapters/postgres/report.js';
import { createRunsRepository, type RunsRepository } from './adapters/postgres/runs.js';
import { createVendorAdapters } from './adapters/vendors.js';
import { OPENING_REASONS } from './machines/breaker.machine.js';
import { createBreakerRegistry, type BreakerRegistry } from './streams/breakerRegistry.js';
import { enrichCompany, type EnrichmentPorts, type EnrichmentStageEvent } from './streams/enrichCompany.js';
import { createGuardedCaller, probeTimeoutMsOf } from './streams/guardedCall.js';
import type { BreakerInfo, GuardedCaller } from './streams/guard.types.js';
import { startRun, type RunHandle, type RunRequest } from './streams/run/runJob.js';
import { createSink, type Sink } from './streams/sink.js';
import { recordTransitions } from './streams/transitionRecorder.js';

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

/**
 * What {@link Runtime.run} takes: a {@link RunRequest} whose `concurrency` (default
 * RUN_CONCURRENCY), `dryRun` (default false) and `params` (default `{}`) may be left out.
 */
export type StartRunRequest = Omit<RunRequest, 'concurrency' | 'dryRun' | 'params'> & Partial<Pick<RunRequest, 'concurrency' | 'dryRun' | 'params'>>;

/** The running system a runner process or the CLI holds: database, sink, breakers, adapters. */
export interface Runtime {
  /** The validated configuration the runtime was built from. */
  readonly config: Config;
  /** The runtime's pino logger (the one given in {@link RuntimeOptions}, or its own). */
  readonly logger: Logger;
  /** The open, migrated database (`database.pool` for your own queries). */
  readonly database: Database;
  /** The persistence sink every run event goes through (batched, backpressured). */
  readonly sink: Sink;
  /** The observability hooks (stage events, vendor usage, transitions, percentiles) over the sink. */
  readonly obs: Observability;
  /** Tenants and runs: `runs.upsertTenant(...)` registers a tenant's Odoo target. */
  readonly runs: RunsRepository;
  /** The (tenant, vendor) breakers, shared by every run and `enrich` of this runtime. */
  readonly breakers: BreakerRegistry;
  /** The guarded caller every vendor call of this runtime goes through. */
  readonly guard: GuardedCaller;
  /**
   * Every breaker transition as it happens (hot; completes on {@link Runtime.close}). The runtime
   * itself logs and persists each one (breaker_transitions), with the run id of its tenant's run
   * under way, or null (`enrich`, `verify-deferred`). The `restored` transitions of breakers brought
   * back at start-up happen before `createRuntime` resolves: recorded and logged, not seen here.
   */
  readonly transitions$: Observable<BreakerTransition>;
  /**
   * Every run event as it is handed to the sink, before it is committed: `stage.event`,
   * `company.finished`, `vendor.usage`, `breaker.transition` (every transition, in a run or not) and `export.outcome`.
   * Hot (no replay); completes on {@link Runtime.close}. Slow subscribers slow the run down.
   */
  readonly events$: Observable<RunEvent>;
  /** Every breaker's state now. */
  listBreakers(): BreakerInfo[];
  /**
   * Enriches one company without a run: its result is not persisted and none of its stage events
   * reaches `events$` (pass `onStageEvent` to see its stages); only breaker transitions it causes are
   * recorded, with no run id, since the breakers are the runtime's. Never rejects because of a vendor; rejects with
   * `signal.reason` when aborted.
   */
  enrich(company: Company, options?: { signal?: AbortSignal; onStageEvent?: (event: EnrichmentStageEvent) => void }): Promise<EnrichmentOutput>;
  /**
   * Starts a run (or resumes one) and returns at once; await `handle.done`. Persists the input,
   * one row per company, the events, usage and transitions, and exports to the tenant's Odoo.
   */
  run(request: StartRunRequest): RunHandle;
  /** What `report --run` shows. */
  report(runId: number): Promise<RunReport | null>;
  /**
   * Stops recording breaker transitions once those seen are handed to the sink, flushes the sink and
   * closes the database (and stops an embedded server). Idempotent.
   */
  close(): Promise<void>;
}

function offPort(vendor: string): never {
  throw new VendorError({ vendor: 'crawler', kind: 'bad_request', detail: `${vendor} is off (no key)` });
}

/** The sink with every pushed event also emitted on `events` first (RxJS reports a subscriber's exception asynchronously, never to the pusher). */
function observedSink(sink: Sink, events: Subject<RunEvent>): Sink {
  return {
    push: (event) => {
      events.next(event);
      return sink.push(event);
    },
    pushAll: (group) => {
      for (const event of group) events.next(event);
      return sink.pushAll(group);
    },
    flush: () => sink.flush(),
    close: (opts) => sink.close(opts),
    get pending() {
      return sink.pending;
    },
  };
}

/** Waits for `work`, at most `ms` (an unref'd timer); calls `onLate` when the time ran out first. */
async function settledWithin(work: Promise<void>, ms: number, onLate: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
    timer.unref();
  });
  try {
    if ((await Promise.race([work.then(() => 'done' as const), late])) === 'late') onLate();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Brings back the breakers a previous process (or this one's last run) left open or half-open, from
 * their last row in breaker_transitions: a new process must not hammer a vendor that is down
 * (DESIGN.md "Circuit breakers"). They come back open with their last opening time, so the cool-off
 * goes on; a half-open one's `restored` transition is recorded like any other. A failure to read
 * does not stop the runtime: it is logged and every breaker starts closed.
 */
async function restoreBreakers(breakers: BreakerRegistry, database: Database, config: Config, logger: Logger): Promise<void> {
  let last;
  try {
    last = await lastOpenBreakerTransitions(database.pool, OPENING_REASONS);
  } catch (error) {
    logger.warn({ err: error }, 'breakers not restored (breaker_transitions unreadable): every breaker starts closed');
    return;
  }
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  for (const b of breakers.restoreFromTransitions(last)) {
    const coolOffEndsAt = b.openedAt === null ? null : b.openedAt + config.breaker.coolOffS * 1000;
    logger.info({ tenantId: b.tenantId, vendor: b.vendor, openedAt: iso(b.openedAt), coolOffEndsAt: iso(coolOffEndsAt) }, `breaker ${b.vendor} restored open`);
  }
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
  const events = new Subject<RunEvent>();
  const closing = new Subject<void>();
  // The sink retries its own batches; the runs' other queries and locks ride out a lost
  // connection through this one pool (docs/decisions/database-blips.md).
  const sink = observedSink(createSink({ pool: database.pool, config: config.sink, logger }), events);
  const db = reconnecting(database.pool, { logger });
  const obs = createObservability({ sink, pool: db, clock, logger });
  const runs = createRunsRepository(db);
  const breakers = createBreakerRegistry({
    breaker: config.breaker,
    clock,
    probeTimeoutMs: probeTimeoutMsOf(config),
    ...(inspect ? { inspect } : {}),
  });
  const guard = createGuardedCaller({ config, clock, registry: breakers });
  // One subscription for the runtime's lifetime: every transition is logged and persisted, whoever caused it.
  const transitions = recordTransitions({
    transitions$: breakers.transitions$,
    record: (t, runId) => obs.recordTransition(t, runId),
    ensureTenant: (tenantId) => runs.ensureTenant(tenantId),
    logger,
  });
  await restoreBreakers(breakers, database, config, logger);
  const ports = enrichmentPorts(config);
  const partnerMap = createPgPartnerMap(database.pool);
  let closed: Promise<void> | null = null;
  const active = new Set<RunHandle>();

  return {
    config,
    logger,
    database,
    sink,
    obs,
    runs,
    breakers,
    guard,
    transitions$: breakers.transitions$.pipe(takeUntil(closing)),
    events$: events.asObservable(),
    listBreakers: () => breakers.list(),
    enrich: (company, opts = {}) =>
      enrichCompany(company, {
        config,
        guard,
        ports,
        clock,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.onStageEvent ? { onStageEvent: opts.onStageEvent } : {}),
        ...(inspect ? { inspect } : {}),
      }),
    run: (request) => {
      if (closed) throw new Error('runtime is closed: create a new one to start a run');
      const concurrency = request.concurrency ?? config.runConcurrency;
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 4096) {
        throw new RangeError(`run: concurrency must be an integer from 1 to 4096, got ${String(request.concurrency)}`);
      }
      if (request.companies === undefined && request.resumeRunId === undefined) {
        throw new TypeError('run: give companies (a new run) or resumeRunId (resume one)');
      }
      const handle = startRun(
        {
          config,
          clock,
          pool: db,
          sink,
          obs,
          runs,
          guard,
          ports,
          logger,
          transitions,
          odoo: { partnerMap, createClient: (target) => createOdooClient(target, { timeoutMs: config.vendorTimeoutMs, maxResponseBytes: config.odoo.maxResponseBytes }), logger },
          ...(inspect ? { inspect } : {}),
        },
        { dryRun: false, params: {}, ...request, concurrency },
      );
      active.add(handle);
      void handle.done.catch(() => undefined).finally(() => active.delete(handle));
      return handle;
    },
    report: (runId) => runReport(database.pool, runId),
    close: () =>
      (closed ??= (async () => {
        try {
          // Runs still going are interrupted (drain, grace, flush, marked interrupted) before the
          // sink and the database go away under them.
          for (const handle of active) handle.interrupt();
          await settledWithin(
            Promise.allSettled([...active].map((h) => h.done)).then(() => undefined),
            2 * config.shutdownGraceMs + 10_000,
            () => logger.warn({ runs: active.size }, 'runs still not ended at close'),
          );
          // At most the grace: a sink whose buffer is full of events the database does not take
          // would otherwise hold close() for ever.
          const graceMs = config.shutdownGraceMs;
          await settledWithin(transitions.close(), graceMs, () => logger.warn({ graceMs }, 'breaker transitions still unrecorded at close'));
          await sink.close({ deadlineMs: config.shutdownGraceMs });
        } finally {
          events.complete();
          closing.next();
          if (!options.database) await database.close();
        }
      })()),
  };
}
