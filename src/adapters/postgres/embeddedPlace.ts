import { createHash } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { chmod, chown, copyFile, link, lstat, mkdir, mkdtemp, readdir, readFile, readlink, realpath, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../domain/index.js';
import { EmbeddedPostgresError, codeOf } from './embeddedError.js';
import { closedOnTheWay, permits, type SystemUser } from './serverUser.js';

/**
 * Where the embedded server's files go when this process runs as root. The server runs as the
 * `postgres` user, who cannot enter root's home (0700) or a `mktemp -d` directory: when it cannot
 * reach LEAD_ENRICH_DATA_DIR, the cluster lives under `<fallbackRoot>/lead-enrich-postgres/<key>/pg`
 * (key: a hash of the data directory's real path, so the same data directory finds its cluster
 * again) and `<data dir>/pg` is a symbolic link to it; when it cannot reach the binaries in
 * node_modules, they are linked (or copied) once per version into `<fallbackRoot>/lead-enrich-postgres/bin-…`.
 * That directory belongs to postgres with mode 0700. See docs/decisions/053-053-embedded-postgres-as-root.md.
 */

/** The directory, under the fallback root, that holds relocated clusters and binaries. */
export const RELOCATION_DIR = 'lead-enrich-postgres';

const { R_OK, W_OK, X_OK } = constants;

/**
 * `dir` as a directory owned by `user` with mode 0700, created when missing. A directory left by
 * root alone (an earlier start stopped between mkdir and chown) is taken over.
 *
 * @throws EmbeddedPostgresError when it cannot be created, is not a directory (a symbolic link
 *   included), or belongs to someone else
 */
async function ownedDir(dir: string, user: SystemUser): Promise<void> {
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (error) {
    if (codeOf(error) !== 'EEXIST') throw new EmbeddedPostgresError(`cannot create ${dir} (${codeOf(error)})`, undefined, { cause: error });
  }
  const st = await lstat(dir);
  if (!st.isDirectory()) throw new EmbeddedPostgresError(`${dir} exists and is not a directory`, `remove it, or set DATABASE_URL to a PostgreSQL server`);
  if (st.uid !== user.uid) {
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) {
      throw new EmbeddedPostgresError(`${dir} belongs to uid ${st.uid}, not to ${user.name}`, 'remove it if it is not in use, or set DATABASE_URL to a PostgreSQL server');
    }
    await chown(dir, user.uid, user.gid);
  }
  if ((st.mode & 0o777) !== 0o700) await chmod(dir, 0o700);
}

/** `<fallbackRoot>/lead-enrich-postgres`, owned by `user`, mode 0700, reachable by `user`. */
async function relocationBase(fallbackRoot: string, user: SystemUser): Promise<string> {
  const base = path.join(fallbackRoot, RELOCATION_DIR);
  if (!existsSync(fallbackRoot)) throw new EmbeddedPostgresError(`the postgres user cannot reach the data directory or the binaries, and ${fallbackRoot} does not exist to hold them`);
  await ownedDir(base, user);
  const closed = await closedOnTheWay(base, user, R_OK | W_OK | X_OK);
  if (closed) throw new EmbeddedPostgresError(`the postgres user cannot reach the data directory or the binaries, nor ${base} (${closed} is closed to it)`);
  return base;
}

/** The relocation key of a data directory: 16 hex digits of the SHA-256 of its real path. */
export function relocationKey(realDataDir: string): string {
  return createHash('sha256').update(realDataDir).digest('hex').slice(0, 16);
}

/**
 * The cluster directory of `dataDir` (which exists): `<dataDir>/pg` itself, or where the symbolic
 * link `<dataDir>/pg` points. For a new cluster as root, `<dataDir>/pg` when the postgres user can
 * reach it (`dataDir` is made traversable), else a new relocated directory linked from there; a
 * relocated cluster left there by a removed data directory of the same path (its `pg.password`
 * gone with it) is removed first, as it would have gone with the data directory in place.
 *
 * @throws EmbeddedPostgresError when an existing cluster is out of the postgres user's reach, or no
 *   place can be made for a new one
 */
