import { describe, expect, it } from 'vitest';
import { degradedShare, renderSummary, sortedReasons, summaryToJson, type RunSummary } from '../../src/cli/summary.js';

const summary: RunSummary = {
  runId: 42,
  tenantId: 7,
  status: 'completed',
  durationMs: 12_345,
  companies: { total: 200, ok: 150, degraded: 45, failed: 5 },
  malformedRows: 2,
  reasons: { CRAWL_THIN: 30, 'CIRCUIT_OPEN:openai': 12, TAVILY_FAIL: 12, ZEROBOUNCE_DEFER: 40 },
  vendors: [
    { vendor: 'tavily', calls: 60, errors: 14, retries: 9, tokens: 0, costUsd: 0.48, rateWaits: 12, rateWaitMs: 34_500, retriesRefused: 4, reuses: 5, savedUsd: 0.04 },
    { vendor: 'openai', calls: 188, errors: 3, retries: 2, tokens: 91234, costUsd: 0.1234567 },
  ],
  breakerTransitions: [
    { tenantId: 7, vendor: 'openai', from: 'closed', to: 'open', at: Date.UTC(2026, 0, 2, 3, 4, 5), reason: 'threshold' },
    { tenantId: 7, vendor: 'openai', from: 'open', to: 'halfOpen', at: Date.UTC(2026, 0, 2, 3, 9, 5), reason: 'cool_off_elapsed' },
  ],
  stages: [
    { stage: 'crawl', p50Ms: 120.4, p95Ms: 980.6 },
    { stage: 'extract', p50Ms: 800, p95Ms: 2100 },
  ],
  exports: { exported: 180, exported_stripped: 3, failed: 2, skipped: 0 },
  odooExportDisabled: false,
  odooExportDisabledReason: null,
};

const lines = (text: string) => text.split('\n');
const lineWith = (text: string, needle: string) => lines(text).find((l) => l.includes(needle)) ?? '';

