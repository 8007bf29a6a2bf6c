import { Subject, takeUntil, type Observable } from 'rxjs';
import type { InspectionEvent, Observer } from 'xstate';
import type { Config } from './config/index.js';
import {
  RunRequestError,
  VendorError,
  type BreakerTransition,
  type Clock,
  type Company,
  type ContactSourcePort,
  type EmailVerifierPort,
  type EnrichmentOutput,
  type ExtractorPort,
  type Logger,
  type RunEvent,
  type SearchPort,
  type StageEvent,
  type Tenant,
  type TenantId,
  type QueueDepth,
  type WorkQueue,
} from './domain/index.js';
import { systemClock, systemSleep } from './adapters/clock.js';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { createInputOpener } from './adapters/input.js';
import { createLogger } from './adapters/logger.js';
import { createOdooClient } from './adapters/odoo/client.js';
import { createPgPartnerMap } from './adapters/odoo/partnerMapPg.js';
import { lastOpenBreakerTransitions } from './adapters/postgres/breakers.js';
import { createBreakerStateStore } from './adapters/postgres/breakerState.js';
import { createDeferredContactsStore } from './adapters/postgres/contacts.js';
import { createFleetRegistry } from './adapters/postgres/fleetWorkers.js';
import { createWorkQueue, leaseSecondsFor, readQueueDepth } from './adapters/postgres/queue.js';
import { createWindowReader } from './adapters/postgres/window.js';
import { createMetricsApp, createWindowApp } from './adapters/window/app.js';
import { createWorkerMetrics } from './adapters/window/metrics.js';
import { isLoopbackHost, listen } from './adapters/window/server.js';
import { openDatabase, type Database } from './adapters/postgres/database.js';
import { reconnecting } from './adapters/postgres/reconnect.js';
import { runReport, type RunReport } from './adapters/postgres/report.js';
import { createLocks } from './adapters/postgres/runLock.js';
import { createRunQueue } from './adapters/postgres/runQueues.js';
import { createRunStore } from './adapters/postgres/runs.js';
import { createAnswerStore } from './adapters/postgres/answers.js';
import { createRunSpend } from './adapters/postgres/runSpend.js';
import { createPgBatchWriter } from './adapters/postgres/writer.js';
import { createSwitchingRateLimiter } from './adapters/rateLimiter.js';
import { createVendorAdapters } from './adapters/vendors.js';
import { OPENING_REASONS } from './machines/breaker.machine.js';
import { createBreakerRegistry } from './streams/breakerRegistry.js';
import { createSharedBreakers, type SharedBreakers } from './streams/sharedBreakers.js';
import { enrichCompany, type EnrichmentPorts } from './streams/enrichCompany.js';
import { createGuardedCaller, probeTimeoutMsOf } from './streams/guardedCall.js';
import { guardEventsTo, type BreakerInfo, type GuardEvent } from './streams/guard.types.js';
import { createObservability } from './streams/observability.js';
import { AnswerReuse } from './streams/answers.js';
import { RunBudgets } from './streams/run/budget.js';
import { memberDepsOf, startRun, type RunHandle, type RunRequest } from './streams/run/runJob.js';
import { startWorker, type WorkHandle, type WorkOptions } from './streams/fleet/worker.js';
import { createSink, type Sink } from './streams/sink.js';
import { recordTransitions } from './streams/transitionRecorder.js';
import { verifyDeferred, type VerifyDeferredResult } from './streams/verifyDeferred.js';

export type { RunHandle, RunProgress, RunRequest, RunResult } from './streams/run/runJob.js';
export type { WorkHandle, WorkOptions } from './streams/fleet/worker.js';
export type { VerifyDeferredResult } from './streams/verifyDeferred.js';
export type { BreakerInfo, GuardEvent } from './streams/guard.types.js';

/** Options of {@link createRuntime}. */
export interface RuntimeOptions {
  /** Logger; default a pino logger at LOG_LEVEL on stdout. */
  logger?: Logger;
  /** Time source; default the system clock. */
  clock?: Clock;
  /** XState inspection of every actor (breakers, enrichment, run): e.g. `createInspector().inspect`. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** An open database to use instead of opening one from `config.database` (not closed by the runtime). */
  database?: Database;
}

