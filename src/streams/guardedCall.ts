import { defer, firstValueFrom, type SchedulerLike } from 'rxjs';
import type { Config } from '../config/config.js';
import type { Clock } from '../domain/clock.js';
import { CircuitOpenError, VendorError, isVendorError } from '../domain/errors.js';
import { UNLIMITED, type RateLimiterPort } from '../domain/quotas.js';
import { RetryBudgets, type RetryBudgetPolicy } from '../domain/retryBudget.js';
import type { BreakerVendor, TenantId, VendorName } from '../domain/vendor.js';
import { ADMITTED, createBreakerRegistry, type Admission, type BreakerGate } from './breakerRegistry.js';
import type { GuardObserver, GuardedCallOptions, GuardedCaller } from './guard.types.js';
import { retryWithBackoff } from './retryWithBackoff.js';
import { timedAttempt, timerHostFor } from './timedAttempt.js';
import { Bulkhead, waitForTurn } from './quotas.js';

/** What {@link createGuardedCaller} needs. */
export interface GuardedCallerDeps {
  /** Uses `retry`, `breaker`, `vendorTimeoutMs`, `crawl.timeoutMs` and `vendors.apify.timeoutMs` (when given). */
  config: Pick<Config, 'retry' | 'breaker' | 'vendorTimeoutMs'> & {
    crawl: Pick<Config['crawl'], 'timeoutMs'>;
    vendors?: { apify?: Pick<Config['vendors']['apify'], 'timeoutMs'> };
  };
  /** The injected clock: breaker time, deadlines and attempt durations. */
  clock: Clock;
  /** The breakers; default a new registry from `config.breaker` and `clock`. */
  /** The breakers (this process's, or the fleet's); default a new registry from `config.breaker` and `clock`. */
  registry?: BreakerGate;
  /** Uniform randomness in [0, 1) for the backoff jitter. Default `Math.random`. */
  random?: () => number;
  /** Where backoff waits and attempt timeouts are scheduled. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
  observer?: GuardObserver;
  /** The vendors' request rates (VENDOR_RATE_LIMITS): each attempt waits for its turn. Default none. */
  limiter?: RateLimiterPort;
  /** At most this many calls of a vendor at once in this process (VENDOR_CONCURRENCY). Default none. */
  concurrency?: Partial<Record<BreakerVendor, number>>;
  /** The retry budget per (tenant, vendor) (RETRY_BUDGET_*); null or absent: retries are not budgeted. */
  retryBudget?: RetryBudgetPolicy | null;
}

/**
 * Vendors whose request, once sent, starts paid work that our giving up does not stop: an Apify
 * synchronous actor run keeps running and billing when we stop waiting, and nothing tells us its
 * run id before it answers. Their attempt timeouts are `final` (not retried): a retry would start
 * a second paid run without knowing whether the first is still going (docs/decisions/055-055-apify-timeouts.md).
 */
export const FINAL_ATTEMPT_TIMEOUT: ReadonlySet<VendorName> = new Set<VendorName>(['apify_linkedin']);

/** A probe's lease must outlast its attempt: the longest per-attempt timeout of the breaker vendors. */
export function probeTimeoutMsOf(config: GuardedCallerDeps['config']): number {
  return Math.max(config.vendorTimeoutMs, config.vendors?.apify?.timeoutMs ?? config.vendorTimeoutMs);
}

type Fn<T> = (signal: AbortSignal) => Promise<T>;

/**
 * Builds the {@link GuardedCaller}: breaker admission (a refused call makes no request and fails
 * with CircuitOpenError), then every attempt the same way — `defer(attempt)` under
 * retryWithBackoff — each attempt with its own signal and timeout ({@link timedAttempt}:
 * VENDOR_TIMEOUT_MS; APIFY_TIMEOUT_MS for `apify_linkedin`, whose timeouts are never retried, see
 * {@link FINAL_ATTEMPT_TIMEOUT}; CRAWL_TIMEOUT_MS and no breaker for `crawler`), and one success
 * or failure reported to the breaker per call after its retries. A probe makes one attempt; a
 * retry is not attempted once the breaker has left `closed`; a caller's abort reports no verdict
 * (a probe's slot is released). Thrown non-VendorErrors are classified with classifyThrown.
 *
 * @throws RangeError when the retry configuration is invalid
 */
