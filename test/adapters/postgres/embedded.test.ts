import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/adapters/postgres/database.js';
import { startEmbeddedPostgres } from '../../../src/adapters/postgres/embedded.js';
import { isAlive } from '../../../src/adapters/postgres/postmaster.js';

const pidOf = async (clusterDir: string): Promise<number> => Number((await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);

describe('embedded PostgreSQL (DATABASE_URL empty)', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'lead-enrich-embedded-'));
    await chmod(dataDir, 0o755);
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('initialises a cluster on first use, migrates it, masks its password and stops it on close', async () => {
    const db = await openDatabase({ database: { url: null, dataDir } }, { handleProcessExit: false });
    const clusterDir = path.join(dataDir, 'pg');
    const pid = await pidOf(clusterDir);
    try {
      expect(db.embedded).toBe(true);
      expect(db.url).toMatch(/^postgres:\/\/postgres:\*{8}@127\.0\.0\.1:\d+\/postgres$/);
      expect(db.migrations?.applied.length).toBeGreaterThan(0);
      const { rows } = await db.pool.query("SELECT to_regclass('company_enrichment_runs') IS NOT NULL AS ok, current_setting('listen_addresses') AS listen");
      expect(rows[0]).toEqual({ ok: true, listen: '127.0.0.1' });
      expect(isAlive(pid)).toBe(true);
    } finally {
      await db.close();
    }
    expect(isAlive(pid)).toBe(false);
  });

  it('keeps the data across restarts and applies nothing twice', async () => {
    const db = await openDatabase({ database: { url: null, dataDir } }, { handleProcessExit: false });
    try {
      expect(db.migrations?.applied).toEqual([]);
      await db.pool.query("INSERT INTO tenants (tenant_id, name) VALUES (1, 'kept')");
    } finally {
      await db.close();
    }
    const again = await openDatabase({ database: { url: null, dataDir } }, { handleProcessExit: false });
    try {
      expect((await again.pool.query('SELECT name FROM tenants WHERE tenant_id = 1')).rows).toEqual([{ name: 'kept' }]);
    } finally {
      await again.close();
    }
  });

  it('stops an orphaned server left by a crashed process, and ignores a stale postmaster.pid', async () => {
    const orphan = await startEmbeddedPostgres({ dataDir }); // never stopped: as if its process had died
    const clusterDir = orphan.clusterDir;
    const orphanPid = await pidOf(clusterDir);
    const next = await startEmbeddedPostgres({ dataDir });
    try {
      expect(isAlive(orphanPid)).toBe(false);
      const client = new pg.Client({ connectionString: next.url });
      await client.connect();
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await client.end();
    } finally {
      await next.stop();
    }
    // A pid file naming a process that is not this cluster's postmaster (here: this test runner).
    await writeFile(path.join(clusterDir, 'postmaster.pid'), `${process.pid}\n${clusterDir}\n0\n5432\n`);
    const third = await startEmbeddedPostgres({ dataDir });
    try {
      expect(await pidOf(clusterDir)).not.toBe(process.pid);
    } finally {
      await third.stop();
    }
  });
});
