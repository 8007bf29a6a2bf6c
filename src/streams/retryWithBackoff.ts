import { Observable, asyncScheduler, retry, throwError, type MonoTypeOperatorFunction, type SchedulerLike } from 'rxjs';
import type { Clock } from '../domain/clock.js';
import type { ErrorKind, VendorError } from '../domain/errors.js';
import { assertPolicy, retryDelayFor, type BackoffPolicy } from './backoff.js';

export { backoffDelay, retryDelayFor, JITTER_MIN, JITTER_MAX, type BackoffPolicy } from './backoff.js';

/** One retry about to be waited for, as reported to {@link RetryWithBackoffConfig.onRetry}. */
export interface RetryEvent {
  /** The number of the attempt that failed (1 = the first); the next attempt is `attempt + 1`. */
  attempt: number;
  /** The wait before the next attempt, in milliseconds. */
  delayMs: number;
  kind: ErrorKind;
  error: VendorError;
}

/** Configuration of {@link retryWithBackoff}; `RetryConfig` of src/config fits as a shorthand. */
export interface RetryWithBackoffConfig extends BackoffPolicy {
  /** Attempts in all, the first included (RETRY_MAX_ATTEMPTS, default 3). Must be >= 1. */
  maxAttempts: number;
  /** Uniform randomness in [0, 1) for the jitter. Default `Math.random`. */
  random?: () => number;
  /** Where the waits are scheduled. Default `asyncScheduler`; tests pass a TestScheduler. */
  scheduler?: SchedulerLike;
  /** The caller's cancellation: once it fires no retry starts and a running wait ends at once. */
  signal?: AbortSignal;
  /** Epoch milliseconds of {@link clock}: no attempt starts at or after it. Default none. */
  deadline?: number;
  /** The clock the deadline is read from. Default the scheduler's `now()`. */
  clock?: Clock;
  /** Told of every retry before its wait starts. */
  onRetry?: (event: RetryEvent) => void;
  /**
   * A last veto, asked before a wait and again just before the retry starts (e.g. the
   * breaker opened meanwhile). Returning false ends with the last error. Default: always true.
   */
  canRetry?: (error: VendorError, attempt: number) => boolean;
}

/**
 * Retries a failing source (re-subscribes) with exponential backoff and jitter, built on
 * `retry({ count, delay })`. Only VendorErrors of a retryable kind are retried; a Retry-After
 * within maxDelayMs is honoured, a longer one ends the retries of a `rate_limited` failure and is
 * waited for up to maxDelayMs on a `server` one (see {@link retryDelayFor}). A fired `signal`, a passed
 * `deadline` or a `canRetry` veto ends it at once, without waiting out a delay, with the last error.
 *
 * @throws RangeError (synchronously) when the configuration is invalid
 */
export function retryWithBackoff<T>(config: RetryWithBackoffConfig): MonoTypeOperatorFunction<T> {
  const { maxAttempts, random = Math.random, scheduler = asyncScheduler, signal, deadline, onRetry, canRetry } = config;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  assertPolicy(config);
  const policy: BackoffPolicy = { baseDelayMs: config.baseDelayMs, maxDelayMs: config.maxDelayMs };
  const now = config.clock ? () => config.clock!.now() : () => scheduler.now();
  const stopped = (error: VendorError, attempt: number, delayMs: number): boolean =>
    (signal?.aborted ?? false) ||
    (deadline !== undefined && now() + delayMs >= deadline) ||
    (canRetry !== undefined && !canRetry(error, attempt));

  return retry<T>({
    count: maxAttempts - 1,
    delay: (error: unknown, attempt: number) => {
      const delayMs = retryDelayFor(error, attempt, policy, random());
      if (delayMs === null) return throwError(() => error);
      const vendorError = error as VendorError;
      if (stopped(vendorError, attempt, delayMs)) return throwError(() => error);
      onRetry?.({ attempt, delayMs, kind: vendorError.kind, error: vendorError });
      return new Observable<0>((subscriber) => {
        const onAbort = (): void => subscriber.error(error);
        signal?.addEventListener('abort', onAbort, { once: true });
        const wait = scheduler.schedule(() => {
          signal?.removeEventListener('abort', onAbort);
          if (stopped(vendorError, attempt, 0)) subscriber.error(error);
          else {
            subscriber.next(0);
            subscriber.complete();
          }
        }, delayMs);
        return () => {
          wait.unsubscribe();
          signal?.removeEventListener('abort', onAbort);
        };
      });
    },
  });
}
