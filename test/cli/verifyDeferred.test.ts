import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { configFrom } from '../../src/config/index.js';
import { createZeroBounceClient } from '../../src/adapters/zerobounce.js';
import { createDeferredContactsStore } from '../../src/adapters/postgres/contacts.js';
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
    await pool.query('DELETE FROM breaker_transitions');
    const rows = ['one', 'two', 'three', 'four'].map((n) => `(7, 1, '${n}@a.example', 'crawler', 'unknown')`);
    await pool.query(`INSERT INTO contacts (tenant_id, company_id, email, source, email_status) VALUES ${rows.join(', ')},
      (7, 1, 'valid@a.example', 'crawler', 'valid'), (8, 1, 'other@b.example', 'crawler', 'unknown')`);
  });

  const setup = () => {
    const config = configFrom({ ...sim.overrides, RETRY_BASE_DELAY_MS: '1', RETRY_MAX_DELAY_MS: '5', CB_ERROR_THRESHOLD: '2' });
    const guard = createGuardedCaller({ config, clock });
    return { store: createDeferredContactsStore(pool), guard, verifier: createZeroBounceClient(config) };
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

  /** `lead-enrich verify-deferred --tenant <id>` in this process, configured through its environment. */
  async function cli(tenantId: number): Promise<{ code: number; stdout: string }> {
    const env = { ...sim.overrides, DATABASE_URL: db.url, LOG_LEVEL: 'silent', RETRY_BASE_DELAY_MS: '1', RETRY_MAX_DELAY_MS: '5', CB_ERROR_THRESHOLD: '2' };
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write);
    try {
      const code = await main(['node', 'lead-enrich', 'verify-deferred', '--tenant', String(tenantId)]);
      return { code, stdout: out.join('') };
    } finally {
      vi.restoreAllMocks();
      vi.unstubAllEnvs();
    }
  }

  it('the command persists the transitions of the breaker it opens, outside any run', async () => {
    sim.setProfile('zerobounce', 'server_error');
    const r = await cli(7);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('tenant 7: 4 deferred, 0 verified, 4 still deferred (ZeroBounce breaker open');
    const rows = await pool.query('SELECT tenant_id, vendor, from_state, to_state, reason, run_id FROM breaker_transitions ORDER BY id');
    expect(rows.rows).toEqual([{ tenant_id: 7, vendor: 'zerobounce', from_state: 'closed', to_state: 'open', reason: 'threshold', run_id: null }]);
  });

  it('the command respects a breaker a run left open: no request, every address stays deferred', async () => {
    // A run's ZeroBounce breaker opened a moment ago (CB_COOL_OFF_S is 300 s); the vendor is fine by now.
    await pool.query(`INSERT INTO breaker_transitions (tenant_id, vendor, from_state, to_state, at, reason) VALUES (7, 'zerobounce', 'closed', 'open', now(), 'threshold')`);
    const r = await cli(7);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('tenant 7: 4 deferred, 0 verified, 4 still deferred (ZeroBounce breaker open');
    expect(sim.calls('zerobounce')).toBe(0);
    expect((await statuses(7)).filter((s) => s === 'unknown')).toHaveLength(4);
  });
});

