import { z } from 'zod';
import type { Config } from '../config/index.js';
import { VendorError } from '../domain/errors.js';
import type { EmailVerification, EmailVerifierPort } from '../domain/ports.js';
import { systemClock } from './clock.js';
import { isRecord, requireKey, type HttpAdapterDeps } from './http/deps.js';
import { expectJson, type RefineResponse } from './http/request.js';
import { validateBody } from './http/validate.js';

/** The documented `status` values; any other value is a `bad_response`. */
const STATUSES = ['valid', 'invalid', 'catch-all', 'unknown', 'spamtrap', 'abuse', 'do_not_mail'] as const;

/** `GET /v2/validate` 200 body (fields we read). */
const ValidateSchema = z.object({
  address: z.string(),
  status: z.enum(STATUSES),
  // The API adds sub_status values over time: any string is accepted and passed on.
  sub_status: z.string().nullish(),
});

/** The text of an `error` member (a string, or a string[] as one SDK's tests show). */
function errorText(json: unknown): string | null {
  if (!isRecord(json) || !('error' in json)) return null;
  const error = json.error;
  if (typeof error === 'string') return error;
  if (Array.isArray(error)) return error.filter((e) => typeof e === 'string').join('; ');
  return String(error);
}

/**
 * ZeroBounce reports errors in the body, often with HTTP 200. A body with an `error` key is an
 * error whatever the status: an invalid key and exhausted credits share one message ("Invalid API
 * Key or your account ran out of credits") and are `auth`; a missing api_key is `auth`; any other
 * error text on a 2xx is `bad_request`. Non-2xx bodies without key/credit text fall through to the
 * status rules (429 stays `rate_limited`, 5xx `server`).
 */
const refineZeroBounce: RefineResponse = (res, json) => {
  const text = errorText(json);
  if (text === null) return undefined;
  if (/api.?key|credits/i.test(text)) {
    return new VendorError({ vendor: 'zerobounce', kind: 'auth', status: res.status, detail: /credits/i.test(text) ? 'invalid_key_or_out_of_credits' : 'api_key' });
  }
  if (res.status >= 200 && res.status < 300) return new VendorError({ vendor: 'zerobounce', kind: 'bad_request', status: res.status, detail: 'error body' });
  return undefined;
};

/** ZeroBounce's documented range of the `timeout` parameter, in seconds. */
const VALIDATION_TIMEOUT_RANGE_S = [3, 60] as const;

/**
 * The `timeout` (seconds) ZeroBounce is asked to answer within: two seconds under our per-attempt
 * timeout, so that a slow mail server yields an `unknown` answer (which costs no credit) before the
 * attempt is aborted and retried. Clamped to the documented 3–60 s; with VENDOR_TIMEOUT_MS under
 * 5 s it is 3 s and the attempt may still time out first.
 */
export function validationTimeoutSeconds(vendorTimeoutMs: number): number {
  const [min, max] = VALIDATION_TIMEOUT_RANGE_S;
  return Math.max(min, Math.min(max, Math.floor(vendorTimeoutMs / 1000) - 2));
}

/**
 * ZeroBounce single validation (EmailVerifierPort): `GET {ZEROBOUNCE_BASE_URL}/validate?api_key=…
 * &email=…&ip_address=&timeout=<s>` (the base includes /v2; `timeout` from
 * {@link validationTimeoutSeconds}). The key travels in the query as the API requires; the URL is
 * never logged or put in an error.
 *
 * @throws Error at construction when ZEROBOUNCE_API_KEY is empty
 * @throws VendorError (vendor `zerobounce`) from `verify`: an `error` body → `auth` (invalid key or
 *   out of credits, not retried) or `bad_request`; 429 → `rate_limited`; 5xx → `server`; an
 *   unknown `status` or another body shape → `bad_response`
 */
export function createZeroBounceClient(config: Pick<Config, 'vendors' | 'vendorTimeoutMs'>, deps: HttpAdapterDeps = {}): EmailVerifierPort {
  const { baseUrl } = config.vendors.zerobounce;
  const timeout = String(validationTimeoutSeconds(config.vendorTimeoutMs));
  const key = requireKey(config.vendors.zerobounce.apiKey, 'ZEROBOUNCE_API_KEY');
  const clock = deps.clock ?? systemClock;
  return {
    async verify(email: string, signal: AbortSignal): Promise<EmailVerification> {
      const query = new URLSearchParams({ api_key: key, email, ip_address: '', timeout });
      const body = await expectJson(
        'zerobounce',
        { method: 'GET', url: `${baseUrl}/validate?${query.toString()}`, signal, dispatcher: deps.dispatcher, maxBytes: deps.maxBytes },
        { now: clock.now, refine: refineZeroBounce },
      );
      const parsed = validateBody('zerobounce', ValidateSchema, body);
      return { email, status: parsed.status, subStatus: parsed.sub_status ? parsed.sub_status : null };
    },
  };
}