export function createGuardedCaller<R extends BreakerGate = BreakerGate>(deps: GuardedCallerDeps & { registry?: R }): GuardedCaller & { readonly registry: R } {
  const { config, clock, random = Math.random, scheduler, observer = {}, limiter = UNLIMITED } = deps;
  const bulkheads = new Map<VendorName, Bulkhead>();
  for (const [vendor, limit] of Object.entries(deps.concurrency ?? {}) as [BreakerVendor, number][]) bulkheads.set(vendor, new Bulkhead(vendor, limit));
  const budgets = deps.retryBudget ? new RetryBudgets(deps.retryBudget) : null;
  const apifyTimeoutMs = config.vendors?.apify?.timeoutMs ?? config.vendorTimeoutMs;
  const registry = (deps.registry ?? createBreakerRegistry({ breaker: config.breaker, clock, probeTimeoutMs: probeTimeoutMsOf(config) })) as R;
  const host = timerHostFor(scheduler);
  // Apify's synchronous actor runs take tens of seconds (container start, scraping): their own timeout.
  const timeoutMsOf = (vendor: VendorName): number =>
    vendor === 'crawler' ? config.crawl.timeoutMs : vendor === 'apify_linkedin' ? apifyTimeoutMs : config.vendorTimeoutMs;
  const { maxAttempts, baseDelayMs, maxDelayMs } = config.retry;
  retryWithBackoff({ maxAttempts, baseDelayMs, maxDelayMs }); // validates once, throws RangeError early

  /** Admission, or the error that ends the call before any request. */
  function precheck(vendor: VendorName, options: GuardedCallOptions | undefined): Error | null {
    if (options?.signal?.aborted) return new VendorError({ vendor, kind: 'timeout', detail: 'aborted', cause: options.signal.reason });
    if (options?.deadline !== undefined && clock.now() >= options.deadline) return new VendorError({ vendor, kind: 'timeout', detail: 'deadline passed' });
    return null;
  }

  /** Admission, or the error that ends the call before any request; a promise when the fleet's breaker must be asked. */
  function admit(tenantId: TenantId, vendor: VendorName, options: GuardedCallOptions | undefined): Admission | Error | Promise<Admission | Error> {
    const early = precheck(vendor, options);
    if (early) return early;
    if (vendor === 'crawler') return ADMITTED;
    const admission = registry.admit(tenantId, vendor);
    return admission instanceof Promise ? admission.then((a) => refusedOr(tenantId, vendor, a)) : refusedOr(tenantId, vendor, admission);
  }

  function refusedOr(tenantId: TenantId, vendor: BreakerVendor, admission: Admission): Admission | Error {
    if (admission.status !== 'refused') return admission;
    observer.onRefused?.({ tenantId, vendor });
    return new CircuitOpenError(tenantId, vendor, admission.retryAt);
  }

  return {
    registry,

    call<T>(tenantId: TenantId, vendor: VendorName, fn: Fn<T>, options?: GuardedCallOptions): Promise<T> {
      const early = precheck(vendor, options);
      if (early) return Promise.reject(early);
      const bulkhead = bulkheads.get(vendor);
      if (!bulkhead) return guarded(tenantId, vendor, fn, options);
      return bulkhead.acquire({ clock, host, deadline: options?.deadline, signal: options?.signal }).then((release) => {
        const running = guarded(tenantId, vendor, fn, options);
        void running.then(release, release);
        return running;
      });
    },
  };

  /** Breaker admission, then the attempts (each after its rate-limit turn) under the retries. */
  function guarded<T>(tenantId: TenantId, vendor: VendorName, fn: Fn<T>, options: GuardedCallOptions | undefined): Promise<T> {
    const admission = admit(tenantId, vendor, options);
    if (admission instanceof Error) return Promise.reject(admission);
    if (admission instanceof Promise) return admission.then((a) => (a instanceof Error ? Promise.reject(a) : admitted(tenantId, vendor, fn, options, a)));
    return admitted(tenantId, vendor, fn, options, admission);
  }

  /** The attempts of one admitted call (each after its rate-limit turn) under the retries, and its one verdict to the breaker. */
  function admitted<T>(tenantId: TenantId, vendor: VendorName, fn: Fn<T>, options: GuardedCallOptions | undefined, admission: Admission): Promise<T> {
    const breakerVendor = vendor === 'crawler' ? null : vendor;
    const signal = options?.signal;
    const attemptOptions = { vendor, timeoutMs: timeoutMsOf(vendor), finalTimeout: FINAL_ATTEMPT_TIMEOUT.has(vendor), signal, host };
    const budget = breakerVendor === null || budgets === null ? null : budgets.of(tenantId, breakerVendor);
    budget?.recordCall(clock.now());
    let attempt = 0;
    /** Set when the call ended waiting for its turn: no request was made, the breaker hears nothing of it. */
    let waitEnded = false;
    const limited = breakerVendor !== null && limiter.limits(breakerVendor);
    const turn = (): Promise<void> => {
      if (breakerVendor === null) return Promise.resolve();
      const waitStarted = clock.now();
      const waited = (waitedMs: number): void => {
        if (waitedMs <= 0) return;
        options?.onQuota?.({ type: 'rate_wait', waitedMs });
        observer.onRateWait?.({ tenantId, vendor: breakerVendor, waitedMs });
      };
      return waitForTurn(limiter, breakerVendor, { clock, host, deadline: options?.deadline, signal }).then(waited, (error: unknown) => {
        // A wait that ended without a turn (the deadline, an abort) counts as a wait too.
        waited(clock.now() - waitStarted);
        waitEnded = true;
        throw error;
      });
    };
    const attemptNow = (): Promise<T> => {
      const n = ++attempt;
      const started = clock.now();
      const promise = timedAttempt(fn, attemptOptions).catch((error: VendorError) => {
        // A 429's Retry-After holds the vendor's turns back for everyone sharing the limiter.
        if (breakerVendor !== null && error.kind === 'rate_limited' && error.retryAfterMs !== undefined) void limiter.backOff(breakerVendor, error.retryAfterMs).catch(() => undefined);
        throw error;
      });
      if (!observer.onAttempt) return promise;
      const report = (ok: boolean, error?: VendorError): void =>
        observer.onAttempt?.({ tenantId, vendor, attempt: n, ok, error, durationMs: clock.now() - started });
      return promise.then(
        (value) => (report(true), value),
        (error: VendorError) => {
          report(false, error);
          throw error;
        },
      );
    };
    const attempts = defer((): Promise<T> => (limited ? turn().then(attemptNow) : attemptNow()));
    // The budget is asked once per retry (canRetry is asked before the wait and again after it).
    let budgetAsked = 0;
    let budgetSaid = true;
    const withinBudget = (retryNumber: number): boolean => {
      if (budget === null || breakerVendor === null) return true;
      if (retryNumber <= budgetAsked) return budgetSaid;
      budgetAsked = retryNumber;
      budgetSaid = budget.tryRetry(clock.now());
      if (!budgetSaid) {
        options?.onQuota?.({ type: 'retry_refused' });
        observer.onRetryRefused?.({ tenantId, vendor: breakerVendor });
      }
      return budgetSaid;
    };
    const retrying = retryWithBackoff<T>({
      maxAttempts: admission.status === 'probe' ? 1 : maxAttempts,
      baseDelayMs,
      maxDelayMs,
      random,
      ...(scheduler ? { scheduler } : {}),
      signal,
      deadline: options?.deadline,
      clock,
      onRetry: observer.onRetry && ((e) => observer.onRetry?.({ tenantId, vendor, attempt: e.attempt, delayMs: e.delayMs, kind: e.kind })),
      canRetry:
        breakerVendor === null
          ? undefined
          : (_e, n) => !waitEnded && registry.isClosed(tenantId, breakerVendor) && withinBudget(n),
    });
    return firstValueFrom(attempts.pipe(retrying)).then(
      (value) => {
        if (breakerVendor !== null) registry.recordSuccess(tenantId, breakerVendor, admission);
        return value;
      },
      (error: unknown) => {
        if (breakerVendor === null) throw error;
        if (waitEnded || signal?.aborted || !isVendorError(error)) registry.recordAbandoned(tenantId, breakerVendor, admission);
        else registry.recordFailure(tenantId, breakerVendor, error.kind, admission);
        throw error;
      },
    );
  }
}
