import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/adapters/postgres/embedded.js';
import { migrate } from '../../src/adapters/postgres/migrate.js';
import { databaseUrlFor, randomDatabaseName } from './database.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A fresh, migrated database for this test run: tests share it, each with its own tenant ids. */
    databaseUrl: string;
    /** The server's maintenance database, for tests that create their own database. */
    databaseAdminUrl: string;
  }
}

/**
 * Global test setup: a fresh database `lead_enrich_test_<random>` on the server at DATABASE_URL, or,
 * when it is unset, on an embedded PostgreSQL started in a temporary directory. The database is
 * migrated, provided to tests (`inject('databaseUrl')`) and dropped (the server stopped) at the end.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.DATABASE_URL?.trim() || null;
  let server: EmbeddedPostgres | null = null;
  let tmp: string | null = null;
  let adminUrl = given;
  if (adminUrl === null) {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'lead-enrich-test-'));
    await chmod(tmp, 0o755);
    server = await startEmbeddedPostgres({ dataDir: tmp });
    adminUrl = server.url;
  }
  const name = randomDatabaseName();
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = databaseUrlFor(adminUrl, name);
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  await migrate(pool);
  await pool.end();
  project.provide('databaseUrl', url);
  project.provide('databaseAdminUrl', adminUrl);

  return async () => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
    await server?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  };
}