export async function placeCluster(dataDir: string, user: SystemUser | null, fallbackRoot: string, logger?: Logger): Promise<string> {
  const linkPath = path.join(dataDir, 'pg');
  const existing = await lstat(linkPath).catch(() => null);
  if (!user) return existing?.isSymbolicLink() ? path.resolve(dataDir, await readlink(linkPath)) : linkPath;
  if (existing?.isSymbolicLink()) {
    const target = path.resolve(dataDir, await readlink(linkPath));
    const base = path.join(fallbackRoot, RELOCATION_DIR);
    if (!existsSync(target) && path.dirname(path.dirname(target)) === base) {
      logger?.warn({ clusterDir: target }, 'the relocated embedded cluster is gone (was the temporary directory cleaned?); a new one is initialised');
      await relocationBase(fallbackRoot, user);
      await ownedDir(path.dirname(target), user);
      return target;
    }
    const closed = existsSync(target) ? await closedOnTheWay(path.dirname(target), user) : target;
    if (closed) throw new EmbeddedPostgresError(`the cluster ${linkPath} points to, ${target}, is out of the postgres user's reach (${closed})`, 'restore it, remove the link to start a new cluster, or set DATABASE_URL');
    return target;
  }
  if (existing && !existsSync(path.join(linkPath, 'PG_VERSION'))) {
    await rm(linkPath, { recursive: true, force: true }); // half-initialised (initdb died): started over, wherever it goes
  } else if (existing) {
    const closed = await closedOnTheWay(path.dirname(dataDir), user);
    if (closed) throw new EmbeddedPostgresError(`the postgres user cannot reach the cluster in ${linkPath} (${closed} is closed to it)`, 'move LEAD_ENRICH_DATA_DIR to a directory the postgres user can enter, or set DATABASE_URL');
    await allowTraversal(dataDir, user);
    return linkPath;
  }
  if ((await closedOnTheWay(path.dirname(dataDir), user)) === null) {
    await allowTraversal(dataDir, user);
    return linkPath;
  }
  const realDataDir = await realpath(dataDir);
  const base = await relocationBase(fallbackRoot, user);
  const home = path.join(base, relocationKey(realDataDir));
  await ownedDir(home, user);
  await writeFile(path.join(home, 'data-dir'), `${realDataDir}\n`); // which data directory this cluster belongs to
  const clusterDir = path.join(home, 'pg');
  if (existsSync(clusterDir) && !existsSync(path.join(dataDir, 'pg.password'))) {
    // The data directory was removed (its password with it), as one removes it to start afresh;
    // in place, the cluster would have gone with it. Nobody can log in to this one any more.
    logger?.warn({ dataDir, clusterDir }, 'removing the relocated cluster of a removed data directory at this path; a new one is initialised');
    await rm(clusterDir, { recursive: true, force: true });
  }
  await symlink(clusterDir, linkPath);
  logger?.warn({ dataDir, clusterDir }, 'the postgres user cannot enter the data directory: the embedded cluster lives in the temporary directory, linked from <data dir>/pg');
  return clusterDir;
}

/** Adds the traverse bit that `user` needs on `dir` (as owner, group or other), when it lacks it. */
async function allowTraversal(dir: string, user: SystemUser): Promise<void> {
  const st = await stat(dir);
  if (permits(st, user, X_OK)) return;
  const shift = st.uid === user.uid ? 6 : st.gid === user.gid ? 3 : 0;
  await chmod(dir, (st.mode & 0o7777) | (X_OK << shift));
}

/**
 * The PostgreSQL `native` directory (bin, lib, share) the server runs from: `nativeDir` itself when
 * the server's user can reach it, else a copy under the relocation directory, made once per
 * package version: hard links where the file system allows, copies elsewhere, built beside and
 * renamed into place so that a half-made copy is never used.
 *
 * @throws EmbeddedPostgresError when no reachable copy can be made
 */
export async function placeBinaries(nativeDir: string, user: SystemUser | null, fallbackRoot: string, logger?: Logger): Promise<string> {
  if (!user) return nativeDir;
  const needs: [string, number][] = [['bin/postgres', R_OK | X_OK], ['bin/initdb', R_OK | X_OK], ['lib', R_OK | X_OK], ['share', R_OK | X_OK]];
  const closed = await firstClosed(nativeDir, needs, user);
  if (closed === null) return nativeDir;
  const base = await relocationBase(fallbackRoot, user);
  const version = await packageVersion(nativeDir);
  const target = path.join(base, `bin-${os.platform()}-${os.arch()}-${version}`);
  if (existsSync(path.join(target, 'bin', 'postgres'))) return target;
  const building = await mkdtemp(path.join(base, '.bin-'));
  try {
    await linkTree(nativeDir, building);
    await chmod(building, 0o755);
    await rename(building, target);
  } catch (error) {
    await rm(building, { recursive: true, force: true });
    if (!existsSync(path.join(target, 'bin', 'postgres'))) throw new EmbeddedPostgresError(`cannot make the PostgreSQL binaries reachable for the postgres user in ${target} (${codeOf(error)})`, undefined, { cause: error });
  }
  logger?.info({ from: nativeDir, to: target, closed }, 'PostgreSQL binaries made reachable for the postgres user');
  return target;
}

async function firstClosed(dir: string, needs: [string, number][], user: SystemUser): Promise<string | null> {
  for (const [relative, need] of needs) {
    const closed = await closedOnTheWay(path.join(dir, relative), user, need);
    if (closed) return closed;
  }
  return null;
}

async function packageVersion(nativeDir: string): Promise<string> {
  try {
    const manifest = JSON.parse(await readFile(path.join(nativeDir, '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof manifest.version === 'string' && /^[\w.+-]+$/.test(manifest.version) ? manifest.version : 'unversioned';
  } catch {
    return 'unversioned';
  }
}

/** Recreates the tree `from` in `to`: directories 0755, symbolic links as they are, files hard-linked or copied (mode kept). */
async function linkTree(from: string, to: string): Promise<void> {
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) {
      await mkdir(target);
      await chmod(target, 0o755);
      await linkTree(source, target);
    } else if (entry.isSymbolicLink()) {
      await symlink(await readlink(source), target);
    } else {
      await link(source, target).catch(async () => {
        await copyFile(source, target);
        await chmod(target, (await stat(source)).mode & 0o777);
      });
    }
  }
}
