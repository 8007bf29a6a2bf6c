import type {
  BreakerView,
  CompanyDetails,
  CompanyListItem,
  Page,
  RunListItem,
  RunStatus,
  WindowReader,
  WindowTotals,
} from '../../domain/index.js';
import { readQueueDepth } from './queue.js';
import type { Queryable } from './reconnect.js';
import { createFleetRegistry } from './fleetWorkers.js';

/**
 * The {@link WindowReader} port on the product's tables (read-only: nothing here writes). The
 * counts of a run are computed from its rows (as `report` does), so a run still going shows its
 * progress and a killed one does not show 0 companies.
 *
 * `openingReasons`: the transition reasons that start a cool-off (the breaker machine's
 * OPENING_REASONS, handed in by the composition root).
 */
export function createWindowReader(db: Pick<Queryable, 'query'>, options: { openingReasons: readonly string[] }): WindowReader {
  const fleet = createFleetRegistry(db);

  const page = <T>(rows: T[], p: number, size: number): Page<T> => ({ items: rows.slice(0, size), page: p, pageSize: size, hasMore: rows.length > size });

  // The live counts and cost of the runs of `cond`; one LATERAL per row of the page (index probes).
  const runSelect = (cond: string): string => `
    SELECT r.run_id, r.tenant_id, t.name AS tenant_name, r.status, r.phase, r.degraded, r.started_at, r.finished_at,
           r.odoo_export_disabled, r.odoo_export_disabled_reason, r.params,
           greatest(i.inputs, c.done) AS total, c.done, c.degraded AS degraded_n, c.failed, c.exported, c.export_failed,
           coalesce(u.cost, 0)::float8 AS cost_usd
      FROM enrichment_runs r
      LEFT JOIN tenants t ON t.tenant_id = r.tenant_id
      CROSS JOIN LATERAL (SELECT count(*)::int AS inputs FROM run_companies rc WHERE rc.run_id = r.run_id) i
      CROSS JOIN LATERAL (
        SELECT count(*)::int AS done,
               count(*) FILTER (WHERE cardinality(reasons) > 0)::int AS degraded,
               count(*) FILTER (WHERE status = 'failed')::int AS failed,
               count(*) FILTER (WHERE export_status IN ('exported', 'exported_stripped'))::int AS exported,
               count(*) FILTER (WHERE export_status = 'failed')::int AS export_failed
          FROM company_enrichment_runs cr WHERE cr.run_id = r.run_id) c
      LEFT JOIN LATERAL (SELECT sum(cost_usd) AS cost FROM run_vendor_usage v WHERE v.run_id = r.run_id) u ON true
     WHERE ${cond}`;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const runItem = (r: any): RunListItem => ({
    runId: Number(r.run_id),
    tenantId: r.tenant_id,
    tenantName: r.tenant_name ?? null,
    status: r.status as RunStatus,
    phase: r.phase,
    degraded: r.degraded,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    counts: { total: r.total, done: r.done, degraded: r.degraded_n, failed: r.failed, exported: r.exported, exportFailed: r.export_failed },
    costUsd: Number(r.cost_usd),
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const companyItem = (r: any): CompanyListItem => ({
    companyId: Number(r.company_id),
    name: r.name ?? null,
    domain: r.domain ?? null,
    status: r.status,
    reasons: r.reasons ?? [],
    fallbacks: r.fallbacks ?? [],
    exportStatus: r.export_status ?? null,
    finishedAt: r.finished_at,
  });

  return {
    async runs(q) {
      const where: string[] = [];
      const values: unknown[] = [];
      if (q.tenantId !== undefined) where.push(`r.tenant_id = $${values.push(q.tenantId)}`);
      if (q.status !== undefined) where.push(`r.status = $${values.push(q.status)}`);
      const limit = `$${values.push(q.pageSize + 1)}`;
      const offset = `$${values.push((q.page - 1) * q.pageSize)}`;
      // The page's runs first (newest first, by the tenant/started_at index or the primary key), then their counts.
      const { rows } = await db.query(
        `${runSelect(`r.run_id IN (SELECT run_id FROM enrichment_runs r WHERE ${where.length ? where.join(' AND ') : 'true'}
                                   ORDER BY r.started_at DESC, r.run_id DESC LIMIT ${limit} OFFSET ${offset})`)}
         ORDER BY r.started_at DESC, r.run_id DESC`,
        values,
      );
      return page(rows.map(runItem), q.page, q.pageSize);
    },

    async run(runId) {
      const { rows } = await db.query(runSelect('r.run_id = $1'), [runId]);
      const r = rows[0];
      if (!r) return null;
      const [reasons, stages, vendors, exports, transitions, rejected] = await Promise.all([
        db.query(`SELECT reason, count(*)::int AS companies FROM company_enrichment_runs, unnest(reasons) AS reason
                   WHERE run_id = $1 GROUP BY reason ORDER BY companies DESC, reason`, [runId]),
        db.query(`SELECT stage, n, p50, p90, p95, p99, max_ms FROM run_stage_stats WHERE run_id = $1 ORDER BY stage`, [runId]),
        db.query(`SELECT vendor, calls, errors, retries, tokens, cost_usd FROM run_vendor_usage WHERE run_id = $1 ORDER BY vendor`, [runId]),
        db.query(`SELECT coalesce(export_status, 'pending') AS export_status, count(*)::int AS companies FROM company_enrichment_runs
                   WHERE run_id = $1 GROUP BY 1 ORDER BY companies DESC, 1`, [runId]),
        db.query(`SELECT vendor, from_state, to_state, at, reason FROM breaker_transitions WHERE run_id = $1 ORDER BY at, id`, [runId]),
        db.query(`SELECT count(*)::int AS n FROM sink_rejected_events WHERE run_id = $1`, [runId]),
      ]);
      return {
        ...runItem(r),
        odooExportDisabled: r.odoo_export_disabled,
        odooExportDisabledReason: r.odoo_export_disabled_reason ?? null,
        params: r.params ?? {},
        reasons: reasons.rows.map((x) => ({ reason: x.reason, companies: x.companies })),
        stages: stages.rows.map((x) => ({ stage: x.stage, n: x.n, p50: x.p50, p90: x.p90, p95: x.p95, p99: x.p99, maxMs: x.max_ms })),
        vendors: vendors.rows.map((x) => ({ vendor: x.vendor, calls: Number(x.calls), errors: Number(x.errors), retries: Number(x.retries), tokens: Number(x.tokens), costUsd: Number(x.cost_usd) })),
        exports: exports.rows.map((x) => ({ exportStatus: x.export_status, companies: x.companies })),
        breakerTransitions: transitions.rows.map((x) => ({ vendor: x.vendor, from: x.from_state, to: x.to_state, at: x.at, reason: x.reason })),
        rejectedEvents: rejected.rows[0]?.n ?? 0,
      };
    },

    async companies(q) {
      const values: unknown[] = [q.runId];
      const reason = q.reason === undefined ? '' : `AND cr.reasons @> ARRAY[$${values.push(q.reason)}]::text[]`;
      const limit = `$${values.push(q.pageSize + 1)}`;
      const offset = `$${values.push((q.page - 1) * q.pageSize)}`;
      const { rows } = await db.query(
        `SELECT cr.company_id, coalesce(rc.name, c.name) AS name, coalesce(rc.domain, c.domain) AS domain, cr.status, cr.reasons, cr.fallbacks,
                cr.export_status, cr.finished_at
           FROM company_enrichment_runs cr
           LEFT JOIN run_companies rc ON rc.run_id = cr.run_id AND rc.company_id = cr.company_id
           LEFT JOIN companies c ON c.tenant_id = cr.tenant_id AND c.company_id = cr.company_id
          WHERE cr.run_id = $1 ${reason}
          ORDER BY cr.company_id LIMIT ${limit} OFFSET ${offset}`,
        values,
      );
      return page(rows.map(companyItem), q.page, q.pageSize);
    },

    async company(runId, companyId) {
      const { rows } = await db.query(
        `SELECT cr.*, coalesce(rc.name, c.name) AS name, coalesce(rc.domain, c.domain) AS domain
           FROM company_enrichment_runs cr
           LEFT JOIN run_companies rc ON rc.run_id = cr.run_id AND rc.company_id = cr.company_id
           LEFT JOIN companies c ON c.tenant_id = cr.tenant_id AND c.company_id = cr.company_id
          WHERE cr.run_id = $1 AND cr.company_id = $2`,
        [runId, companyId],
      );
      const r = rows[0];
      if (!r) return null;
      const contacts = await db.query(
        `SELECT full_name, title, email, linkedin_url, source, email_status, email_sub_status, verified_at
           FROM contacts WHERE tenant_id = $1 AND company_id = $2 ORDER BY contact_id`,
        [r.tenant_id, companyId],
      );
      const details: CompanyDetails = {
        ...companyItem(r),
        runId,
        tenantId: r.tenant_id,
        facts: r.facts ?? {},
        provenance: Array.isArray(r.provenance) ? r.provenance : [],
        timings: Array.isArray(r.timings) ? r.timings : [],
        exportDetail: r.export_detail ?? null,
        exportPartnerId: r.export_partner_id ?? null,
        startedAt: r.started_at,
        contacts: contacts.rows.map((x) => ({
          fullName: x.full_name, title: x.title, email: x.email, linkedinUrl: x.linkedin_url, source: x.source,
          emailStatus: x.email_status, emailSubStatus: x.email_sub_status, verifiedAt: x.verified_at,
        })),
      };
      return details;
    },

    // The one place that knows where a breaker's state is read from: the fleet's row in
    // breaker_state (migration 009), since its last transition; for a breaker with no row yet (a
    // database from before 009), its last transition (by `at`, then id, as the start-up restore
    // reads it) and its last opening.
    async breakers() {
      const { rows } = await db.query(
        `WITH last AS (
           SELECT DISTINCT ON (tenant_id, vendor) tenant_id, vendor, to_state, at, reason, run_id
             FROM breaker_transitions
            ORDER BY tenant_id, vendor, at DESC, id DESC
         )
         SELECT s.tenant_id, s.vendor, s.state AS to_state, coalesce(l.at, s.updated_at) AS at, coalesce(s.reason, l.reason) AS reason,
                l.run_id, s.opened_at
           FROM breaker_state s
           LEFT JOIN last l ON l.tenant_id = s.tenant_id AND l.vendor = s.vendor
         UNION ALL
         SELECT l.tenant_id, l.vendor, l.to_state, l.at, l.reason, l.run_id, o.at AS opened_at
           FROM last l
           LEFT JOIN LATERAL (
             SELECT t.at FROM breaker_transitions t
              WHERE t.tenant_id = l.tenant_id AND t.vendor = l.vendor AND t.to_state = 'open' AND t.reason = ANY($1::text[])
              ORDER BY t.at DESC, t.id DESC LIMIT 1
           ) o ON true
          WHERE NOT EXISTS (SELECT 1 FROM breaker_state s WHERE s.tenant_id = l.tenant_id AND s.vendor = l.vendor)
          ORDER BY 1, 2`,
        [options.openingReasons],
      );
      return rows.map((r): BreakerView => ({
        tenantId: r.tenant_id, vendor: r.vendor, state: r.to_state, since: r.at, reason: r.reason,
        openedAt: r.opened_at ?? null, runId: r.run_id === null ? null : Number(r.run_id),
      }));
    },

    queue: () => readQueueDepth(db),

    workers: (withinS) => fleet.seen(withinS),

    async totals(bucketsS) {
      const le = bucketsS.map((b) => b * 1000);
      const bucketCols = le.map((_, i) => `, count(*) FILTER (WHERE duration_ms <= $${i + 1})::float8 AS b${i}`).join('');
      const [companies, vendors, runs, stages, rejected] = await Promise.all([
        db.query(`SELECT tenant_id, count(*)::float8 AS done, count(*) FILTER (WHERE cardinality(reasons) > 0)::float8 AS degraded,
                         count(*) FILTER (WHERE status = 'failed')::float8 AS failed
                    FROM company_enrichment_runs GROUP BY tenant_id ORDER BY tenant_id`),
        db.query(`SELECT tenant_id, vendor, sum(calls)::float8 AS calls, sum(errors)::float8 AS errors, sum(retries)::float8 AS retries,
                         sum(cost_usd)::float8 AS cost_usd
                    FROM run_vendor_usage GROUP BY tenant_id, vendor ORDER BY tenant_id, vendor`),
        db.query(`SELECT status, count(*)::float8 AS runs FROM enrichment_runs GROUP BY status ORDER BY status`),
        // One scan of run_event_logs: every stage's finishes, counted per bucket bound.
        db.query(`SELECT stage, count(*)::float8 AS n, coalesce(sum(duration_ms), 0)::float8 AS sum_ms${bucketCols}
                    FROM run_event_logs WHERE duration_ms IS NOT NULL GROUP BY stage ORDER BY stage`, le),
        db.query(`SELECT count(*)::float8 AS n FROM sink_rejected_events`),
      ]);
      const totals: WindowTotals = {
        companies: companies.rows.map((r) => ({ tenantId: r.tenant_id, done: r.done, degraded: r.degraded, failed: r.failed })),
        vendors: vendors.rows.map((r) => ({ tenantId: r.tenant_id, vendor: r.vendor, calls: r.calls, errors: r.errors, retries: r.retries, costUsd: r.cost_usd })),
        runs: runs.rows.map((r) => ({ status: r.status, runs: r.runs })),
        stageLatency: stages.rows.map((r) => ({
          stage: r.stage,
          count: r.n,
          sumS: r.sum_ms / 1000,
          buckets: bucketsS.map((b, i) => ({ le: b, count: Number(r[`b${i}`] ?? 0) })),
        })),
        rejectedEvents: rejected.rows[0]?.n ?? 0,
      };
      return totals;
    },

    async ping() {
      await db.query('SELECT 1');
    },
  };
}
