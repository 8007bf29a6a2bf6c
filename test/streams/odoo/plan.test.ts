import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFault } from '../../../src/adapters/odoo/fault.js';
import { configFrom } from '../../../src/config/index.js';
import type { ExportCompany } from '../../../src/domain/index.js';
import { companyRef, companyVals, contactKey, contactPlans, contactRef, stripVals } from '../../../src/streams/odoo/plan.js';
import { resolveOdooTarget, targetKeyOf } from '../../../src/streams/odoo/settings.js';

/** The pure parts: references, contact keys, values, stripping, settings resolution, fault parsing. */
const contact = fc.record({
  fullName: fc.string({ maxLength: 20 }),
  title: fc.option(fc.string({ maxLength: 10 })),
  email: fc.option(fc.emailAddress()),
  linkedinUrl: fc.option(fc.webUrl()),
  source: fc.constant('lusha' as const),
});

describe('export planning', () => {
  it('references are stable and distinct per tenant and company', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.nat(), fc.nat(), (t1, c1, t2, c2) => {
        expect(companyRef(t1, c1) === companyRef(t2, c2)).toBe(t1 === t2 && c1 === c2);
      }),
    );
  });

  it('contact plans: one per distinct key, each with a unique ref, never a partner without a name', () => {
    fc.assert(
      fc.property(fc.array(contact, { maxLength: 8 }), (contacts) => {
        const company: ExportCompany = { companyId: 3, name: 'X', domain: null, facts: {}, contacts };
        const plans = contactPlans(5, company);
        expect(new Set(plans.map((p) => p.key)).size).toBe(plans.length);
        expect(new Set(plans.map((p) => p.vals.ref)).size).toBe(plans.length);
        for (const p of plans) {
          expect(String(p.vals.name).length).toBeGreaterThan(0);
          expect(p.vals.ref).toBe(contactRef(5, 3, p.key));
        }
      }),
    );
  });

  it('contact keys ignore case and LinkedIn URL decoration', () => {
    const base = { fullName: 'A', title: null, source: 'lusha' as const };
    expect(contactKey({ ...base, email: ' Ann@X.com ', linkedinUrl: null })).toBe('email:ann@x.com');
    expect(contactKey({ ...base, email: null, linkedinUrl: 'https://www.LinkedIn.com/in/ann/?trk=1' })).toBe(contactKey({ ...base, email: null, linkedinUrl: 'http://linkedin.com/in/ann' }));
  });

  it('stripping removes exactly the listed fields present', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.string()), fc.array(fc.string({ minLength: 1, maxLength: 6 })), (vals, fields) => {
        const { vals: kept, stripped } = stripVals(vals, fields);
        for (const key of Object.keys(vals)) expect(Object.hasOwn(kept, key)).toBe(!fields.includes(key));
        expect(new Set(stripped)).toEqual(new Set(fields.filter((f) => Object.hasOwn(vals, f))));
      }),
    );
  });

  it('company values: name falls back to the domain; defaults only when asked', () => {
    const company: ExportCompany = { companyId: 1, name: null, domain: 'acme.io', facts: {}, contacts: [] };
    expect(companyVals(2, company, { setDefaults: false })).toEqual({ name: 'acme.io', is_company: true, ref: 'lead-enrich:2:1', website: 'https://acme.io' });
    expect(companyVals(2, company, { setDefaults: true })).toMatchObject({ company_type: 'company', autopost_bills: 'ask', type: 'contact' });
    expect(companyVals(2, { ...company, domain: null }, { setDefaults: true })).toBeNull();
  });
});

