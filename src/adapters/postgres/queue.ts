import { createHash } from 'node:crypto';
import PgBoss from 'pg-boss';
import type pg from 'pg';
import type { CompanyJob, ExportJob, Logger, QueueDepth, TenantId, WorkQueue } from '../../domain/index.js';
import { transaction, type Queryable } from './reconnect.js';

/**
 * The fleet's work queue on pg-boss 10 (docs/decisions: the fleet on pg-boss), in the product's own
 * database (schema `pgboss`), through the product's pool (so a lost connection is ridden out as for
 * every other query). Per run two queues: `enrich-<run>` (one job per company, its id derived from
 * (run, company) so that queueing a company twice is one job) and `export-<run>` (the run's export,
 * one chunk at a time, each chunk queueing the next). A taken job is leased for `leaseS` (enrich) or
 * `exportLeaseS` (export): pg-boss's maintenance gives a job back when its lease ran out (pg-boss 10
 * has no heartbeats: the lease is derived from COMPANY_DEADLINE_MS).
 */

/** pg-boss's schema. */
export const QUEUE_SCHEMA = 'pgboss';

/** Settings of {@link createWorkQueue}. */
export interface WorkQueueOptions {
  /** Seconds a company job stays leased (COMPANY_DEADLINE_MS + SHUTDOWN_GRACE_MS + a margin). */
  leaseS: number;
  /** Seconds an export chunk stays leased. */
  exportLeaseS: number;
  /** Seconds between pg-boss's maintenance passes (leases that ran out go back to the queue). */
  maintenanceS: number;
  /** Attempts of a job before it stays failed (a job fails only by a lost lease or a fatal error). */
  retryLimit?: number;
  logger?: Logger;
}

/**
 * Seconds a company job stays leased: its company's deadline and the shutdown grace, plus a margin
 * (a tenth, at least 2 s, at most 30 s) for the commit. pg-boss 10 has no heartbeat: a job whose
 * member died comes back only when this runs out (docs/decisions/075-the-fleet-on-pg-boss.md).
 */
export function leaseSecondsFor(companyDeadlineMs: number, shutdownGraceMs: number): number {
  const s = (companyDeadlineMs + shutdownGraceMs) / 1000;
  return Math.ceil(s + Math.min(30, Math.max(2, s / 10)));
}

const enrichQueue = (runId: number): string => `enrich-${runId}`;
const exportQueue = (runId: number): string => `export-${runId}`;
const QUEUE_NAME = /^(enrich|export)-(\d+)$/;

