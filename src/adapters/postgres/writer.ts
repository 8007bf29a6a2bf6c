import type pg from 'pg';
import type { Logger } from '../../domain/index.js';
import type { BatchOutcome, BatchWriter, RunEvent } from '../../domain/index.js';
import { pgJson, pgText } from './pgJson.js';
import { companyRows, contactRows, exportRows, resultKeys, stageRows, transitionRows, usageRows } from './rows.js';

export type { BatchOutcome, BatchWriter } from '../../domain/index.js';

/** SQLSTATE classes 22 (data exception) and 23 (integrity constraint): the content is at fault. */
export function isContentError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

// A contact's verdict (valid, invalid, catch-all, …) is never replaced by `unknown` (a deferred or
// inconclusive check) nor `unverified`: only another verdict replaces it.
// The data statements run as data-modifying CTEs of one statement headed by the ledger insert
// (`@` is each one's parameter, numbered when the statement is built); each writes only when the
// ledger row was new, so a replayed batch changes nothing. All CTEs see the same snapshot, so none
// sees the rows a sibling inserts, and no row may be changed by two of them: an export outcome for a
// company whose result is in the same batch is written with that result (w_runs: `exported`), and
// only the others, for rows of earlier batches, by the export UPDATE (w_exports).
/**
 * A company's stage events, usage, contacts and facts count only with its result: when the batch
 * carries the result (`gated`), they are written only if that result is the one recorded — a
 * company's first recorded result wins, whichever worker made it (DESIGN.md "Scale-out": exactly one
 * row, usage counted once, even when a stale worker finishes a job that was handed to another).
 */
const GATE = '(NOT r.gated OR EXISTS (SELECT FROM w_runs w WHERE w.run_id = r.run_id AND w.company_id = r.company_id))';