/** The running system a runner process or the CLI holds: runs, one-off enrichment, breakers, reports. */
export interface Runtime {
  /** The validated configuration the runtime was built from. */
  readonly config: Config;
  /** Where the data is: the database URL with its password masked (the embedded one's, when it runs). */
  readonly databaseUrl: string;
  /** The (tenant, vendor) breakers, shared by every run and `enrich` of this runtime. */
  readonly breakers: {
    /** Every breaker's state now. */
    list(): BreakerInfo[];
  };
  /**
   * Every breaker transition as it happens (hot; completes on {@link Runtime.close}). The runtime
   * itself logs and persists each one (breaker_transitions), with the run id of its tenant's run
   * under way, or null (`enrich`, `verifyDeferred`). The `restored` transitions of breakers brought
   * back at start-up happen before `createRuntime` resolves: recorded and logged, not seen here.
   */
  readonly transitions$: Observable<BreakerTransition>;
  /**
   * Every run event as it is handed to the sink, before it is committed: `stage.event`,
   * `company.finished`, `vendor.usage`, `breaker.transition` (every transition, in a run or not) and `export.outcome`.
   * Hot (no replay); completes on {@link Runtime.close}. Slow subscribers slow the run down.
   */
  readonly events$: Observable<RunEvent>;
  /**
   * Every vendor attempt, retry and breaker refusal as it happens, of every run and `enrich`
   * (metrics: calls, errors, retries and refusals by vendor and error kind). Hot; completes on
   * {@link Runtime.close}.
   */
  readonly calls$: Observable<GuardEvent>;
  /** Run events handed to the sink and not yet committed (the sink's backlog). */
  readonly sinkPending: number;
  /**
   * Starts a run (or resumes one) and returns at once; await `handle.done`. Persists the input,
   * one row per company, the events, usage and transitions, and exports to the tenant's Odoo.
   * @throws RangeError for a bad `concurrency`; TypeError for a request without a tenant or a run to resume
   */
  run(request: RunRequest): RunHandle;
  /**
   * Works as a member of the fleet (`lead-enrich worker`): the jobs of every run and tenant on this
   * database, through the same chain, sink and export as `run`, until `stop()` or, with
   * `untilIdle`, until no job of any run is waiting, active or due. Await `handle.done`.
   * @throws RangeError for a bad `concurrency`
   */
  work(options?: Partial<WorkOptions>): WorkHandle;
  /**
   * Enriches one company without a run: its result is not persisted and none of its stage events
   * reaches `events$` (pass `onStageEvent` to see its stages); only breaker transitions it causes are
   * recorded, with no run id, since the breakers are the runtime's. Never rejects because of a vendor; rejects with
   * `signal.reason` when aborted.
   */
  enrich(company: Company, options?: { signal?: AbortSignal; onStageEvent?: (event: StageEvent) => void }): Promise<EnrichmentOutput>;
  /**
   * Verifies again the tenant's addresses whose verification was deferred (ZEROBOUNCE_DEFER),
   * through the runtime's ZeroBounce breaker.
   * @throws RunRequestError when ZeroBounce is off (no key)
   */
  verifyDeferred(tenantId: TenantId): Promise<VerifyDeferredResult>;
  /** What `report --run` shows; null when the run does not exist. */
  report(runId: number): Promise<RunReport | null>;
  /** Jobs of the fleet's queue by run and state (empty when no run was ever queued). */
  queueDepth(): Promise<QueueDepth[]>;
  /** Registers a tenant, or updates it: its name and its Odoo target (the NAME of its key's variable, never the key). */
  upsertTenant(tenant: Tenant): Promise<void>;
  /**
   * Interrupts the runs still going, stops recording breaker transitions once those seen are handed
   * to the sink, flushes the sink and closes the database (and stops an embedded server). Idempotent.
   */
  close(): Promise<void>;
}

