/**
 * The backoff formula of DESIGN.md "Errors", pure: the guarded call's retries, the sink's batch
 * retries and the database's reconnects all wait by it.
 */

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
