/**
 * The locks that keep two processes from working on one thing at once (docs/decisions/004): a run,
 * and the export of one tenant to one Odoo target. src/adapters/postgres/runLock.ts implements them
 * as session advisory locks, taken again when their connection is lost.
 */

/** A held lock; `release()` is idempotent. */
export interface HeldLock {
  release(): Promise<void>;
  /**
   * Aborts when the lock is lost for good (its connection dropped and another process took it
   * meanwhile): whoever holds it must stop at once.
   */
  readonly lost: AbortSignal;
}

/** The locks of a run. */
export interface Locks {
  /** The lock of run `runId`, or null when another process holds it. */
  tryRun(runId: number): Promise<HeldLock | null>;
  /**
   * Waits for the lock of one tenant's export to one Odoo target (`targetKey`, secret-free), trying
   * again every so often; null when `signal` aborted first. `onWait` is told once when it must wait.
   */
  waitForExport(tenantId: number, targetKey: string, options: { signal?: AbortSignal; onWait?: () => void }): Promise<HeldLock | null>;
}
