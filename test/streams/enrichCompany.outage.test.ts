/**
 * Issue 3, item 4c: Apify down for a whole batch. 50 companies at concurrency 4 through the real
 * chain (enrichCompany over the simulator's HTTP adapters, the real guarded caller with a real
 * breaker registry, pulledMerge): Apify sees at most (threshold + concurrency − 1) × attempts
 * requests, and every company that started after its breaker opened records
 * `CIRCUIT_OPEN:apify_linkedin` and then Lusha's outcome. The cool-off is long: no half-open probe.
 */
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapters/clock.js';
import { configFrom } from '../../src/config/index.js';
import type { BreakerTransition, Company, EnrichmentOutput } from '../../src/domain/index.js';
import { enrichmentPorts } from '../../src/runtime.js';
import { createVendorAdapters } from '../../src/adapters/vendors.js';
import { startSimulator, type ProfileInput } from '../../src/sim/index.js';
import { createBreakerRegistry } from '../../src/streams/breakerRegistry.js';
import { enrichCompany } from '../../src/streams/enrichCompany.js';
import { createGuardedCaller } from '../../src/streams/guardedCall.js';
import { pulledMerge } from '../../src/streams/pulledMerge.js';

const COMPANIES = 50;
const CONCURRENCY = 4;
const THRESHOLD = 3;
const ATTEMPTS = 3;
const TENANT = 9;

interface Outcome {
  output: EnrichmentOutput;
  /** Whether Apify's breaker was already open when this company started. */
  startedAfterOpen: boolean;
}

/** Runs the batch with Apify down and Lusha answering `lusha`; extra configuration in `env`. */
async function outage(lusha: ProfileInput, env: Record<string, string> = {}) {
  const sim = await startSimulator({ seed: 11, profiles: { apify_linkedin: 'server_error', lusha } });
  try {
    const config = configFrom({
      ...sim.overrides,
      ENABLE_LUSHA_FALLBACK: 'true',
      CB_ERROR_THRESHOLD: String(THRESHOLD),
      CB_COOL_OFF_S: '3600',
      RETRY_MAX_ATTEMPTS: String(ATTEMPTS),
      RETRY_BASE_DELAY_MS: '1',
      RETRY_MAX_DELAY_MS: '10',
      VENDOR_TIMEOUT_MS: '10000',
      CRAWL_TIMEOUT_MS: '10000',
      ...env,
    });
    const registry = createBreakerRegistry({ breaker: config.breaker, clock: systemClock, probeTimeoutMs: config.vendorTimeoutMs });
    const guard = createGuardedCaller({ config, clock: systemClock, registry });
    const ports = enrichmentPorts(createVendorAdapters(config));
    const transitions: BreakerTransition[] = [];
    const subscription = registry.transitions$.subscribe((t) => transitions.push(t));
    const apifyOpen = (): boolean => transitions.some((t) => t.vendor === 'apify_linkedin' && t.to === 'open');
    // `rich-` sites are crawled in full: no search fallback, the contact step always runs.
    const companies: Company[] = Array.from({ length: COMPANIES }, (_, i) => ({ tenantId: TENANT, companyId: i + 1, name: `Outage ${i + 1}`, domain: `rich-outage-${i + 1}.example` }));
    const outcomes = await lastValueFrom(
      pulledMerge(
        companies,
        async (company): Promise<Outcome> => {
          const startedAfterOpen = apifyOpen();
          const output = await enrichCompany(company, { config, guard, ports, clock: systemClock });
          return { output, startedAfterOpen };
        },
        { concurrency: CONCURRENCY },
      ).pipe(toArray()),
    );
    subscription.unsubscribe();
    return { outcomes, transitions: transitions.filter((t) => t.vendor === 'apify_linkedin'), allTransitions: transitions, apifyRequests: sim.calls('apify_linkedin'), lushaRequests: sim.calls('lusha') };
  } finally {
    await sim.close();
  }
}

/** The reason recorded right after `CIRCUIT_OPEN:apify_linkedin` (undefined when none follows). */
const afterApifyRefusal = (output: EnrichmentOutput): string | undefined => output.reasons[output.reasons.indexOf('CIRCUIT_OPEN:apify_linkedin') + 1];

