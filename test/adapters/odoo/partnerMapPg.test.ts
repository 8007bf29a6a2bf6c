import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPgPartnerMap } from '../../../src/adapters/odoo/partnerMapPg.js';
import { createTestDatabase } from '../../support/database.js';

/** The PostgreSQL partner map on a fresh database (on the tests' server) with migrations/002_odoo.sql applied. */
let pool: pg.Pool;
let db: { url: string; drop(): Promise<void> };

beforeAll(async () => {
  db = await createTestDatabase(inject('databaseAdminUrl'));
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  // The one table 002 references; persistence's 001 owns the real one.
  await pool.query('CREATE TABLE companies (tenant_id bigint NOT NULL, company_id bigint NOT NULL, PRIMARY KEY (tenant_id, company_id))');
  await pool.query(await readFile(new URL('../../../migrations/002_odoo.sql', import.meta.url), 'utf8'));
  await pool.query('INSERT INTO companies VALUES (1, 10), (1, 11), (2, 10)');
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('PostgreSQL partner map', () => {
  it('stores, upserts, separates tenants and targets, and forgets', async () => {
    const store = createPgPartnerMap(pool);
    expect(await store.getCompany(1, 10, 'T')).toBeNull();
    await store.putCompany(1, 10, 'T', 100);
    await store.putCompany(1, 10, 'T', 101);
    await store.putCompany(2, 10, 'T', 200);
    await store.putContact(1, 10, 'T', 'email:a@x', 102);
    await store.putContact(1, 10, 'U', 'email:a@x', 900);
    expect(await store.getCompany(1, 10, 'T')).toBe(101);
    expect(await store.getCompany(2, 10, 'T')).toBe(200);
    expect(await store.getCompany(1, 10, 'U')).toBeNull();
    expect([...(await store.getContacts(1, 10, 'T'))]).toEqual([['email:a@x', 102]]);
    await store.forget(1, 10, 'T');
    expect(await store.getCompany(1, 10, 'T')).toBeNull();
    expect((await store.getContacts(1, 10, 'T')).size).toBe(0);
    expect(await store.getCompany(1, 10, 'U')).toBeNull();
    expect((await store.getContacts(1, 10, 'U')).get('email:a@x')).toBe(900);
  });

  it('refuses a mapping for a company that does not exist, and follows its deletion', async () => {
    const store = createPgPartnerMap(pool);
    await expect(store.putCompany(1, 99, 'T', 5)).rejects.toThrow(/foreign key/);
    await store.putCompany(1, 11, 'T', 7);
    await pool.query('DELETE FROM companies WHERE tenant_id = 1 AND company_id = 11');
    expect(await store.getCompany(1, 11, 'T')).toBeNull();
  });
});
