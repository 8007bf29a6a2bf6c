import { VendorError, isVendorError, type ErrorKind } from '../../domain/errors.js';
import type { VendorName } from '../../domain/vendor.js';

/**
 * Classification at the boundary: HTTP statuses and headers, Node/undici network errors,
 * timeouts and aborts become {@link VendorError}s of the DESIGN.md taxonomy.
 */

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

/** Transport failures of DESIGN.md's `network`: reset, refused, DNS failure and their kin. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'ETIMEDOUT',
  'EPROTO',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_CONNECT',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT_ATTEMPT',
]);
/**
 * The request could not be built: a header value with a `\r`, a malformed URL, an option undici
 * does not take. Sending it again never helps, and the vendor was not asked.
 */
const INVALID_ARGUMENT_CODES = new Set([
  'UND_ERR_INVALID_ARG',
  'InvalidArgumentError',
  'UND_ERR_INVALID_RETURN_VALUE',
  'UND_ERR_NOT_SUPPORTED',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
  'ERR_INVALID_URL',
  'ERR_INVALID_URL_SCHEME',
  'ERR_INVALID_HTTP_TOKEN',
  'ERR_INVALID_CHAR',
  'ERR_HTTP_INVALID_HEADER_VALUE',
  'ERR_UNESCAPED_CHARACTERS',
]);

function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const record = current as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
    if (typeof record.code === 'string') codes.push(record.code);
    if (typeof record.name === 'string') codes.push(record.name);
    if (Array.isArray(record.errors)) for (const inner of record.errors) codes.push(...codesOf(inner));
    current = record.cause;
  }
  return codes;
}

const IDENTIFIER = /^[A-Za-z_][\w.-]{0,63}$/;

/**
 * Names an error nobody recognised by its class and code only: its message may carry a URL with
 * a key in its query or a header value, so it is never copied.
 */
function describeUnknown(error: unknown): string {
  const ctor = typeof error === 'object' && error !== null ? (error as { constructor?: { name?: unknown } }).constructor?.name : undefined;
  const kind = typeof ctor === 'string' && IDENTIFIER.test(ctor) ? ctor : error === null ? 'null' : typeof error;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && IDENTIFIER.test(code) ? `unrecognised error ${kind} ${code}` : `unrecognised error ${kind}`;
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
  return !codesOf(error.cause).some((code) => NEVER_SENT_CODES.has(code));
}

/**
 * Classifies what a request threw: a VendorError passes through; `TimeoutError` (from
 * `AbortSignal.timeout`) and undici timeouts become `timeout`; resets, refusals and DNS failures
 * become `network`; a request that could not be built (undici's UND_ERR_INVALID_ARG, Node's
 * ERR_INVALID_*) becomes `bad_request`. An abort by the caller (not a timeout) is rethrown as
 * `timeout` with detail `aborted` so that the guarded call can tell it from the vendor's fault by
 * the signal. Anything else — a programming error, an error this list does not know — is
 * `bad_response` (not retried) with a detail naming its class and code, never its message.
 */
export function classifyThrown(vendor: VendorName, error: unknown): VendorError {
  if (isVendorError(error)) return error;
  const codes = codesOf(error);
  if (codes.includes('TimeoutError') || codes.some((c) => TIMEOUT_CODES.has(c))) {
    return new VendorError({ vendor, kind: 'timeout', detail: 'attempt timed out', cause: error });
  }
  if (codes.includes('AbortError')) {
    return new VendorError({ vendor, kind: 'timeout', detail: 'aborted', cause: error });
  }
  const invalid = codes.find((c) => INVALID_ARGUMENT_CODES.has(c));
  if (invalid) return new VendorError({ vendor, kind: 'bad_request', detail: `request not sendable: ${invalid}`, cause: error });
  const network = codes.find((c) => NETWORK_CODES.has(c));
  if (network) return new VendorError({ vendor, kind: 'network', detail: network, cause: error });
  if (error instanceof SyntaxError) return new VendorError({ vendor, kind: 'bad_response', detail: 'unparseable body', cause: error });
  if (error instanceof TypeError && /fetch failed|terminated|other side closed/i.test(error.message)) {
    return new VendorError({ vendor, kind: 'network', detail: 'fetch failed', cause: error });
  }
  return new VendorError({ vendor, kind: 'bad_response', detail: describeUnknown(error), cause: error });
}

/**
 * Classifies a request ended by its signal, from the signal's reason: a `TimeoutError` (the
 * per-attempt timeout) is `timeout` "attempt timed out"; any other reason is the caller's abort,
 * `timeout` "aborted" — whatever the caller aborted with (a plain Error is not the vendor's fault).
 */
export function classifyAborted(vendor: VendorName, reason: unknown): VendorError {
  if (isVendorError(reason)) return reason;
  if (codesOf(reason).includes('TimeoutError')) return new VendorError({ vendor, kind: 'timeout', detail: 'attempt timed out', cause: reason });
  return new VendorError({ vendor, kind: 'timeout', detail: 'aborted', cause: reason });
}
