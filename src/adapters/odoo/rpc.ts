import { createRequire } from 'node:module';
import xmlrpc from 'xmlrpc';
import { VendorError } from '../../domain/errors.js';
import { classifyAborted, classifyThrown, kindForStatus } from '../http/classify.js';
import { faultError, isXmlRpcFault, redact } from './fault.js';

/**
 * One XML-RPC method call on the `xmlrpc` package, with the abort and classification the package
 * lacks. The package has no timeout of its own; it passes its options to `http.request`, so an
 * AbortSignal in `options.signal` destroys the socket. Each call builds its own client (and options
 * object): the package keeps `options` on the client, so a shared client would share signals.
 */

/**
 * The package's response parser throws from inside its SAX event handlers on a malformed answer
 * (an empty `<fault>`, `<boolean>2</boolean>`, `<int>twelve</int>`): nothing catches that, so one
 * broken proxy or a URL that is not Odoo would end the whole process. Its handlers are wrapped once
 * so that such a throw becomes the parser's own error (the call's callback gets it: `bad_response`).
 */
function guardDeserializer(): void {
  const require = createRequire(import.meta.url);
  const Deserializer = require('xmlrpc/lib/deserializer') as { prototype: Record<string | symbol, unknown> };
  const GUARDED = Symbol.for('lead-enrich.xmlrpc.guarded');
  if (Deserializer.prototype[GUARDED]) return;
  Deserializer.prototype[GUARDED] = true;
  for (const name of ['onOpentag', 'onClosetag', 'onText', 'onCDATA', 'onDone']) {
    const original = Deserializer.prototype[name] as (this: unknown, ...args: unknown[]) => unknown;
    Deserializer.prototype[name] = function guarded(this: { onError(error: unknown): void }, ...args: unknown[]): unknown {
      try {
        return original.apply(this, args);
      } catch (error) {
        this.onError(error instanceof Error ? error : new Error(String(error)));
        return undefined;
      }
    };
  }
}
guardDeserializer();

/** Options of {@link xmlRpcCall}. */
export interface XmlRpcCallOptions {
  /** Aborts the call: a `TimeoutError` reason is classified `timeout`, any other `timeout` with detail `aborted`. */
  signal: AbortSignal;
  /** Strings masked wherever they could surface in an error (the API key). */
  secrets?: readonly string[];
}

interface TransportFailure {
  res?: { statusCode?: number };
  body?: string;
}

/**
 * Classifies what the `xmlrpc` package reported for a request that did not yield a result:
 * a fault → OdooFaultError; an HTTP response that is not XML-RPC → by status (5xx `server`,
 * 404 `not_found`, 200 with another body such as a proxy's HTML page `bad_response`);
 * refused/reset → `network`; the abort signal → `timeout`.
 */
export function classifyRpcError(error: unknown, secrets: readonly string[] = []): VendorError {
  if (isXmlRpcFault(error)) return faultError(error, secrets);
  const res = (error as TransportFailure | null)?.res;
  if (typeof res?.statusCode === 'number') {
    const status = res.statusCode;
    const kind = kindForStatus(status) ?? 'bad_response';
    const detail = status < 300 ? 'response is not XML-RPC' : `HTTP ${status}, body is not XML-RPC`;
    return new VendorError({ vendor: 'odoo', kind, status, detail });
  }
  const classified = classifyThrown('odoo', error);
  return classified.detail === undefined ? classified : new VendorError({ ...classified.toJSON(), detail: redact(classified.detail, secrets), cause: error });
}

/**
 * Calls `method` at `endpoint` (e.g. `https://acme.odoo.com/xmlrpc/2/object`).
 * Resolves with the decoded result; rejects with a classified VendorError (vendor `odoo`),
 * at the latest when `options.signal` aborts — even if the server never answers.
 */
export function xmlRpcCall(endpoint: URL, method: string, params: unknown[], options: XmlRpcCallOptions): Promise<unknown> {
  const { signal } = options;
  const secrets = options.secrets ?? [];
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error: unknown, value?: unknown): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (error === null || error === undefined) resolve(value);
      else reject(classifyRpcError(error, secrets));
    };
    const onAbort = (): void => settle(classifyAborted('odoo', signal.reason));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });

    const secure = endpoint.protocol === 'https:';
    const clientOptions = {
      host: endpoint.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: endpoint.port === '' ? (secure ? 443 : 80) : Number(endpoint.port),
      path: endpoint.pathname,
      headers: {},
      signal,
    } as Parameters<typeof xmlrpc.createClient>[0];
    const client = secure ? xmlrpc.createSecureClient(clientOptions) : xmlrpc.createClient(clientOptions);
    try {
      client.methodCall(method, params, (error, value) => settle(error, value));
    } catch (error) {
      settle(error);
    }
  });
}
