import { backoffDelay, type BackoffPolicy } from '../domain/backoff.js';
import { isVendorError, type VendorError } from '../domain/errors.js';

export { backoffDelay, assertPolicy, JITTER_MIN, JITTER_MAX, type BackoffPolicy } from '../domain/backoff.js';


/**
 * What to do after a failed attempt, without time or cancellation: the delay before retry
 * `attempt`, or null when the failure must not be retried — not a VendorError, a kind the
 * taxonomy does not retry, or a `rate_limited` whose Retry-After is longer than maxDelayMs
 * (DESIGN.md: "honoured up to RETRY_MAX_DELAY_MS, else not retried"). A Retry-After within the
 * cap is a lower bound on the backoff delay. Any other kind (`server`: a 503 with Retry-After)
 * is always retried, waiting max(backoff, min(Retry-After, maxDelayMs)).
 *
 * @param attempt the retry number, from 1 (the number of the attempt that just failed)
 * @param random a number in [0, 1)
 * @returns milliseconds, or null for "do not retry"
 */
export function retryDelayFor(error: unknown, attempt: number, policy: BackoffPolicy, random: number): number | null {
  if (!isVendorError(error) || !error.retryable) return null;
  const { kind, retryAfterMs: retryAfter } = error as VendorError;
  if (kind === 'rate_limited' && retryAfter !== undefined && retryAfter > policy.maxDelayMs) return null;
  const delay = backoffDelay(attempt, policy, random);
  return retryAfter === undefined ? delay : Math.max(delay, Math.min(retryAfter, policy.maxDelayMs));
}
