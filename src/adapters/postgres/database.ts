import pg from 'pg';
import type { Logger } from '../../domain/index.js';
import { maskUrl } from '../../config/index.js';
import type { Config } from '../../config/index.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded.js';
import { migrate, type MigrationResult } from './migrate.js';

/** An open database: the one pg pool of the process. */
export interface Database {
  pool: pg.Pool;
  /** The connection URL with its password masked: for display and logs only. */
  url: string;
  /** Whether this is the embedded PostgreSQL started by this process. */
  embedded: boolean;
  /** What the start-up migration did, when `migrate` was requested. */
  migrations: MigrationResult | null;
  /** Ends the pool and, when embedded, stops the server. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  logger?: Logger;
  /** Apply pending migrations before returning. Default true. */
  migrate?: boolean;
  /** Pool size. Default 10. */
  maxConnections?: number;
  /**
   * Stop the embedded server when the process exits, crashes (uncaught exception) or receives
   * SIGINT/SIGTERM/SIGHUP. On a signal the program's own handlers take precedence: when another
   * listener exists it is expected to call `close()`; when none does, the server is stopped and the
   * process exits with 128 + the signal number. Default true.
   */
  handleProcessExit?: boolean;
}

const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

/**
 * Opens the database of `config.database`: the server at DATABASE_URL, or, when it is null, the
 * embedded PostgreSQL under LEAD_ENRICH_DATA_DIR (see startEmbeddedPostgres). Connection errors of
 * every client, idle or checked out, are logged, never thrown at the process.
 *
 * @throws Error when the server cannot be reached, the embedded one cannot start, or a migration fails
 *   (the embedded server is stopped again before the error is thrown)
 */
export async function openDatabase(config: Pick<Config, 'database'>, options: OpenDatabaseOptions = {}): Promise<Database> {
  const logger = options.logger;
  let server: EmbeddedPostgres | null = null;
  let url = config.database.url;
  if (url === null) {
    server = await startEmbeddedPostgres({ dataDir: config.database.dataDir, ...(logger ? { logger } : {}) });
    url = server.url;
  }
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10, connectionTimeoutMillis: 10_000 });
  // A connection lost (a restart, a failover, a terminated backend) emits 'error' on its client,
  // checked out or not; without a listener that event would end the process. Every client gets one
  // for its whole life, so no holder can forget it; whatever was under way on it fails on its own.
  pool.on('connect', (client) => client.on('error', (error) => logger?.warn({ err: error }, 'database connection lost')));
  pool.on('error', () => undefined); // an idle client's error, already logged by its own listener

  const detach = server && options.handleProcessExit !== false ? attachExitHandlers(server, logger) : () => undefined;
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      detach();
      await pool.end().catch((error: unknown) => logger?.warn({ err: error }, 'closing the pool failed'));
      await server?.stop();
    })();
    return closing;
  };

  try {
    await pool.query('SELECT 1');
    const migrations = options.migrate === false ? null : await migrate(pool, logger ? { logger } : {});
    logger?.info({ url: maskUrl(url), embedded: server !== null }, 'database open');
    return { pool, url: maskUrl(url), embedded: server !== null, migrations, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function attachExitHandlers(server: EmbeddedPostgres, logger?: Logger): () => void {
  // 'exit' and a crash cannot wait: send the fast-shutdown signal; the server finishes on its own.
  const onExit = (): void => {
    void server.stop();
  };
  const onCrash = (error: Error): void => {
    logger?.error({ err: error }, 'uncaught exception; stopping the embedded PostgreSQL');
    void server.stop();
  };
  const onSignal = (signal: keyof typeof SIGNALS): void => {
    if (process.listenerCount(signal) > 1) return; // the program shuts down itself and calls close()
    logger?.info({ signal }, 'signal received; stopping the embedded PostgreSQL');
    void server.stop().finally(() => process.exit(128 + SIGNALS[signal]));
  };
  const signalHandlers = (Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]).map((signal) => {
    const handler = (): void => onSignal(signal);
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  process.on('exit', onExit);
  process.on('uncaughtExceptionMonitor', onCrash);
  return () => {
    process.off('exit', onExit);
    process.off('uncaughtExceptionMonitor', onCrash);
    for (const [signal, handler] of signalHandlers) process.off(signal, handler);
  };
}