const SQL = {
  companies: `INSERT INTO companies (tenant_id, company_id, name, domain, facts, last_enriched_at)
    SELECT r.tenant_id, r.company_id, r.name, NULL, r.facts, to_timestamp(r.finished_at / 1000.0)
    FROM jsonb_to_recordset(@::jsonb) AS r(run_id bigint, tenant_id int, company_id bigint, name text, facts jsonb, finished_at float8)
    WHERE EXISTS (SELECT FROM w_runs w WHERE w.run_id = r.run_id AND w.company_id = r.company_id)
    ON CONFLICT (tenant_id, company_id) DO UPDATE SET
      name = coalesce(companies.name, EXCLUDED.name), facts = EXCLUDED.facts,
      last_enriched_at = greatest(companies.last_enriched_at, EXCLUDED.last_enriched_at), updated_at = now()`,
  companyRuns: `INSERT INTO company_enrichment_runs AS c (run_id, company_id, tenant_id, status, degraded_reasons, reasons,
      facts, provenance, fallbacks, timings, started_at, finished_at, export_status, export_partner_id, export_detail, exported_at, cost_usd)
    SELECT r.run_id, r.company_id, r.tenant_id, r.status, r.degraded_reasons, r.reasons, r.facts, r.provenance,
      r.fallbacks, r.timings, to_timestamp(r.started_at / 1000.0), to_timestamp(r.finished_at / 1000.0),
      r.export_status, r.partner_id, r.detail, CASE WHEN r.exported THEN now() END, coalesce(r.cost_usd, 0)
    FROM jsonb_to_recordset(@::jsonb) AS r(run_id bigint, company_id bigint, tenant_id int, status text,
      degraded_reasons text, reasons text[], facts jsonb, provenance jsonb, fallbacks text[], timings jsonb,
      started_at float8, finished_at float8, exported boolean, export_status text, partner_id int, detail text, cost_usd numeric)
    WHERE EXISTS (SELECT FROM ledger)
    ON CONFLICT (run_id, company_id) DO NOTHING
    RETURNING c.run_id, c.company_id`,
  contacts: `INSERT INTO contacts (tenant_id, company_id, email, full_name, title, linkedin_url, source, email_status,
      email_sub_status, verified_at, first_seen_run_id, last_seen_run_id)
    SELECT r.tenant_id, r.company_id, r.email, r.full_name, r.title, r.linkedin_url, r.source, r.email_status,
      r.email_sub_status, CASE WHEN r.email_status IN ('unknown', 'unverified') THEN NULL ELSE to_timestamp(r.at / 1000.0) END,
      r.run_id, r.run_id
    FROM jsonb_to_recordset(@::jsonb) AS r(tenant_id int, company_id bigint, email text, full_name text, title text,
      linkedin_url text, source text, email_status text, email_sub_status text, at float8, run_id bigint)
    WHERE EXISTS (SELECT FROM w_runs w WHERE w.run_id = r.run_id AND w.company_id = r.company_id)
    ON CONFLICT (tenant_id, company_id, dedupe_key) DO UPDATE SET
      full_name = coalesce(EXCLUDED.full_name, contacts.full_name), title = coalesce(EXCLUDED.title, contacts.title),
      linkedin_url = coalesce(EXCLUDED.linkedin_url, contacts.linkedin_url), source = EXCLUDED.source,
      email_status = CASE WHEN EXCLUDED.email_status = 'unverified'
          OR (EXCLUDED.email_status = 'unknown' AND contacts.email_status NOT IN ('unknown', 'unverified'))
        THEN contacts.email_status ELSE EXCLUDED.email_status END,
      email_sub_status = CASE WHEN EXCLUDED.email_status = 'unverified'
          OR (EXCLUDED.email_status = 'unknown' AND contacts.email_status NOT IN ('unknown', 'unverified'))
        THEN contacts.email_sub_status ELSE EXCLUDED.email_sub_status END,
      verified_at = coalesce(EXCLUDED.verified_at, contacts.verified_at),
      last_seen_run_id = EXCLUDED.last_seen_run_id, updated_at = now()`,
  usage: `INSERT INTO run_vendor_usage (run_id, tenant_id, vendor, calls, errors, retries, tokens, cost_usd, rate_waits, rate_wait_ms, retries_refused, reuses, saved_usd)
    SELECT r.run_id, r.tenant_id, r.vendor, sum(r.calls), sum(r.errors), sum(r.retries), sum(r.tokens), sum(r.cost_usd),
      sum(r.rate_waits), sum(r.rate_wait_ms), sum(r.retries_refused), sum(r.reuses), sum(r.saved_usd)
    FROM jsonb_to_recordset(@::jsonb) AS r(run_id bigint, tenant_id int, company_id bigint, gated boolean, vendor text,
      calls bigint, errors bigint, retries bigint, tokens bigint, cost_usd numeric, rate_waits bigint, rate_wait_ms bigint, retries_refused bigint, reuses bigint, saved_usd numeric)
    WHERE EXISTS (SELECT FROM ledger) AND ${GATE}
    GROUP BY r.run_id, r.tenant_id, r.vendor
    ON CONFLICT (run_id, tenant_id, vendor) DO UPDATE SET calls = run_vendor_usage.calls + EXCLUDED.calls,
      errors = run_vendor_usage.errors + EXCLUDED.errors, retries = run_vendor_usage.retries + EXCLUDED.retries,
      tokens = run_vendor_usage.tokens + EXCLUDED.tokens, cost_usd = run_vendor_usage.cost_usd + EXCLUDED.cost_usd,
      rate_waits = run_vendor_usage.rate_waits + EXCLUDED.rate_waits, rate_wait_ms = run_vendor_usage.rate_wait_ms + EXCLUDED.rate_wait_ms,
      retries_refused = run_vendor_usage.retries_refused + EXCLUDED.retries_refused,
      reuses = run_vendor_usage.reuses + EXCLUDED.reuses, saved_usd = run_vendor_usage.saved_usd + EXCLUDED.saved_usd,
      updated_at = now()`,
  stages: `INSERT INTO run_event_logs (run_id, tenant_id, company_id, stage, event, status, error_code, duration_ms, extra, at)
    SELECT r.run_id, r.tenant_id, r.company_id, r.stage, r.event, r.status, r.error_code, r.duration_ms, r.extra,
      to_timestamp(r.at / 1000.0)
    FROM jsonb_to_recordset(@::jsonb) AS r(run_id bigint, tenant_id int, company_id bigint, gated boolean, stage text, event text,
      status text, error_code text, duration_ms float8, extra jsonb, at float8, ord int)
    WHERE EXISTS (SELECT FROM ledger) AND ${GATE}
    ORDER BY r.ord`,
  transitions: `INSERT INTO breaker_transitions (tenant_id, vendor, from_state, to_state, at, reason, run_id)
    SELECT r.tenant_id, r.vendor, r.from_state, r.to_state, to_timestamp(r.at / 1000.0), r.reason, r.run_id
    FROM jsonb_to_recordset(@::jsonb) AS r(tenant_id int, vendor text, from_state text, to_state text, at float8,
      reason text, run_id bigint)
    WHERE EXISTS (SELECT FROM ledger)
    ON CONFLICT (tenant_id, vendor, at, from_state, to_state) DO NOTHING`,
  exports: `UPDATE company_enrichment_runs AS c SET export_status = r.export_status, export_partner_id = r.partner_id,
      export_detail = r.detail, exported_at = now()
    FROM jsonb_to_recordset(@::jsonb) AS r(run_id bigint, company_id bigint, export_status text, partner_id int, detail text)
    WHERE c.run_id = r.run_id AND c.company_id = r.company_id AND EXISTS (SELECT FROM ledger)`,
};

/**
 * The export outcomes of a batch: folded into the company's result when it is in the batch too (its
 * `runs` row gets `exported` and the outcome's fields), and all of them returned for the export
 * UPDATE. One statement may not change a row twice, nor see a row a sibling CTE inserts.
 */
