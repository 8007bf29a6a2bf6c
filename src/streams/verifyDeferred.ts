import type { DeferredContactsStore, EmailVerifierPort, TenantId } from '../domain/index.js';
import { isCircuitOpenError, isVendorError } from '../domain/errors.js';
import type { GuardedCaller } from './guard.types.js';

/** What `verify-deferred` did. */
export interface VerifyDeferredResult {
  /** Addresses marked `unknown` (deferred) when it started. */
  deferred: number;
  verified: number;
  /** Still `unknown`: the call failed, or the breaker refused it. */
  stillDeferred: number;
  /** The ZeroBounce breaker refused a call; the remaining addresses were left for later. */
  circuitOpen: boolean;
}

/**
 * Re-verifies a tenant's deferred addresses (contacts.email_status = 'unknown', recorded with
 * ZEROBOUNCE_DEFER) through the guarded ZeroBounce port, one at a time, and stores each outcome.
 * Stops at the first refusal by the open breaker: the rest stay deferred for the next attempt.
 */
export async function verifyDeferred(deps: { store: DeferredContactsStore; guard: GuardedCaller; verifier: EmailVerifierPort }, tenantId: TenantId): Promise<VerifyDeferredResult> {
  const rows = await deps.store.deferred(tenantId);
  const result: VerifyDeferredResult = { deferred: rows.length, verified: 0, stillDeferred: 0, circuitOpen: false };
  for (const row of rows) {
    if (result.circuitOpen) {
      result.stillDeferred += 1;
      continue;
    }
    try {
      const v = await deps.guard.call(tenantId, 'zerobounce', (signal) => deps.verifier.verify(row.email, signal));
      await deps.store.recordVerdict(row.contactId, { status: v.status, subStatus: v.subStatus });
      result.verified += 1;
    } catch (error) {
      if (isCircuitOpenError(error)) result.circuitOpen = true;
      else if (!isVendorError(error)) throw error;
      result.stillDeferred += 1;
    }
  }
  return result;
}
