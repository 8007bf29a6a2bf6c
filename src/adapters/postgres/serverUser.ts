import { execFile } from 'node:child_process';
import { constants, type Stats } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { EmbeddedPostgresError, codeOf } from './embeddedError.js';

/** A system account the embedded server runs as. */
export interface SystemUser {
  name: string;
  uid: number;
  /** Its primary group: the only one the server has (libuv drops supplementary groups when it switches user). */
  gid: number;
}

/** Test seams of {@link serverUser}. */
export interface ServerUserDeps {
  /** Whether this process runs as root. Default: its uid is 0. */
  isRoot?: boolean;
  /** The passwd database to read. Default `/etc/passwd`. */
  passwdFile?: string;
  /**
   * Creates the `postgres` account. Default `useradd --system --user-group --no-create-home postgres`
   * (`--gid postgres` when that group exists).
   */
  createUser?: () => Promise<void>;
}

const SERVER_USER = 'postgres';

async function lookup(passwdFile: string): Promise<SystemUser | null> {
  const text = await readFile(passwdFile, 'utf8').catch(() => '');
  const fields = text.split('\n').find((line) => line.startsWith(`${SERVER_USER}:`))?.split(':');
  if (!fields || !/^\d+$/.test(fields[2] ?? '') || !/^\d+$/.test(fields[3] ?? '')) return null;
  return { name: SERVER_USER, uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** `useradd` the postgres account, into its group when the group already exists (`--user-group` would refuse). */
const createWithUseradd = async (): Promise<void> => {
  const groupExists = (await readFile('/etc/group', 'utf8').catch(() => '')).split('\n').some((line) => line.startsWith(`${SERVER_USER}:`));
  const group = groupExists ? ['--gid', SERVER_USER] : ['--user-group'];
  await promisify(execFile)('useradd', ['--system', ...group, '--no-create-home', SERVER_USER]);
};

/**
 * The account the embedded server runs as: null when this process is not root (the server runs as
 * this process's user); the `postgres` system user when it is (PostgreSQL refuses to run as root),
 * created when missing.
 *
 * @throws EmbeddedPostgresError when running as root, the postgres user is missing and cannot be created
 */
export async function serverUser(deps: ServerUserDeps = {}): Promise<SystemUser | null> {
  if (!(deps.isRoot ?? os.userInfo().uid === 0)) return null;
  const passwdFile = deps.passwdFile ?? '/etc/passwd';
  const found = await lookup(passwdFile);
  if (found) return found;
  try {
    await (deps.createUser ?? createWithUseradd)();
  } catch (error) {
    throw new EmbeddedPostgresError(
      `running as root, PostgreSQL needs the postgres system user, which is missing and could not be created (${codeOf(error)})`,
      'create it (useradd --system --user-group postgres), run as another user, or set DATABASE_URL to a PostgreSQL server',
      { cause: error },
    );
  }
  const created = await lookup(passwdFile);
  if (!created) throw new EmbeddedPostgresError('running as root, PostgreSQL needs the postgres system user, which was created but cannot be found', 'set DATABASE_URL to a PostgreSQL server');
  return created;
}

/** Whether `user` has every permission bit of `need` (constants.R_OK | W_OK | X_OK) on a file with these stats. */
export function permits(st: Pick<Stats, 'uid' | 'gid' | 'mode'>, user: Pick<SystemUser, 'uid' | 'gid'>, need: number): boolean {
  if (user.uid === 0) return true;
  const shift = st.uid === user.uid ? 6 : st.gid === user.gid ? 3 : 0;
  return ((st.mode >> shift) & need) === need;
}

/**
 * The first directory on the way to `target` that `user` may not pass, or `target` itself when it
 * lacks `need`; null when every directory down to it may be traversed and it grants `need`. Judged
 * from the mode bits (ACLs are not read: a path they would open is only judged closed, which costs
 * a relocation, never a failure).
 *
 * @param need permission bits wanted on `target` itself; default X_OK (traverse a directory)
 */
export async function closedOnTheWay(target: string, user: Pick<SystemUser, 'uid' | 'gid'>, need: number = constants.X_OK): Promise<string | null> {
  const real = await realpath(target);
  const dirs = [path.parse(real).root];
  for (const part of real.split(path.sep).filter(Boolean)) dirs.push(path.join(dirs[dirs.length - 1] ?? '/', part));
  for (const [i, dir] of dirs.entries()) {
    if (!permits(await stat(dir), user, i === dirs.length - 1 ? need : constants.X_OK)) return dir;
  }
  return null;
}
