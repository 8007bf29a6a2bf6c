import type pg from 'pg';

/** A held run lock; `release()` is idempotent. */
export interface RunLock {
  release(): Promise<void>;
}

/**
 * Takes the session advisory lock of a run on a dedicated connection, so that two processes never
 * work on the same run at once (say, a `run --resume` started while the run is still going). The
 * lock lives as long as that connection: a killed process leaves none behind.
 *
 * @returns the lock, or null when another session holds it
 * @throws the driver's error when the database cannot be reached
 */
export async function tryRunLock(pool: pg.Pool, runId: number): Promise<RunLock | null> {
  const client = await pool.connect();
  let held = false;
  try {
    const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended('lead-enrich:run:' || $1::text, 0)) AS ok`, [runId]);
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
          await client.query(`SELECT pg_advisory_unlock(hashtextextended('lead-enrich:run:' || $1::text, 0))`, [runId]);
          client.release();
        } catch (error) {
          client.release(error instanceof Error ? error : true);
        }
      })()),
  };
}
