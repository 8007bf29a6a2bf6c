/**
 * The fleet (issue 13): real `lead-enrich worker` processes on one real PostgreSQL against the
 * simulators and the fake Odoo. Leases are short here (COMPANY_DEADLINE_MS 3 s, grace 1 s: a job
 * comes back about 6 s after its worker died) and the queue's maintenance runs every second, so a
 * dead worker costs seconds, not minutes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, spawnCli, type CliChild } from './support/cli.js';
import { countRows, ids, resultRows, runsOf, waitFor } from './support/queries.js';
import { companiesCsv, partnerRefs, useDatabase, useWorld, type World } from './support/world.js';

const db = useDatabase();
const world = useWorld(() => db.url());

beforeAll(async () => {
  await ensureBuilt();
}, 120_000);

const N = 24;
const FLEET_ENV = { COMPANY_DEADLINE_MS: '3000', SHUTDOWN_GRACE_MS: '1000', FLEET_MAINTENANCE_S: '1', FLEET_POLL_MS: '100', FLEET_EXPORT_CHUNK: '5', RUN_CONCURRENCY: '2' };

/** Queues a run of N companies for `tenantId` and returns its id (printed alone on stdout). */
async function enqueue(w: World, tenantId: number, env: Record<string, string>): Promise<number> {
  const input = w.file(`fleet-${tenantId}.csv`, companiesCsv(N, `fleet${tenantId}`));
  const queued = await runCli(['run', '--tenant', String(tenantId), '--input', input, '--enqueue-only'], env);
  expect(queued.code, queued.stderr).toBe(0);
  expect(queued.stdout.trim()).toMatch(/^\d+$/);
  const runId = Number(queued.stdout.trim());
  expect((await runsOf(db.pool(), tenantId))[0]).toMatchObject({ runId, status: 'running' });
  return runId;
}

/** Every company of the run exactly once, in the database and in Odoo, and the run completed. */
async function expectExactlyOnce(w: World, runId: number, tenantId: number): Promise<void> {
  expect((await runsOf(db.pool(), tenantId))[0]?.status).toBe('completed');
  const rows = await resultRows(db.pool(), runId);
  expect(rows.map((r) => r.companyId)).toEqual(ids(N));
  expect(rows.filter((r) => r.exportStatus !== 'exported')).toEqual([]);
  const refs = partnerRefs(w, tenantId);
  expect(refs.sort()).toEqual(ids(N).map((i) => `lead-enrich:${tenantId}:${i}`).sort());
  // Stage rows and usage are written with the result that is recorded, so none twice.
  const repeated = await db.pool().query(
    `SELECT company_id, stage, event, count(*)::int AS n FROM run_event_logs WHERE run_id = $1 GROUP BY company_id, stage, event HAVING count(*) > 1`,
    [runId],
  );
  expect(repeated.rows).toEqual([]);
  const { rows: finalised } = await db.pool().query('SELECT phase, finished_at IS NOT NULL AS finished FROM enrichment_runs WHERE run_id = $1', [runId]);
  expect(finalised[0]).toEqual({ phase: 'done', finished: true });
}

const workers = (env: Record<string, string>, n: number, args: string[] = ['--until-idle']): CliChild[] => Array.from({ length: n }, () => spawnCli(['worker', '--concurrency', '2', ...args], env));

