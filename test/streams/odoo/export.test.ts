import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOdoo, type FakeOdoo } from '../../../src/sim/fakeOdoo.js';
import { companyRef } from '../../../src/streams/odoo/plan.js';
import { companies, exportTenantAll, harness, request, stream } from '../../support/odoo/harness.js';

/** The export against the fake Odoo over real XML-RPC: the happy path, the stripped retry, failures. */
const KEY = 'export-key-1';
let fake: FakeOdoo;
beforeEach(async () => {
  fake = await startFakeOdoo();
});
afterEach(async () => fake.close());

describe('Odoo export', () => {
  it('writes companies as res.partner companies and contacts as their children, with the defaults', async () => {
    fake.addDatabase('acme', { login: 'bot', apiKey: KEY });
    const h = harness();
    const input = stream(companies(2));
    const { outcomes, summary } = await exportTenantAll(h.deps, request(fake, 7, 'acme', KEY), input);
    expect(outcomes.map((o) => o.exportStatus)).toEqual(['exported', 'exported']);
    expect(summary).toMatchObject({ odooExportDisabled: false, counts: { exported: 2 } });
    const partners = fake.database('acme').partners.all();
    const company = partners.find((p) => p.ref === companyRef(7, 1));
    expect(company).toMatchObject({
      id: outcomes[0]?.partnerId, name: 'Company 1', is_company: true, company_type: 'company', autopost_bills: 'ask',
      website: 'https://c1.example', city: 'Lyon', comment: '<p>Makes things #1 &amp; more</p>', type: 'contact',
    });
    const children = partners.filter((p) => p.parent_id === company?.id);
    expect(children.map((c) => [c.name, c.function, c.email ?? false, c.is_company, c.type])).toEqual([
      ['Ann 1', 'CEO', 'ann@c1.example', false, 'contact'],
      ['Bob 1', 'CTO', false, false, 'contact'],
    ]);
    expect(outcomes[0]?.contacts).toEqual({ exported: 2, failed: 0 });
    expect(h.guard.attempts.get(7)).toBeGreaterThan(0);
    expect(input.pulled).toBe(2);
  });

  it('retries a create that faults on autopost_bills without that field alone, and leaves it out of later writes: exported_stripped', async () => {
    fake.addDatabase('old', { login: 'bot', apiKey: KEY }, { unknownFields: ['autopost_bills'] });
    const h = harness();
    const { outcomes } = await exportTenantAll(h.deps, request(fake, 1, 'old', KEY), companies(2));
    expect(outcomes.map((o) => [o.exportStatus, o.strippedFields])).toEqual([
      ['exported_stripped', ['autopost_bills']],
      ['exported_stripped', ['autopost_bills']],
    ]);
    const partner = fake.database('old').partners.all().find((p) => p.id === outcomes[0]?.partnerId);
    expect(partner).toMatchObject({ name: 'Company 1', is_company: true, website: 'https://c1.example' }); // the website is kept
    expect(partner).not.toHaveProperty('autopost_bills');
    // company 1: one faulting create and one stripped create; company 2: one create without the field; two contacts each
    expect(fake.callCounts('old')['object.create']).toBe(2 + 1 + 2 * 2);
  });

  it('a control character in a name or title does not disable the tenant: it is left out of the value', async () => {
    fake.addDatabase('acme', { login: 'bot', apiKey: KEY });
    const h = harness();
    const [first, second] = companies(2);
    const odd = { ...first!, name: 'Acme\u001b Corp', facts: { ...first!.facts, name: 'Acme\u001b Corp\u0000' }, contacts: first!.contacts.map((c) => ({ ...c, title: 'CEO\b' })) };
    const { outcomes, summary } = await exportTenantAll(h.deps, request(fake, 1, 'acme', KEY), [odd, second!]);
    expect(outcomes.map((o) => o.exportStatus)).toEqual(['exported', 'exported']);
    expect(summary.odooExportDisabled).toBe(false);
    const partners = fake.database('acme').partners.all();
    expect(partners.find((p) => p.ref === companyRef(1, 1))?.name).toBe('Acme Corp');
    const company1 = partners.find((p) => p.ref === companyRef(1, 1));
    expect(partners.filter((p) => p.parent_id === company1?.id).map((p) => p.function)).toEqual(['CEO', 'CEO']);
  });

  it('strips only the configured fields', async () => {
    fake.addDatabase('old', { login: 'bot', apiKey: KEY }, { unknownFields: ['autopost_bills'] });
    const h = harness();
    const { outcomes } = await exportTenantAll(h.deps, request(fake, 1, 'old', KEY, { stripFields: ['autopost_bills'] }), companies(1));
    expect(outcomes[0]?.strippedFields).toEqual(['autopost_bills']);
    expect(fake.database('old').partners.all().find((p) => p.id === outcomes[0]?.partnerId)?.website).toBe('https://c1.example');
  });

  it('records failed with the fault text after a second fault, and the other companies are exported', async () => {
    fake.addDatabase('strict', { login: 'bot', apiKey: KEY }, { rejectNames: ['Company 2'] });
    const h = harness();
    const { outcomes, summary } = await exportTenantAll(h.deps, request(fake, 1, 'strict', KEY), companies(3));
    expect(outcomes.map((o) => o.exportStatus)).toEqual(['exported', 'failed', 'exported']);
    expect(outcomes[1]?.detail).toMatch(/^fault 2 validation: The operation cannot be completed: the record was rejected/);
    expect(outcomes[1]?.strippedFields).toEqual(['autopost_bills', 'website']);
    expect(summary.odooExportDisabled).toBe(false);
    expect(fake.database('strict').partners.all().some((p) => p.name === 'Company 2')).toBe(false);
  });

  it('rejecting everything fails every company but never disables the tenant', async () => {
    fake.addDatabase('strict', { login: 'bot', apiKey: KEY }, { rejectWrites: true });
    const h = harness();
    const { outcomes, summary } = await exportTenantAll(h.deps, request(fake, 1, 'strict', KEY), companies(4));
    expect(outcomes.map((o) => o.exportStatus)).toEqual(['failed', 'failed', 'failed', 'failed']);
    expect(summary).toMatchObject({ odooExportDisabled: false, counts: { failed: 4 } });
  });

  it('skips a company with nothing to name it by, and still exports a slow Odoo', async () => {
    fake.addDatabase('slow', { login: 'bot', apiKey: KEY }, { delayMs: 5 });
    const h = harness();
    const input = [{ companyId: 9, name: null, domain: null, facts: {}, contacts: [] }, ...companies(1)];
    const { outcomes } = await exportTenantAll(h.deps, request(fake, 1, 'slow', KEY), input);
    expect(outcomes.map((o) => o.exportStatus)).toEqual(['skipped', 'exported']);
  });
});
