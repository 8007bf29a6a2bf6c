/**
 * lastOpenBreakerTransitions: what a start-up reads back from breaker_transitions (real PostgreSQL).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { lastOpenBreakerTransitions } from '../../../src/adapters/postgres/breakers.js';
import { OPENING_REASONS } from '../../../src/machines/breaker.machine.js';

const T = Date.UTC(2026, 3, 1, 10); // whole milliseconds, as the clock stamps them
const TENANTS = [5101, 5102, 5103, 5104];

describe('lastOpenBreakerTransitions', () => {
  const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  afterAll(async () => {
    await pool.end();
  });

  /** Inserts transitions in the order given (ids ascending); `at` in ms after T. */
  const insert = async (tenantId: number, vendor: string, rows: [from: string, to: string, atMs: number, reason: string][]) => {
    for (const [from, to, at, reason] of rows) {
      await pool.query('INSERT INTO breaker_transitions (tenant_id, vendor, from_state, to_state, at, reason) VALUES ($1, $2, $3, $4, to_timestamp($5 / 1000.0), $6)', [
        tenantId, vendor, from, to, T + at, reason,
      ]);
    }
  };

  beforeAll(async () => {
    await pool.query(`INSERT INTO tenants (tenant_id, name) SELECT t, 't' || t FROM unnest($1::int[]) AS t ON CONFLICT DO NOTHING`, [TENANTS]);
    // Open again after an abandoned probe: its opening is the failed probe, not the abandonment.
    await insert(5101, 'tavily', [
      ['closed', 'open', 1, 'threshold'],
      ['open', 'halfOpen', 60_001, 'cool_off_elapsed'],
      ['halfOpen', 'open', 60_123, 'probe_failed'],
      ['open', 'halfOpen', 120_200, 'cool_off_elapsed'],
      ['halfOpen', 'open', 120_250, 'probe_abandoned'],
    ]);
    // Closed by its probe: nothing to restore.
    await insert(5101, 'openai', [
      ['closed', 'open', 5, 'threshold'],
      ['open', 'halfOpen', 60_005, 'cool_off_elapsed'],
      ['halfOpen', 'closed', 60_006, 'probe_succeeded'],
    ]);
    // Half-open when its process died; a restored transition at a later start does not move its opening.
    await insert(5102, 'lusha', [
      ['closed', 'open', 7, 'threshold'],
      ['open', 'halfOpen', 60_007, 'cool_off_elapsed'],
    ]);
    await insert(5103, 'lusha', [
      ['closed', 'open', 7, 'threshold'],
      ['open', 'halfOpen', 60_007, 'cool_off_elapsed'],
      ['halfOpen', 'open', 90_000, 'restored'],
    ]);
    // Closed and opened again within one millisecond: the later row (by id) is the last.
    await insert(5104, 'zerobounce', [
      ['closed', 'open', 0, 'threshold'],
      ['open', 'halfOpen', 60_000, 'cool_off_elapsed'],
      ['halfOpen', 'closed', 60_010, 'probe_succeeded'],
      ['closed', 'open', 60_010, 'threshold'],
    ]);
    // The opposite order: opened, then closed in the same millisecond.
    await insert(5104, 'apify_linkedin', [
      ['closed', 'open', 0, 'threshold'],
      ['open', 'halfOpen', 60_000, 'cool_off_elapsed'],
      ['halfOpen', 'closed', 60_000, 'probe_succeeded'],
    ]);
  });

  it('returns each breaker left open or half-open, with its last transition and its last opening', async () => {
    const rows = (await lastOpenBreakerTransitions(pool, OPENING_REASONS)).filter((r) => TENANTS.includes(r.tenantId));
    expect(rows).toEqual([
      { tenantId: 5101, vendor: 'tavily', state: 'open', at: T + 120_250, openedAt: T + 60_123 },
      { tenantId: 5102, vendor: 'lusha', state: 'halfOpen', at: T + 60_007, openedAt: T + 7 },
      { tenantId: 5103, vendor: 'lusha', state: 'open', at: T + 90_000, openedAt: T + 7 },
      { tenantId: 5104, vendor: 'zerobounce', state: 'open', at: T + 60_010, openedAt: T + 60_010 },
    ]);
  });

  it('without an opening among the given reasons, openedAt is null', async () => {
    const rows = (await lastOpenBreakerTransitions(pool, ['no_such_reason'])).filter((r) => r.tenantId === 5102);
    expect(rows).toEqual([{ tenantId: 5102, vendor: 'lusha', state: 'halfOpen', at: T + 60_007, openedAt: null }]);
  });
});
