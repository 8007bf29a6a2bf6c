import type { PartnerMapStore } from '../../domain/odoo.js';

/**
 * The {@link PartnerMapStore} on PostgreSQL: table `odoo_partner_map` (migrations/002_odoo.sql).
 * Takes anything with pg's `query(text, values)` (a Pool or a client). Errors are pg's own: the
 * export treats the mapping as a cache and survives them.
 */

/** The part of `pg.Pool` / `pg.Client` the store uses. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

const UPSERT = `INSERT INTO odoo_partner_map (tenant_id, company_id, odoo_target, contact_key, partner_id)
  VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (tenant_id, company_id, odoo_target, contact_key)
  DO UPDATE SET partner_id = EXCLUDED.partner_id, updated_at = now()`;

/** Builds the store on `db`. */
export function createPgPartnerMap(db: PgQueryable): PartnerMapStore {
  return {
    async getCompany(tenantId, companyId, targetKey) {
      const { rows } = await db.query(
        `SELECT partner_id FROM odoo_partner_map WHERE tenant_id = $1 AND company_id = $2 AND odoo_target = $3 AND contact_key = ''`,
        [tenantId, companyId, targetKey],
      );
      return rows[0] ? Number(rows[0].partner_id) : null;
    },
    async getContacts(tenantId, companyId, targetKey) {
      const { rows } = await db.query(
        `SELECT contact_key, partner_id FROM odoo_partner_map WHERE tenant_id = $1 AND company_id = $2 AND odoo_target = $3 AND contact_key <> ''`,
        [tenantId, companyId, targetKey],
      );
      return new Map(rows.map((r) => [String(r.contact_key), Number(r.partner_id)]));
    },
    async putCompany(tenantId, companyId, targetKey, partnerId) {
      await db.query(UPSERT, [tenantId, companyId, targetKey, '', partnerId]);
    },
    async putContact(tenantId, companyId, targetKey, contactKey, partnerId) {
      if (contactKey === '') throw new RangeError('contact key must not be empty');
      await db.query(UPSERT, [tenantId, companyId, targetKey, contactKey, partnerId]);
    },
    async forget(tenantId, companyId, targetKey) {
      await db.query(`DELETE FROM odoo_partner_map WHERE tenant_id = $1 AND company_id = $2 AND odoo_target = $3`, [tenantId, companyId, targetKey]);
    },
  };
}
