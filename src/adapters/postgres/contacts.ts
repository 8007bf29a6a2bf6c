import type { Queryable } from './reconnect.js';
import type { DeferredContactsStore } from '../../domain/index.js';

/**
 * The contacts queries of `verify-deferred`: a tenant's addresses whose verification was deferred
 * (`email_status = 'unknown'`), and the verdict stored for one of them.
 */
export function createDeferredContactsStore(pool: Pick<Queryable, 'query'>): DeferredContactsStore {
  return {
    async deferred(tenantId) {
      const { rows } = await pool.query<{ contact_id: string; email: string }>(
        `SELECT contact_id, email FROM contacts WHERE tenant_id = $1 AND email_status = 'unknown' AND email IS NOT NULL ORDER BY contact_id`,
        [tenantId],
      );
      return rows.map((r) => ({ contactId: r.contact_id, email: r.email }));
    },
    async recordVerdict(contactId, verdict) {
      await pool.query(`UPDATE contacts SET email_status = $2, email_sub_status = $3, verified_at = now(), updated_at = now() WHERE contact_id = $1`, [
        contactId,
        verdict.status,
        verdict.subStatus,
      ]);
    },
  };
}
