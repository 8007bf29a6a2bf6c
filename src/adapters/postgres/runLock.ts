import type pg from 'pg';

/** A held advisory lock; `release()` is idempotent. */
export interface RunLock {
  release(): Promise<void>;
}

/**
 * Takes the session advisory lock named `key` (hashed with `hashtextextended`) on a dedicated
 * connection. The lock lives as long as that connection: a killed process leaves none behind.
 *
 * @returns the lock, or null when another session holds it
 * @throws the driver's error when the database cannot be reached
 */
export async function tryAdvisoryLock(pool: pg.Pool, key: string): Promise<RunLock | null> {
  const client = await pool.connect();
  let held = false;
  try {
    const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok`, [key]);
    held = rows[0]?.ok === true;
  } finally {
    if (!held) client.release();
  }
  if (!held) return null;
  let released: Promise<void> | null = null;
  return {
    release: () =>
      (released ??= (async () => {
        try {
          await client.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [key]);
          client.release();
        } catch (error) {
          client.release(error instanceof Error ? error : true);
        }
      })()),
  };
}

/**
 * The lock of one run, so that two processes never work on the same run at once (say, a
 * `run --resume` started while the run is still going).
 */
export function tryRunLock(pool: pg.Pool, runId: number): Promise<RunLock | null> {
  return tryAdvisoryLock(pool, `lead-enrich:run:${runId}`);
}

/**
 * Waits for the advisory lock `key`, trying every `pollMs` (without holding a connection between
 * tries), until it is taken or `signal` aborts.
 *
 * @returns the lock, or null when `signal` aborted first
 */
export async function waitForAdvisoryLock(
  pool: pg.Pool,
  key: string,
  options: { signal?: AbortSignal; pollMs?: number; onWait?: () => void } = {},
): Promise<RunLock | null> {
  const pollMs = options.pollMs ?? 250;
  let told = false;
  for (;;) {
    if (options.signal?.aborted) return null;
    const lock = await tryAdvisoryLock(pool, key);
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
