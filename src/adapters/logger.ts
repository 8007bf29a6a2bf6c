import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';

/** The mask that replaces every secret in logs. */
export const MASK = '********';

/** Field names whose values are secrets wherever they appear (compared case-insensitively). */
const SECRET_KEYS = [
  'apikey', 'api_key', 'api-key', 'x-api-key', 'key', 'token', 'access_token', 'accesstoken', 'refresh_token',
  'password', 'passwd', 'pwd', 'secret', 'client_secret', 'authorization', 'proxy-authorization', 'cookie', 'set-cookie',
];
const SECRET_KEY_SET = new Set(SECRET_KEYS);

/** Whether a field of this name holds a secret (`apiKey`, `ODOO_PASSWORD`, `tavilyToken`, …). */
export function isSecretKey(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_KEY_SET.has(lower) || /(api[_-]?key|token|password|passwd|secret|authorization)$/.test(lower);
}

const URL_QUERY_SECRET = /([?&;](?:api[_-]?key|apikey|key|token|access_token|auth|password|passwd|secret|sig|signature)=)[^&#\s"'<>]+/gi;
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/[^:/?#\s@"']*:)[^@/?#\s"']+@/gi;
const BEARER = /\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}/g;

/**
 * Masks secrets embedded in free text: URL query parameters such as `api_key`, `token`, `key`,
 * `password`; the password of `scheme://user:password@host`; `Bearer`/`Basic` credentials.
 */
export function maskSecretsInText(text: string): string {
  return text.replace(URL_USERINFO, `$1${MASK}@`).replace(URL_QUERY_SECRET, `$1${MASK}`).replace(BEARER, `$1 ${MASK}`);
}

/**
 * A deep copy of `value` with every secret-named field replaced by {@link MASK} and every string
 * passed through {@link maskSecretsInText}. Errors become `{type, message, stack, code, …}`.
 * Cycles and depth beyond 8 are cut.
 */
export function sanitize(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return maskSecretsInText(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value) || depth > 8) return '[cut]';
  seen.add(value);
  if (value instanceof Error) return sanitize(stdSerializers.err(value), depth + 1, seen);
  if (value instanceof Date) return value;
  if (Array.isArray(value)) return value.map((v) => sanitize(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretKey(k) && v !== null && v !== undefined && v !== '' ? MASK : sanitize(v, depth + 1, seen);
  }
  return out;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** pino level; LOG_LEVEL. Default `info`. */
  level?: string;
  /** Where lines go; default stdout. Tests pass a stream that collects lines. */
  destination?: DestinationStream;
  /** Static bindings on every line (e.g. `{ service: 'lead-enrich' }`). */
  base?: Record<string, unknown>;
}

/**
 * The program's pino logger: JSON lines with secrets removed by {@link sanitize} — on every line's
 * fields (`formatters.log`), on child bindings (`child`, `setBindings`), on errors (serializers) — and by
 * {@link maskSecretsInText} on messages: secret-named fields at any depth, secrets inside URLs and
 * text. No pino `redact` paths: that pass masked nothing this one misses, at about 80 µs per line
 * (docs/decisions/018-secrets-masked-in-logs-and-output.md).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const config = {
    level: options.level ?? 'info',
    base: options.base ?? null,
    serializers: { err: (e: unknown) => sanitize(e), error: (e: unknown) => sanitize(e) },
    formatters: {
      log: (object: Record<string, unknown>) => sanitize(object) as Record<string, unknown>,
      bindings: (bindings: Record<string, unknown>) => sanitize(bindings) as Record<string, unknown>,
    },
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        const masked = args.map((a) => (typeof a === 'string' ? maskSecretsInText(a) : a));
        // `logger.error(err)` alone: pino would take err.message as the line's message, unmasked.
        if (masked[0] instanceof Error && typeof masked[1] !== 'string') masked.splice(1, 0, maskSecretsInText(masked[0].message));
        method.apply(this, masked);
      },
    },
  };
  return maskedBindings(options.destination ? pino(config, options.destination) : pino(config));
}

/**
 * pino writes a child's bindings as they were given (neither `formatters.bindings` nor the log
 * formatter sees them), so `child` and `setBindings` sanitize them first. pino's children inherit
 * from their parent's instance, so overriding the root's methods covers every descendant.
 */
function maskedBindings(root: Logger): Logger {
  const { child, setBindings } = root;
  Object.assign(root, {
    child(this: Logger, bindings: Record<string, unknown>, options?: object) {
      return child.call(this, sanitize(bindings) as Record<string, unknown>, options);
    },
    setBindings(this: Logger, bindings: Record<string, unknown>) {
      setBindings.call(this, sanitize(bindings) as Record<string, unknown>);
    },
  });
  return root;
}

/** Context a child logger carries; DESIGN.md: a child per run, tenant, company and vendor. */
export interface LogContext {
  runId?: number | null;
  tenantId?: number;
  companyId?: number;
  vendor?: string;
}

/** A child logger bound to the given run/tenant/company/vendor (absent fields are left out). */
export function childLogger(logger: Logger, context: LogContext): Logger {
  const bindings: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(context)) if (v !== undefined) bindings[k] = v;
  return logger.child(bindings);
}

/** A logger that writes nothing: the default where a logger is optional. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