/** A member seen within this many seconds is alive (it heartbeats every few seconds). */
const FLEET_SEEN_S = 30;
/** How often a run alone looks again for members that joined it (then its limiter moves to PostgreSQL). */
const FLEET_LOOK_MS = 10_000;

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
async function restoreBreakers(breakers: SharedBreakers, database: Database, config: Config, logger: Logger): Promise<void> {
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  const logRestored = (b: { tenantId: number; vendor: string; openedAt: number | null }, as: string): void => {
    const coolOffEndsAt = b.openedAt === null ? null : b.openedAt + config.breaker.coolOffS * 1000;
    logger.info({ tenantId: b.tenantId, vendor: b.vendor, openedAt: iso(b.openedAt), coolOffEndsAt: iso(coolOffEndsAt) }, `breaker ${b.vendor} restored ${as}`);
  };
  // The fleet's breakers first (breaker_state); a half-open one's probe belongs to its owner, whose lease runs.
  for (const row of await breakers.start()) logRestored(row, row.state);
  let last;
  try {
    last = await lastOpenBreakerTransitions(database.pool, OPENING_REASONS);
  } catch (error) {
    logger.warn({ err: error }, 'breakers not restored (breaker_transitions unreadable): every breaker starts closed');
    return;
  }
  // Breakers with no shared row yet (a database from before breaker_state): from their last transition.
  for (const b of breakers.restoreFromTransitions(last)) logRestored(b, 'open');
}

