import { spawn as nodeSpawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../domain/index.js';
import { EmbeddedPostgresError, codeOf, oneLine } from './embeddedError.js';
import type { SystemUser } from './serverUser.js';

/** Options of {@link initialiseCluster}. */
export interface InitdbOptions {
  /** The initdb program. */
  initdb: string;
  /** The cluster's data directory: removed and created afresh (mode 0700, owned by `user`). */
  clusterDir: string;
  /** The superuser's (`postgres`) scram password. */
  password: string;
  /** The account initdb runs as (root: the postgres user); null: this process's user. */
  user: SystemUser | null;
  logger?: Logger;
  /** Test seam: how the program is started. Default node:child_process `spawn`. */
  spawn?: typeof nodeSpawn;
}

/**
 * Runs initdb for a new cluster: UTF-8, scram-sha-256 for every connection, superuser `postgres`.
 * The password reaches initdb through a file created with mode 0600 beside the cluster (owned by
 * the account initdb runs as, removed afterwards), never through a world-readable temporary file.
 *
 * @throws EmbeddedPostgresError when initdb cannot be started or fails; the message carries the
 *   last error line initdb wrote to stderr
 */
export async function initialiseCluster(options: InitdbOptions): Promise<void> {
  const { clusterDir, user } = options;
  // A half-initialised directory (a crash during initdb) is started over.
  await rm(clusterDir, { recursive: true, force: true });
  await mkdir(clusterDir, { mode: 0o700 });
  if (user) await chown(clusterDir, user.uid, user.gid);
  const passwordFile = path.join(path.dirname(clusterDir), `.pg-initdb-${randomBytes(6).toString('hex')}`);
  const handle = await open(passwordFile, 'wx', 0o600);
  try {
    await handle.chmod(0o600); // whatever the umask
    if (user) await handle.chown(user.uid, user.gid);
    await handle.writeFile(`${options.password}\n`);
  } finally {
    await handle.close();
  }
  try {
    await run(options, ['--pgdata', clusterDir, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${passwordFile}`, '--encoding=UTF8', '--lc-messages=C']);
  } finally {
    await rm(passwordFile, { force: true });
  }
}

function run(options: InitdbOptions, args: string[]): Promise<void> {
  const { initdb, user, logger } = options;
  const as = user ? ` as ${user.name}` : '';
  return new Promise((resolve, reject) => {
    const child = (options.spawn ?? nodeSpawn)(initdb, args, {
      cwd: path.dirname(options.clusterDir), // a directory the server's user may enter, whatever ours is
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => logger?.debug({ message: chunk.toString('utf8') }, 'initdb'));
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-16_384);
    });
    child.once('error', (error) => reject(new EmbeddedPostgresError(`cannot run ${initdb}${as} (${codeOf(error)})`, undefined, { cause: error })));
    child.once('close', (code, signal) => {
      if (code === 0) return resolve();
      const lines = stderr.split('\n').map((line) => line.trim()).filter(Boolean);
      const last = lines.filter((line) => /error|fatal/i.test(line)).pop() ?? lines.pop() ?? 'no output';
      reject(new EmbeddedPostgresError(`initdb${as} failed (${code ?? signal}): ${oneLine(last)}`, 'fix what it says, or set DATABASE_URL to a PostgreSQL server'));
    });
  });
}
