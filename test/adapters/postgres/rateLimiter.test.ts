/**
 * The PostgreSQL rate limiter (rate-limiter-flexible's RateLimiterPostgres on vendor_rate_limits,
 * migration 010): two limiters on two pools, as two processes would be, share one vendor's window;
 * a Retry-After back-off is seen by both; a switching limiter moves to the database when shared.
 */
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createPgRateLimiter, createSwitchingRateLimiter } from '../../../src/adapters/rateLimiter.js';

/** Keys of this file's own: other test files may share the vendors' windows of this database. */
const P = `t${randomBytes(4).toString('hex')}`;
const opts = { keyPrefix: P };

describe('RateLimiterPostgres on vendor_rate_limits', () => {
  const a = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  const b = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  afterAll(async () => {
    await Promise.all([a.end(), b.end()]);
  });

  it('two limiters on the same database share one window', async () => {
    const rates = { lusha: { points: 5, durationS: 60 } };
    const one = createPgRateLimiter(a, rates, opts);
    const two = createPgRateLimiter(b, rates, opts);
    const taken = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? one : two).take('lusha')));
    expect(taken.filter((ms) => ms === 0)).toHaveLength(5);
    for (const ms of taken.filter((x) => x > 0)) expect(ms).toBeGreaterThan(50_000);
    const { rows } = await a.query<{ points: number }>(`SELECT points FROM vendor_rate_limits WHERE key = $1`, [`${P}_lusha:lusha`]);
    expect(rows[0]!.points).toBe(8);
    expect(one.limits('lusha')).toBe(true);
    expect(one.limits('tavily')).toBe(false);
    expect(await one.take('tavily')).toBe(0);
  });

  it("a back-off (a 429's Retry-After) holds every process's turns", async () => {
    const rates = { zerobounce: { points: 1000, durationS: 1 } };
    const one = createPgRateLimiter(a, rates, opts);
    const two = createPgRateLimiter(b, rates, opts);
    expect(await two.take('zerobounce')).toBe(0);
    await one.backOff('zerobounce', 7_000);
    const wait = await two.take('zerobounce');
    expect(wait).toBeGreaterThan(6_000);
    expect(wait).toBeLessThanOrEqual(7_000);
  });

  it('the switching limiter starts in memory and moves to the database once shared', async () => {
    const rates = { openai: { points: 1, durationS: 60 } };
    const limiter = createSwitchingRateLimiter(rates, () => a, opts);
    expect(await limiter.take('openai')).toBe(0);
    const { rows: before } = await a.query(`SELECT * FROM vendor_rate_limits WHERE key = $1`, [`${P}_openai:openai`]);
    expect(before).toEqual([]);
    limiter.share();
    expect(limiter.shared).toBe(true);
    expect(await limiter.take('openai')).toBe(0);
    expect(await createPgRateLimiter(b, rates, opts).take('openai')).toBeGreaterThan(0);
  });

  it('when the database does not answer, the memory insurance limits the calls', async () => {
    const dead = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', connectionTimeoutMillis: 200 });
    try {
      const limiter = createPgRateLimiter(dead, { tavily: { points: 2, durationS: 60 } });
      const taken = [await limiter.take('tavily'), await limiter.take('tavily'), await limiter.take('tavily')];
      expect(taken.slice(0, 2)).toEqual([0, 0]);
      expect(taken[2]).toBeGreaterThan(0);
    } finally {
      await dead.end();
    }
  });
});