describe('run summary', () => {
  it('computes the degraded share and sorts reasons by count, then name', () => {
    expect(degradedShare(summary)).toBeCloseTo(45 / 200);
    expect(degradedShare({ ...summary, companies: { total: 0, ok: 0, degraded: 0, failed: 0 } })).toBe(0);
    expect(sortedReasons(summary).map((r) => r.reason)).toEqual(['ZEROBOUNCE_DEFER', 'CRAWL_THIN', 'CIRCUIT_OPEN:openai', 'TAVILY_FAIL']);
  });

  it('renders every section as aligned plain text without escape codes', () => {
    const text = renderSummary(summary);
    expect(text).not.toContain('\u001b');
    expect(lines(text)[0]).toBe('Run 42 (tenant 7): completed in 12.3s');
    expect(lineWith(text, 'degraded share')).toMatch(/22\.5%$/);
    expect(lineWith(text, 'malformed rows skipped')).toMatch(/2$/);
    // The reasons histogram keeps the sorted order, counts right-aligned in one column.
    const reasonLines = ['ZEROBOUNCE_DEFER', 'CRAWL_THIN', 'CIRCUIT_OPEN:openai', 'TAVILY_FAIL'].map((r) => lineWith(text, r));
    expect(reasonLines.map((l) => lines(text).indexOf(l))).toEqual([...reasonLines.map((l) => lines(text).indexOf(l))].sort((a, b) => a - b));
    expect(new Set(reasonLines.map((l) => l.length)).size).toBe(1);
    expect(lineWith(text, '  openai')).toMatch(/openai\s+188\s+3\s+2\s+0\s+0\s+91234\s+0\.1235$/);
    expect(lineWith(text, '  tavily')).toMatch(/tavily\s+60\s+14\s+9\s+4\s+12 \(34\.5s\)\s+0\s+0\.4800$/);
    expect(lineWith(text, 'rate limits:')).toBe('  rate limits: 12 attempts waited 34.5s for their turn (tavily 12)');
    expect(lineWith(text, 'retry budget:')).toBe('  retry budget: 4 retries refused');
    expect(lineWith(text, 'stored answers:')).toBe('  stored answers: 5 reused, 0.0400 USD saved (tavily 5)');
    expect(lineWith(text, 'Breaker transitions')).toContain('2');
    expect(lineWith(text, 'closed -> open')).toMatch(/tenant 7 openai\s+closed -> open\s+threshold\s+2026-01-02T03:04:05\.000Z/);
    expect(lineWith(text, '  crawl')).toMatch(/crawl\s+120\s+981$/);
    expect(lineWith(text, 'exported_stripped')).toMatch(/3$/);
    expect(text).not.toMatch(/skipped\s+0/);
    expect(text).toContain('SELECT company_id, degraded_reasons FROM company_enrichment_runs WHERE run_id = 42 AND degraded_reasons IS NOT NULL;');
    expect(text).toContain('lead-enrich report --run 42');
    expect(text).not.toContain('--resume');
    expect(text).not.toContain('disabled for this tenant');
  });

  it.each([
    ['settings_incomplete: missing ODOO_DB', 'Odoo settings incomplete (missing ODOO_DB)'],
    ['settings_incomplete: missing tenants.odoo_db, tenants.odoo_key_env (names a variable that is not set)', 'Odoo settings incomplete (missing tenants.odoo_db, tenants.odoo_key_env (names a variable that is not set))'],
    ['unreachable: network: ECONNREFUSED', 'Odoo unreachable (network: ECONNREFUSED)'],
    ['missing_database: odoo_error: database "acme" does not exist', 'the Odoo database does not exist (odoo_error: database "acme" does not exist)'],
    ['login_refused: auth: login refused (authenticate answered false)', 'Odoo refused the login (auth: login refused (authenticate answered false))'],
    ['circuit_open: odoo breaker open', "the tenant's odoo breaker is open (odoo breaker open)"],
    ['something else', 'something else'],
    [null, 'reason not recorded'],
  ])('says the reason the Odoo export was disabled: %j', (reason, sentence) => {
    const text = renderSummary({ ...summary, odooExportDisabled: true, odooExportDisabledReason: reason });
    expect(lineWith(text, 'disabled for this tenant')).toBe(`  disabled for this tenant during the run: ${sentence}`);
    if (reason?.startsWith('settings_incomplete')) expect(text).not.toMatch(/unreachable|login refused/);
  });

  it('says when Odoo export was disabled, how to resume an interrupted run, and the fatal error', () => {
    const text = renderSummary({ ...summary, status: 'interrupted', odooExportDisabled: true, exports: {} });
    expect(text).toContain('disabled for this tenant');
    expect(text).toContain('(nothing exported)');
    expect(text).toContain('Resume with: lead-enrich run --resume 42');
    expect(renderSummary({ ...summary, status: 'failed', error: 'database unreachable' })).toContain('error: database unreachable');
  });

  it('colours only when asked', () => {
    const text = renderSummary(summary, { colour: true });
    expect(text).toContain('\u001b[32mcompleted\u001b[39m');
    expect(text.replaceAll(String.fromCharCode(27), '').replace(/\[\d+m/g, '')).toBe(renderSummary(summary));
  });

  it('renders as JSON with derived fields', () => {
    const json = JSON.parse(JSON.stringify(summaryToJson({ ...summary, status: 'interrupted' }))) as Record<string, unknown>;
    expect(json.runId).toBe(42);
    expect(json.degradedShare).toBeCloseTo(0.225);
    expect((json.reasons as { reason: string }[])[0]?.reason).toBe('ZEROBOUNCE_DEFER');
    expect((json.sql as string[])[0]).toContain('run_id = 42');
    expect(json.resume).toBe('lead-enrich run --resume 42');
    expect(json.odooExportDisabled).toBe(false);
    expect((json.breakerTransitions as unknown[]).length).toBe(2);
  });
});
