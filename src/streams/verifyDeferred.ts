import type pg from 'pg';
import type { EmailVerifierPort, TenantId } from '../domain/index.js';
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
export async function verifyDeferred(deps: { pool: pg.Pool; guard: GuardedCaller; verifier: EmailVerifierPort }, tenantId: TenantId): Promise<VerifyDeferredResult> {
  const { rows } = await deps.pool.query<{ contact_id: string; email: string }>(
    `SELECT contact_id, email FROM contacts WHERE tenant_id = $1 AND email_status = 'unknown' AND email IS NOT NULL ORDER BY contact_id`,
    [tenantId],
  );
  const result: VerifyDeferredResult = { deferred: rows.length, verified: 0, stillDeferred: 0, circuitOpen: false };
  for (const row of rows) {
    if (result.circuitOpen) {
      result.stillDeferred += 1;
      continue;
    }
    try {
      const v = await deps.guard.call(tenantId, 'zerobounce', (signal) => deps.verifier.verify(row.email, signal));
      await deps.pool.query(`UPDATE contacts SET email_status = $2, email_sub_status = $3, verified_at = now(), updated_at = now() WHERE contact_id = $1`, [
        row.contact_id,
        v.status,
        v.subStatus,
      ]);
      result.verified += 1;
    } catch (error) {
      if (isCircuitOpenError(error)) result.circuitOpen = true;
      else if (!isVendorError(error)) throw error;
      result.stillDeferred += 1;
    }
  }
  return result;
}
