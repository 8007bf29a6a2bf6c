import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRunStore } from '../../../src/adapters/postgres/runs.js';
import { createPgBatchWriter } from '../../../src/adapters/postgres/writer.js';
import type { BreakerVendor, ReasonCode, RunEvent, SourceName } from '../../../src/domain/index.js';
import { companyFinished } from '../../support/events.js';

// Every text column the batch writer fills, with what vendors and input files can hold: quotes,
// backslashes, SQL, `$` patterns, unicode, control characters and NUL (which PostgreSQL refuses in
// text and jsonb, so it is dropped). Each value must arrive unchanged, NUL aside, and a replay
// changes nothing.
const NASTY = [
  `O'Brien`,
  `back\\slash \\' \\\\`,
  `''; COMMIT; DROP TABLE companies; --`,
  '$1 $& $$ $` @',
  'Zoë 東京 🚀 \u2028',
  'tab\tnew\nline "quoted"',
  `E'\\x41'`,
  'nul\u0000inside\u0000',
];
const stored = (text: string): string => text.replaceAll('\u0000', '');
const TENANT = 5401;

describe('the batch writer keeps every character of every text column (real PostgreSQL)', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  });
  afterAll(() => pool.end());
  const rows = async (sql: string, params: unknown[]): Promise<unknown[]> => (await pool.query(sql, params)).rows;

  it('companies, runs, contacts, usage, stage events, transitions and export outcomes, in one batch and after it', async () => {
    const runId = await createRunStore(pool).createRun(TENANT, {});
    const events: RunEvent[] = NASTY.flatMap((text, i): RunEvent[] => {
      const companyId = i + 1;
      const finished = companyFinished(runId, TENANT, companyId);
      if (finished.type !== 'company.finished') return [];
      const o = finished.output;
      o.facts = { ...o.facts, name: text, description: text.repeat(3) };
      o.reasons = [text as ReasonCode];
      o.degradedReasons = text;
      o.fallbacks = [text];
      o.provenance = [{ ...o.provenance[0]!, field: text }];
      o.contacts = [{ fullName: text, title: text, email: `${text}@x.test`, linkedinUrl: text, source: text as SourceName }];
      o.emails = [{ email: `${text}@x.test`, status: 'valid', subStatus: text, source: text as SourceName }];
      return [
        finished,
        { type: 'vendor.usage', runId, tenantId: TENANT, vendor: text, calls: 1, errors: 0, retries: 0, tokens: 1, costUsd: 0 },
        { type: 'stage.event', runId, tenantId: TENANT, companyId, stage: text, event: text, status: text, errorCode: text, durationMs: 1, extra: { note: text }, at: Date.UTC(2026, 0, 1) },
        { type: 'breaker.transition', runId, tenantId: TENANT, vendor: text as BreakerVendor, from: 'halfOpen', to: 'closed', at: Date.UTC(2026, 0, 1) + i, reason: text },
        // Odd companies are exported in this batch (written with their result), even ones in the next (an UPDATE).
        ...(companyId % 2 === 1 ? [{ type: 'export.outcome', runId, tenantId: TENANT, companyId, exportStatus: 'failed', partnerId: companyId, detail: text } as const] : []),
      ];
    });
    const later: RunEvent[] = NASTY.flatMap((text, i): RunEvent[] =>
      (i + 1) % 2 === 0 ? [{ type: 'export.outcome', runId, tenantId: TENANT, companyId: i + 1, exportStatus: 'failed', partnerId: i + 1, detail: text }] : [],
    );
    const writer = createPgBatchWriter(pool);
    expect(await writer('batch-text', events)).toBe('applied');
    expect(await writer('batch-text-exports', later)).toBe('applied');
    expect(await writer('batch-text', events)).toBe('duplicate');

    const expected = NASTY.map(stored);
    expect(await rows('SELECT name, facts->>$2 AS d FROM companies WHERE tenant_id = $1 ORDER BY company_id', [TENANT, 'description'])).toEqual(expected.map((t) => ({ name: t, d: t.repeat(3) })));
    expect(
      await rows(
        `SELECT degraded_reasons, reasons, fallbacks, provenance->0->>'field' AS field, export_detail, export_partner_id, exported_at IS NOT NULL AS exported
         FROM company_enrichment_runs WHERE run_id = $1 ORDER BY company_id`,
        [runId],
      ),
    ).toEqual(expected.map((t, i) => ({ degraded_reasons: t, reasons: [t], fallbacks: [t], field: t, export_detail: t, export_partner_id: i + 1, exported: true })));
    expect(await rows('SELECT email, full_name, title, linkedin_url, source, email_sub_status FROM contacts WHERE tenant_id = $1 ORDER BY company_id', [TENANT])).toEqual(
      expected.map((t) => ({ email: `${t}@x.test`, full_name: t, title: t, linkedin_url: t, source: t, email_sub_status: t })),
    );
    const vendors = (await rows('SELECT vendor FROM run_vendor_usage WHERE run_id = $1', [runId])).map((r) => (r as { vendor: string }).vendor);
    expect(vendors.sort()).toEqual([...expected].sort());
    expect(await rows("SELECT stage, event, status, error_code, extra->>'note' AS note FROM run_event_logs WHERE run_id = $1 ORDER BY id", [runId])).toEqual(
      expected.map((t) => ({ stage: t, event: t, status: t, error_code: t, note: t })),
    );
    expect(await rows('SELECT vendor, reason FROM breaker_transitions WHERE run_id = $1 ORDER BY at', [runId])).toEqual(expected.map((t) => ({ vendor: t, reason: t })));
    expect(await rows('SELECT count(*)::int AS n FROM sink_rejected_events WHERE run_id = $1', [runId])).toEqual([{ n: 0 }]);
  });

  it('a result written again keeps the export outcome it had; one written with a new outcome takes it', async () => {
    const runId = await createRunStore(pool).createRun(TENANT + 1, {});
    const writer = createPgBatchWriter(pool);
    const exported = (companyId: number, detail: string): RunEvent => ({ type: 'export.outcome', runId, tenantId: TENANT + 1, companyId, exportStatus: 'exported', partnerId: 7, detail });
    await writer('again-1', [companyFinished(runId, TENANT + 1, 1), exported(1, 'first'), companyFinished(runId, TENANT + 1, 2), exported(2, 'first')]);
    await writer('again-2', [companyFinished(runId, TENANT + 1, 1), exported(2, 'second'), companyFinished(runId, TENANT + 1, 2)]);
    await writer('again-2', [companyFinished(runId, TENANT + 1, 1)]); // a replay: nothing changes
    expect(await rows('SELECT company_id::int AS id, export_status, export_partner_id, export_detail FROM company_enrichment_runs WHERE run_id = $1 ORDER BY company_id', [runId])).toEqual([
      { id: 1, export_status: 'exported', export_partner_id: 7, export_detail: 'first' },
      { id: 2, export_status: 'exported', export_partner_id: 7, export_detail: 'second' },
    ]);
  });
});

