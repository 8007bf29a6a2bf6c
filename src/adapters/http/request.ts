import { Agent, request, type Dispatcher } from 'undici';
import { VendorError } from '../../domain/errors.js';
import type { VendorName } from '../../domain/vendor.js';
import { systemClock } from '../clock.js';
import { classifyAborted, classifyHttpResponse, classifyThrown } from './classify.js';

/**
 * The one HTTP helper every vendor adapter uses (undici `request` over a shared keep-alive Agent).
 * It sends, reads the body under a size cap, and classifies transport failures; deciding what a
 * non-2xx or an error body means is left to the adapter ({@link expectJson} does the common part).
 */

/** Read-only header access, the shape `classifyHttpResponse` and `parseRetryAfter` take. */
export interface HeaderGetter {
  get(name: string): string | null;
}

/** One request. */
export interface HttpRequest {
  method: 'GET' | 'POST';
  /** Full URL. It may carry a key in its query (ZeroBounce); it is never put in errors. */
  url: string;
  headers?: Record<string, string>;
  /** Sent as JSON with `content-type: application/json` when defined. */
  json?: unknown;
  /** Per-attempt signal from the guarded call (carries the timeout). */
  signal: AbortSignal;
  /** Largest body read, in bytes. Default {@link DEFAULT_MAX_BYTES}. */
  maxBytes?: number;
  /** `fail` (default): a larger body is `bad_response`; `truncate`: keep the first maxBytes. */
  onOverflow?: 'fail' | 'truncate';
  /** undici dispatcher; default a shared keep-alive Agent. */
  dispatcher?: Dispatcher;
}

/** A response whose body has been read (any status). */
export interface HttpResponse {
  status: number;
  headers: HeaderGetter;
  /** The body as UTF-8 text (possibly truncated, see `truncated`). */
  text: string;
  truncated: boolean;
}

/** Default response-size cap: 2 MiB. */
export const DEFAULT_MAX_BYTES = 2 * 1024 * 1024;

let sharedAgent: Agent | undefined;

/** The shared keep-alive Agent of the vendor adapters (created on first use). */
export function defaultDispatcher(): Agent {
  sharedAgent ??= new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  return sharedAgent;
}

/** Stops reading a body; undici reports the abort as an 'error' event, which nobody needs here. */
function discard(body: { on(event: 'error', listener: () => void): unknown; destroy(): unknown }): void {
  body.on('error', () => undefined);
  body.destroy();
}

/** Wraps undici's header record (lower-case keys; arrays for repeated headers). */
export function headerGetter(raw: Record<string, string | string[] | undefined>): HeaderGetter {
  return {
    get(name: string): string | null {
      const value = raw[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/**
 * Sends one request and reads its body. Resolves for every HTTP status.
 *
 * @throws VendorError `timeout` when the signal fires (its reason decides the detail), `network`
 *   for resets, refusals and DNS failures, `bad_response` for a body over the cap (`fail` mode)
 */
export async function sendRequest(vendor: VendorName, req: HttpRequest): Promise<HttpResponse> {
  const maxBytes = req.maxBytes ?? DEFAULT_MAX_BYTES;
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  let body: string | undefined;
  if (req.json !== undefined) {
    body = JSON.stringify(req.json);
    headers['content-type'] = 'application/json';
  }
  try {
    req.signal.throwIfAborted();
    const res = await request(req.url, {
      method: req.method,
      headers,
      body: body ?? null,
      signal: req.signal,
      dispatcher: req.dispatcher ?? defaultDispatcher(),
    });
    const declared = Number(res.headers['content-length']);
    if (req.onOverflow !== 'truncate' && Number.isFinite(declared) && declared > maxBytes) {
      discard(res.body);
      throw new VendorError({ vendor, kind: 'bad_response', status: res.statusCode, detail: 'response too large' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    for await (const chunk of res.body) {
      const buffer = chunk as Buffer;
      if (size + buffer.length > maxBytes) {
        if (req.onOverflow !== 'truncate') {
          discard(res.body);
          throw new VendorError({ vendor, kind: 'bad_response', status: res.statusCode, detail: 'response too large' });
        }
        chunks.push(buffer.subarray(0, maxBytes - size));
        truncated = true;
        discard(res.body);
        break;
      }
      chunks.push(buffer);
      size += buffer.length;
    }
    return { status: res.statusCode, headers: headerGetter(res.headers), text: Buffer.concat(chunks).toString('utf8'), truncated };
  } catch (error) {
    // The signal's reason tells a per-attempt timeout (TimeoutError) from a caller's abort.
    if (req.signal.aborted) throw classifyAborted(vendor, req.signal.reason ?? error);
    throw classifyThrown(vendor, error);
  }
}

/** Parses JSON text; undefined when it does not parse (never throws). */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * What an adapter says about a response before the generic rules apply: a VendorError to throw
 * (quota bodies, invalid-key bodies), or undefined to fall through.
 */
export type RefineResponse = (res: HttpResponse, json: unknown) => VendorError | undefined;

/** Options of {@link expectJson}. */
export interface ExpectJsonOptions {
  /** Status codes that count as success. Default: any 2xx. */
  okStatuses?: readonly number[];
  /** Vendor-specific classification, consulted first for every response. */
  refine?: RefineResponse;
  /** Epoch ms for Retry-After dates. Default the system clock (used for HTTP-date Retry-After). */
  now?: () => number;
}

/**
 * Sends a request and returns its parsed JSON body on success.
 *
 * @throws VendorError: whatever `refine` returns; a non-success status classified by
 *   `classifyHttpResponse`; `bad_response` for a success body that is not JSON; transport errors
 *   as {@link sendRequest}
 */
export async function expectJson(vendor: VendorName, req: HttpRequest, options: ExpectJsonOptions = {}): Promise<unknown> {
  const res = await sendRequest(vendor, req);
  const json = tryParseJson(res.text);
  const refined = options.refine?.(res, json);
  if (refined) throw refined;
  const ok = options.okStatuses ? options.okStatuses.includes(res.status) : res.status >= 200 && res.status < 300;
  if (!ok) {
    if (res.status >= 200 && res.status < 300) {
      throw new VendorError({ vendor, kind: 'bad_response', status: res.status, detail: 'unexpected status' });
    }
    throw classifyHttpResponse(vendor, res.status, res.headers, (options.now ?? systemClock.now)());
  }
  if (json === undefined) throw new VendorError({ vendor, kind: 'bad_response', status: res.status, detail: 'unparseable body' });
  return json;
}
