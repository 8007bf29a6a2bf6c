/**
 * The fleet's breakers with real worker processes (issue 13 item 5): a vendor down throughout
 * costs three workers no more than it costs one process of the same total concurrency — one
 * closed→open transition for the fleet, a first wave within one process's bound
 * ((CB_ERROR_THRESHOLD + concurrency − 1) × RETRY_MAX_ATTEMPTS), then one request per probe, the
 * probes at least a cool-off apart.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, spawnCli } from './support/cli.js';
import { useDatabase, useWorld, companiesCsv, type World } from './support/world.js';

const db = useDatabase();
const world = useWorld(() => db.url());

beforeAll(async () => {
  await ensureBuilt();
}, 120_000);

const N = 30;
const THRESHOLD = 3;
const ATTEMPTS = 2;
const TOTAL_CONCURRENCY = 6;
const ENV = {
  COMPANY_DEADLINE_MS: '5000', SHUTDOWN_GRACE_MS: '1000', FLEET_MAINTENANCE_S: '1', FLEET_POLL_MS: '100', FLEET_EXPORT_CHUNK: '10',
  CB_ERROR_THRESHOLD: String(THRESHOLD), RETRY_MAX_ATTEMPTS: String(ATTEMPTS), CB_COOL_OFF_S: '1', ENABLE_LUSHA_FALLBACK: 'false',
};

interface Outage { requests: number; openings: number; probeTimes: number[] }

/** Runs N companies of `tenantId` with `workers` workers of `concurrency` each; what Apify saw and what the breaker did. */
async function outage(w: World, tenantId: number, workers: number, concurrency: number): Promise<Outage> {
  const env = w.env(ENV);
  w.sim.reset();
  const input = w.file(`outage-${tenantId}.csv`, companiesCsv(N, `outage${tenantId}`));
  const queued = await runCli(['run', '--tenant', String(tenantId), '--input', input, '--enqueue-only'], env);
  expect(queued.code, queued.stderr).toBe(0);
  const children = Array.from({ length: workers }, () => spawnCli(['worker', '--concurrency', String(concurrency), '--until-idle'], env));
  for (const e of await Promise.all(children.map((c) => c.exited))) expect(e.code, e.stderr).toBe(0);
  const { rows } = await db.pool().query<{ from_state: string; to_state: string; at_ms: number }>(
    `SELECT from_state, to_state, (extract(epoch FROM at) * 1000)::float8 AS at_ms FROM breaker_transitions WHERE tenant_id = $1 AND vendor = 'apify_linkedin' ORDER BY at, id`,
    [tenantId],
  );
  const { rows: status } = await db.pool().query<{ status: string }>('SELECT status FROM enrichment_runs WHERE run_id = $1', [Number(queued.stdout.trim())]);
  expect(status[0]?.status).toBe('completed');
  return {
    requests: w.sim.calls('apify_linkedin'),
    openings: rows.filter((r) => r.from_state === 'closed' && r.to_state === 'open').length,
    probeTimes: rows.filter((r) => r.to_state === 'halfOpen').map((r) => r.at_ms),
  };
}

describe('shared breakers across worker processes', () => {
  it('three workers and Apify down throughout: one opening for the fleet, the first wave of one process, then one request per probe', async () => {
    const w = await world({ latencyMs: 80, profiles: { apify_linkedin: 'server_error' } });
    const firstWaveBound = (THRESHOLD + TOTAL_CONCURRENCY - 1) * ATTEMPTS;

    const fleet = await outage(w, 311, 3, TOTAL_CONCURRENCY / 3);
    const single = await outage(w, 312, 1, TOTAL_CONCURRENCY);
    console.info(`Apify requests with Apify down: 3 workers ${fleet.requests} (${fleet.probeTimes.length} probes), 1 process ${single.requests} (${single.probeTimes.length} probes); first-wave bound ${firstWaveBound}`);

    for (const o of [fleet, single]) {
      expect(o.openings).toBe(1);
      // After the first wave, a request only as a probe, and probes a cool-off apart.
      expect(o.requests).toBeLessThanOrEqual(firstWaveBound + o.probeTimes.length);
      for (let i = 1; i < o.probeTimes.length; i++) expect(o.probeTimes[i]! - o.probeTimes[i - 1]!).toBeGreaterThanOrEqual(1000 - 1);
    }
    // Without shared breakers each of the three would open its own and make its own first wave.
    expect(fleet.requests - fleet.probeTimes.length).toBeLessThanOrEqual(firstWaveBound);
  }, 180_000);
});
