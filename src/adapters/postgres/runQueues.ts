import type { Company, CompanyFacts, Contact, ExportCompany, RunQueue, SourceName } from '../../domain/index.js';
import type { Queryable } from './reconnect.js';

/**
 * The run's work queues, read page by page (keyset pagination) so that memory stays flat however
 * many companies a run has. Both are safe to read while the sink writes: a page only moves forward.
 * Over a `reconnecting` pool a page's query lost with its connection is read again (the same window
 * or keyset page, so nothing is yielded twice).
 */

/**
 * Companies of the run without a company_enrichment_runs row, in input order, each with the people
 * already stored for it as `knownContacts` (the chain then skips contact discovery) and every address
 * stored for it as `knownEmails` (not verified again). Read by windows of
 * `pageSize` input positions (positions are the input order, dense but for duplicate ids), so that
 * each query touches at most `pageSize` rows whatever the planner's statistics say: a keyset query
 * with `LIMIT` let a planner that believed the new run tiny read every remaining row per page, which
 * made a run quadratic in its size. A window with nothing pending yields nothing and the next follows.
 */
export async function* pendingCompanyPages(pool: Queryable, runId: number, pageSize = 500): AsyncGenerator<Company> {
  const { rows: bounds } = await pool.query<{ last: number | null }>('SELECT max(position) AS last FROM run_companies WHERE run_id = $1', [runId]);
  const last = bounds[0]?.last ?? -1;
  for (let from = 0; from <= last; from += pageSize) {
    const { rows } = await pool.query<{ tenant_id: number; company_id: string; name: string | null; domain: string | null }>(
      `SELECT rc.tenant_id, rc.company_id, rc.name, rc.domain FROM run_companies rc
        WHERE rc.run_id = $1 AND rc.position >= $2 AND rc.position < $3
          AND NOT EXISTS (SELECT 1 FROM company_enrichment_runs c WHERE c.run_id = rc.run_id AND c.company_id = rc.company_id)
        ORDER BY rc.position`,
      [runId, from, from + pageSize],
    );
    if (rows.length === 0) continue;
    const ids = rows.map((r) => r.company_id);
    const stored = await storedContacts(pool, rows[0]!.tenant_id, ids);
    for (const r of rows) {
      const company: Company = { tenantId: r.tenant_id, companyId: Number(r.company_id), name: r.name, domain: r.domain };
      const known = stored.get(r.company_id);
      if (known && known.people.length > 0) company.knownContacts = known.people.map((c) => c.contact);
      if (known && known.emails.length > 0) company.knownEmails = known.emails;
      yield company;
    }
  }
}

type StoredContact = { contact: Contact; lastSeenRunId: number | null };

/**
 * What is stored for these companies of one tenant, by company id: the people (contacts with a name;
 * a site's mailto: address has none), oldest first, and every address (people's and the site's),
 * lower-case.
 */
async function storedContacts(pool: Queryable, tenantId: number, companyIds: readonly string[]): Promise<Map<string, { people: StoredContact[]; emails: string[] }>> {
  const { rows } = await pool.query<{ company_id: string; full_name: string | null; title: string | null; email: string | null; linkedin_url: string | null; source: string; last_seen_run_id: string | null }>(
    `SELECT company_id, full_name, title, email, linkedin_url, source, last_seen_run_id FROM contacts
      WHERE tenant_id = $1 AND company_id = ANY($2::bigint[])
      ORDER BY contact_id`,
    [tenantId, companyIds],
  );
  const byCompany = new Map<string, { people: StoredContact[]; emails: string[] }>();
  for (const c of rows) {
    let entry = byCompany.get(c.company_id);
    if (!entry) byCompany.set(c.company_id, (entry = { people: [], emails: [] }));
    const email = c.email?.toLowerCase();
    if (email && !entry.emails.includes(email)) entry.emails.push(email);
    if (c.full_name === null) continue;
    entry.people.push({
      contact: { fullName: c.full_name, title: c.title, email: c.email, linkedinUrl: c.linkedin_url, source: c.source as SourceName },
      lastSeenRunId: c.last_seen_run_id === null ? null : Number(c.last_seen_run_id),
    });
  }
  return byCompany;
}

/**
 * Companies of the run that have a result but no export_status yet, as the export reads them
 * ({@link ExportCompany}): their facts and the
 * people seen in this run (or, when the run found none, those stored for the company). Ordered by company id; each page reads `pageSize` entries of the partial
 * index `company_enrichment_runs_unexported_idx` (migrations/003_queues.sql).
 */
