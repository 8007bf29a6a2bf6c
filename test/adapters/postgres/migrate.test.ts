import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadMigrations, migrate, MIGRATIONS_DIR } from '../../../src/adapters/postgres/migrate.js';
import { createTestDatabase } from '../../support/database.js';

describe('migrations', () => {
  let db: { url: string; drop(): Promise<void> };
  const pools: pg.Pool[] = [];
  const pool = (): pg.Pool => {
    const p = new pg.Pool({ connectionString: db.url, max: 2 });
    p.on('error', () => undefined); // the final DROP … WITH (FORCE) ends idle connections
    pools.push(p);
    return p;
  };

  beforeAll(async () => {
    db = await createTestDatabase(inject('databaseAdminUrl'));
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await db.drop();
  });

  it('applies every file once when two migrators start at the same time, and nothing on a rerun', async () => {
    const files = await loadMigrations();
    expect(files.length).toBeGreaterThan(0);
    const [a, b] = await Promise.all([migrate(pool()), migrate(pool())]);
    expect(a.applied.length + b.applied.length).toBe(files.length);
    expect(a.skipped.length + b.skipped.length).toBe(files.length);
    const again = await migrate(pool());
    expect(again.applied).toEqual([]);
    const { rows } = await pool().query('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
    expect(rows).toEqual(files.map((f) => ({ version: f.version, name: f.name, checksum: f.checksum })));
  });

  it('refuses to run when an applied migration was edited', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'migrations-'));
    try {
      await cp(MIGRATIONS_DIR, dir, { recursive: true });
      const first = (await loadMigrations(dir))[0];
      const file = path.join(dir, `${String(first?.version).padStart(3, '0')}_${first?.name}.sql`);
      await writeFile(file, `${await readFile(file, 'utf8')}\n-- edited\n`);
      await expect(migrate(pool(), { dir })).rejects.toThrow(/checksum mismatch/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rolls a failing migration back and records nothing for it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'migrations-'));
    try {
      await cp(MIGRATIONS_DIR, dir, { recursive: true });
      await writeFile(path.join(dir, '900_broken.sql'), 'CREATE TABLE half_done (x int);\nSELECT no_such_function();\n');
      await expect(migrate(pool(), { dir })).rejects.toThrow(/900_broken failed/);
      const { rows } = await pool().query("SELECT to_regclass('half_done') AS t, (SELECT count(*)::int FROM schema_migrations WHERE version = 900) AS n");
      expect(rows[0]).toEqual({ t: null, n: 0 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('constraints', () => {
    const code = async (sql: string, params: unknown[] = []): Promise<string | undefined> => {
      try {
        await pool().query(sql, params);
        return undefined;
      } catch (error) {
        return (error as { code?: string }).code;
      }
    };

    it('rejects an unknown run status, export status, e-mail status or breaker state', async () => {
      await pool().query("INSERT INTO tenants (tenant_id, name) VALUES (1, 't1') ON CONFLICT DO NOTHING");
      await pool().query("INSERT INTO companies (tenant_id, company_id, name) VALUES (1, 10, 'c') ON CONFLICT DO NOTHING");
      expect(await code("INSERT INTO enrichment_runs (tenant_id, status) VALUES (1, 'exploded')")).toBe('23514');
      const { rows } = await pool().query<{ run_id: string }>('INSERT INTO enrichment_runs (tenant_id) VALUES (1) RETURNING run_id');
      const runId = rows[0]?.run_id;
      const insertCompanyRun = (exportStatus: string | null, status = 'ok') =>
        code(
          `INSERT INTO company_enrichment_runs (run_id, company_id, tenant_id, status, export_status, started_at, finished_at)
           VALUES ($1, 10, 1, $3, $2, now(), now())`,
          [runId, exportStatus, status],
        );
      expect(await insertCompanyRun('shipped')).toBe('23514');
      expect(await insertCompanyRun(null, 'sideways')).toBe('23514');
      expect(await insertCompanyRun('dry_run')).toBeUndefined();
      expect(await code("INSERT INTO contacts (tenant_id, company_id, email, source, email_status) VALUES (1, 10, 'a@b.c', 'lusha', 'maybe')")).toBe('23514');
      expect(await code("INSERT INTO breaker_transitions (tenant_id, vendor, from_state, to_state, at, reason) VALUES (1, 'tavily', 'closed', 'ajar', now(), 'x')")).toBe('23514');
    });

    it('keeps degraded_reasons and reasons consistent, and a tenant stores a variable name, not a secret', async () => {
      await pool().query("INSERT INTO tenants (tenant_id, name) VALUES (2, 't2') ON CONFLICT DO NOTHING");
      await pool().query("INSERT INTO companies (tenant_id, company_id) VALUES (2, 20) ON CONFLICT DO NOTHING");
      const { rows } = await pool().query<{ run_id: string }>('INSERT INTO enrichment_runs (tenant_id) VALUES (2) RETURNING run_id');
      expect(
        await code(
          `INSERT INTO company_enrichment_runs (run_id, company_id, tenant_id, status, degraded_reasons, reasons, started_at, finished_at)
           VALUES ($1, 20, 2, 'degraded', NULL, '{CRAWL_THIN}', now(), now())`,
          [rows[0]?.run_id],
        ),
      ).toBe('23514');
      expect(await code("UPDATE tenants SET odoo_key_env = 'sk-live 123/abc' WHERE tenant_id = 2")).toBe('23514');
      expect(await code("UPDATE tenants SET odoo_key_env = 'TENANT_2_ODOO_KEY' WHERE tenant_id = 2")).toBeUndefined();
      expect(await code('INSERT INTO enrichment_runs (tenant_id) VALUES (999)')).toBe('23503');
    });
  });
});
