import type { PartnerMapStore } from '../../src/domain/odoo.js';
import type { TenantId } from '../../src/domain/vendor.js';

/**
 * An in-memory {@link PartnerMapStore} for tests. Same semantics as the
 * PostgreSQL store (partnerMapPg.ts); entries live as long as the object.
 */
export function createMemoryPartnerMap(): PartnerMapStore & { size(): number; clear(): void } {
  const rows = new Map<string, number>();
  const prefix = (tenantId: TenantId, companyId: number, targetKey: string): string => JSON.stringify([tenantId, companyId, targetKey]);
  const key = (tenantId: TenantId, companyId: number, targetKey: string, contactKey: string): string =>
    `${prefix(tenantId, companyId, targetKey)}\u0000${contactKey}`;
  return {
    async getCompany(tenantId, companyId, targetKey) {
      return rows.get(key(tenantId, companyId, targetKey, '')) ?? null;
    },
    async getContacts(tenantId, companyId, targetKey) {
      const start = `${prefix(tenantId, companyId, targetKey)}\u0000`;
      const out = new Map<string, number>();
      for (const [k, v] of rows) if (k.startsWith(start) && k.length > start.length) out.set(k.slice(start.length), v);
      return out;
    },
    async putCompany(tenantId, companyId, targetKey, partnerId) {
      rows.set(key(tenantId, companyId, targetKey, ''), partnerId);
    },
    async putContact(tenantId, companyId, targetKey, contactKey, partnerId) {
      rows.set(key(tenantId, companyId, targetKey, contactKey), partnerId);
    },
    async forget(tenantId, companyId, targetKey) {
      const start = `${prefix(tenantId, companyId, targetKey)}\u0000`;
      for (const k of [...rows.keys()]) if (k.startsWith(start)) rows.delete(k);
    },
    size: () => rows.size,
    clear: () => rows.clear(),
  };
}
