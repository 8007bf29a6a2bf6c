import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contactRows } from '../../../src/adapters/postgres/rows.js';
import type { Contact, EmailRecord, RunEvent, SourceName } from '../../../src/domain/index.js';

/** The first, plain version of contactRows (spread rows, then last row per key): the reference. */
function referenceContactRows(events: readonly RunEvent[]): object[] {
  const rows: (Record<string, unknown> & { key: string })[] = [];
  for (const e of events) {
    if (e.type !== 'company.finished') continue;
    const byEmail = new Map<string, EmailRecord>(e.output.emails.map((r) => [r.email.toLowerCase(), r]));
    const base = { tenant_id: e.tenantId, company_id: e.output.companyId, at: e.finishedAt, run_id: e.runId };
    for (const c of e.output.contacts) {
      const record = c.email ? byEmail.get(c.email.toLowerCase()) : undefined;
      const dedupe = (c.email ?? c.linkedinUrl ?? c.fullName).toLowerCase();
      rows.push({
        ...base, key: `${e.tenantId}/${e.output.companyId}/${dedupe}`, email: c.email, full_name: c.fullName, title: c.title,
        linkedin_url: c.linkedinUrl, source: c.source, email_status: record?.status ?? 'unverified', email_sub_status: record?.subStatus ?? null,
      });
    }
    const withContact = new Set(e.output.contacts.flatMap((c) => (c.email ? [c.email.toLowerCase()] : [])));
    for (const r of byEmail.values()) {
      if (withContact.has(r.email.toLowerCase())) continue;
      rows.push({
        ...base, key: `${e.tenantId}/${e.output.companyId}/${r.email.toLowerCase()}`, email: r.email, full_name: null, title: null,
        linkedin_url: null, source: r.source, email_status: r.status, email_sub_status: r.subStatus ?? null,
      });
    }
  }
  const last = new Map<string, Record<string, unknown>>();
  for (const { key, ...row } of rows) {
    last.delete(key);
    last.set(key, row);
  }
  return [...last.values()];
}

const address = fc.constantFrom('ada@x.test', 'ADA@x.test', 'bob@x.test', 'info@x.test', '');
const source = fc.constantFrom<SourceName>('apify_linkedin', 'lusha', 'crawler');
const contact: fc.Arbitrary<Contact> = fc.record({
  fullName: fc.constantFrom('Ada', 'Bob', 'ada'),
  title: fc.option(fc.constantFrom('CTO', 'CEO'), { nil: null }),
  email: fc.option(address, { nil: null }),
  linkedinUrl: fc.option(fc.constantFrom('https://linkedin.test/in/a', 'https://LinkedIn.test/in/A'), { nil: null }),
  source,
});
const email: fc.Arbitrary<EmailRecord> = fc.record({
  email: address.filter((a) => a !== ''),
  status: fc.constantFrom('valid', 'invalid', 'unknown', 'unverified'),
  source,
  subStatus: fc.option(fc.constantFrom('mailbox_not_found', 'greylisted'), { nil: null }),
}) as fc.Arbitrary<EmailRecord>;
const finished: fc.Arbitrary<RunEvent> = fc
  .record({ runId: fc.constantFrom(1, 2), tenantId: fc.constantFrom(1, 2), companyId: fc.integer({ min: 1, max: 3 }), contacts: fc.array(contact, { maxLength: 4 }), emails: fc.array(email, { maxLength: 3 }), finishedAt: fc.integer({ min: 0, max: 10 }) })
  .map(({ runId, tenantId, companyId, contacts, emails, finishedAt }) => ({
    type: 'company.finished' as const,
    runId,
    tenantId,
    startedAt: 0,
    finishedAt,
    output: { companyId, tenantId, degradedReasons: null, reasons: [], facts: {}, contacts, emails, provenance: [], fallbacks: [], timings: [] },
  }));

describe('contactRows', () => {
  it('gives the same rows, in the same order, as the plain reference for any mix of contacts, e-mails and repeats', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(finished, fc.constant<RunEvent>({ type: 'vendor.usage', runId: 1, tenantId: 1, vendor: 'tavily', calls: 1, errors: 0, retries: 0, tokens: 0, costUsd: 0 })), { maxLength: 8 }), (events) => {
        expect(contactRows(events)).toEqual(referenceContactRows(events));
      }),
      { numRuns: 500 },
    );
  });

  it('gives two contacts with one address the verdict of that address (the row is the last contact)', () => {
    const event: RunEvent = {
      type: 'company.finished', runId: 1, tenantId: 1, startedAt: 0, finishedAt: 5,
      output: {
        companyId: 1, tenantId: 1, degradedReasons: null, reasons: [], facts: {}, provenance: [], fallbacks: [], timings: [],
        contacts: [
          { fullName: 'A B', title: null, email: 'ops@acme.test', linkedinUrl: null, source: 'apify_linkedin' },
          { fullName: 'C D', title: null, email: 'OPS@acme.test', linkedinUrl: null, source: 'lusha' },
        ],
        emails: [{ email: 'ops@acme.test', status: 'valid', source: 'apify_linkedin', subStatus: null }],
      },
    };
    expect(contactRows([event])).toEqual([expect.objectContaining({ full_name: 'C D', email: 'OPS@acme.test', email_status: 'valid' })]);
  });

  it('keeps one row per (tenant, company, address) with the verification of its e-mail', () => {
    const events = [
      {
        type: 'company.finished', runId: 1, tenantId: 7, startedAt: 0, finishedAt: 5,
        output: {
          companyId: 3, tenantId: 7, degradedReasons: null, reasons: [], facts: {}, provenance: [], fallbacks: [], timings: [],
          contacts: [{ fullName: 'Ada', title: 'CTO', email: 'Ada@x.test', linkedinUrl: null, source: 'apify_linkedin' }],
          emails: [{ email: 'ada@x.test', status: 'valid', source: 'apify_linkedin' }, { email: 'info@x.test', status: 'unknown', source: 'crawler' }],
        },
      },
    ] as RunEvent[];
    expect(contactRows(events)).toEqual([
      { tenant_id: 7, company_id: 3, at: 5, run_id: 1, email: 'Ada@x.test', full_name: 'Ada', title: 'CTO', linkedin_url: null, source: 'apify_linkedin', email_status: 'valid', email_sub_status: null },
      { tenant_id: 7, company_id: 3, at: 5, run_id: 1, email: 'info@x.test', full_name: null, title: null, linkedin_url: null, source: 'crawler', email_status: 'unknown', email_sub_status: null },
    ]);
  });
});