describe('Odoo target resolution', () => {
  const config = configFrom({ ODOO_URL: 'https://env.example/', ODOO_DB: 'envdb', ODOO_USERNAME: 'u', ODOO_PASSWORD: 'p', ODOO_KEY_TENANT_7: 'k7' });

  it('a tenant row with a URL wins wholly; its key comes from the named variable', () => {
    const r = resolveOdooTarget({ odooUrl: 'https://t7.example', odooDb: 'd7', odooLogin: 'l7', odooKeyEnv: 'ODOO_KEY_TENANT_7' }, config);
    expect(r).toEqual({ kind: 'target', source: 'tenant', target: { url: 'https://t7.example', db: 'd7', login: 'l7', apiKey: 'k7' }, targetKey: 'https://t7.example|d7' });
  });

  it('falls back to ODOO_*; no URL anywhere is none; missing parts are named, never valued', () => {
    expect(resolveOdooTarget({ odooUrl: null, odooDb: null, odooLogin: null, odooKeyEnv: null }, config)).toMatchObject({ kind: 'target', source: 'env', targetKey: 'https://env.example|envdb' });
    expect(resolveOdooTarget(null, configFrom({}))).toEqual({ kind: 'none' });
    expect(resolveOdooTarget({ odooUrl: 'https://t.example', odooDb: 'd', odooLogin: 'l', odooKeyEnv: 'ODOO_KEY_UNSET' }, config)).toEqual({ kind: 'incomplete', source: 'tenant', missing: ['tenants.odoo_key_env (names a variable that is not set)'] });
    // A 40-hex Odoo key pasted into the column looks like a variable name: it is never echoed.
    const pasted = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4';
    expect(JSON.stringify(resolveOdooTarget({ odooUrl: 'https://t.example', odooDb: 'd', odooLogin: 'l', odooKeyEnv: pasted }, config))).not.toContain(pasted);
    expect(resolveOdooTarget(null, configFrom({ ODOO_URL: 'https://x.example' }))).toEqual({ kind: 'incomplete', source: 'env', missing: ['ODOO_DB', 'ODOO_USERNAME', 'ODOO_PASSWORD'] });
  });

  it("refuses a tenant key variable that is one of the configuration's own: the tenant is incomplete, no secret is read", () => {
    const secrets = configFrom({ OPENAI_API_KEY: 'sk-live-abc', DATABASE_URL: 'postgres://lead:hunter2@db/x', ODOO_PASSWORD: 'env-pw' });
    const tenant = { odooUrl: 'https://evil.example', odooDb: 'd', odooLogin: 'l' };
    for (const name of ['OPENAI_API_KEY', 'DATABASE_URL', 'ODOO_PASSWORD', 'openai_api_key']) {
      const r = resolveOdooTarget({ ...tenant, odooKeyEnv: name }, secrets);
      expect(r).toEqual({ kind: 'incomplete', source: 'tenant', missing: [`tenants.odoo_key_env (${name} is a configuration variable, never a tenant key)`] });
      expect(JSON.stringify(r)).not.toMatch(/sk-live-abc|hunter2|env-pw/);
    }
    // Even a config that would hand the secret out is not asked.
    const leaky = { odoo: secrets.odoo, secret: () => 'sk-live-abc', keyVariableProblem: secrets.keyVariableProblem };
    expect(resolveOdooTarget({ ...tenant, odooKeyEnv: 'OPENAI_API_KEY' }, leaky)).toMatchObject({ kind: 'incomplete' });
  });

  it('refuses a tenant key variable without ODOO_KEY_ENV_PREFIX: incomplete, the name not echoed, the secret never read', () => {
    const env = { AWS_SECRET_ACCESS_KEY: 'aws-secret-1', PGPASSWORD: 'pg-secret-2', ODOO_KEY_ACME: 'acme-key', ACME_ODOO_KEY: 'acme-old' };
    const tenant = { odooUrl: 'https://chosen-by-the-row.example', odooDb: 'd', odooLogin: 'l' };
    for (const name of ['AWS_SECRET_ACCESS_KEY', 'PGPASSWORD', 'ACME_ODOO_KEY', 'odoo_key_acme']) {
      const r = resolveOdooTarget({ ...tenant, odooKeyEnv: name }, configFrom(env));
      expect(r).toEqual({ kind: 'incomplete', source: 'tenant', missing: ['tenants.odoo_key_env (names a variable that does not start with ODOO_KEY_, the ODOO_KEY_ENV_PREFIX)'] });
      expect(JSON.stringify(r)).not.toMatch(new RegExp(`${name}|secret-1|secret-2|acme-old`));
    }
    expect(resolveOdooTarget({ ...tenant, odooKeyEnv: 'ODOO_KEY_ACME' }, configFrom(env))).toMatchObject({ kind: 'target', target: { apiKey: 'acme-key' } });
    // Another prefix, another allowed set.
    const legacy = configFrom({ ...env, ODOO_KEY_ENV_PREFIX: 'ACME_' });
    expect(resolveOdooTarget({ ...tenant, odooKeyEnv: 'ACME_ODOO_KEY' }, legacy)).toMatchObject({ kind: 'target', target: { apiKey: 'acme-old' } });
    expect(resolveOdooTarget({ ...tenant, odooKeyEnv: 'ODOO_KEY_ACME' }, legacy)).toMatchObject({ kind: 'incomplete', missing: [expect.stringContaining('does not start with ACME_')] });
    // Even a config that would hand any secret out is not asked.
    const leaky = { odoo: configFrom(env).odoo, secret: () => 'aws-secret-1', keyVariableProblem: configFrom(env).keyVariableProblem };
    expect(resolveOdooTarget({ ...tenant, odooKeyEnv: 'AWS_SECRET_ACCESS_KEY' }, leaky)).toMatchObject({ kind: 'incomplete' });
  });

  it('does not echo an odoo_key_env that is not a variable name', () => {
    const r = resolveOdooTarget({ odooUrl: 'https://t.example', odooDb: 'd', odooLogin: 'l', odooKeyEnv: 'odoo-key-4f9a77c2e1 pasted here' }, config);
    expect(r).toEqual({ kind: 'incomplete', source: 'tenant', missing: ['tenants.odoo_key_env (not a variable name)'] });
    expect(JSON.stringify(r)).not.toContain('4f9a77c2e1');
    expect(resolveOdooTarget({ odooUrl: 'https://t7.example', odooDb: 'd7', odooLogin: 'l7', odooKeyEnv: ' ODOO_KEY_TENANT_7 ' }, config)).toMatchObject({ kind: 'target', target: { apiKey: 'k7' } });
  });

  it('target keys carry no credentials', () => {
    expect(targetKeyOf('https://user:secret@odoo.example/base/?x=1', 'db')).toBe('https://odoo.example/base|db');
  });
});

describe('fault parsing', () => {
  it('masks secrets and keeps one short line', () => {
    const fault = parseFault(2, `Bad key s3cr3t in ${'x'.repeat(400)}\nsecond line`, ['s3cr3t']);
    expect(fault.category).toBe('validation');
    expect(fault.message).not.toContain('s3cr3t');
    expect(fault.message.length).toBeLessThanOrEqual(300);
  });

  it('reads a MissingError and non-integer codes', () => {
    expect(parseFault(2, 'Record does not exist or has been deleted.\n(Record: res.partner(9,), User: 2)').category).toBe('missing_record');
    expect(parseFault('warning -- UserError', 'x')).toMatchObject({ code: 1, category: 'other' });
  });
});

describe('export request from configuration', () => {
  it('takes defaults and strip fields from the config', async () => {
    const { exportRequestFor } = await import('../../../src/streams/odoo/request.js');
    const request = exportRequestFor(configFrom({ ODOO_EXPORT_SET_DEFAULTS: 'false', ODOO_STRIP_FIELDS: 'website' }), 3, null, true);
    expect(request).toEqual({ tenantId: 3, resolution: { kind: 'none' }, setDefaults: false, stripFields: ['website'], dryRun: true });
  });
});
