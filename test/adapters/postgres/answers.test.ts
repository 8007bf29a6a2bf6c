/** vendor_answers (migration 010): stored paid answers, per tenant and request, read back younger than a time. */
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createAnswerStore } from '../../../src/adapters/postgres/answers.js';

describe('the stored answers on PostgreSQL', () => {
  const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  afterAll(async () => {
    await pool.end();
  });

  it('stores an answer with its time and cost, replaces it, and reads it back only when young enough', async () => {
    const store = createAnswerStore(pool);
    const key = `k${process.pid}${Date.now()}`;
    const t = Date.UTC(2026, 10, 1, 12);
    expect(await store.get(9101, 'lusha', 'v3/contacts', key, 0)).toBeNull();
    await store.put(9101, 'lusha', 'v3/contacts', key, { value: [{ fullName: 'Ada L', email: 'ada@x.test\u0000' }], fetchedAt: t, costUsd: 0.2 });
    expect(await store.get(9101, 'lusha', 'v3/contacts', key, t - 1)).toEqual({ value: [{ fullName: 'Ada L', email: 'ada@x.test' }], fetchedAt: t, costUsd: 0.2 });
    expect(await store.get(9101, 'lusha', 'v3/contacts', key, t + 1)).toBeNull(); // older than asked
    expect(await store.get(9102, 'lusha', 'v3/contacts', key, 0)).toBeNull(); // another tenant's
    expect(await store.get(9101, 'apify_linkedin', 'v3/contacts', key, 0)).toBeNull();
    await store.put(9101, 'lusha', 'v3/contacts', key, { value: [], fetchedAt: t + 1000, costUsd: 0 });
    expect(await store.get(9101, 'lusha', 'v3/contacts', key, t + 1)).toEqual({ value: [], fetchedAt: t + 1000, costUsd: 0 });
  });
});
