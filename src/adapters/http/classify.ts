import { errorCodesOf } from '../../domain/classify.js';
import { VendorError, isVendorError, type ErrorKind } from '../../domain/errors.js';
import type { VendorName } from '../../domain/vendor.js';

/**
 * Classification at the boundary: HTTP statuses and headers, timeouts and aborts become
 * {@link VendorError}s of the DESIGN.md taxonomy. What a request throws is classified by the
 * domain's {@link classifyThrown} (re-exported here), which knows Node's and undici's error codes.
 */

export { classifyThrown } from '../../domain/classify.js';

/** The kind a bare HTTP status maps to; vendor adapters refine it from the body (quota, auth). */
export function kindForStatus(status: number): ErrorKind | null {
  if (status >= 200 && status < 300) return null;
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404 || status === 410) return 'not_found';
  if (status === 408) return 'timeout';
  if (status === 402) return 'quota_exhausted';
  if (status >= 500) return 'server';
  // A redirect is not followed (undici `request`): a base URL that answers 301 is misconfigured,
  // and it must count against the breaker instead of failing every call unnoticed.
  if (status >= 300 && status < 400) return 'bad_response';
  return 'bad_request';
}

/**
 * Parses a Retry-After header: delta-seconds (`"3"`, `"1.5"`) or an HTTP date.
 * Also accepts OpenAI's `retry-after-ms`. Returns milliseconds, never negative, or undefined.
 *
 * @param now epoch milliseconds used to turn a date into a delay
 */
export function parseRetryAfter(
  headers: { get(name: string): string | null } | undefined,
  now: number,
): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Math.max(0, Math.round(Number(ms)));
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.max(0, Math.round(Number(trimmed) * 1000));
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * A VendorError for a non-2xx response from its status and headers.
 *
 * @param now epoch milliseconds (for Retry-After dates)
 */
export function classifyHttpResponse(
  vendor: VendorName,
  status: number,
  headers: { get(name: string): string | null } | undefined,
  now: number,
  detail?: string,
): VendorError {
  const kind = kindForStatus(status) ?? 'bad_response';
  const retryAfterMs = kind === 'rate_limited' || kind === 'server' ? parseRetryAfter(headers, now) : undefined;
  return new VendorError({ vendor, kind, status, retryAfterMs, detail });
}

/**
 * Transport failures that leave no doubt the request never reached the server: the connection
 * was refused, the name did not resolve, the network was unreachable, or connecting timed out.
 */
const NEVER_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CONNECT']);

/**
 * Whether a `network` or `timeout` failure may have reached the vendor, which may then be acting
 * on the request (a reset, a closed socket or a timeout after the connection was made): false
 * only for the failures of {@link NEVER_SENT_CODES}, and for a caller's abort. For requests that
 * are not safe to repeat. Other kinds: false (the vendor answered, or the request was not sent).
 */
export function mayHaveReachedVendor(error: VendorError): boolean {
  if (error.kind !== 'network' && error.kind !== 'timeout') return false;
  if (error.detail === 'aborted') return false;
  return !errorCodesOf(error.cause).some((code) => NEVER_SENT_CODES.has(code));
}

/**
 * Classifies a request ended by its signal, from the signal's reason: a `TimeoutError` (the
 * per-attempt timeout) is `timeout` "attempt timed out"; any other reason is the caller's abort,
 * `timeout` "aborted" — whatever the caller aborted with (a plain Error is not the vendor's fault).
 */
export function classifyAborted(vendor: VendorName, reason: unknown): VendorError {
  if (isVendorError(reason)) return reason;
  if (errorCodesOf(reason).includes('TimeoutError')) return new VendorError({ vendor, kind: 'timeout', detail: 'attempt timed out', cause: reason });
  return new VendorError({ vendor, kind: 'timeout', detail: 'aborted', cause: reason });
}
