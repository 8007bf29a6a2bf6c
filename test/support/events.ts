import type { EnrichmentOutput, ReasonCode, RunEvent } from '../../src/domain/index.js';

/** A company.finished event for tests; `reasons` decides whether it is degraded. */
export function companyFinished(runId: number, tenantId: number, companyId: number, reasons: ReasonCode[] = [], at = Date.UTC(2026, 0, 1)): RunEvent {
  const output: EnrichmentOutput = {
    companyId,
    tenantId,
    degradedReasons: reasons.length > 0 ? reasons.join(',') : null,
    reasons,
    facts: { name: `Company ${companyId}`, industry: 'software', employeeCount: companyId % 500 },
    contacts: [
      { fullName: `Ada ${companyId}`, title: 'CTO', email: `ada${companyId}@c${companyId}.test`, linkedinUrl: null, source: 'apify_linkedin' },
      { fullName: `Bob ${companyId}`, title: null, email: null, linkedinUrl: `https://linkedin.test/in/bob${companyId}`, source: 'lusha' },
    ],
    emails: [
      { email: `ada${companyId}@c${companyId}.test`, status: 'valid', source: 'apify_linkedin' },
      { email: `info@c${companyId}.test`, status: 'unknown', source: 'crawler' },
    ],
    provenance: [{ field: 'facts.industry', step: 'extract', source: 'openai', at: new Date(at).toISOString() }],
    fallbacks: reasons.includes('CRAWL_THIN') ? ['tavily'] : [],
    timings: [{ stage: 'crawl', durationMs: 10 + (companyId % 7) }],
  };
  return { type: 'company.finished', runId, tenantId, output, startedAt: at, finishedAt: at + 1000 + companyId };
}

/** A vendor.usage event. */
export function usage(runId: number, tenantId: number, vendor: string, calls = 1, errors = 0, tokens = 0, costUsd = 0, retries = 0): RunEvent {
  return { type: 'vendor.usage', runId, tenantId, vendor, calls, errors, retries, tokens, costUsd };
}
