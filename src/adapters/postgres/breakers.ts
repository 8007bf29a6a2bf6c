import type pg from 'pg';
import type { BreakerStateName, BreakerVendor, LastBreakerTransition } from '../../domain/index.js';

interface Row {
  tenant_id: number;
  vendor: string;
  to_state: BreakerStateName;
  at_ms: number;
  opened_at_ms: number | null;
}

/**
 * The last persisted transition of every (tenant, vendor) breaker that it left open or half-open
 * (breakers whose last transition closed them need nothing at start-up), with the time of its last
 * opening: its last transition whose reason is one of `openingReasons` (the reasons that start a
 * cool-off). "Last" is by `at`, then by id (two transitions may share a millisecond; they are
 * written in order). Scans breaker_transitions once, plus one index probe per breaker returned.
 *
 * @throws the driver's error
 */
export async function lastOpenBreakerTransitions(pool: pg.Pool, openingReasons: readonly string[]): Promise<LastBreakerTransition[]> {
  const { rows } = await pool.query<Row>(
    `WITH last AS (
       SELECT DISTINCT ON (tenant_id, vendor) tenant_id, vendor, to_state, at
       FROM breaker_transitions
       ORDER BY tenant_id, vendor, at DESC, id DESC
     )
     SELECT l.tenant_id, l.vendor, l.to_state, (extract(epoch FROM l.at) * 1000)::float8 AS at_ms,
            (extract(epoch FROM o.at) * 1000)::float8 AS opened_at_ms
     FROM last l
     LEFT JOIN LATERAL (
       SELECT t.at FROM breaker_transitions t
       WHERE t.tenant_id = l.tenant_id AND t.vendor = l.vendor AND t.to_state = 'open' AND t.reason = ANY($1::text[])
       ORDER BY t.at DESC, t.id DESC
       LIMIT 1
     ) o ON true
     WHERE l.to_state <> 'closed'
     ORDER BY l.tenant_id, l.vendor`,
    [openingReasons],
  );
  return rows.map((r) => ({
    tenantId: r.tenant_id,
    vendor: r.vendor as BreakerVendor,
    state: r.to_state,
    at: Math.round(r.at_ms),
    openedAt: r.opened_at_ms === null ? null : Math.round(r.opened_at_ms),
  }));
}