describe("a company's first recorded result wins (fleet: a stale worker finishing a job handed to another)", () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  });
  afterAll(() => pool.end());

  /** One worker's group for company 1: its stage event, its usage and its result, told apart by `who`. */
  const group = (runId: number, who: string, companyId = 1): RunEvent[] => {
    const finished = companyFinished(runId, 5403, companyId);
    if (finished.type === 'company.finished') finished.output.facts = { ...finished.output.facts, name: `by ${who}` };
    return [
      { type: 'stage.event', runId, tenantId: 5403, companyId, stage: 'crawl', event: 'finish', status: 'ok', errorCode: null, durationMs: 1, extra: { who }, at: Date.UTC(2026, 0, 1) },
      { type: 'vendor.usage', runId, tenantId: 5403, companyId, vendor: 'tavily', calls: who === 'first' ? 1 : 5, errors: 0, retries: 0, tokens: 0, costUsd: 0 },
      finished,
    ];
  };
  const state = async (runId: number) => ({
    rows: (await pool.query('SELECT facts->>\'name\' AS name FROM company_enrichment_runs WHERE run_id = $1', [runId])).rows,
    calls: (await pool.query('SELECT calls::int FROM run_vendor_usage WHERE run_id = $1', [runId])).rows,
    stages: (await pool.query("SELECT extra->>'who' AS who FROM run_event_logs WHERE run_id = $1", [runId])).rows,
    facts: (await pool.query("SELECT facts->>'name' AS name FROM companies WHERE tenant_id = 5403 AND company_id = 1")).rows,
  });

  it('a second result in a later batch changes nothing: one row, its usage and stage events only', async () => {
    const runId = await createRunStore(pool).createRun(5403, {});
    await pool.query('INSERT INTO companies (tenant_id, company_id) VALUES (5403, 1) ON CONFLICT DO NOTHING');
    const writer = createPgBatchWriter(pool);
    expect(await writer(`first-${runId}`, group(runId, 'first'))).toBe('applied');
    expect(await writer(`second-${runId}`, group(runId, 'second'))).toBe('applied');
    expect(await state(runId)).toEqual({ rows: [{ name: 'by first' }], calls: [{ calls: 1 }], stages: [{ who: 'first' }], facts: [{ name: 'by first' }] });
  });

  it('two writers committing the same company at once: exactly one wins, whole', async () => {
    const runId = await createRunStore(pool).createRun(5403, {});
    const writer = createPgBatchWriter(pool);
    await Promise.all([writer(`a-${runId}`, group(runId, 'first')), writer(`b-${runId}`, group(runId, 'second'))]);
    const s = await state(runId);
    expect(s.rows).toHaveLength(1);
    const who = s.rows[0].name === 'by first' ? 'first' : 'second';
    expect(s).toMatchObject({ calls: [{ calls: who === 'first' ? 1 : 5 }], stages: [{ who }] });
  });

  it('an export outcome written with a losing result still reaches the row recorded earlier', async () => {
    const runId = await createRunStore(pool).createRun(5403, {});
    const writer = createPgBatchWriter(pool);
    await writer(`first-${runId}`, group(runId, 'first'));
    await writer(`late-${runId}`, [...group(runId, 'second'), { type: 'export.outcome', runId, tenantId: 5403, companyId: 1, exportStatus: 'exported', partnerId: 7, detail: null }]);
    expect((await pool.query('SELECT export_status, export_partner_id FROM company_enrichment_runs WHERE run_id = $1', [runId])).rows).toEqual([{ export_status: 'exported', export_partner_id: 7 }]);
  });
});