describe('lead-enrich worker', () => {
  it('run --enqueue-only, then two workers --until-idle: every company once, the run completed, both exit 0', async () => {
    const w = await world({ latencyMs: 5 });
    const env = w.env(FLEET_ENV);
    const runId = await enqueue(w, 301, env);
    expect(await countRows(db.pool(), runId)).toBe(0);
    const exits = await Promise.all(workers(env, 2).map((c) => c.exited));
    for (const e of exits) expect(e.code, e.stderr).toBe(0);
    await expectExactlyOnce(w, runId, 301);
    // The run's report is what `run` prints: every worker's companies counted.
    const report = await runCli(['report', '--run', String(runId), '--json'], env);
    expect(report.code, report.stderr).toBe(0);
    expect(JSON.parse(report.stdout)).toMatchObject({ runId, status: 'completed', companies: { total: N } });
  }, 180_000);

  it('kill -9 of one worker mid-run: its jobs come back after their lease and the other finishes them', async () => {
    const w = await world({ latencyMs: 40 });
    const env = w.env(FLEET_ENV);
    const runId = await enqueue(w, 302, env);
    const [victim, survivor] = workers(env, 2);
    await waitFor(async () => ((await countRows(db.pool(), runId)) >= 4 ? true : undefined), { what: '4 rows', abandon: victim!.exited });
    victim!.process.kill('SIGKILL');
    expect((await victim!.exited).signal).toBe('SIGKILL');
    const done = await survivor!.exited;
    expect(done.code, done.stderr).toBe(0);
    await expectExactlyOnce(w, runId, 302);
  }, 180_000);

  it('a job whose lease ran out while its worker was frozen: done by another, one row and one partner each', async () => {
    const w = await world({ latencyMs: 150 });
    const env = w.env(FLEET_ENV);
    const runId = await enqueue(w, 303, env);
    const [stale] = workers(env, 1, []);
    await waitFor(async () => ((await countRows(db.pool(), runId)) >= 2 ? true : undefined), { what: '2 rows', abandon: stale!.exited });
    // Frozen with jobs in flight (a long GC pause, a VM stopped): their leases run out.
    stale!.process.kill('SIGSTOP');
    const [fresh] = workers(env, 1);
    // The fresh worker takes the frozen one's jobs once their leases have passed, and finishes the run.
    const done = await fresh!.exited;
    expect(done.code, done.stderr).toBe(0);
    // The frozen worker wakes up and finishes what it held: its results are too late to count.
    stale!.process.kill('SIGCONT');
    stale!.process.kill('SIGTERM');
    const staleExit = await stale!.exited;
    expect(staleExit.code, staleExit.stderr).toBe(0);
    await expectExactlyOnce(w, runId, 303);
  }, 180_000);

  it('SIGTERM to every worker: they drain and exit 0, the run stays running, new workers finish it', async () => {
    const w = await world({ latencyMs: 60 });
    const env = w.env(FLEET_ENV);
    const runId = await enqueue(w, 304, env);
    const first = workers(env, 2, []);
    await waitFor(async () => ((await countRows(db.pool(), runId)) >= 3 ? true : undefined), { what: '3 rows', abandon: first[0]!.exited });
    for (const c of first) c.process.kill('SIGTERM');
    for (const e of await Promise.all(first.map((c) => c.exited))) {
      expect(e.code, e.stderr).toBe(0);
      expect(e.stderr).toMatch(/SIGTERM: no new job/);
    }
    expect((await runsOf(db.pool(), 304))[0]?.status).toBe('running');
    expect(await countRows(db.pool(), runId)).toBeLessThan(N);
    // Drained jobs went back at once: the next workers need not wait for a lease.
    const exits = await Promise.all(workers(env, 2).map((c) => c.exited));
    for (const e of exits) expect(e.code, e.stderr).toBe(0);
    await expectExactlyOnce(w, runId, 304);
  }, 180_000);

  it('lead-enrich run works its run with a worker beside it: both count, the run prints its summary', async () => {
    const w = await world({ latencyMs: 20 });
    const env = w.env(FLEET_ENV);
    const input = w.file('fleet-305.csv', companiesCsv(N, 'fleet305'));
    const helper = spawnCli(['worker', '--concurrency', '2'], env);
    const run = await runCli(['run', '--tenant', '305', '--input', input, '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { runId: number; status: string };
    expect(summary).toMatchObject({ status: 'completed', companies: { total: N } });
    helper.process.kill('SIGTERM');
    expect((await helper.exited).code).toBe(0);
    await expectExactlyOnce(w, summary.runId, 305);
    const { rows } = await db.pool().query<{ n: number }>(`SELECT count(DISTINCT worker_id)::int AS n FROM fleet_workers WHERE kind = 'worker'`);
    expect(rows[0]!.n).toBeGreaterThan(0);
  }, 180_000);
});

describe('VENDOR_RATE_LIMITS across the fleet (issue 14)', () => {
  it('three worker processes share one vendor rate through PostgreSQL: the simulator never sees more than the limit', async () => {
    const w = await world({ latencyMs: 5 });
    // Apify LinkedIn at 4 a second for the whole fleet; three workers of two slots each would send
    // six at once (and up to 12 a second each with a limiter of their own).
    const env = w.env({ ...FLEET_ENV, COMPANY_DEADLINE_MS: '60000', VENDOR_RATE_LIMITS: 'apify_linkedin=4/s', VENDOR_CONCURRENCY: '' });
    const runId = await enqueue(w, 311, env);
    const exits = await Promise.all(workers(env, 3).map((c) => c.exited));
    for (const e of exits) expect(e.code, e.stderr).toBe(0);
    expect((await runsOf(db.pool(), 311))[0]?.status).toBe('completed');
    const at = w.sim.requests('apify_linkedin').map((r) => r.at).sort((a, b) => a - b);
    expect(at).toHaveLength(N);
    // Fixed one-second windows of 4: any second holds at most two windows' worth, and N requests
    // need at least N/4 - 1 whole windows after the first.
    for (let i = 0; i < at.length; i++) expect(at.filter((t) => t >= at[i]! && t < at[i]! + 1000).length).toBeLessThanOrEqual(8);
    expect(at[at.length - 1]! - at[0]!).toBeGreaterThanOrEqual((N / 4 - 1) * 1000 - 100);
    const { rows } = await db.pool().query<{ waits: number }>(`SELECT rate_waits::int AS waits FROM run_vendor_usage WHERE run_id = $1 AND vendor = 'apify_linkedin'`, [runId]);
    expect(rows[0]!.waits).toBeGreaterThan(0);
    // The windows were kept in PostgreSQL.
    const { rows: windows } = await db.pool().query(`SELECT key FROM vendor_rate_limits WHERE key = 'rl_apify_linkedin:apify_linkedin'`);
    expect(windows).toHaveLength(1);
  }, 180_000);

  it('lead-enrich run beside live workers shares their rate from its start', async () => {
    const w = await world({ latencyMs: 5 });
    const env = w.env({ ...FLEET_ENV, COMPANY_DEADLINE_MS: '60000', VENDOR_RATE_LIMITS: 'apify_linkedin=4/s', VENDOR_CONCURRENCY: '' });
    const input = w.file('fleet-312.csv', companiesCsv(N, 'fleet312'));
    const since = new Date();
    const helpers = [spawnCli(['worker', '--concurrency', '2'], env), spawnCli(['worker', '--concurrency', '2'], env)];
    await waitFor(
      async () => {
        const { rows } = await db.pool().query<{ n: number }>(`SELECT count(*)::int AS n FROM fleet_workers WHERE kind = 'worker' AND stopped_at IS NULL AND started_at >= $1`, [since]);
        return rows[0]!.n >= 2 ? true : undefined;
      },
      { what: 'two workers in fleet_workers', timeoutMs: 60_000, intervalMs: 100 },
    );
    const run = await runCli(['run', '--tenant', '312', '--input', input, '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    for (const h of helpers) h.process.kill('SIGTERM');
    for (const h of helpers) expect((await h.exited).code).toBe(0);
    const at = w.sim.requests('apify_linkedin').map((r) => r.at).sort((a, b) => a - b);
    expect(at).toHaveLength(N);
    for (let i = 0; i < at.length; i++) expect(at.filter((t) => t >= at[i]! && t < at[i]! + 1000).length).toBeLessThanOrEqual(8);
    expect(at[at.length - 1]! - at[0]!).toBeGreaterThanOrEqual((N / 4 - 1) * 1000 - 100);
  }, 180_000);
});
