/**
 * Issue 11: a dropped database connection never ends a run. Every backend of the run's database is
 * terminated during a run (pg_terminate_backend, from an admin connection to another database):
 * while companies are being enriched (a sink batch in the middle of its transaction, the run lock),
 * while they are being exported (the export lock), and while the run's finalising transaction is
 * under way — the first and last held up by a table lock, so that the termination surely lands in
 * the middle of them (the test's session holding that lock is spared, and lets go right after).
 * The run completes with every company exactly once. The database is this file's own.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrate } from '../../src/adapters/postgres/migrate.js';
import { createRuntime } from '../../src/runtime.js';
import type { RunProgress } from '../../src/streams/run/runJob.js';
import { createTestDatabase } from '../support/database.js';
import { blipCompanies, expectExactlyOnce, startBlipWorld, type BlipWorld } from '../support/blipRun.js';

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

  /**
   * A session of the test's own holding `table` (ACCESS EXCLUSIVE): the run's statements on that
   * table wait for it, so a termination is sure to land in the middle of one. `blocked()` resolves
   * once one of them waits; `end()` lets go (after the termination, so that the statement cannot
   * slip through first).
   */
  async function holdTable(table: string): Promise<{ pid: number; blocked(unless: () => boolean): Promise<void>; end(): Promise<void> }> {
    const holder = new pg.Client({ connectionString: db.url });
    holder.on('error', () => undefined); // it is terminated too
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    const pid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    // Asked on the holder's own connection: pg_locks names the table by its oid in this database.
    // Client backends only: an autovacuum worker may wait for the table too.
    const waiting = async (): Promise<boolean> => {
      const { rows } = await holder.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.relation = $1::regclass AND NOT l.granted AND a.backend_type = 'client backend'`,
        [table],
      );
      return (rows[0]?.n ?? 0) > 0;
    };
    return {
      pid,
      blocked: async (unless) => {
        for (let i = 0; i < 6000 && !unless() && !(await waiting()); i++) await new Promise((r) => setTimeout(r, 10));
      },
      end: () => holder.end().catch(() => undefined),
    };
  }

  it('completes, every company with exactly one row, exported once, usage counted once', async () => {
    // The finalising transaction (aggregatePercentiles) will wait for this one.
    const stageStats = await holdTable('run_stage_stats');
    const holders = [stageStats];
    const companies = blipCompanies(TENANT, 40);
    const runtime = await createRuntime(world.config, { logger: world.logger });
    try {
      const kills: Array<{ phase: RunProgress['phase']; terminated: Promise<number> }> = [];
      const kill = (phase: RunProgress['phase'], spared: number[]): Promise<number> => {
        const terminated = terminateAll(spared);
        kills.push({ phase, terminated });
        return terminated;
      };
      let enriching: Promise<void> | null = null;
      let ended = false; // the run ended: nothing left to wait for
      const handle = runtime.run({
        tenantId: TENANT,
        companies,
        onProgress: (p) => {
          const exported = Object.values(p.exported).reduce((a, b) => a + (b ?? 0), 0);
          if (!enriching && p.phase === 'enriching' && p.done >= 10) {
            // While enriching: once a sink batch waits inside its transaction (on run_vendor_usage).
            enriching = (async () => {
              const usage = await holdTable('run_vendor_usage');
              holders.push(usage);
              await usage.blocked(() => ended);
              await kill(handle.progress.phase, [stageStats.pid, usage.pid]);
              await usage.end();
            })();
          }
          if (kills.length === 1 && p.phase === 'exporting' && exported >= 5) void kill(p.phase, [stageStats.pid]);
        },
      });
      const finalising = (async () => {
        await stageStats.blocked(() => ended);
        await kill(handle.progress.phase, [stageStats.pid]);
        await stageStats.end();
      })();
      const result = await handle.done.finally(() => (ended = true));
      await Promise.all([enriching, finalising]);

      expect(result).toMatchObject({ status: 'completed', error: null });
      // The third is cut while the run is finalised, which the member that exports the last company
      // does inside the export phase (issue 13: whoever finishes the run finalises it).
      expect(kills.map((k) => k.phase)).toEqual(['enriching', 'exporting', 'exporting']);
      // Each time, the run's connections were there to be terminated (its lock's at least).
      for (const k of kills) expect(await k.terminated).toBeGreaterThan(0);
      // The sink's batch cut mid-transaction was written again (once: see the usage below).
      expect(world.lines.some((l) => l.msg === 'sink batch failed; retrying')).toBe(true);
      // The run lock was taken again after the first two (the run may end before it is after the
      // last), and the export lock after the second.
      const retaken = world.lines.filter((l) => l.msg === 'advisory lock taken again').map((l) => String(l.lock));
      expect(retaken.filter((lock) => lock === `lead-enrich:run:${result.runId}`).length).toBeGreaterThanOrEqual(2);
      expect(retaken.filter((lock) => lock.startsWith(`lead-enrich:odoo:${TENANT}:`)).length).toBeGreaterThanOrEqual(1);
      await expectExactlyOnce(pool, world, result.runId as number, companies);
      const stats = await pool.query<{ n: number }>("SELECT n FROM run_stage_stats WHERE run_id = $1 AND stage = 'company'", [result.runId]);
      expect(stats.rows).toEqual([{ n: companies.length }]);
    } finally {
      await runtime.close();
      for (const h of holders) await h.end();
    }
  }, 120_000);
});
