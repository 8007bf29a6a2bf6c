import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** `lead_enrich_test_<random hex>`: a name no other test run uses. */
export function randomDatabaseName(prefix = 'lead_enrich_test'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** The same server's URL with another database. */
export function databaseUrlFor(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Creates an empty database on the server of `adminUrl` for one test file; `drop()` removes it
 * (closing whatever connections are left).
 */
export async function createTestDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = randomDatabaseName();
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: databaseUrlFor(adminUrl, name),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      // A pool's end() resolves before its connections' backends have gone: terminating one still
      // ending makes its pool emit an 'error' nobody listens to any more. Let them go first (up
      // to 5 s), then force whatever is left (a test that leaked a connection).
      const left = async (): Promise<number> =>
        (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name])).rows[0]?.n ?? 0;
      for (const until = Date.now() + 5_000; (await left()) > 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
