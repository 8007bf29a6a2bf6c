import { describe, expect, it } from 'vitest';
import { extractPage } from '../../src/adapters/html.js';
import { configFrom } from '../../src/config/index.js';
import type { Contact } from '../../src/domain/index.js';
import { applyContacts, applyExtraction, initialContext } from '../../src/machines/enrichment.updates.js';
import { enrichmentInputFrom } from '../../src/streams/enrichCompany.js';

const ctx = () => initialContext(enrichmentInputFrom({ tenantId: 1, companyId: 1, name: 'Acme', domain: 'acme.test' }, configFrom({}), 1_000));
const ok = (value: Contact[]) => ({ ok: true as const, value, at: 2_000, durationMs: 5 });

describe('what a contact source and a page may contribute', () => {
  it("keeps a vendor contact's address only when it is one, and records provenance of every field written", () => {
    const contacts: Contact[] = [
      { fullName: 'Ann Lee', firstName: 'Ann', lastName: 'Lee', title: 'CEO', email: ' n/a ', linkedinUrl: null, source: 'apify_linkedin' },
      { fullName: 'Bob Roe', title: null, email: ' Bob@Acme.test ', linkedinUrl: null, source: 'apify_linkedin' },
    ];
    const next = applyContacts(ctx(), 'lusha', ok(contacts), null);
    expect(next.contacts.map((c) => [c.fullName, c.email, c.source])).toEqual([['Ann Lee', null, 'lusha'], ['Bob Roe', 'Bob@Acme.test', 'lusha']]);
    expect(next.emails.map((e) => e.email)).toEqual(['bob@acme.test']); // `n/a` is never sent to ZeroBounce
    const fields = next.provenance.map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(['contacts[0].firstName', 'contacts[0].lastName', 'contacts[0].title', 'contacts[1].email']));
    expect(fields).not.toContain('contacts[0].email');
  });

  it('does not take an address stored before (knownEmails) as new: ZeroBounce is not asked again', () => {
    const input = enrichmentInputFrom({ tenantId: 1, companyId: 1, name: 'Acme', domain: 'acme.test', knownEmails: ['info@acme.test'] }, configFrom({}), 1_000);
    const next = applyContacts(initialContext(input), 'apify_linkedin', ok([
      { fullName: 'Info Desk', title: null, email: 'INFO@acme.test', linkedinUrl: null, source: 'apify_linkedin' },
      { fullName: 'New Person', title: null, email: 'new@acme.test', linkedinUrl: null, source: 'apify_linkedin' },
    ]), null);
    expect(next.emails.map((e) => e.email)).toEqual(['new@acme.test']);
  });

  it('takes no mailto: address from hidden parts of a page (spam-trap bait)', () => {
    const page = extractPage(`<html><head><link href="mailto:head@acme.test"></head><body>
      <a href="mailto:sales@acme.test">Sales</a>
      <div hidden><a href="mailto:trap@acme.test">x</a></div>
      <span aria-hidden="true"><a href="mailto:trap2@acme.test">y</a></span></body></html>`);
    expect(page.mailtos).toEqual(['sales@acme.test']);
  });
});

describe('what the model may leave out', () => {
  it('an answer that states nothing leaves the facts to the deterministic extraction', () => {
    const next = applyExtraction(ctx(), { ok: true, value: {}, at: 2_000, durationMs: 9 });
    expect(next.facts).toMatchObject({ name: 'Acme', website: 'https://acme.test/' });
    expect(next.provenance.filter((p) => p.field === 'facts.name').map((p) => p.source)).toEqual(['deterministic']);
    expect(next.reasons).toEqual([]);
  });

  it("an answer without the company's name or site gets them from the input; what it stated stays the model's", () => {
    const next = applyExtraction(ctx(), { ok: true, value: { industry: 'Rockets', name: 'Acme Rockets SA' }, at: 2_000, durationMs: 9 });
    expect(next.facts).toEqual({ industry: 'Rockets', name: 'Acme Rockets SA', website: 'https://acme.test/' });
    expect(next.provenance.map((p) => [p.field, p.source])).toEqual([['facts.industry', 'openai'], ['facts.name', 'openai'], ['facts.website', 'input']]);
  });
});
