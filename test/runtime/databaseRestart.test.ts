/**
 * Issue 11: the PostgreSQL server restarts during a run (stopped, then started again on the same
 * port), and the run completes with every company exactly once. The server is this test's own
 * embedded PostgreSQL in a temporary directory, never the shared one.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/adapters/postgres/embedded.js';
import { migrate } from '../../src/adapters/postgres/migrate.js';
import { createRuntime } from '../../src/runtime.js';
import type { RunProgress } from '../../src/streams/run/runJob.js';
import { createTestDatabase } from '../support/database.js';
import { blipCompanies, expectExactlyOnce, startBlipWorld, type BlipWorld } from '../support/blipRun.js';

const TENANT = 1102;

describe('a run whose PostgreSQL server restarts', () => {
  let dataDir: string;
  let server: EmbeddedPostgres;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let world: BlipWorld;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'lead-enrich-restart-'));
    await chmod(dataDir, 0o755); // the postgres user must reach it when the tests run as root
    server = await startEmbeddedPostgres({ dataDir });
    db = await createTestDatabase(server.url);
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    await migrate(pool);
    await pool.end();
    world = await startBlipWorld(db.url, 32);
  });
  afterAll(async () => {
    await world?.close();
    await db?.drop().catch(() => undefined);
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('completes, every company with exactly one row, exported once, usage counted once', async () => {
    const companies = blipCompanies(TENANT, 40);
    const runtime = await createRuntime(world.config, { logger: world.logger });
    let restart: { phase: RunProgress['phase']; done: Promise<void> } | null = null;
    try {
      const handle = runtime.run({
        tenantId: TENANT,
        companies,
        onProgress: (p) => {
          if (restart || p.phase !== 'enriching' || p.done < 10) return;
          const port = server.port;
          restart = {
            phase: p.phase,
            done: (async () => {
              await server.stop();
              server = await startEmbeddedPostgres({ dataDir, port });
            })(),
          };
        },
      });
      const result = await handle.done;
      expect(restart).not.toBeNull();
      await restart!.done;
      expect(restart!.phase).toBe('enriching');
      expect(result).toMatchObject({ status: 'completed', error: null });
      // The run lock's connection went with the server; it was taken again once the server was back.
      expect(world.lines.filter((l) => l.msg === 'advisory lock taken again' && l.lock === `lead-enrich:run:${result.runId}`).length).toBeGreaterThanOrEqual(1);

      const pool = new pg.Pool({ connectionString: db.url, max: 1 });
      try {
        await expectExactlyOnce(pool, world, result.runId as number, companies);
      } finally {
        await pool.end();
      }
    } finally {
      await runtime.close();
    }
  }, 120_000);
});
