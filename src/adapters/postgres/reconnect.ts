import type pg from 'pg';
import { backoffDelay, type Logger } from '../../domain/index.js';

/**
 * Riding out a lost database connection (a restart, a failover, a network blip, a terminated
 * backend): which errors mean the connection went away rather than the statement being wrong, the
 * one retry policy for them, and the pool the run's adapters query through, which applies it
 * (docs/decisions/050-050-database-blips.md).
 */

/** SQLSTATEs of a server going away: admin_shutdown (pg_terminate_backend, fast shutdown), crash_shutdown, cannot_connect_now (starting up or shutting down). */
const SERVER_GONE = new Set(['57P01', '57P02', '57P03']);
/** Socket errors of a connection that failed or could not be made. */
const SOCKET_GONE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** What the pg driver itself says when its socket ended or never opened in time. */
const DRIVER_GONE = new Set([
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
]);

/**
 * Whether `error` means that the database connection was lost or could not be made (SQLSTATE class
 * 08, 57P01–57P03, a socket error, the driver's "Connection terminated unexpectedly"), so that the
 * same work may succeed on a new connection. Errors of the statement itself (syntax, constraint,
 * a missing database, a refused password) are not.
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('08') || SERVER_GONE.has(code) || SOCKET_GONE.has(code))) return true;
  return DRIVER_GONE.has(error.message);
}

/** How long and how often work is tried again after a lost connection. */
export interface ReconnectOptions {
  /** Time after the first failure when the last error is thrown instead, in milliseconds. Default 300000 (5 min). */
  giveUpAfterMs?: number;
  /** First delay, in milliseconds. Default 100. */
  baseDelayMs?: number;
  /** Largest delay, jitter included, in milliseconds. Default 2000. */
  maxDelayMs?: number;
  /** Stops retrying (rejects with its reason) when it aborts. */
  signal?: AbortSignal;
  /** Each retry is logged at warn. */
  logger?: Logger;
  /** Randomness of the ±20 % jitter, in [0, 1). Default Math.random. */
  random?: () => number;
}

/**
 * Runs `work`, and runs it again while it fails with a connection error ({@link isConnectionError}),
 * after `min(maxDelayMs, baseDelayMs · 2^(n-1)) · U(0.8, 1.2)`, until `giveUpAfterMs` after the first
 * failure. `work` must be safe to run twice: its first run may have taken effect before the
 * connection broke.
 *
 * @throws any other error at once; the last connection error once the time is up; the signal's reason when it aborts
 */
export async function retryOnDisconnect<T>(work: () => Promise<T>, options: ReconnectOptions = {}): Promise<T> {
  const { giveUpAfterMs = 300_000, baseDelayMs = 100, maxDelayMs = 2000, signal, logger, random = Math.random } = options;
  let firstFailure: number | null = null;
  for (let attempt = 1; ; attempt += 1) {
    signal?.throwIfAborted();
    try {
      return await work();
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      const now = Date.now();
      firstFailure ??= now;
      const left = firstFailure + giveUpAfterMs - now;
      if (left <= 0) throw error;
      const delayMs = Math.round(Math.min(left, backoffDelay(attempt, { baseDelayMs, maxDelayMs }, random())));
      logger?.warn({ err: error, attempt, delayMs }, 'database connection lost; trying again');
      await sleep(delayMs, signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      if (signal?.aborted) reject(signal.reason);
      else resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** What the run's queries need of a pool. A `pg.Pool` is one; so is {@link reconnecting}'s. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  connect(): Promise<pg.PoolClient>;
  /** Present on {@link reconnecting}'s: see {@link transaction}. */
  transaction?<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T>;
}

/**
 * The pool as the run's adapters use it: every statement, every checkout and every
 * {@link transaction} is run again after a lost connection ({@link retryOnDisconnect}). Only for
 * statements that are safe to repeat: every statement of the run's repositories is an upsert, a
 * keyed update or a read.
 */
export function reconnecting(pool: pg.Pool, options: ReconnectOptions = {}): Queryable {
  return {
    query: (text, values) => retryOnDisconnect(() => pool.query(text, values), options),
    connect: () => retryOnDisconnect(() => pool.connect(), options),
    transaction: (work) => retryOnDisconnect(() => inTransaction(pool, work), options),
  };
}

/**
 * Runs `work` between BEGIN and COMMIT on one client of `db` (ROLLBACK when it throws). On a
 * {@link reconnecting} pool, a transaction cut by a lost connection is rolled back by the server
 * and run again whole, so `work` must be safe to run again.
 */
export function transaction<T>(db: Queryable, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return db.transaction ? db.transaction(work) : inTransaction(db, work);
}

async function inTransaction<T>(db: Pick<Queryable, 'connect'>, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  // A connection lost mid-transaction fails the statement under way; the event itself is not news.
  const ignore = (): void => undefined;
  client.on('error', ignore);
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    broken = isConnectionError(error);
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.off('error', ignore);
    client.release(broken);
  }
}
