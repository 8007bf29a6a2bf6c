import type { Observable } from 'rxjs';
import type { ErrorKind, VendorError } from '../domain/errors.js';
import type { BreakerStateName, BreakerTransition } from '../domain/events.js';
import type { BreakerVendor, TenantId, VendorName } from '../domain/vendor.js';

/**
 * The contract of the resilience core (issue 2). Everything that calls the outside world goes
 * through a {@link GuardedCaller}; adapters stay plain (they classify and throw VendorError).
 */

/** Options of one guarded call. */
export interface GuardedCallOptions {
  /** The caller's cancellation (run shutdown, company deadline): stops retries and waits at once. */
  signal?: AbortSignal;
  /** Epoch milliseconds (injected clock) after which no new attempt or backoff wait starts. */
  deadline?: number;
  /** Told of what the quotas did to this call: a wait for a rate-limit turn, a retry the budget refused (per-company usage). */
  onQuota?: (event: QuotaEvent) => void;
}

/** What the vendor quotas did to one call (DESIGN.md "Vendor quotas, retry budgets and cost"). */
export type QuotaEvent = { type: 'rate_wait'; waitedMs: number } | { type: 'retry_refused' };

/** One thing the guarded call did: an attempt made, a retry about to wait, a call refused. */
export type GuardEvent =
  | { type: 'attempt'; tenantId: TenantId; vendor: VendorName; attempt: number; ok: boolean; kind: ErrorKind | null; durationMs: number }
  | { type: 'retry'; tenantId: TenantId; vendor: VendorName; attempt: number; delayMs: number; kind: ErrorKind }
  | { type: 'refused'; tenantId: TenantId; vendor: BreakerVendor }
  | { type: 'rate_wait'; tenantId: TenantId; vendor: BreakerVendor; waitedMs: number }
  | { type: 'retry_refused'; tenantId: TenantId; vendor: BreakerVendor };

/** The {@link GuardObserver} that hands every {@link GuardEvent} to `next` (the runtime's `calls$`). */
export function guardEventsTo(next: (event: GuardEvent) => void): GuardObserver {
  return {
    onAttempt: (e) => next({ type: 'attempt', tenantId: e.tenantId, vendor: e.vendor, attempt: e.attempt, ok: e.ok, kind: e.error?.kind ?? null, durationMs: e.durationMs }),
    onRetry: (e) => next({ type: 'retry', ...e }),
    onRefused: (e) => next({ type: 'refused', ...e }),
    onRateWait: (e) => next({ type: 'rate_wait', ...e }),
    onRetryRefused: (e) => next({ type: 'retry_refused', ...e }),
  };
}

/** What the guarded call reports, for metrics and logs (the runtime's `calls$`). */
export interface GuardObserver {
  /** After every attempt that made a request. */
  onAttempt?(event: {
    tenantId: TenantId;
    vendor: VendorName;
    attempt: number;
    ok: boolean;
    error?: VendorError;
    durationMs: number;
  }): void;
  /** Before every backoff wait. */
  onRetry?(event: { tenantId: TenantId; vendor: VendorName; attempt: number; delayMs: number; kind: ErrorKind }): void;
  /** A call refused by an open breaker (no request made). */
  onRefused?(event: { tenantId: TenantId; vendor: BreakerVendor }): void;
  /** An attempt that waited for its vendor's rate-limit turn (VENDOR_RATE_LIMITS), before its request. */
  onRateWait?(event: { tenantId: TenantId; vendor: BreakerVendor; waitedMs: number }): void;
  /** A retry the (tenant, vendor) retry budget refused: not made, the call failed as it stood. */
  onRetryRefused?(event: { tenantId: TenantId; vendor: BreakerVendor }): void;
}

/**
 * Breaker admission, per-attempt timeout, retryWithBackoff, and one success or failure reported
 * to the (tenant, vendor) breaker per call. `crawler` has no breaker and uses CRAWL_TIMEOUT_MS.
 * Failures are VendorError (classified) or CircuitOpenError (refused, no request made).
 */
export interface GuardedCaller {
  /** One guarded call of `fn`, which gets each attempt's signal; resolves with its value. */
  call<T>(
    tenantId: TenantId,
    vendor: VendorName,
    fn: (signal: AbortSignal) => Promise<T>,
    options?: GuardedCallOptions,
  ): Promise<T>;
  readonly registry: BreakerRegistryView;
}

/** One breaker as listed by the registry. */
export interface BreakerInfo {
  tenantId: TenantId;
  vendor: BreakerVendor;
  state: BreakerStateName;
  consecutiveFailures: number;
  /** Epoch ms when it last opened, or null. */
  openedAt: number | null;
}

/** The read side of the breaker registry, for the runner, the CLI and the library API. */
export interface BreakerRegistryView {
  /** Every transition (tenant, vendor, from, to, at, reason) as it happens. */
  readonly transitions$: Observable<BreakerTransition>;
  /** Every breaker created so far, with its state as of now (the injected clock). */
  list(): BreakerInfo[];
}
