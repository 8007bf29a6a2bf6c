/**
 * Fault profiles of the simulator: what a vendor does to the next call. A profile is data
 * (seeded and scriptable), so a test states exactly which calls fail and how.
 */

/** How one call is answered. */
export type FaultMode =
  /** A normal answer. */
  | 'ok'
  /** HTTP 429 with the vendor's rate-limit body and its documented wait signal (see `retryAfterS`). */
  | 'rate_limit'
  /** HTTP 5xx (profile `status`, default 503) with the vendor's error body. */
  | 'server_error'
  /** Never answers; the request stays open until the client aborts or the simulator closes. */
  | 'hang'
  /** Destroys the socket without a response (ECONNRESET / "other side closed"). */
  | 'reset'
  /** A success status with a body that is not JSON. */
  | 'malformed'
  /** A success status with JSON that does not match the vendor's schema. */
  | 'schema'
  /** The vendor's invalid-key answer (ZeroBounce: HTTP 200 with an `error` body). */
  | 'invalid_key'
  /** The vendor's plan/credit answer (Tavily 432, OpenAI insufficient_quota 429, Lusha 402, …). */
  | 'quota';

/** Per-vendor fault profile; every field optional. */
export interface FaultProfile {
  /** The fault applied (subject to firstN and probability). Default `ok`. */
  fault?: FaultMode;
  /** Apply the fault to the first N calls only, then answer normally (outage then recovery). */
  firstN?: number;
  /**
   * Apply the fault only during the first `firstMs` milliseconds after the vendor's first call
   * (since start or reset), then answer normally: an outage of a given length, whatever the
   * concurrency of its callers (firstN depends on how many calls were in flight).
   */
  firstMs?: number;
  /** Apply the fault to each call with this probability, drawn from the seeded generator. */
  probability?: number;
  /** Explicit answers for the first calls (call i gets script[i]); consulted before `fault`. */
  script?: FaultMode[];
  /**
   * The wait of `rate_limit`, in seconds, sent the way each party's docs say:
   * - OpenAI, Apify and websites: a `Retry-After` header, default 1;
   * - Lusha (no Retry-After documented): the message's "Reset in X seconds", default 1;
   * - Tavily and ZeroBounce (Retry-After unconfirmed / undocumented): no header unless set here,
   *   for the tests and the demo that need a vendor sending one.
   */
  retryAfterS?: number;
  /** Status of `server_error` (default 503) or variant of `quota` (e.g. 433 for Tavily, 429 for Lusha's daily quota). */
  status?: number;
  /**
   * Error code of `quota` where the vendor has several (OpenAI: a billing code such as
   * `billing_not_active` instead of the default `insufficient_quota`).
   */
  quotaCode?: string;
  /** Delay before answering, in milliseconds (added to the simulator's global latency). */
  latencyMs?: number;
}

/** A fault mode or a full profile. */
export type ProfileInput = FaultMode | FaultProfile;

/** Normalises a mode shorthand into a profile (`'hang'` → `{ fault: 'hang' }`). */
export function toProfile(input: ProfileInput): FaultProfile {
  return typeof input === 'string' ? { fault: input } : { ...input };
}

/**
 * The answer for one call.
 *
 * @param callIndex 0-based index of this call to the vendor since start or reset
 * @param random the vendor's seeded generator (drawn only when `probability` is set)
 * @param sinceFirstMs milliseconds since the vendor's first call (for `firstMs`)
 */
export function decideFault(profile: FaultProfile, callIndex: number, random: () => number, sinceFirstMs = 0): FaultMode {
  const scripted = profile.script?.[callIndex];
  if (scripted) return scripted;
  const fault = profile.fault ?? 'ok';
  if (fault === 'ok') return 'ok';
  if (profile.firstN !== undefined && callIndex >= profile.firstN) return 'ok';
  if (profile.firstMs !== undefined && sinceFirstMs >= profile.firstMs) return 'ok';
  if (profile.probability !== undefined && random() >= profile.probability) return 'ok';
  return fault;
}
