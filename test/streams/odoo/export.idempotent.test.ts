import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOdoo, type FakeOdoo } from '../../../src/sim/fakeOdoo.js';
import { companyRef } from '../../../src/streams/odoo/plan.js';
import { targetKeyOf } from '../../../src/streams/odoo/settings.js';
import { companies, exportTenantAll, harness, request } from '../../support/odoo/harness.js';

/** Re-exports update and never duplicate: through the mapping, and through the ref when it is lost. */
const KEY = 'idem-key-1';
let fake: FakeOdoo;
beforeEach(async () => {
  fake = await startFakeOdoo();
  fake.addDatabase('acme', { login: 'bot', apiKey: KEY });
});
afterEach(async () => fake.close());

const refs = () => fake.database('acme').partners.all().map((p) => p.ref).sort();

describe('Odoo re-export', () => {
  it('updates through the mapping: same partners, no create, new values written', async () => {
    const h = harness();
    const first = await exportTenantAll(h.deps, request(fake, 1, 'acme', KEY), companies(3));
    const before = refs();
    expect(before).toHaveLength(9);
    const creates = fake.callCounts('acme')['object.create'];
    const changed = companies(3).map((c) => ({ ...c, facts: { ...c.facts, city: 'Paris' } }));
    const second = await exportTenantAll(h.deps, request(fake, 1, 'acme', KEY), changed);
    expect(refs()).toEqual(before);
    expect(fake.callCounts('acme')['object.create']).toBe(creates);
    expect(second.outcomes.map((o) => [o.exportStatus, o.partnerId])).toEqual(first.outcomes.map((o) => ['exported', o.partnerId]));
    expect(second.outcomes[0]?.detail).toBe('updated');
    expect(fake.database('acme').partners.all().filter((p) => p.is_company).every((p) => p.city === 'Paris')).toBe(true);
  });

  it('finds the partners by ref after the mapping was lost (archived ones too)', async () => {
    const h = harness();
    const first = await exportTenantAll(h.deps, request(fake, 1, 'acme', KEY), companies(2));
    const before = refs();
    h.partnerMap.clear();
    // An Odoo user archives company 2's partner meanwhile.
    const archived = first.outcomes[1]?.partnerId as number;
    fake.database('acme').partners.write([archived], { active: false }, 2);
    const again = await exportTenantAll(harness().deps, request(fake, 1, 'acme', KEY), companies(2));
    expect(refs()).toEqual(before);
    expect(again.outcomes.map((o) => [o.exportStatus, o.partnerId])).toEqual(first.outcomes.map((o) => ['exported', o.partnerId]));
  });

  it('a create whose reply is lost is not repeated: the retry finds the partner by ref', async () => {
    // Odoo commits the company's create and the first contact's create, and both answers are lost
    // (connection reset): the guard retries, and a blind retry would create the partners again.
    fake.setBehaviour('acme', { loseReplies: { create: 2 } });
    const h = harness();
    const out = await exportTenantAll(h.deps, request(fake, 1, 'acme', KEY), companies(2));
    expect(out.outcomes.map((o) => o.exportStatus)).toEqual(['exported', 'exported']);
    const all = fake.database('acme').partners.all();
    expect(all).toHaveLength(6);
    expect(new Set(all.map((p) => p.ref)).size).toBe(6);
    expect(fake.callCounts('acme')['object.create']).toBe(6 + 0); // the lost ones were not sent again
    expect(out.outcomes[0]?.partnerId).toBe(all.find((p) => p.ref === companyRef(1, 1))?.id);
  });

  it("never writes through a mapped id that is now someone else's partner (a restored database hands ids out again)", async () => {
    const h = harness();
    const first = await exportTenantAll(h.deps, request(fake, 1, 'acme', KEY), companies(1));
    const ours = first.outcomes[0]?.partnerId as number;
    // The database is restored from a backup older than the export, and a user creates a partner
    // that gets our old id: the mapping still says company 1 → that id.
    const table = fake.database('acme').partners;
    table.restoreBackup(ours);
    const db = fake.database('acme');
    expect(table.create({ name: 'Real Customer SA', ref: 'CUST-0042', is_company: true }, db.uid)).toBe(ours);
    const again = await exportTenantAll(h.deps, request(fake, 1, 'acme', KEY), companies(1));
    expect(again.outcomes[0]?.exportStatus).toBe('exported');
    expect(table.all().find((p) => p.id === ours)).toMatchObject({ name: 'Real Customer SA', ref: 'CUST-0042' });
    const mine = table.all().find((p) => p.ref === companyRef(1, 1));
    expect(mine?.id).not.toBe(ours);
    expect(again.outcomes[0]?.partnerId).toBe(mine?.id);
  });

  it('a contact first exported without an e-mail and later found with one is updated, not created again', async () => {
    const h = harness();
    const [company] = companies(1);
    const before = { ...company!, contacts: [{ fullName: 'Bob 1', title: 'CTO', email: null, linkedinUrl: null, source: 'lusha' as const }] };
    await exportTenantAll(h.deps, request(fake, 1, 'acme', KEY), [before]);
    h.partnerMap.clear(); // a new Odoo target key, or a lost map: only Odoo itself can tell
    const after = { ...company!, contacts: [{ fullName: 'Bob 1', title: 'CTO', email: 'bob@c1.example', linkedinUrl: null, source: 'apify_linkedin' as const }] };
    const again = await exportTenantAll(harness().deps, request(fake, 1, 'acme', KEY), [after]);
    expect(again.outcomes[0]?.exportStatus).toBe('exported');
    const bobs = fake.database('acme').partners.all().filter((p) => p.name === 'Bob 1');
    expect(bobs).toHaveLength(1);
    expect(bobs[0]).toMatchObject({ email: 'bob@c1.example' });
  });

  it('recreates a partner deleted in Odoo once, and maps the new one', async () => {
    const h = harness();
    const first = await exportTenantAll(h.deps, request(fake, 1, 'acme', KEY), companies(1));
    const old = first.outcomes[0]?.partnerId as number;
    const table = fake.database('acme').partners;
    for (const p of table.all()) table.remove(p.id);
    const again = await exportTenantAll(h.deps, request(fake, 1, 'acme', KEY), companies(1));
    const fresh = again.outcomes[0]?.partnerId as number;
    expect(again.outcomes[0]?.exportStatus).toBe('exported');
    expect(fresh).not.toBe(old);
    expect(await h.partnerMap.getCompany(1, 1, targetKeyOf(fake.url, 'acme'))).toBe(fresh);
    expect(table.all().map((p) => p.ref).filter((r) => r === companyRef(1, 1))).toHaveLength(1);
    expect(table.all()).toHaveLength(3);
  });

  it('dry run: no call to Odoo at all, the values that would be written are reported', async () => {
    const h = harness();
    const { outcomes, summary } = await exportTenantAll(h.deps, request(fake, 1, 'acme', KEY, { dryRun: true }), companies(2));
    expect(fake.calls).toHaveLength(0);
    expect(h.partnerMap.size()).toBe(0);
    expect(summary).toMatchObject({ odooExportDisabled: false, counts: { dry_run: 2 } });
    expect(outcomes[0]).toMatchObject({ exportStatus: 'dry_run', partnerId: null, detail: 'would write 1 company partner and 2 contacts' });
    expect(outcomes[0]?.planned?.company).toMatchObject({ name: 'Company 1', is_company: true, ref: companyRef(1, 1), autopost_bills: 'ask' });
    expect(outcomes[0]?.planned?.contacts.map((c) => c.name)).toEqual(['Ann 1', 'Bob 1']);
  });

  it('without ODOO_EXPORT_SET_DEFAULTS no default is sent', async () => {
    const h = harness();
    const { outcomes } = await exportTenantAll(h.deps, request(fake, 1, 'acme', KEY, { setDefaults: false }), companies(1));
    const partner = fake.database('acme').partners.all().find((p) => p.id === outcomes[0]?.partnerId);
    expect(partner).not.toHaveProperty('autopost_bills');
    expect(partner).toMatchObject({ is_company: true, company_type: 'company' });
  });
});
