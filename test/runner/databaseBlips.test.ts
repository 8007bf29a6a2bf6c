/**
 * Issue 11: a dropped database connection never ends a run. Every backend of the run's database is
 * terminated during a run (pg_terminate_backend, from an admin connection to another database):
 * while companies are being enriched (the sink's writes, the run lock), while they are being
 * exported (the export lock), and while the run's finalising transaction is under way (held up by a
 * table lock so that the termination surely lands in the middle of it). The run completes with
 * every company exactly once. The database is this file's own.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrate } from '../../src/adapters/postgres/migrate.js';
import { createRuntime } from '../../src/runtime.js';
import type { RunProgress } from '../../src/streams/run/runJob.js';
import { createTestDatabase } from '../support/database.js';
import { blipCompanies, expectExactlyOnce, startBlipWorld, type BlipWorld } from './support/blipRun.js';

const TENANT = 1101;

describe('a run whose database connections are all terminated, in every phase', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let name: string;
  let pool: pg.Pool;
  let admin: pg.Client;
  let world: BlipWorld;

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseAdminUrl'));
    name = new URL(db.url).pathname.slice(1);
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    pool.on('error', () => undefined); // its idle connections are terminated too
    await migrate(pool);
    admin = new pg.Client({ connectionString: inject('databaseAdminUrl') }); // the server's maintenance database
    await admin.connect();
    world = await startBlipWorld(db.url, 31);
  });
  afterAll(async () => {
    await admin?.end();
    await pool?.end();
    await world?.close();
    await db?.drop();
  });

  /** Terminates every backend of the test database but `spared`; resolves with how many. */
  async function terminateAll(spared: number[] = []): Promise<number> {
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid() AND pid <> ALL($2::int[])) t`,
      [name, spared],
    );
    return rows[0]?.n ?? 0;
  }

  /** Backends of the test database waiting for a lock on run_stage_stats. */
  async function blockedOnStageStats(): Promise<number> {
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND query ILIKE '%run_stage_stats%'`,
      [name],
    );
    return rows[0]?.n ?? 0;
  }

  it('completes, every company with exactly one row, exported once, usage counted once', async () => {
    // A session of the test's own holds run_stage_stats until it is terminated with the rest: the
    // run's finalising transaction (aggregatePercentiles) waits for it, and is under way when the
    // last termination comes. The first two spare it.
    const holder = new pg.Client({ connectionString: db.url });
    holder.on('error', () => undefined);
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE run_stage_stats IN ACCESS EXCLUSIVE MODE');
    const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

    const companies = blipCompanies(TENANT, 40);
    const runtime = await createRuntime(world.config, { logger: world.logger });
    try {
      const kills: Array<{ phase: RunProgress['phase']; terminated: Promise<number> }> = [];
      const kill = (phase: RunProgress['phase'], spared: number[]): void => void kills.push({ phase, terminated: terminateAll(spared) });
      const handle = runtime.run({
        tenantId: TENANT,
        companies,
        onProgress: (p) => {
          const exported = Object.values(p.exported).reduce((a, b) => a + (b ?? 0), 0);
          if (kills.length === 0 && p.phase === 'enriching' && p.done >= 10) kill(p.phase, [holderPid]);
          if (kills.length === 1 && p.phase === 'exporting' && exported >= 5) kill(p.phase, [holderPid]);
        },
      });
      const finalising = (async () => {
        for (let i = 0; i < 6000 && (await blockedOnStageStats()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
        kill(handle.progress.phase, []);
      })();
      const result = await handle.done;
      await finalising;

      expect(result).toMatchObject({ status: 'completed', error: null });
      expect(kills.map((k) => k.phase)).toEqual(['enriching', 'exporting', 'finalising']);
      // Each time, the run's connections were there to be terminated (its lock's at least).
      for (const k of kills) expect(await k.terminated).toBeGreaterThan(0);
      // The run lock was taken again after each, and the export lock after the second.
      const retaken = world.lines.filter((l) => l.msg === 'advisory lock taken again').map((l) => String(l.lock));
      expect(retaken.filter((lock) => lock === `lead-enrich:run:${result.runId}`).length).toBeGreaterThanOrEqual(3);
      expect(retaken.filter((lock) => lock.startsWith(`lead-enrich:odoo:${TENANT}:`)).length).toBeGreaterThanOrEqual(1);
      await expectExactlyOnce(pool, world, result.runId as number, companies);
      const stats = await pool.query<{ n: number }>("SELECT n FROM run_stage_stats WHERE run_id = $1 AND stage = 'company'", [result.runId]);
      expect(stats.rows).toEqual([{ n: companies.length }]);
    } finally {
      await runtime.close();
      await holder.end().catch(() => undefined);
    }
  }, 120_000);
});
