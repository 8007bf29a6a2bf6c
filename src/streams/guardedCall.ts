import { Observable, defer, firstValueFrom, throwError, type SchedulerLike } from 'rxjs';
import { classifyThrown } from '../adapters/http/classify.js';
import type { Config } from '../config/config.js';
import type { Clock } from '../domain/clock.js';
import { CircuitOpenError, VendorError, isVendorError } from '../domain/errors.js';
import type { BreakerVendor, TenantId, VendorName } from '../domain/vendor.js';
import { TimeoutLane, timerHostFor, type TimedAttempt } from './attemptTimeouts.js';
import { ADMITTED, createBreakerRegistry, type Admission, type BreakerRegistry } from './breakerRegistry.js';
import type { GuardObserver, GuardedCallOptions, GuardedCaller } from './guard.types.js';
import { retryWithBackoff, type RetryWithBackoffConfig } from './retryWithBackoff.js';

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
  registry?: BreakerRegistry;
  /** Uniform randomness in [0, 1) for the backoff jitter. Default `Math.random`. */
  random?: () => number;
  /** Where backoff waits and attempt timeouts are scheduled. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
  observer?: GuardObserver;
}

/**
 * Vendors whose request, once sent, starts paid work that our giving up does not stop: an Apify
 * synchronous actor run keeps running and billing when we stop waiting, and nothing tells us its
 * run id before it answers. Their attempt timeouts are `final` (not retried): a retry would start
 * a second paid run without knowing whether the first is still going (docs/decisions/apify-timeouts.md).
 */
export const FINAL_ATTEMPT_TIMEOUT: ReadonlySet<VendorName> = new Set<VendorName>(['apify_linkedin']);

/** A probe's lease must outlast its attempt: the longest per-attempt timeout of the breaker vendors. */
export function probeTimeoutMsOf(config: GuardedCallerDeps['config']): number {
  return Math.max(config.vendorTimeoutMs, config.vendors?.apify?.timeoutMs ?? config.vendorTimeoutMs);
}

type Fn<T> = (signal: AbortSignal) => Promise<T>;

/**
 * Builds the {@link GuardedCaller}: breaker admission (a refused call makes no request and fails
 * with CircuitOpenError), a per-attempt timeout (VENDOR_TIMEOUT_MS; APIFY_TIMEOUT_MS for
 * `apify_linkedin`, whose timeouts are never retried, see {@link FINAL_ATTEMPT_TIMEOUT};
 * CRAWL_TIMEOUT_MS and no breaker for `crawler`), retryWithBackoff, and one success or failure reported to the breaker
 * per call after its retries. A probe makes one attempt; a retry is not attempted once the
 * breaker has left `closed`; a caller's abort reports no verdict (a probe's slot is released).
 * Thrown non-VendorErrors are classified with classifyThrown.
 *
 * @throws RangeError when the retry configuration is invalid
 */
