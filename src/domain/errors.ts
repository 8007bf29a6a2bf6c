import type { BreakerVendor, TenantId, VendorName } from './vendor.js';

/**
 * The error taxonomy of DESIGN.md "Errors". Every failure of an outside call is one of these kinds.
 * `quota_exhausted` covers plan and credit limits (never retried, counts against the breaker).
 */
export const ERROR_KINDS = [
  'rate_limited',
  'server',
  'timeout',
  'network',
  'auth',
  'bad_request',
  'not_found',
  'quota_exhausted',
  'bad_response',
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

const RETRYABLE: ReadonlySet<ErrorKind> = new Set(['rate_limited', 'server', 'timeout', 'network']);
const NOT_COUNTED: ReadonlySet<ErrorKind> = new Set(['bad_request', 'not_found']);

/** Whether a failure of this kind may be retried (DESIGN.md table, column "retried"). */
export function isRetryableKind(kind: ErrorKind): boolean {
  return RETRYABLE.has(kind);
}

/** Whether a failure of this kind counts against the (tenant, vendor) breaker. */
export function countsAgainstBreaker(kind: ErrorKind): boolean {
  return !NOT_COUNTED.has(kind);
}

const VENDOR_ERROR_BRAND = Symbol.for('lead-enrich.VendorError');
const CIRCUIT_OPEN_BRAND = Symbol.for('lead-enrich.CircuitOpenError');

/** Fields of a {@link VendorError}. */
export interface VendorErrorInit {
  vendor: VendorName;
  kind: ErrorKind;
  /** HTTP status (or Odoo fault code for `odoo`), when there was one. */
  status?: number | undefined;
  /** Server-requested wait before the next attempt, in milliseconds (from Retry-After). */
  retryAfterMs?: number | undefined;
  /** Short, secret-free detail written by the adapter that classified the failure. */
  detail?: string | undefined;
  /**
   * Never retried, whatever the kind: the vendor documents that repeating this request is unsafe
   * (Apify's 408: the timed-out run keeps running and billing, and a retry starts a second one).
   */
  final?: boolean | undefined;
  cause?: unknown;
}

/**
 * A classified failure of one outside call. Adapters build these at the boundary; everything
 * downstream decides on `kind`, never on message text.
 */
export class VendorError extends Error {
  readonly [VENDOR_ERROR_BRAND] = true;
  readonly vendor: VendorName;
  readonly kind: ErrorKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly detail: string | undefined;
  /** See {@link VendorErrorInit.final}. */
  readonly final: boolean;

  constructor(init: VendorErrorInit) {
    const status = init.status === undefined ? '' : ` (${init.status})`;
    const detail = init.detail ? `: ${init.detail}` : '';
    super(`${init.vendor} ${init.kind}${status}${detail}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'VendorError';
    this.vendor = init.vendor;
    this.kind = init.kind;
    this.status = init.status;
    this.retryAfterMs = init.retryAfterMs;
    this.detail = init.detail;
    this.final = init.final === true;
  }

  /** Whether this failure may be retried: a retryable kind, and not marked `final` by its adapter. */
  get retryable(): boolean {
    return !this.final && isRetryableKind(this.kind);
  }

  /** A plain, secret-free record for logs and the database. */
  toJSON(): { vendor: VendorName; kind: ErrorKind; status?: number; retryAfterMs?: number; detail?: string } {
    return {
      vendor: this.vendor,
      kind: this.kind,
      ...(this.status === undefined ? {} : { status: this.status }),
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      ...(this.detail === undefined ? {} : { detail: this.detail }),
    };
  }
}

/** Type guard for {@link VendorError}; works across module copies through its brand. */
export function isVendorError(value: unknown): value is VendorError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[VENDOR_ERROR_BRAND] === true;
}

/** A call refused by an open (or probing) breaker: no request was made. */
export class CircuitOpenError extends Error {
  readonly [CIRCUIT_OPEN_BRAND] = true;
  readonly tenantId: TenantId;
  readonly vendor: BreakerVendor;
  /** When the breaker will admit a probe, epoch ms (undefined while a probe is in flight). */
  readonly retryAt: number | undefined;

  constructor(tenantId: TenantId, vendor: BreakerVendor, retryAt?: number) {
    super(`circuit open for tenant ${tenantId} vendor ${vendor}`);
    this.name = 'CircuitOpenError';
    this.tenantId = tenantId;
    this.vendor = vendor;
    this.retryAt = retryAt;
  }
}

const BUDGET_EXHAUSTED_BRAND = Symbol.for('lead-enrich.BudgetExhaustedError');

/**
 * A paid call refused because the run has spent its RUN_BUDGET_USD: no request made. The step
 * records `BUDGET_EXHAUSTED:<vendor>`; free steps go on and the run completes.
 */
export class BudgetExhaustedError extends Error {
  readonly [BUDGET_EXHAUSTED_BRAND] = true;
  readonly vendor: BreakerVendor;
  readonly runId: number;

  constructor(runId: number, vendor: BreakerVendor, spentUsd: number, budgetUsd: number) {
    super(`run ${runId} has spent ${spentUsd.toFixed(4)} of its ${budgetUsd} USD budget: ${vendor} not called`);
    this.name = 'BudgetExhaustedError';
    this.vendor = vendor;
    this.runId = runId;
  }
}

/** Type guard for {@link BudgetExhaustedError}. */
export function isBudgetExhaustedError(value: unknown): value is BudgetExhaustedError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BUDGET_EXHAUSTED_BRAND] === true;
}

/** Type guard for {@link CircuitOpenError}. */
export function isCircuitOpenError(value: unknown): value is CircuitOpenError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[CIRCUIT_OPEN_BRAND] === true;
}
