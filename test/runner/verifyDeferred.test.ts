import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { configFrom } from '../../src/config/index.js';
import { createZeroBounceClient } from '../../src/adapters/zerobounce.js';
import { migrate } from '../../src/adapters/postgres/migrate.js';
import { createGuardedCaller } from '../../src/streams/guardedCall.js';
import { verifyDeferred } from '../../src/streams/verifyDeferred.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { createTestDatabase } from '../support/database.js';

describe('verify-deferred', () => {
  let sim: Simulator;
  let pool: pg.Pool;
  let db: { url: string; drop(): Promise<void> };
  const now = 1_000_000;
  const clock = { now: () => now };

  beforeAll(async () => {
    sim = await startSimulator({ seed: 3 });
    db = await createTestDatabase(inject('databaseAdminUrl'));
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await migrate(pool);
    await pool.query(`INSERT INTO tenants (tenant_id, name) VALUES (7, 't7'), (8, 't8')`);
    await pool.query(`INSERT INTO companies (tenant_id, company_id, name, domain) VALUES (7, 1, 'A', 'a.example'), (8, 1, 'B', 'b.example')`);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
    await sim.close();
  });
  beforeEach(async () => {
    sim.reset();
    await pool.query('DELETE FROM contacts');
    const rows = ['one', 'two', 'three', 'four'].map((n) => `(7, 1, '${n}@a.example', 'crawler', 'unknown')`);
    await pool.query(`INSERT INTO contacts (tenant_id, company_id, email, source, email_status) VALUES ${rows.join(', ')},
      (7, 1, 'valid@a.example', 'crawler', 'valid'), (8, 1, 'other@b.example', 'crawler', 'unknown')`);
  });

  const setup = () => {
    const config = configFrom({ ...sim.overrides, RETRY_BASE_DELAY_MS: '1', RETRY_MAX_DELAY_MS: '5', CB_ERROR_THRESHOLD: '2' });
    const guard = createGuardedCaller({ config, clock });
    return { pool, guard, verifier: createZeroBounceClient(config) };
  };
  const statuses = async (tenant: number) =>
    (await pool.query<{ email_status: string }>('SELECT email_status FROM contacts WHERE tenant_id = $1 ORDER BY email', [tenant])).rows.map((r) => r.email_status);

  it('re-verifies only the tenant\'s deferred addresses and stores each outcome', async () => {
    const result = await verifyDeferred(setup(), 7);
    expect(result).toEqual({ deferred: 4, verified: 4, stillDeferred: 0, circuitOpen: false });
    expect(sim.calls('zerobounce')).toBe(4);
    expect(await statuses(8)).toEqual(['unknown']); // another tenant's address is untouched
    const verifiedAt = await pool.query('SELECT count(*)::int AS n FROM contacts WHERE tenant_id = 7 AND verified_at IS NOT NULL');
    expect(verifiedAt.rows[0].n).toBe(4);
  });

  it('leaves addresses deferred when ZeroBounce fails, and stops asking once its breaker opens', async () => {
    sim.setProfile('zerobounce', 'server_error');
    const result = await verifyDeferred(setup(), 7);
    expect(result.verified).toBe(0);
    expect(result.stillDeferred).toBe(4);
    expect(result.circuitOpen).toBe(true);
    // Two failed guarded calls (3 attempts each) open the breaker; the rest make no request.
    expect(sim.calls('zerobounce')).toBe(2 * 3);
    expect((await statuses(7)).filter((s) => s === 'unknown')).toHaveLength(4);
    const verifiedAt = await pool.query('SELECT count(*)::int AS n FROM contacts WHERE tenant_id = 7 AND verified_at IS NOT NULL');
    expect(verifiedAt.rows[0].n).toBe(0);
  });
});