/** The ports of the chain; a vendor without its key gets a port that is never called (its step is skipped). */
export function enrichmentPorts(a: ReturnType<typeof createVendorAdapters>): EnrichmentPorts {
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
 * applies migrations, and wires the adapters (vendors, Odoo, the run store, queue, locks, the sink's
 * writer, the input reader) into the streams (the sink, the Feature 8 hooks, the breaker registry,
 * the guarded caller, the run job). The one composition root, of the CLI and of the library API.
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
  // connection through this one pool (docs/decisions/050-050-database-blips.md).
  const sink = observedSink(createSink({ writer: createPgBatchWriter(database.pool, logger), config: config.sink, logger }), events);
  const db = reconnecting(database.pool, { logger });
  const store = createRunStore(db);
  const obs = createObservability({ sink, store, clock, logger });
  // One breaker per (tenant, vendor) for every process on this database: this registry mirrors
  // breaker_state, failures and transitions are written there (docs/decisions/076-shared-breakers.md).
  const breakers = createSharedBreakers({
    local: createBreakerRegistry({
      breaker: config.breaker,
      clock,
      probeTimeoutMs: probeTimeoutMsOf(config),
      ...(inspect ? { inspect } : {}),
    }),
    store: createBreakerStateStore(database.pool, { logger }),
    owner: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    clock,
    exempt: config.breaker.exemptVendors,
    logger,
  });
  const calls = new Subject<GuardEvent>();
  // The vendors' rates: in memory while this process is alone, through PostgreSQL once it works as
  // a member of a fleet (work(), or a run beside live members) — docs/decisions/080-vendor-rate-limits.md.
  const limiter = createSwitchingRateLimiter(config.quotas.rates, () => database.pool);
  const guard = createGuardedCaller({
    config,
    clock,
    registry: breakers,
    observer: guardEventsTo((e) => calls.next(e)),
    limiter,
    concurrency: config.quotas.concurrency,
    retryBudget: config.quotas.retryBudget,
  });
  // One subscription for the runtime's lifetime: every transition is logged and persisted, whoever caused it.
  const transitions = recordTransitions({
    transitions$: breakers.transitions$,
    record: (t, runId) => obs.recordTransition(t, runId),
    ensureTenant: (tenantId) => store.ensureTenant(tenantId),
    logger,
  });
  await restoreBreakers(breakers, database, config, logger);
  const adapters = createVendorAdapters(config);
  const ports = enrichmentPorts(adapters);
  // The fleet's work queue, started on first use (a runtime that only enriches never starts it).
  // A job's lease outlasts its company's deadline and the shutdown grace: a job is handed to
  // another member only once its first one cannot be working on it any more.
  const leaseS = leaseSecondsFor(config.companyDeadlineMs, config.shutdownGraceMs);
  let workQueue: Promise<WorkQueue> | null = null;
  const work = (): Promise<WorkQueue> =>
    (workQueue ??= createWorkQueue(db, { leaseS, exportLeaseS: leaseS, maintenanceS: config.fleet.maintenanceS, logger }).catch((error: unknown) => {
      workQueue = null;
      throw error;
    }));
  const runDeps = {
    config,
    work,
    sleep: systemSleep,
    clock,
    sink,
    obs,
    store,
    queue: createRunQueue(db),
    locks: createLocks(db, { logger }),
    inputs: createInputOpener(),
    guard,
    ports,
    logger,
    transitions,
    budgets: new RunBudgets(createRunSpend(db), logger),
    answers: new AnswerReuse(createAnswerStore(db), config.quotas.answerTtlDays, clock, logger),
    odoo: {
      partnerMap: createPgPartnerMap(database.pool),
      createClient: (target: Parameters<typeof createOdooClient>[0]) => createOdooClient(target, { timeoutMs: config.vendorTimeoutMs, maxResponseBytes: config.odoo.maxResponseBytes }),
      logger,
    },
    ...(inspect ? { inspect } : {}),
  };
  let closed: Promise<void> | null = null;
  const active = new Set<RunHandle>();
  const workers = new Set<WorkHandle>();
  const fleet = createFleetRegistry(db);

  return {
    config,
    databaseUrl: database.url,
    breakers: { list: () => breakers.list() },
    transitions$: breakers.transitions$.pipe(takeUntil(closing)),
    events$: events.asObservable(),
    calls$: calls.asObservable(),
    get sinkPending() {
      return sink.pending;
    },
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
      const { concurrency } = request;
      if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 4096)) {
        throw new RangeError(`run: concurrency must be an integer from 1 to 4096, got ${String(concurrency)}`);
      }
      const sources = [request.companies, request.input, request.stored].filter((s) => s !== undefined).length;
      if (request.resumeRunId === undefined && (request.tenantId === undefined || sources === 0)) {
        throw new TypeError('run: give tenantId with companies (or input, or stored) for a new run, or resumeRunId to resume one');
      }
      if (sources > 1 || (request.resumeRunId !== undefined && request.stored !== undefined)) throw new TypeError('run: give one of companies, input and stored');
      const handle = startRun(runDeps, request);
      // Another live member of the fleet on this database (at the start, or joining while the run
      // goes on): the vendors' rates are shared with it from then on.
      const lookForMembers = (): void => {
        if (limiter.shared) return;
        void fleet
          .seen(FLEET_SEEN_S)
          .then((members) => {
            if (members.some((m) => m.stoppedAt === null && (m.pid !== process.pid || m.host !== hostname()))) limiter.share();
          })
          .catch(() => undefined);
      };
      lookForMembers();
      const looking = setInterval(lookForMembers, FLEET_LOOK_MS);
      looking.unref();
      active.add(handle);
      void handle.done
        .catch(() => undefined)
        .finally(() => {
          clearInterval(looking);
          active.delete(handle);
        });
      return handle;
    },
    work: (opts = {}) => {
      if (closed) throw new Error('runtime is closed: create a new one to work');
      const concurrency = opts.concurrency ?? config.runConcurrency;
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 4096) {
        throw new RangeError(`work: concurrency must be an integer from 1 to 4096, got ${String(concurrency)}`);
      }
      limiter.share();
      const handle = startWorker(
        {
          member: (q) => memberDepsOf(runDeps, q, logger),
          work,
          fleet,
          transitions,
          sleep: systemSleep,
          logger,
          identity: { workerId: randomUUID(), host: hostname(), pid: process.pid },
          pollMs: config.fleet.pollMs,
          exportChunk: config.fleet.exportChunk,
          completeEveryMs: config.sink.flushMs,
          graceMs: config.shutdownGraceMs,
        },
        { ...opts, concurrency },
      );
      workers.add(handle);
      void handle.done.catch(() => undefined).finally(() => workers.delete(handle));
      return handle;
    },
    verifyDeferred: (tenantId) => {
      if (!adapters.zerobounce) return Promise.reject(new RunRequestError('ZEROBOUNCE_API_KEY is empty: ZeroBounce is off, nothing can be verified'));
      return verifyDeferred({ store: createDeferredContactsStore(db), guard, verifier: adapters.zerobounce }, tenantId);
    },
    report: (runId) => runReport(db, runId),
    queueDepth: () => readQueueDepth(db),
    upsertTenant: (tenant) => store.upsertTenant(tenant),
    close: () =>
      (closed ??= (async () => {
        try {
          // Runs still going are interrupted (drain, grace, flush, marked interrupted) before the
          // sink and the database go away under them.
          for (const handle of active) handle.interrupt();
          for (const handle of workers) handle.stop();
          await settledWithin(
            Promise.allSettled([...[...active].map((h) => h.done), ...[...workers].map((h) => h.done)]).then(() => undefined),
            2 * config.shutdownGraceMs + 10_000,
            () => logger.warn({ runs: active.size }, 'runs still not ended at close'),
          );
          // At most the grace: a sink whose buffer is full of events the database does not take
          // would otherwise hold close() for ever.
          const graceMs = config.shutdownGraceMs;
          await settledWithin(breakers.close(), graceMs, () => logger.warn({ graceMs }, 'shared breaker writes still under way at close'));
          await settledWithin(transitions.close(), graceMs, () => logger.warn({ graceMs }, 'breaker transitions still unrecorded at close'));
          await sink.close({ deadlineMs: config.shutdownGraceMs });
          if (workQueue) await (await workQueue.catch(() => null))?.stop().catch(() => undefined);
        } finally {
          events.complete();
          calls.complete();
          closing.next();
          if (!options.database) await database.close();
        }
      })()),
  };
}

