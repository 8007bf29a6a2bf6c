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
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
