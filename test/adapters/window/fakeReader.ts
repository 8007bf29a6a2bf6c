import type { BreakerView, CompanyDetails, Logger, RunDetails, WindowReader, WindowTotals } from '../../../src/domain/index.js';

/** The company name every escaping check looks for. */
export const SCRIPT_NAME = '<script>alert(1)</script>';

const T0 = new Date('2026-12-01T10:00:00.000Z');

export const RUN_7: RunDetails = {
  runId: 7, tenantId: 12, tenantName: 'Tenant "12" & <b>co</b>', status: 'completed', phase: 'done', degraded: true,
  startedAt: T0, finishedAt: new Date(T0.getTime() + 60_000),
  counts: { total: 3, done: 3, degraded: 2, failed: 0, exported: 3, exportFailed: 0 }, costUsd: 0.0123,
  odooExportDisabled: false, odooExportDisabledReason: null, params: {},
  reasons: [{ reason: 'CRAWL_THIN', companies: 2 }, { reason: 'CIRCUIT_OPEN:tavily', companies: 1 }],
  stages: [{ stage: 'crawl', n: 3, p50: 12, p90: 20, p95: 22, p99: 25, maxMs: 25 }],
  vendors: [{ vendor: 'tavily', calls: 4, errors: 3, retries: 1, tokens: 0, costUsd: 0.01 }],
  exports: [{ exportStatus: 'exported', companies: 3 }],
  breakerTransitions: [{ vendor: 'tavily', from: 'closed', to: 'open', at: T0, reason: 'threshold' }],
  rejectedEvents: 0,
};

export const COMPANY: CompanyDetails = {
  companyId: 3, name: SCRIPT_NAME, domain: 'evil.example', status: 'degraded', reasons: ['CRAWL_THIN'], fallbacks: ['tavily'],
  exportStatus: 'exported', finishedAt: T0, runId: 7, tenantId: 12, facts: { description: '<img src=x onerror=alert(2)>' },
  provenance: [{ field: 'facts.description', step: 'extract', source: 'openai', at: T0.toISOString() }], timings: [{ stage: 'crawl', durationMs: 12 }],
  exportDetail: null, exportPartnerId: 41, startedAt: T0,
  contacts: [{ fullName: 'Ada <i>Lovelace</i>', title: null, email: 'ada@evil.example', linkedinUrl: null, source: 'lusha', emailStatus: 'valid', emailSubStatus: null, verifiedAt: T0 }],
};

export const BREAKERS: BreakerView[] = [
  { tenantId: 12, vendor: 'tavily', state: 'open', since: T0, reason: 'threshold', openedAt: T0, runId: 7 },
  { tenantId: 12, vendor: 'lusha', state: 'closed', since: T0, reason: 'probe_succeeded', openedAt: null, runId: null },
];

/** An in-memory {@link WindowReader} over one run (7, tenant 12) of three companies; records the queries it got. */
export function fakeReader(): WindowReader & { calls: unknown[] } {
  const calls: unknown[] = [];
  const totals: WindowTotals = { companies: [], vendors: [], runs: [], stageLatency: [], rejectedEvents: 0 };
  return {
    calls,
    runs: async (q) => {
      calls.push(q);
      const items = [RUN_7].filter((r) => (q.tenantId === undefined || r.tenantId === q.tenantId) && (q.status === undefined || r.status === q.status));
      return { items: q.page === 1 ? items : [], page: q.page, pageSize: q.pageSize, hasMore: false };
    },
    run: async (id) => (id === 7 ? RUN_7 : null),
    companies: async (q) => {
      calls.push(q);
      return { items: q.reason === undefined || COMPANY.reasons.includes(q.reason) ? [COMPANY] : [], page: q.page, pageSize: q.pageSize, hasMore: false };
    },
    company: async (runId, companyId) => (runId === 7 && companyId === 3 ? COMPANY : null),
    breakers: async () => BREAKERS,
    queue: async () => [{ runId: 7, queue: 'enrich', waiting: 1, retry: 2, active: 3, failed: 0, completed: 9 }],
    workers: async () => [],
    totals: async () => totals,
    ping: async () => undefined,
  };
}

/** A logger that keeps every line (fields and message) as JSON. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (fields: object, message?: string) => lines.push(JSON.stringify({ level, ...fields, message }));
  const logger: Logger & { lines: string[] } = {
    lines,
    error: log('error'),
    warn: log('warn'),
    info: log('info'),
    debug: log('debug'),
    child: () => logger,
    isLevelEnabled: () => true,
  };
  return logger;
}