/** A UUID (version-5 layout) from (run, company): the same company of the same run is the same job. */
export function companyJobId(runId: number, companyId: number): string {
  const h = createHash('sha1').update(`lead-enrich:company:${runId}:${companyId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/**
 * Jobs by run, queue and state, read straight from pg-boss's table (no pg-boss started: the
 * operators' page and /metrics read it). Empty when the queue's schema is not installed yet.
 */
export async function readQueueDepth(db: Pick<Queryable, 'query'>, runId?: number): Promise<QueueDepth[]> {
  const { rows: present } = await db.query<{ ok: boolean }>(`SELECT to_regclass('${QUEUE_SCHEMA}.job') IS NOT NULL AS ok`);
  if (present[0]?.ok !== true) return [];
  const { rows } = await db.query<{ name: string; state: string; n: number }>(
    `SELECT j.name, j.state::text AS state, count(*)::int AS n FROM ${QUEUE_SCHEMA}.job j
      WHERE ${runId === undefined ? `j.name ~ '^(enrich|export)-[0-9]+$'` : 'j.name = ANY($1::text[])'}
      GROUP BY j.name, j.state`,
    runId === undefined ? [] : [[enrichQueue(runId), exportQueue(runId)]],
  );
  const out = new Map<string, QueueDepth>();
  for (const r of rows) {
    const m = QUEUE_NAME.exec(r.name);
    if (!m) continue;
    const d = out.get(r.name) ?? { runId: Number(m[2]), queue: m[1] as 'enrich' | 'export', waiting: 0, retry: 0, active: 0, failed: 0, completed: 0 };
    if (r.state === 'created') d.waiting += r.n;
    else if (r.state === 'retry') d.retry += r.n;
    else if (r.state === 'active') d.active += r.n;
    else if (r.state === 'failed') d.failed += r.n;
    else if (r.state === 'completed') d.completed += r.n;
    out.set(r.name, d);
  }
  return [...out.values()].sort((a, b) => a.runId - b.runId || a.queue.localeCompare(b.queue));
}

/** pg-boss's `db` option over one client (a transaction's) or a pool. */
const executor = (db: Pick<Queryable, 'query'> | pg.PoolClient) => ({
  executeSql: async (text: string, values?: unknown[]) => (await (db as Pick<Queryable, 'query'>).query(text, values ?? [])) as unknown as { rows: unknown[] },
});

/**
 * The {@link WorkQueue} port on pg-boss. Starts pg-boss (installing its schema on first use) with
 * its maintenance and without its cron, `work()` or monitor loops: members take jobs themselves.
 */
export async function createWorkQueue(db: Queryable, options: WorkQueueOptions): Promise<WorkQueue> {
  const { logger } = options;
  const retryLimit = options.retryLimit ?? 100;
  const boss = new PgBoss({
    db: executor(db),
    schema: QUEUE_SCHEMA,
    supervise: true,
    schedule: false,
    migrate: true,
    maintenanceIntervalSeconds: options.maintenanceS,
    // Completed jobs are kept a day in pgboss.archive, then deleted.
    archiveCompletedAfterSeconds: 3600,
    deleteAfterDays: 1,
  });
  // pg-boss reports its own failures (maintenance, a lost connection) here; without a listener an
  // 'error' event would end the process.
  boss.on('error', (error) => logger?.warn({ err: error }, 'work queue maintenance failed; it is tried again'));
  await boss.start();
  const opened = new Set<number>();

  const openRun = async (runId: number): Promise<void> => {
    if (opened.has(runId)) return;
    const common = { retryLimit, retryDelay: 0, retryBackoff: false };
    if (!(await boss.getQueue(enrichQueue(runId)))) await boss.createQueue(enrichQueue(runId), { name: enrichQueue(runId), ...common, expireInSeconds: options.leaseS });
    if (!(await boss.getQueue(exportQueue(runId)))) await boss.createQueue(exportQueue(runId), { name: exportQueue(runId), ...common, expireInSeconds: options.exportLeaseS });
    opened.add(runId);
  };

  const queueOf = (job: CompanyJob | ExportJob): string => (job.kind === 'company' ? enrichQueue(job.runId) : exportQueue(job.runId));
  const byQueue = (jobs: readonly (CompanyJob | ExportJob)[]): Map<string, string[]> => {
    const out = new Map<string, string[]>();
    for (const job of jobs) out.set(queueOf(job), [...(out.get(queueOf(job)) ?? []), job.id]);
    return out;
  };

  /** Runs of the queue whose enrichment is over (input recorded whole, every company with a result) and whose export is not queued yet. */
  const claimableRuns = async (): Promise<number[]> => {
    const { rows } = await db.query<{ run_id: string }>(
      `SELECT r.run_id FROM enrichment_runs r
        WHERE r.phase = 'enriching' AND r.status <> 'failed' AND (r.params->>'inputRecorded') = 'true'
          AND EXISTS (SELECT 1 FROM ${QUEUE_SCHEMA}.queue q WHERE q.name = 'enrich-' || r.run_id)
          AND NOT EXISTS (SELECT 1 FROM run_companies rc WHERE rc.run_id = r.run_id
            AND NOT EXISTS (SELECT 1 FROM company_enrichment_runs c WHERE c.run_id = rc.run_id AND c.company_id = rc.company_id))
        ORDER BY r.run_id`,
    );
    return rows.map((r) => Number(r.run_id));
  };

  return {
    openRun,

    async enqueueCompanies(runId, tenantId, companyIds) {
      if (companyIds.length === 0) return;
      await openRun(runId);
      const name = enrichQueue(runId);
      for (let i = 0; i < companyIds.length; i += 1000) {
        const jobs = companyIds.slice(i, i + 1000).map((companyId) => ({ id: companyJobId(runId, companyId), name, data: { runId, tenantId, companyId } }));
        await boss.insert(jobs);
      }
    },

    async takeCompanies(runId, max) {
      await openRun(runId);
      const jobs = await boss.fetch<{ runId: number; tenantId: TenantId; companyId: number }>(enrichQueue(runId), { batchSize: max });
      return jobs.map((j) => ({ kind: 'company', id: j.id, runId: j.data.runId, tenantId: j.data.tenantId, companyId: j.data.companyId }));
    },

    async takeExport(runId) {
      await openRun(runId);
      const [job] = await boss.fetch<{ runId: number; tenantId: TenantId }>(exportQueue(runId), { batchSize: 1 });
      return job ? { kind: 'export', id: job.id, runId: job.data.runId, tenantId: job.data.tenantId } : null;
    },

    async complete(jobs) {
      for (const [name, ids] of byQueue(jobs)) await boss.complete(name, ids);
    },

    async release(jobs) {
      // A failed job with retries left is due again at once (retryDelay 0).
      for (const [name, ids] of byQueue(jobs)) await boss.fail(name, ids);
    },

    async claimExport(runId) {
      await openRun(runId);
      return transaction(db, async (client) => {
        // Once for the fleet: the row is locked by the UPDATE, a second claimer finds the phase moved on.
        const { rows } = await client.query<{ tenant_id: number }>(
          `UPDATE enrichment_runs r SET phase = 'exporting'
            WHERE r.run_id = $1 AND r.phase = 'enriching' AND r.status <> 'failed' AND (r.params->>'inputRecorded') = 'true'
              AND NOT EXISTS (SELECT 1 FROM run_companies rc WHERE rc.run_id = r.run_id
                AND NOT EXISTS (SELECT 1 FROM company_enrichment_runs c WHERE c.run_id = rc.run_id AND c.company_id = rc.company_id))
            RETURNING r.tenant_id`,
          [runId],
        );
        const row = rows[0];
        if (!row) return false;
        await boss.insert([{ name: exportQueue(runId), data: { runId, tenantId: row.tenant_id } }], { db: executor(client) });
        return true;
      });
    },

    async continueExport(job) {
      await boss.insert([{ name: exportQueue(job.runId), data: { runId: job.runId, tenantId: job.tenantId } }]);
    },

    async ensureExport(runId, tenantId) {
      await openRun(runId);
      const { rows } = await db.query<{ busy: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${QUEUE_SCHEMA}.job WHERE name = $1 AND state < 'completed') AS busy`, [exportQueue(runId)]);
      if (rows[0]?.busy !== true) await boss.insert([{ name: exportQueue(runId), data: { runId, tenantId } }]);
    },

    async reclaim(runId) {
      await openRun(runId);
      let n = 0;
      for (const name of [enrichQueue(runId), exportQueue(runId)]) {
        const { rows } = await db.query<{ id: string }>(`SELECT id::text AS id FROM ${QUEUE_SCHEMA}.job WHERE name = $1 AND state = 'active'`, [name]);
        for (let i = 0; i < rows.length; i += 1000) {
          const ids = rows.slice(i, i + 1000).map((r) => r.id);
          await boss.fail(name, ids);
          n += ids.length;
        }
      }
      return n;
    },

    async runsWithWork() {
      // Runs with jobs to do, and runs whose every company is done but whose export nobody queued
      // yet (the member that did the last company stopped first): someone must claim it.
      const { rows } = await db.query<{ name: string }>(
        `SELECT q.name FROM ${QUEUE_SCHEMA}.queue q
          WHERE q.name ~ '^(enrich|export)-[0-9]+$'
            AND EXISTS (SELECT 1 FROM ${QUEUE_SCHEMA}.job j WHERE j.name = q.name AND j.state < 'completed')
          ORDER BY q.created_on`,
      );
      const runs: number[] = [];
      for (const { name } of rows) {
        const runId = Number(QUEUE_NAME.exec(name)?.[2]);
        if (Number.isInteger(runId) && !runs.includes(runId)) runs.push(runId);
      }
      for (const runId of await claimableRuns()) if (!runs.includes(runId)) runs.push(runId);
      return runs;
    },

    depth: (runId) => readQueueDepth(db, runId),

    async idle() {
      const { rows } = await db.query<{ busy: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM ${QUEUE_SCHEMA}.job WHERE name ~ '^(enrich|export)-[0-9]+$' AND state < 'completed') AS busy`,
      );
      return rows[0]?.busy !== true && (await claimableRuns()).length === 0;
    },

    async closeRun(runId) {
      for (const name of [enrichQueue(runId), exportQueue(runId)]) {
        if (await boss.getQueue(name)) await boss.deleteQueue(name);
      }
      opened.delete(runId);
    },

    async stop() {
      await boss.stop({ graceful: false, close: false, wait: true });
    },
  };
}
