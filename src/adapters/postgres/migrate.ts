import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { Logger } from '../../domain/index.js';

/**
 * The migrations folder shipped with the package: `migrations/` at the package root, reached from
 * both src/adapters/postgres (tests) and dist/adapters/postgres (the built CLI).
 */
export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'migrations');

/** Key of the session-level advisory lock every migrator takes (an arbitrary fixed 64-bit number). */
export const MIGRATION_LOCK_KEY = 7_301_000_004n;

/** One migration file: `NNN_name.sql`. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** sha256 of the file's text, hex. */
  checksum: string;
}

/** What {@link migrate} did. */
export interface MigrationResult {
  applied: Migration[];
  /** Versions that were already recorded. */
  skipped: number[];
}

const FILE_PATTERN = /^(\d+)_([A-Za-z0-9_-]+)\.sql$/;

/**
 * Reads every `NNN_name.sql` of `dir`, ordered by version.
 *
 * @throws Error when two files share a version
 */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => FILE_PATTERN.test(f));
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file) as RegExpExecArray;
    const sql = await readFile(path.join(dir, file), 'utf8');
    migrations.push({
      version: Number(match[1]),
      name: match[2] as string,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i += 1) {
    if (migrations[i]?.version === migrations[i - 1]?.version) {
      throw new Error(`two migrations share version ${migrations[i]?.version}`);
    }
  }
  return migrations;
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in version order, each in its own
 * transaction. Every migrator holds one session advisory lock for the whole pass, so two processes
 * starting at once apply each file exactly once (the second waits, then finds them recorded).
 *
 * @param pool where to apply them
 * @param options.dir migrations folder; defaults to {@link MIGRATIONS_DIR}
 * @throws Error when an applied migration's file changed (checksum mismatch) or a statement fails;
 *   the failing migration is rolled back and the ones before it stay applied
 */
export async function migrate(pool: pg.Pool, options: { dir?: string; logger?: Logger } = {}): Promise<MigrationResult> {
  const migrations = await loadMigrations(options.dir);
  const client = await pool.connect();
  const onError = (error: Error): void => options.logger?.warn({ err: error }, 'migration connection error');
  client.on('error', onError);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(), checksum text NOT NULL)`);
      const { rows } = await client.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations');
      const done = new Map(rows.map((r) => [r.version, r.checksum]));
      const result: MigrationResult = { applied: [], skipped: [] };
      for (const m of migrations) {
        const recorded = done.get(m.version);
        if (recorded !== undefined) {
          if (recorded !== m.checksum) throw new Error(`migration ${m.version}_${m.name} changed after it was applied (checksum mismatch)`);
          result.skipped.push(m.version);
          continue;
        }
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new Error(`migration ${m.version}_${m.name} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        }
        options.logger?.info({ version: m.version, name: m.name }, 'migration applied');
        result.applied.push(m);
      }
      return result;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]).catch(() => undefined);
    }
  } finally {
    client.off('error', onError);
    client.release();
  }
}