export async function* exportPendingPages(pool: Queryable, runId: number, pageSize = 200): AsyncGenerator<ExportCompany> {
  let after = -1;
  for (;;) {
    const { rows } = await pool.query<{ company_id: string; tenant_id: number; name: string | null; domain: string | null; facts: CompanyFacts }>(
      `SELECT cer.company_id, cer.tenant_id, c.name, c.domain, cer.facts FROM company_enrichment_runs cer
         JOIN companies c ON c.tenant_id = cer.tenant_id AND c.company_id = cer.company_id
        WHERE cer.run_id = $1 AND cer.export_status IS NULL AND cer.company_id > $2
        ORDER BY cer.company_id LIMIT $3`,
      [runId, after, pageSize],
    );
    if (rows.length === 0) return;
    const stored = await storedContacts(pool, rows[0]!.tenant_id, rows.map((r) => r.company_id));
    const byCompany = new Map<string, Contact[]>();
    for (const [companyId, { people: list }] of stored) {
      if (list.length === 0) continue;
      // The people this run found; a company whose discovery was skipped because it already had
      // people (DESIGN.md: contacts "when the company has none") exports those.
      const seen = list.filter((c) => c.lastSeenRunId === runId);
      byCompany.set(companyId, (seen.length > 0 ? seen : list).map((c) => c.contact));
    }
    for (const r of rows) {
      yield { companyId: Number(r.company_id), name: r.name, domain: r.domain, facts: r.facts ?? {}, contacts: byCompany.get(r.company_id) ?? [] };
    }
    if (rows.length < pageSize) return;
    after = Number(rows[rows.length - 1]!.company_id);
  }
}

/** The ids of the run's companies without a result row, by windows of input positions (as {@link pendingCompanyPages}). */
export async function* pendingIdPages(pool: Queryable, runId: number, pageSize = 1000): AsyncGenerator<number[]> {
  const { rows: bounds } = await pool.query<{ last: number | null }>('SELECT max(position) AS last FROM run_companies WHERE run_id = $1', [runId]);
  const last = bounds[0]?.last ?? -1;
  for (let from = 0; from <= last; from += pageSize) {
    const { rows } = await pool.query<{ company_id: string }>(
      `SELECT rc.company_id FROM run_companies rc
        WHERE rc.run_id = $1 AND rc.position >= $2 AND rc.position < $3
          AND NOT EXISTS (SELECT 1 FROM company_enrichment_runs c WHERE c.run_id = rc.run_id AND c.company_id = rc.company_id)
        ORDER BY rc.position`,
      [runId, from, from + pageSize],
    );
    if (rows.length > 0) yield rows.map((r) => Number(r.company_id));
  }
}

/** {@link RunQueue.companies}: one query for the companies, one for what is stored for them. */
export async function companiesOfRun(pool: Queryable, runId: number, companyIds: readonly number[]): Promise<Map<number, Company | 'done'>> {
  const out = new Map<number, Company | 'done'>();
  if (companyIds.length === 0) return out;
  const { rows } = await pool.query<{ tenant_id: number; company_id: string; name: string | null; domain: string | null; done: boolean }>(
    `SELECT rc.tenant_id, rc.company_id, rc.name, rc.domain,
            EXISTS (SELECT 1 FROM company_enrichment_runs c WHERE c.run_id = rc.run_id AND c.company_id = rc.company_id) AS done
       FROM run_companies rc WHERE rc.run_id = $1 AND rc.company_id = ANY($2::bigint[])`,
    [runId, companyIds],
  );
  const open = rows.filter((r) => !r.done);
  const stored = open.length > 0 ? await storedContacts(pool, open[0]!.tenant_id, open.map((r) => r.company_id)) : new Map();
  for (const r of rows) {
    if (r.done) {
      out.set(Number(r.company_id), 'done');
      continue;
    }
    const company: Company = { tenantId: r.tenant_id, companyId: Number(r.company_id), name: r.name, domain: r.domain };
    const known = stored.get(r.company_id);
    if (known && known.people.length > 0) company.knownContacts = known.people.map((c: StoredContact) => c.contact);
    if (known && known.emails.length > 0) company.knownEmails = known.emails;
    out.set(company.companyId, company);
  }
  return out;
}

/** The {@link RunQueue} port over a pool (the `reconnecting` one in production). */
export function createRunQueue(pool: Queryable): RunQueue {
  return {
    pending: (runId) => pendingCompanyPages(pool, runId),
    unexported: (runId) => exportPendingPages(pool, runId),
    pendingIds: (runId) => pendingIdPages(pool, runId),
    companies: (runId, companyIds) => companiesOfRun(pool, runId, companyIds),
  };
}
