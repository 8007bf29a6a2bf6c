import type pg from 'pg';
import type { HeldLock, Locks, Logger } from '../../domain/index.js';
import { retryOnDisconnect, type Queryable, type ReconnectOptions } from './reconnect.js';

/** A held advisory lock (the {@link HeldLock} port). */
export type RunLock = HeldLock;

/** Options of {@link tryAdvisoryLock}. */
export interface AdvisoryLockOptions {
  /** A lost connection and the lock taken again are logged (info), a lock lost for good at error. */
  logger?: Logger;
  /** Retry policy of the first take (default that of retryOnDisconnect) and of the re-take (delays only: it goes on until released). */
  reconnect?: Omit<ReconnectOptions, 'signal' | 'logger'>;
}

/** A client holding the lock, or null when another session holds it. The client reports its errors to `onError` from the start. */
async function takeOn(pool: Pick<Queryable, 'connect'>, key: string, onError: (client: pg.PoolClient, error: Error) => void): Promise<pg.PoolClient | null> {
  const client = await pool.connect();
  const listener = (error: Error): void => onError(client, error);
  client.on('error', listener);
  try {
    const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok`, [key]);
    if (rows[0]?.ok === true) return client;
    client.off('error', listener);
    client.release();
    return null;
  } catch (error) {
    client.release(true);
    throw error;
  }
}

/**
 * Takes the session advisory lock named `key` (hashed with `hashtextextended`) on a dedicated
 * connection. The lock lives as long as that connection: a killed process leaves none behind. A
 * lost connection (a restart, a failover, a terminated backend) is replaced and the lock taken
 * again on the new one, trying until released; when another session took it meanwhile, `lost`
 * aborts. The first take rides out a lost connection too (`options.reconnect`).
 *
 * @returns the lock, or null when another session holds it
 * @throws the driver's error when the database cannot be reached within the retry policy
 */
export async function tryAdvisoryLock(pool: Pick<Queryable, 'connect'>, key: string, options: AdvisoryLockOptions = {}): Promise<RunLock | null> {
  const { logger } = options;
  const lost = new AbortController();
  const released = new AbortController();
  let client: pg.PoolClient | null = null;
  let retaking: Promise<void> = Promise.resolve();

  const retake = async (): Promise<void> => {
    try {
      const again = await retryOnDisconnect(() => takeOn(pool, key, onError), { ...options.reconnect, giveUpAfterMs: Number.POSITIVE_INFINITY, signal: released.signal });
      if (again) {
        client = again;
        logger?.info({ lock: key }, 'advisory lock taken again');
      } else {
        logger?.error({ lock: key }, 'advisory lock lost: another session took it while its connection was down');
        lost.abort(new Error(`lock ${key} was taken by another session`));
      }
    } catch (error) {
      if (released.signal.aborted) return;
      logger?.error({ err: error, lock: key }, 'advisory lock lost: it could not be taken again');
      lost.abort(error);
    }
  };
  // Only the connection holding the lock matters; a replaced one's later errors are ignored.
  function onError(from: pg.PoolClient, error: Error): void {
    if (from !== client) return;
    client = null;
    from.release(true);
    if (released.signal.aborted) return;
    logger?.info({ err: error, lock: key }, 'advisory lock connection lost; taking the lock again');
    retaking = retake();
  }

  client = await retryOnDisconnect(() => takeOn(pool, key, onError), options.reconnect);
  if (!client) return null;
  let releasing: Promise<void> | null = null;
  return {
    lost: lost.signal,
    release: () =>
      (releasing ??= (async () => {
        released.abort();
        await retaking;
        const held = client;
        client = null;
        if (!held) return;
        try {
          await held.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [key]);
          held.release();
        } catch (error) {
          held.release(error instanceof Error ? error : true);
        }
      })()),
  };
}

/**
 * The lock of one run, so that two processes never work on the same run at once (say, a
 * `run --resume` started while the run is still going).
 */
export function tryRunLock(pool: Pick<Queryable, 'connect'>, runId: number, options: AdvisoryLockOptions = {}): Promise<RunLock | null> {
  return tryAdvisoryLock(pool, `lead-enrich:run:${runId}`, options);
}

/**
 * Waits for the advisory lock `key`, trying every `pollMs` (without holding a connection between
 * tries), until it is taken or `signal` aborts.
 *
 * @returns the lock, or null when `signal` aborted first
 */
export async function waitForAdvisoryLock(
  pool: Pick<Queryable, 'connect'>,
  key: string,
  options: AdvisoryLockOptions & { signal?: AbortSignal; pollMs?: number; onWait?: () => void } = {},
): Promise<RunLock | null> {
  const pollMs = options.pollMs ?? 250;
  let told = false;
  for (;;) {
    if (options.signal?.aborted) return null;
    const lock = await tryAdvisoryLock(pool, key, options);
    if (lock) return lock;
    if (!told) options.onWait?.();
    told = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, pollMs);
      function done(): void {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', done);
        resolve();
      }
      options.signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/**
 * The {@link Locks} port on session advisory locks: `lead-enrich:run:<id>` for a run,
 * `lead-enrich:odoo:<tenant>:<target>` for one tenant's export to one Odoo target.
 */
export function createLocks(pool: Pick<Queryable, 'connect'>, options: AdvisoryLockOptions = {}): Locks {
  return {
    tryRun: (runId) => tryRunLock(pool, runId, options),
    waitForExport: (tenantId, targetKey, wait) => waitForAdvisoryLock(pool, `lead-enrich:odoo:${tenantId}:${targetKey}`, { ...options, ...wait }),
  };
}
