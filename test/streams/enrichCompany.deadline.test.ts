/**
 * The company deadline is watched twice: by the guard (no new attempt once the injected clock is
 * past it) and by the machine's deadline timer. When a step ends after the deadline but before that
 * timer has run (a busy event loop), the steps left must not record the guard's refusal as vendor
 * failures: the company ends with DEADLINE_EXCEEDED and nothing else invented.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { configFrom } from '../../src/config/index.js';
import type { Company } from '../../src/domain/index.js';
import { enrichCompany, type EnrichmentPorts } from '../../src/streams/enrichCompany.js';
import { createGuardedCaller } from '../../src/streams/guardedCall.js';

const env = { TAVILY_API_KEY: 't', OPENAI_API_KEY: 'o', ZEROBOUNCE_API_KEY: 'z', LUSHA_API_KEY: 'l', APIFY_TOKEN: 'a', ENABLE_LUSHA_FALLBACK: 'true', COMPANY_DEADLINE_MS: '200' };
const company: Company = { companyId: 1, tenantId: 1, name: 'Acme', domain: 'acme.test' };

describe('a step that ends past the deadline, before the deadline timer has run', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('ends the company with DEADLINE_EXCEEDED, without false failures of the vendors after it', async () => {
    const clock = { t: 1_000_000, now: () => clock.t };
    const called: string[] = [];
    const ports: EnrichmentPorts = {
      // The crawl's answer is read 250 ms after the company started (the loop was busy), by the
      // injected clock; the machine's 200 ms timer has not run yet.
      crawler: { crawl: async () => { called.push('crawler'); clock.t += 250; return { url: 'https://acme.test/', text: 'short', mailtos: ['info@acme.test'], thin: true }; } },
      search: { search: async () => { called.push('tavily'); return { answer: 'Acme makes rockets.', hits: [] }; } },
      extractor: { extract: async () => { called.push('openai'); return { facts: { industry: 'rockets' }, usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 }, costUsd: 0 }; } },
      apify: { findContacts: async () => { called.push('apify'); return []; } },
      lusha: { findContacts: async () => { called.push('lusha'); return []; } },
      verifier: { verify: async (email) => { called.push('zerobounce'); return { email, status: 'valid' as const, subStatus: null }; } },
    };
    const config = configFrom(env);
    const guard = createGuardedCaller({ config, clock });
    const done = enrichCompany(company, { config, guard, ports, clock });
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(200); // the machine's deadline timer runs
    const output = await done;
    expect(output.reasons).toContain('DEADLINE_EXCEEDED');
    expect(output.reasons.filter((r) => r.endsWith('_FAIL') || r === 'ZEROBOUNCE_DEFER')).toEqual([]);
    expect(called).toEqual(['crawler']);
    expect(guard.registry.list().filter((b) => b.consecutiveFailures > 0)).toEqual([]); // no breaker charged
  });
});