describe('Apify down for a batch of 50 companies at concurrency 4', () => {
  it('with Lusha up: Apify requests stay within the bound, later companies are refused and get their contacts from Lusha', async () => {
    const { outcomes, transitions, apifyRequests } = await outage('ok');
    expect(outcomes).toHaveLength(COMPANIES);
    expect(new Set(outcomes.map((o) => o.output.companyId)).size).toBe(COMPANIES);

    // The breaker opened once and never half-opened (long cool-off).
    expect(transitions.map((t) => `${t.from}->${t.to}`)).toEqual(['closed->open']);
    expect(apifyRequests).toBeGreaterThanOrEqual(THRESHOLD);
    expect(apifyRequests).toBeLessThanOrEqual((THRESHOLD + CONCURRENCY - 1) * ATTEMPTS);

    const after = outcomes.filter((o) => o.startedAfterOpen);
    expect(after.length).toBeGreaterThanOrEqual(COMPANIES - 2 * (THRESHOLD + CONCURRENCY - 1));
    for (const { output } of after) {
      expect(output.reasons, `company ${output.companyId}`).toEqual(['CIRCUIT_OPEN:apify_linkedin']);
      expect(output.contacts.length).toBeGreaterThan(0);
      expect(output.contacts.every((c) => c.source === 'lusha')).toBe(true);
      expect(output.fallbacks).toContain('lusha');
    }
    // Before the breaker opened, a company records Apify's failure (or a refusal), never nothing.
    for (const { output } of outcomes.filter((o) => !o.startedAfterOpen)) {
      expect(output.reasons.some((r) => r === 'APIFY_LINKEDIN_FAIL' || r === 'CIRCUIT_OPEN:apify_linkedin')).toBe(true);
      expect(output.reasons).not.toContain('LUSHA_FAIL');
    }
  }, 60_000);

  it('with Lusha failing too (exempt from its breaker, so every company asks it): CIRCUIT_OPEN:apify_linkedin then LUSHA_FAIL', async () => {
    const { outcomes, apifyRequests, lushaRequests } = await outage('server_error', { CB_GLOBAL_EXEMPT_VENDORS: 'lusha' });
    expect(outcomes).toHaveLength(COMPANIES);
    expect(apifyRequests).toBeLessThanOrEqual((THRESHOLD + CONCURRENCY - 1) * ATTEMPTS);
    const after = outcomes.filter((o) => o.startedAfterOpen);
    expect(after.length).toBeGreaterThanOrEqual(COMPANIES - 2 * (THRESHOLD + CONCURRENCY - 1));
    for (const { output } of after) {
      expect(output.reasons, `company ${output.companyId}`).toEqual(['CIRCUIT_OPEN:apify_linkedin', 'LUSHA_FAIL']);
      expect(output.contacts).toEqual([]);
    }
    // Every company asked Lusha (with retries): the exemption held.
    expect(lushaRequests).toBeGreaterThanOrEqual(COMPANIES);
  }, 60_000);

  it("with Lusha failing and its own breaker opening: Lusha's outcome after the refusal is LUSHA_FAIL, then CIRCUIT_OPEN:lusha", async () => {
    const { outcomes, allTransitions } = await outage('server_error');
    const after = outcomes.filter((o) => o.startedAfterOpen);
    expect(after.length).toBeGreaterThan(0);
    for (const { output } of after) {
      expect(['LUSHA_FAIL', 'CIRCUIT_OPEN:lusha'], `company ${output.companyId}: ${output.reasons.join(',')}`).toContain(afterApifyRefusal(output));
    }
    expect(after.some((o) => afterApifyRefusal(o.output) === 'CIRCUIT_OPEN:lusha')).toBe(true);
    expect(allTransitions.some((t) => t.vendor === 'lusha' && t.to === 'open')).toBe(true);
    expect(outcomes.some((o) => o.output.reasons.includes('LUSHA_FAIL'))).toBe(true);
  }, 60_000);
});
