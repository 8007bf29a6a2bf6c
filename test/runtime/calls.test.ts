/**
 * The runtime's `calls$`: every vendor attempt, retry and breaker refusal, of every run and
 * `enrich`, as the guarded call makes them — the seam the metrics of the operators' window read.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configFrom, createRuntime, type Company, type Config, type GuardEvent } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { createTestDatabase } from '../support/database.js';

const company = (companyId: number): Company => ({ tenantId: 411, companyId, name: `Calls Co ${companyId}`, domain: `rich-calls-${companyId}.example` });

describe("the runtime's calls$ (real PostgreSQL, simulated vendors)", () => {
  let sim: Simulator;
  let db: { url: string; drop(): Promise<void> };
  let config: Config;

  beforeAll(async () => {
    [sim, db] = await Promise.all([startSimulator({ seed: 9 }), createTestDatabase(inject('databaseAdminUrl'))]);
    config = configFrom({ ...sim.overrides, DATABASE_URL: db.url, LOG_LEVEL: 'silent', RETRY_MAX_ATTEMPTS: '2', RETRY_BASE_DELAY_MS: '1', RETRY_MAX_DELAY_MS: '2', CB_ERROR_THRESHOLD: '1', CB_COOL_OFF_S: '600', ENABLE_LUSHA_FALLBACK: 'false' });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  it('reports each attempt with its outcome and kind, each retry, and each refusal', async () => {
    sim.setProfile('apify_linkedin', 'server_error');
    const runtime = await createRuntime(config);
    const seen: GuardEvent[] = [];
    const subscription = runtime.calls$.subscribe((e) => seen.push(e));
    try {
      await runtime.enrich(company(1)); // Apify fails twice (one retry), the breaker opens
      await runtime.enrich(company(2)); // refused: no request
    } finally {
      subscription.unsubscribe();
      await runtime.close();
    }
    const apify = seen.filter((e) => e.vendor === 'apify_linkedin');
    expect(apify.map((e) => [e.type, 'ok' in e ? e.ok : null, 'kind' in e ? e.kind : null])).toEqual([
      ['attempt', false, 'server'],
      ['retry', null, 'server'],
      ['attempt', false, 'server'],
      ['refused', null, null],
    ]);
    expect(sim.calls('apify_linkedin')).toBe(2);
    // Every other vendor of the chain answered: attempts that succeeded.
    expect(seen.filter((e) => e.type === 'attempt' && e.vendor === 'crawler' && e.ok)).toHaveLength(2);
    expect(seen.every((e) => e.tenantId === 411)).toBe(true);
  });
});
