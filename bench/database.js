// The benches' database: a fresh one on DATABASE_URL's server (created, then dropped), else the
// embedded PostgreSQL in `tmp`.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../dist/adapters/postgres/embedded.js';

/** Opens it: `{ url, where, drop() }`. */
export async function openBenchDatabase(tmp, serverUrl = process.env.DATABASE_URL) {
  if (serverUrl) {
    const name = `lead_enrich_bench_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      where: `fresh database ${name} on ${url.host}`,
      async drop() {
        const c = new pg.Client({ connectionString: serverUrl });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      },
    };
  }
  const server = await startEmbeddedPostgres({ dataDir: join(tmp, 'data') });
  return { url: server.url, where: `embedded PostgreSQL in ${tmp}`, drop: () => server.stop() };
}
