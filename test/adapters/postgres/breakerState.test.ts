/**
 * breaker_state on real PostgreSQL (adapters/postgres/breakerState.ts): updates of one row are
 * serialised whatever their number and source, a write is announced to a listener of another
 * pool, a step that changes nothing writes and announces nothing, and a listener whose connection
 * is terminated listens again and reports the gap.
 */
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../../src/adapters/logger.js';
import { createBreakerStateStore } from '../../../src/adapters/postgres/breakerState.js';
import type { SharedBreakerFields, SharedBreakerState } from '../../../src/domain/index.js';

const closed: SharedBreakerFields = { state: 'closed', consecutiveFailures: 0, openedAt: null, probeId: 0, probeStartedAt: null, probeOwner: null, probeLeaseUntil: null, reason: null };
const logger = createLogger({ level: 'silent' });
const T = Date.UTC(2026, 3, 1, 10, 0, 0, 123);

/** Resolves once `check` holds, polling every 5 ms; fails after `ms` (a bound, not a wait). */
async function eventually(check: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('the breaker_state store', () => {
  const poolA = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
  const appName = `breaker-state-test-${process.pid}`;
  const poolB = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4, application_name: appName });
  const a = createBreakerStateStore(poolA, { logger, reconnectMs: 10 });
  const b = createBreakerStateStore(poolB, { logger, reconnectMs: 10 });
  afterAll(async () => {
    await Promise.all([poolA.end(), poolB.end()]);
  });

  it('serialises updates of one row from two pools: 40 increments make 40, and 40 generations', async () => {
    const bump = (current: SharedBreakerState): SharedBreakerFields => ({ ...current, consecutiveFailures: current.consecutiveFailures + 1 });
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).update(5201, 'tavily', closed, bump)));
    const row = (await a.all()).find((r) => r.tenantId === 5201 && r.vendor === 'tavily');
    expect(row).toMatchObject({ consecutiveFailures: 40, generation: 40, state: 'closed' });
  });

  it('keeps times to the millisecond, and a step that returns null writes nothing', async () => {
    const written = await a.update(5202, 'lusha', closed, (c) => ({ ...c, state: 'halfOpen', openedAt: T, probeId: 3, probeStartedAt: T + 1, probeOwner: 'w1', probeLeaseUntil: T + 2, reason: 'cool_off_elapsed' }));
    expect(written).toEqual({ wrote: true, state: { tenantId: 5202, vendor: 'lusha', state: 'halfOpen', consecutiveFailures: 0, openedAt: T, probeId: 3, probeStartedAt: T + 1, probeOwner: 'w1', probeLeaseUntil: T + 2, reason: 'cool_off_elapsed', generation: 1 } });
    const unchanged = await b.update(5202, 'lusha', closed, () => null);
    expect(unchanged).toEqual({ wrote: false, state: written.state });
  });

  it('announces each write to a listener on another pool, with the row as written', async () => {
    const heard: SharedBreakerState[] = [];
    const listener = await b.listen((s) => s.tenantId === 5203 && heard.push(s), () => undefined);
    try {
      await a.update(5203, 'openai', closed, (c) => ({ ...c, state: 'open', consecutiveFailures: 3, openedAt: T, reason: 'threshold' }));
      await a.update(5203, 'openai', closed, () => null);
      await eventually(() => heard.length >= 1);
      expect(heard).toEqual([{ tenantId: 5203, vendor: 'openai', state: 'open', consecutiveFailures: 3, openedAt: T, probeId: 0, probeStartedAt: null, probeOwner: null, probeLeaseUntil: null, reason: 'threshold', generation: 1 }]);
    } finally {
      await listener.close();
    }
  });

  it('a listener whose connection is terminated listens again, reports the gap, and hears later writes', async () => {
    const heard: number[] = [];
    let gaps = 0;
    const listener = await b.listen((s) => s.tenantId === 5204 && heard.push(s.generation), () => (gaps += 1));
    try {
      expect(gaps).toBe(1); // the first connection
      // Only this test's listening connection (its pool's name), not another test's.
      const { rows } = await poolA.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN lead_enrich_breaker%'`, [appName]);
      expect(rows).toEqual([{ ok: true }]);
      await eventually(() => gaps >= 2);
      await a.update(5204, 'zerobounce', closed, (c) => ({ ...c, consecutiveFailures: 1 }));
      await eventually(() => heard.includes(1));
    } finally {
      await listener.close();
    }
  });
});
