import { z } from 'zod';
import { VendorError } from '../../domain/errors.js';
import type { OdooClientPort, OdooTarget } from '../../domain/odoo.js';
import { xmlRpcCall } from './rpc.js';

/**
 * The Odoo external API client (XML-RPC, `/xmlrpc/2/common` and `/xmlrpc/2/object`) over the
 * `xmlrpc` package, http or https by the target URL's scheme. Every call has a timeout; results
 * are validated with zod; failures are classified VendorErrors (see ./rpc.ts, ./fault.ts).
 * The API key travels only inside the XML-RPC body and is masked in every error detail.
 */

/** Options of {@link createOdooClient}. */
export interface OdooClientOptions {
  /** Per-call timeout, in milliseconds (VENDOR_TIMEOUT_MS; default 15000). Combined with any signal given to a call. */
  timeoutMs?: number;
  /** Builds the timeout signal; tests inject their own. Defaults to `AbortSignal.timeout`. */
  timeoutSignal?: (ms: number) => AbortSignal;
  /** Largest response body read, in bytes (ODOO_MAX_RESPONSE_BYTES); a larger one is `bad_response`. Default 4 MiB. */
  maxResponseBytes?: number;
}

const versionSchema = z.object({
  server_version: z.string(),
  protocol_version: z.number().int().optional(),
});
const uidSchema = z.union([z.number().int().positive(), z.literal(false)]);

function endpoint(base: string, service: 'common' | 'object'): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch (error) {
    throw new VendorError({ vendor: 'odoo', kind: 'bad_request', detail: 'Odoo URL is not a valid URL', cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new VendorError({ vendor: 'odoo', kind: 'bad_request', detail: `Odoo URL scheme ${url.protocol} is not http or https` });
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/xmlrpc/2/${service}`;
  url.search = '';
  return url;
}

function parsed<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new VendorError({ vendor: 'odoo', kind: 'bad_response', detail: `unexpected ${what} result` });
  return result.data;
}

/**
 * A client for one Odoo target.
 *
 * @throws nothing itself; its methods reject with VendorError (vendor `odoo`): OdooFaultError for
 *   faults, `auth` for a refused login, `timeout`/`network`/`server`/`bad_response` for transport
 *   (`bad_response` "response too large" for an answer over `maxResponseBytes`).
 */
export function createOdooClient(target: OdooTarget, options: OdooClientOptions = {}): OdooClientPort {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const timeoutSignal = options.timeoutSignal ?? ((ms: number) => AbortSignal.timeout(ms));
  const secrets = [target.apiKey];

  const call = (service: 'common' | 'object', method: string, params: unknown[], signal?: AbortSignal): Promise<unknown> => {
    const timeout = timeoutSignal(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    return Promise.resolve()
      .then(() => endpoint(target.url, service))
      .then((url) => xmlRpcCall(url, method, params, { signal: combined, secrets, ...(options.maxResponseBytes === undefined ? {} : { maxResponseBytes: options.maxResponseBytes }) }));
  };

  return {
    async version(signal) {
      const value = parsed(versionSchema, await call('common', 'version', [], signal), 'version');
      return { serverVersion: value.server_version, protocolVersion: value.protocol_version ?? 1 };
    },
    async authenticate(signal) {
      const uid = parsed(uidSchema, await call('common', 'authenticate', [target.db, target.login, target.apiKey, {}], signal), 'authenticate');
      if (uid === false) throw new VendorError({ vendor: 'odoo', kind: 'auth', detail: 'login refused (authenticate answered false)' });
      return uid;
    },
    async executeKw(uid, model, method, args, kwargs, signal) {
      return call('object', 'execute_kw', [target.db, uid, target.apiKey, model, method, args, kwargs ?? {}], signal);
    },
  };
}