/** A server of the operators' window or of a process's metrics, listening. */
export interface ServeHandle {
  /** http://host:port, never with the token. */
  readonly url: string;
  /** Where the data is, password masked. */
  readonly databaseUrl: string;
  /** Stops listening and closes the database it opened (not one it was given). Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link serveWindow}. */
export interface ServeOptions {
  /** Default 127.0.0.1; another host than loopback needs `config.serve.token`. */
  host?: string;
  /** Default 8790; 0: any free port. */
  port?: number;
  logger?: Logger;
  /** An open database to read instead of opening one from `config.database` (not closed by the server). */
  database?: Database;
}

/**
 * The reason `serveWindow` refuses `host`: any other host than loopback needs SERVE_TOKEN; null
 * when it may serve.
 */
export function serveAccessProblem(config: Config, host: string): string | null {
  if (config.serve.token === null && !isLoopbackHost(host)) {
    return `--host ${host} is not a loopback address: set SERVE_TOKEN (every request must then carry it), or serve on 127.0.0.1`;
  }
  return null;
}

/**
 * `lead-enrich serve`: the operators' window (DESIGN.md "The operators' window") over the
 * database, read-only: runs, one run and its companies, the breakers, the queue, /metrics and
 * /healthz. Opens the database as `report` does (the embedded server started on demand, migrations applied).
 *
 * @throws Error when the host needs a token and none is set, or the database or the port cannot be opened
 */
export async function serveWindow(config: Config, options: ServeOptions = {}): Promise<ServeHandle> {
  const host = options.host ?? '127.0.0.1';
  const problem = serveAccessProblem(config, host);
  if (problem) throw new Error(problem);
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const database = options.database ?? (await openDatabase(config, { logger }));
  try {
    const reader = createWindowReader(reconnecting(database.pool, { logger }), { openingReasons: OPENING_REASONS });
    const app = createWindowApp({ reader, token: config.serve.token, coolOffS: config.breaker.coolOffS, logger });
    const server = await listen(app, host, options.port ?? 8790);
    let closed: Promise<void> | null = null;
    return {
      url: server.url,
      databaseUrl: database.url,
      close: () =>
        (closed ??= (async () => {
          try {
            await server.close();
          } finally {
            if (!options.database) await database.close();
          }
        })()),
    };
  } catch (error) {
    if (!options.database) await database.close();
    throw error;
  }
}

/**
 * `worker --metrics-port`: Prometheus /metrics and /healthz of this process on host:port (default
 * 127.0.0.1): counters fed by the runtime's calls$ and events$, the breakers, the sink's backlog and
 * the queue's depth read at scrape time.
 */
export async function startMetricsServer(runtime: Runtime, port: number, host = '127.0.0.1'): Promise<{ url: string; close(): Promise<void> }> {
  const metrics = createWorkerMetrics({
    breakers: () => runtime.breakers.list(),
    sinkPending: () => runtime.sinkPending,
    queueDepth: () => runtime.queueDepth(),
  });
  const subs = [runtime.calls$.subscribe((e) => metrics.onCall(e)), runtime.events$.subscribe((e) => metrics.onRunEvent(e))];
  const logger = createLogger({ level: runtime.config.logLevel, destination: process.stderr });
  try {
    const app = createMetricsApp({ metrics: () => metrics.text(), health: () => runtime.queueDepth().then(() => undefined), logger });
    const server = await listen(app, host, port);
    return {
      url: server.url,
      close: async () => {
        for (const s of subs) s.unsubscribe();
        await server.close();
      },
    };
  } catch (error) {
    for (const s of subs) s.unsubscribe();
    throw error;
  }
}
