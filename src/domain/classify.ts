import { VendorError, isVendorError } from './errors.js';
import type { VendorName } from './vendor.js';

/**
 * The taxonomy of a thrown value that is not a VendorError, whatever threw it: pure, no I/O. The
 * codes are strings Node and undici put on their errors (`code`, `name`, along the `cause` chain and
 * inside an AggregateError's `errors`); nothing here imports a transport. The HTTP adapters
 * (src/adapters/http/classify.ts) use it for what a request throws, the guarded call for what any
 * attempt throws.
 */

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
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT_ATTEMPT']);
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

/**
 * Every string `code` and `name` of an error, its `cause` chain (5 deep) and the `errors` of an
 * AggregateError, outermost first.
 */
export function errorCodesOf(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const record = current as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
    if (typeof record.code === 'string') codes.push(record.code);
    if (typeof record.name === 'string') codes.push(record.name);
    if (Array.isArray(record.errors)) for (const inner of record.errors) codes.push(...errorCodesOf(inner));
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
 * Classifies a thrown value: a VendorError passes through; `TimeoutError` (from
 * `AbortSignal.timeout` or an attempt's timeout) and undici timeouts become `timeout`; resets,
 * refusals and DNS failures become `network`; a request that could not be built (undici's
 * UND_ERR_INVALID_ARG, Node's ERR_INVALID_*) becomes `bad_request`. An abort by the caller (not a
 * timeout) is `timeout` with detail `aborted`, so that the guarded call can tell it from the
 * vendor's fault by the signal. Anything else — a programming error, an error this list does not
 * know — is `bad_response` (not retried) with a detail naming its class and code, never its message.
 */
export function classifyThrown(vendor: VendorName, error: unknown): VendorError {
  if (isVendorError(error)) return error;
  const codes = errorCodesOf(error);
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
