/**
 * The logger port: what streams and adapters log through (DESIGN.md "Observability": pino for logs,
 * secrets redacted). The pino logger built by `createLogger` (src/adapters/logger.ts) is one; its
 * children carry tenantId, vendor, companyId and runId, and every line is sanitised before it is
 * written, child bindings included.
 */
export interface Logger {
  error(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  debug(fields: object, message?: string): void;
  /** A child bound to `bindings` (e.g. `{ runId, tenantId }`); undefined values are left out by the caller. */
  child(bindings: Record<string, unknown>): Logger;
  /** Whether a line at `level` would be written (build costly fields only then). */
  isLevelEnabled(level: string): boolean;
}

/** The bindings of a child logger for a run, tenant, company or vendor, absent ones left out. */
export function logContext(context: { runId?: number | null; tenantId?: number; companyId?: number; vendor?: string }): Record<string, unknown> {
  const bindings: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(context)) if (v !== undefined) bindings[k] = v;
  return bindings;
}
