/**
 * The definition of done, end to end over loopback: a company enriched through the real
 * adapters, the real guarded call and the enrichment machine against the simulator.
 */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapters/clock.js';
import { createVendorAdapters } from '../../src/adapters/vendors.js';
import { configFrom, type Config } from '../../src/config/index.js';
import type { Company } from '../../src/domain/index.js';
import { enrichCompany, type EnrichmentPorts } from '../../src/streams/enrichCompany.js';
import { createGuardedCaller } from '../../src/streams/guardedCall.js';
import { SIM_VENDORS } from '../../src/sim/index.js';
import { useSimulator } from '../support/adapters.js';

const FAST = { RETRY_MAX_ATTEMPTS: '2', RETRY_BASE_DELAY_MS: '1', RETRY_MAX_DELAY_MS: '20', VENDOR_TIMEOUT_MS: '3000', CRAWL_TIMEOUT_MS: '3000', ENABLE_LUSHA_FALLBACK: 'true' };

function run(company: Company, config: Config) {
  const a = createVendorAdapters(config);
  const ports: EnrichmentPorts = { crawler: a.crawler, search: a.tavily!, extractor: a.openai!, apify: a.apifyLinkedin!, lusha: a.lusha!, verifier: a.zerobounce! };
  const guard = createGuardedCaller({ config, clock: systemClock, random: () => 0.5 });
  return enrichCompany(company, { config, guard, ports, clock: systemClock });
}

describe('one company against the simulator', () => {
  const fx = useSimulator({}, FAST);
  const company: Company = { companyId: 5, tenantId: 3, name: 'Rich Acme', domain: 'rich-acme.example' };

  it('with every vendor failing, finishes with every failure as a reason and no exception', async () => {
    for (const vendor of SIM_VENDORS) fx.sim.setProfile(vendor, vendor === 'crawler' ? 'reset' : 'server_error');
    const output = await run(company, fx.config);
    expect(output.degradedReasons).toBe('CRAWL_ERROR,TAVILY_FAIL,OPENAI_FAIL,APIFY_LINKEDIN_FAIL,LUSHA_FAIL');
    expect(output.contacts).toEqual([]);
    expect(output.facts.name).toBe('Rich Acme');
    expect(fx.sim.callCounts()).toMatchObject({ crawler: 2, tavily: 2, openai: 2, apify_linkedin: 2, lusha: 2, zerobounce: 0 });
  });

  it('with every vendor up, a rich site gives facts, contacts and verified emails without degradation', async () => {
    const output = await run(company, fx.config);
    expect(output.degradedReasons).toBeNull();
    expect(output.facts.website).toBe('https://rich-acme.example');
    expect(output.contacts.length).toBeGreaterThan(0);
    expect(output.contacts.every((c) => c.source === 'apify_linkedin')).toBe(true);
    expect(output.emails.map((e) => e.email).sort()).toEqual(['info@rich-acme.example', 'sales@rich-acme.example']);
    expect(output.emails.every((e) => e.status !== 'unknown' && e.status !== 'unverified')).toBe(true);
    expect(fx.sim.calls('tavily')).toBe(0);
  });

  it('Lusha after a failed Apify: an enrich that fails once is retried without paying for the search again', async () => {
    fx.sim.setProfile('apify_linkedin', 'server_error');
    fx.sim.setProfile('lusha', { script: ['ok', 'server_error', 'ok'] });
    const output = await run(company, fx.config);
    expect(output.contacts.length).toBeGreaterThan(0);
    expect(output.contacts.every((c) => c.source === 'lusha')).toBe(true);
    const paths = fx.sim.requests('lusha').map((r) => new URL(r.url, 'http://x').pathname);
    expect(paths).toEqual(['/lusha/v3/contacts/prospecting', '/lusha/v3/contacts/enrich', '/lusha/v3/contacts/enrich']);
  });

  it('a ZeroBounce with an invalid key defers the emails after one request', async () => {
    fx.sim.setProfile('zerobounce', 'invalid_key');
    const output = await run(company, configFrom({ ...fx.sim.overrides, ...FAST }));
    expect(output.reasons).toEqual(['ZEROBOUNCE_DEFER']);
    expect(output.emails.every((e) => e.status === 'unknown')).toBe(true);
    expect(fx.sim.calls('zerobounce')).toBe(1);
  });
});