export function createGuardedCaller(deps: GuardedCallerDeps): GuardedCaller & { readonly registry: BreakerRegistry } {
  const { config, clock, random = Math.random, scheduler, observer = {} } = deps;
  const apifyTimeoutMs = config.vendors?.apify?.timeoutMs ?? config.vendorTimeoutMs;
  const registry = deps.registry ?? createBreakerRegistry({ breaker: config.breaker, clock, probeTimeoutMs: probeTimeoutMsOf(config) });
  const host = timerHostFor(scheduler);
  const vendorLane = new TimeoutLane(config.vendorTimeoutMs, host, timeoutReason);
  const crawlLane = new TimeoutLane(config.crawl.timeoutMs, host, timeoutReason);
  // Apify's synchronous actor runs take tens of seconds (container start, scraping): their own lane.
  const apifyLane = apifyTimeoutMs === config.vendorTimeoutMs ? vendorLane : new TimeoutLane(apifyTimeoutMs, host, timeoutReason);
  const { maxAttempts, baseDelayMs, maxDelayMs } = config.retry;
  retryWithBackoff({ maxAttempts, baseDelayMs, maxDelayMs }); // validates once, throws RangeError early

  /** One guarded call in progress. */
  class Run<T> {
    attempt = 0;
    private cancelCurrent: (() => void) | null = null;
    readonly breakerVendor: BreakerVendor | null;
    readonly lane: TimeoutLane;

    constructor(
      readonly tenantId: TenantId,
      readonly vendor: VendorName,
      readonly fn: Fn<T>,
      readonly options: GuardedCallOptions | undefined,
      readonly admission: Admission,
    ) {
      this.breakerVendor = vendor === 'crawler' ? null : vendor;
      this.lane = vendor === 'crawler' ? crawlLane : vendor === 'apify_linkedin' ? apifyLane : vendorLane;
    }

    /** One attempt; `dedicated` gives it its own AbortController (cancellable alone). */
    run(dedicated: boolean): Promise<T> {
      const n = ++this.attempt;
      const started = observer.onAttempt ? clock.now() : 0;
      const signal = this.options?.signal;
      const promise = dedicated || signal ? this.dedicatedAttempt(signal) : this.laneAttempt();
      if (!observer.onAttempt) return promise;
      const report = (ok: boolean, error?: VendorError): void =>
        observer.onAttempt?.({ tenantId: this.tenantId, vendor: this.vendor, attempt: n, ok, error, durationMs: clock.now() - started });
      return promise.then(
        (value) => (report(true), value),
        (error: VendorError) => {
          report(false, error);
          throw error;
        },
      );
    }

    private laneAttempt(): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        let done = false;
        const timed: TimedAttempt = {
          onTimeout: () => {
            if (done) return;
            done = true;
            reject(this.timeoutError());
          },
        };
        const bucket = this.lane.enter(timed);
        const settle = (ok: boolean, value: unknown): void => {
          if (done) return;
          done = true;
          bucket.leave(timed);
          if (ok) resolve(value as T);
          else reject(classifyThrown(this.vendor, value));
        };
        invoke(this.fn, bucket.signal, settle);
      });
    }

    private dedicatedAttempt(callerSignal: AbortSignal | undefined): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const controller = new AbortController();
        let done = false;
        const finish = (): boolean => {
          if (done) return false;
          done = true;
          cancelTimer();
          callerSignal?.removeEventListener('abort', onCallerAbort);
          this.cancelCurrent = null;
          return true;
        };
        const onCallerAbort = (): void => {
          controller.abort(callerSignal?.reason);
          if (finish()) reject(this.abortedError(callerSignal?.reason));
        };
        const cancelTimer = host.setTimer(() => {
          controller.abort(timeoutReason());
          if (finish()) reject(this.timeoutError());
        }, this.lane.timeoutMs);
        this.cancelCurrent = () => {
          controller.abort(new DOMException('guarded call unsubscribed', 'AbortError'));
          finish();
        };
        callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
        invoke(this.fn, controller.signal, (ok, value) => {
          if (!finish()) return;
          if (ok) resolve(value as T);
          else reject(classifyThrown(this.vendor, value));
        });
      });
    }

    /** Aborts the attempt in flight (unsubscribed Observable form). */
    cancel(): void {
      this.cancelCurrent?.();
    }

    retryConfig(): RetryWithBackoffConfig {
      const { breakerVendor, tenantId, vendor, options } = this;
      return {
        maxAttempts: this.admission.status === 'probe' ? 1 : maxAttempts,
        baseDelayMs,
        maxDelayMs,
        random,
        ...(scheduler ? { scheduler } : {}),
        signal: options?.signal,
        deadline: options?.deadline,
        clock,
        onRetry: observer.onRetry && ((e) => observer.onRetry?.({ tenantId, vendor, attempt: e.attempt, delayMs: e.delayMs, kind: e.kind })),
        canRetry: breakerVendor === null ? undefined : () => registry.isClosed(tenantId, breakerVendor),
      };
    }

    succeeded(): void {
      if (this.breakerVendor !== null) registry.recordSuccess(this.tenantId, this.breakerVendor, this.admission);
    }

    failed(error: unknown): void {
      if (this.breakerVendor === null) return;
      if (this.options?.signal?.aborted || !isVendorError(error)) registry.recordAbandoned(this.tenantId, this.breakerVendor, this.admission);
      else registry.recordFailure(this.tenantId, this.breakerVendor, error.kind, this.admission);
    }

    timeoutError(): VendorError {
      return new VendorError({ vendor: this.vendor, kind: 'timeout', detail: `attempt timed out after ${this.lane.timeoutMs} ms`, final: FINAL_ATTEMPT_TIMEOUT.has(this.vendor) });
    }

    abortedError(reason: unknown): VendorError {
      return new VendorError({ vendor: this.vendor, kind: 'timeout', detail: 'aborted', cause: reason });
    }
  }

  /** Admission, or the error that ends the call before any request. */
  function start<T>(tenantId: TenantId, vendor: VendorName, fn: Fn<T>, options: GuardedCallOptions | undefined): Run<T> | Error {
    if (options?.signal?.aborted) return new VendorError({ vendor, kind: 'timeout', detail: 'aborted', cause: options.signal.reason });
    if (options?.deadline !== undefined && clock.now() >= options.deadline) return new VendorError({ vendor, kind: 'timeout', detail: 'deadline passed' });
    if (vendor === 'crawler') return new Run(tenantId, vendor, fn, options, ADMITTED);
    const admission = registry.admit(tenantId, vendor);
    if (admission.status === 'refused') {
      observer.onRefused?.({ tenantId, vendor });
      return new CircuitOpenError(tenantId, vendor, admission.retryAt);
    }
    return new Run(tenantId, vendor, fn, options, admission);
  }

  return {
    registry,

    call$<T>(tenantId: TenantId, vendor: VendorName, fn: Fn<T>, options?: GuardedCallOptions): Observable<T> {
      return new Observable<T>((subscriber) => {
        const run = start(tenantId, vendor, fn, options);
        if (run instanceof Error) return subscriber.error(run);
        let settled = false;
        const subscription = defer(() => run.run(true))
          .pipe(retryWithBackoff(run.retryConfig()))
          .subscribe({
            next: (value) => {
              settled = true;
              run.succeeded();
              subscriber.next(value);
              subscriber.complete();
            },
            error: (error: unknown) => {
              settled = true;
              run.failed(error);
              subscriber.error(error);
            },
          });
        return () => {
          subscription.unsubscribe();
          if (settled) return;
          run.cancel();
          if (run.breakerVendor !== null) registry.recordAbandoned(tenantId, run.breakerVendor, run.admission);
        };
      });
    },

    call<T>(tenantId: TenantId, vendor: VendorName, fn: Fn<T>, options?: GuardedCallOptions): Promise<T> {
      const run = start(tenantId, vendor, fn, options);
      if (run instanceof Error) return Promise.reject(run);
      // Fast path: the first attempt without Observable machinery; only a failure goes through
      // retryWithBackoff, entered as if that first attempt had failed inside it.
      return run.run(false).then(
        (value) => (run.succeeded(), value),
        (first: unknown) => {
          let replayed = false;
          const attempts = defer(() => (replayed ? run.run(false) : ((replayed = true), throwError(() => first))));
          return firstValueFrom(attempts.pipe(retryWithBackoff(run.retryConfig()))).then(
            (value) => (run.succeeded(), value),
            (error: unknown) => {
              run.failed(error);
              throw error;
            },
          );
        },
      );
    },
  };
}

function timeoutReason(): DOMException {
  return new DOMException('attempt timed out', 'TimeoutError');
}

/** Calls fn, turning a synchronous throw or a non-promise result into a settlement. */
function invoke<T>(fn: Fn<T>, signal: AbortSignal, settle: (ok: boolean, value: unknown) => void): void {
  let result: Promise<T>;
  try {
    result = fn(signal);
  } catch (error) {
    settle(false, error);
    return;
  }
  if (result !== null && typeof (result as { then?: unknown }).then === 'function') {
    result.then(
      (value) => settle(true, value),
      (error: unknown) => settle(false, error),
    );
  } else settle(true, result);
}
