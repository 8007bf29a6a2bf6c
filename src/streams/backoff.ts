import { isVendorError, type VendorError } from '../domain/errors.js';

/** The numbers of the backoff formula (DESIGN.md "Errors"); {@link RetryConfig} fits. */
export interface BackoffPolicy {
  /** First backoff delay, in milliseconds (RETRY_BASE_DELAY_MS, default 250). */
  baseDelayMs: number;
  /** Cap on any single delay, jitter included, in milliseconds (RETRY_MAX_DELAY_MS, default 4000). */
  maxDelayMs: number;
}

/** Jitter bounds: the delay is multiplied by U(JITTER_MIN, JITTER_MAX). */
export const JITTER_MIN = 0.8;
/** See {@link JITTER_MIN}. */
export const JITTER_MAX = 1.2;

/**
 * The delay before retry `attempt` (1 = the first retry, after the first failed attempt):
 * `min(maxDelayMs, baseDelayMs · 2^(attempt-1)) · U(0.8, 1.2)`, capped again at maxDelayMs.
 * Pure: the randomness is passed in, so tests are exact.
 *
 * @param attempt the retry number, from 1
 * @param random a number in [0, 1), e.g. `Math.random()`
 * @returns milliseconds, in [0, maxDelayMs]
 * @throws RangeError when `attempt` is below 1 or the policy is negative or inverted
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: number): number {
  if (!(attempt >= 1)) throw new RangeError(`backoff attempt must be >= 1, got ${attempt}`);
  assertPolicy(policy);
  const exponent = Math.min(attempt - 1, 52); // 2^52 already exceeds any sane cap
  const raw = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  const jitter = JITTER_MIN + (JITTER_MAX - JITTER_MIN) * random;
  return Math.min(policy.maxDelayMs, raw * jitter);
}

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

/**
 * Checks a policy: both numbers finite and >= 0, base <= max.
 *
 * @throws RangeError naming the offending value
 */
export function assertPolicy(policy: BackoffPolicy): void {
  const { baseDelayMs, maxDelayMs } = policy;
  if (!Number.isFinite(baseDelayMs) || baseDelayMs < 0) throw new RangeError(`baseDelayMs must be a number >= 0, got ${baseDelayMs}`);
  if (!Number.isFinite(maxDelayMs) || maxDelayMs < 0) throw new RangeError(`maxDelayMs must be a number >= 0, got ${maxDelayMs}`);
  if (baseDelayMs > maxDelayMs) throw new RangeError(`baseDelayMs (${baseDelayMs}) must not exceed maxDelayMs (${maxDelayMs})`);
}