function foldExports(runs: object[], exports: object[]): object[] {
  if (exports.length === 0) return exports;
  const key = (row: object): string => `${(row as RunKey).run_id}/${(row as RunKey).company_id}`;
  const byKey = new Map(runs.map((row) => [key(row), row]));
  for (const outcome of exports) {
    const row = byKey.get(key(outcome));
    if (row) Object.assign(row, outcome, { exported: true });
  }
  // Every outcome also goes to the UPDATE: it changes only rows that were there before the statement
  // (a row inserted now is invisible to it), i.e. the row recorded earlier when this batch's result
  // for the same company lost to it.
  return exports;
}

interface RunKey {
  run_id: number;
  company_id: number;
}

/**
 * The statement applying a batch, with its parameters: the ledger insert, then one CTE per kind of
 * row the batch has, each kind's rows one JSON parameter. Its one row has `applied` = 1 when the
 * ledger row was new.
 */
function batchStatement(batchId: string, events: readonly RunEvent[]): { text: string; values: unknown[] } {
  const { companies, runs } = companyRows(events);
  const exports = foldExports(runs, exportRows(events));
  const results = resultKeys(events);
  const parts: [string, string, object[]][] = [
    ['w_runs', SQL.companyRuns, runs],
    ['w_companies', SQL.companies, companies],
    ['w_contacts', SQL.contacts, contactRows(events)],
    ['w_usage', SQL.usage, usageRows(events, results)],
    ['w_stages', SQL.stages, stageRows(events, results)],
    ['w_transitions', SQL.transitions, transitionRows(events)],
    ['w_exports', SQL.exports, exports],
  ];
  const values: unknown[] = [batchId, events.length];
  let text = 'WITH ledger AS (INSERT INTO sink_batches (batch_id, events) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1)';
  for (const [name, sql, rows] of parts) {
    // w_runs is always there (maybe empty): the other kinds' gates read what it inserted.
    if (rows.length > 0 || name === 'w_runs') text += `,\n  ${name} AS (${sql.replace('@', () => `$${values.push(pgJson(rows))}`)})`;
  }
  return { text: `${text}\nSELECT count(*)::int AS applied FROM ledger`, values };
}

function appliedOf(result: pg.QueryResult): boolean {
  return Number((result.rows[0] as { applied?: unknown } | undefined)?.applied ?? 0) > 0;
}

/**
 * The PostgreSQL batch writer: one statement per batch (`batchStatement`, parameters only, so one
 * round trip and atomic by itself) that records `batchId` in `sink_batches` — a batch already
 * recorded is skipped: its commit succeeded even if the acknowledgement was lost — and applies the
 * events grouped by kind, each kind a multi-row insert (`jsonb_to_recordset`, so a batch of any size
 * is one parameter per kind). Events whose content the database refuses are isolated one by one and
 * kept in `sink_rejected_events`.
 *
 * @throws the driver's error for anything but a content error (the sink retries the batch)
 */
export function createPgBatchWriter(pool: pg.Pool, logger?: Logger): BatchWriter {
  const apply = async (batchId: string, events: readonly RunEvent[]): Promise<BatchOutcome> => {
    const { text, values } = batchStatement(batchId, events);
    return appliedOf(await pool.query(text, values)) ? 'applied' : 'duplicate';
  };

  const reject = async (batchId: string, event: RunEvent, error: unknown): Promise<void> => {
    const e = error as { code?: string; message?: string };
    await pool.query(
      `INSERT INTO sink_rejected_events (batch_id, run_id, tenant_id, event_type, event, error_code, error_message)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (batch_id) DO NOTHING`,
      [batchId, event.runId, event.tenantId, event.type, pgJson(event), e.code ?? null, pgText(e.message ?? String(error))],
    );
    logger?.error({ err: error, batchId, eventType: event.type, runId: event.runId }, 'database refused a run event; kept in sink_rejected_events');
  };

  // Batches being isolated event by event: a retry of one must not try the whole batch again, or a
  // batch that now passes (say, a run row committed meanwhile) would repeat the events already applied.
  const splitting = new Set<string>();
  return async (batchId, events) => {
    try {
      if (!splitting.has(batchId)) return await apply(batchId, events);
    } catch (error) {
      if (!isContentError(error)) throw error;
      if (events.length === 1) {
        await reject(batchId, events[0] as RunEvent, error);
        return 'rejected';
      }
      splitting.add(batchId);
    }
    {
      // Isolate the offending events: each one alone, under its own ledger id.
      let outcome: BatchOutcome = 'applied';
      for (const [i, event] of events.entries()) {
        const single = await (async () => {
          try {
            return await apply(`${batchId}#${i}`, [event]);
          } catch (inner) {
            if (!isContentError(inner)) throw inner;
            await reject(`${batchId}#${i}`, event, inner);
            return 'rejected' as const;
          }
        })();
        if (single === 'rejected') outcome = 'rejected';
      }
      // The whole batch is now accounted for: a later replay of it is a duplicate.
      await pool.query('INSERT INTO sink_batches (batch_id, events) VALUES ($1, $2) ON CONFLICT DO NOTHING', [batchId, events.length]);
      splitting.delete(batchId);
      return outcome;
    }
  };
}
