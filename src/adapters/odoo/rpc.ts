import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Transform } from 'node:stream';
import { VendorError, isVendorError } from '../../domain/errors.js';
import { classifyAborted, classifyThrown, kindForStatus } from '../http/classify.js';
import { deserializeMethodResponse, serializeMethodCall } from './codec.js';
import { faultError, isXmlRpcFault, redact } from './fault.js';

/**
 * One XML-RPC method call: the `xmlrpc` package's wire format (./codec.ts) over node:http(s), with
 * what the package's client lacks — an abort (the AbortSignal goes into `http.request`, so it
 * destroys the socket), a response-size cap, settle-once, and classification into the taxonomy.
 */

/** Default cap on an Odoo response body (ODOO_MAX_RESPONSE_BYTES): 4 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** Options of {@link xmlRpcCall}. */
export interface XmlRpcCallOptions {
  /** Aborts the call: a `TimeoutError` reason is classified `timeout`, any other `timeout` with detail `aborted`. */
  signal: AbortSignal;
  /** Strings masked wherever they could surface in an error (the API key). */
  secrets?: readonly string[];
  /**
   * Largest response body read, in bytes (ODOO_MAX_RESPONSE_BYTES). Default
   * {@link DEFAULT_MAX_RESPONSE_BYTES}. A larger one (declared or streamed) is `bad_response`
   * "response too large": reading stops there and the socket is destroyed.
   */
  maxResponseBytes?: number;
}

/**
 * Classifies what a call that did not yield a result reported: a fault → OdooFaultError; a body
 * that is not an XML-RPC method response → by the response's `status` (5xx `server`, 404
 * `not_found`, 200 with another body such as a proxy's HTML page `bad_response`); refused/reset →
 * `network`; the abort signal → `timeout`. A VendorError passes through (its detail masked).
 *
 * @param status the HTTP status of the response whose body did not parse, when there was one
 */
export function classifyRpcError(error: unknown, secrets: readonly string[] = [], status?: number): VendorError {
  if (isXmlRpcFault(error)) return faultError(error, secrets);
  if (status !== undefined) {
    const kind = kindForStatus(status) ?? 'bad_response';
    const detail = status < 300 ? 'response is not XML-RPC' : `HTTP ${status}, body is not XML-RPC`;
    return new VendorError({ vendor: 'odoo', kind, status, detail });
  }
  const classified = classifyThrown('odoo', error);
  return classified.detail === undefined ? classified : new VendorError({ ...classified.toJSON(), detail: redact(classified.detail, secrets), cause: error });
}

const tooLarge = (status: number | undefined): VendorError =>
  new VendorError({ vendor: 'odoo', kind: 'bad_response', ...(status === undefined ? {} : { status }), detail: 'response too large' });

/** Passes the body on while it stays within `maxBytes`; past it, fails with `response too large`. */
function capped(maxBytes: number, status: number | undefined): Transform {
  let received = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (received > maxBytes) done(tooLarge(status));
      else done(null, chunk);
    },
  });
}

/**
 * Calls `method` at `endpoint` (e.g. `https://acme.odoo.com/xmlrpc/2/object`).
 * Resolves with the decoded result; rejects with a classified VendorError (vendor `odoo`),
 * at the latest when `options.signal` aborts — even if the server never answers — and as soon as
 * the answer passes `options.maxResponseBytes`, however fast or for however long it streams.
 */
export function xmlRpcCall(endpoint: URL, method: string, params: unknown[], options: XmlRpcCallOptions): Promise<unknown> {
  const { signal } = options;
  const secrets = options.secrets ?? [];
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  return new Promise((resolve, reject) => {
    let settled = false;
    let request: ClientRequest | undefined;
    const settle = (error: unknown, value?: unknown, status?: number): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (error === null || error === undefined) return resolve(value);
      // Whatever is still coming is not read: the socket goes, with anything it had buffered.
      request?.destroy();
      reject(classifyRpcError(error, secrets, status));
    };
    const onAbort = (): void => settle(classifyAborted('odoo', signal.reason));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });

    const onResponse = (response: IncomingMessage): void => {
      const status = response.statusCode;
      if (status === 404) return settle(new VendorError({ vendor: 'odoo', kind: 'not_found', status, detail: 'HTTP 404, body is not XML-RPC' }));
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) return settle(tooLarge(status));
      // A reset mid-body is the transport's failure (network), not a body that does not parse.
      response.on('error', (error) => settle(error));
      const body = capped(maxBytes, status);
      response.pipe(body);
      deserializeMethodResponse(body, (error, value) => {
        if (error === null || error === undefined || isXmlRpcFault(error) || isVendorError(error)) settle(error, value);
        else settle(error, undefined, status ?? 200);
      });
    };

    try {
      const xml = serializeMethodCall(method, params);
      const secure = endpoint.protocol === 'https:';
      const requestOptions: http.RequestOptions = {
        host: endpoint.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: endpoint.port === '' ? (secure ? 443 : 80) : Number(endpoint.port),
        path: endpoint.pathname,
        method: 'POST',
        headers: { 'User-Agent': 'lead-enrich', 'Content-Type': 'text/xml', Accept: 'text/xml', 'Accept-Charset': 'UTF8', 'Content-Length': Buffer.byteLength(xml, 'utf8') },
        signal,
      };
      request = (secure ? https : http).request(requestOptions, onResponse);
      request.on('error', (error) => settle(error));
      request.end(xml, 'utf8');
    } catch (error) {
      settle(error);
    }
  });
}
