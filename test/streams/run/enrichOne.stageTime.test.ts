/**
 * A stage's time reaches run_event_logs as the machine recorded it: the time its actor reported,
 * not the time the company's group was committed (issue 12 item 3: every stage of a company used to
 * get the commit time). One company through `enrichOne` (what a fleet member does with a job), on real PostgreSQL, with an
 * injected clock that only the ports move.
 */
import { describe, expect, it } from 'vitest';
import { EMPTY } from 'rxjs';
import { createLogger } from '../../../src/adapters/logger.js';
import { createRunStore } from '../../../src/adapters/postgres/runs.js';
import { createObservability } from '../../../src/streams/observability.js';
import { configFrom } from '../../../src/config/index.js';
import type { Company } from '../../../src/domain/index.js';
import type { EnrichmentPorts } from '../../../src/streams/enrichCompany.js';
import type { GuardedCaller } from '../../../src/streams/guard.types.js';
import { enrichOne } from '../../../src/streams/run/enrichOne.js';
import { sinkOnTestDatabase } from '../../support/sinkFixture.js';
import { fixtures } from '../../support/enrichment/fixtures.js';

const T0 = Date.UTC(2026, 2, 1, 8);
const clock = { t: T0, now() { return this.t; } };
/** A port that takes `ms` of the injected clock. */
const after = <T>(ms: number, value: T) => { clock.t += ms; return Promise.resolve(value); };

const ports: EnrichmentPorts = {
  crawler: { crawl: () => after(40_000, fixtures.crawl.ok) },
  search: { search: () => after(30_000, fixtures.search) },
  extractor: { extract: () => after(200_000, { facts: fixtures.facts, usage: { promptTokens: 9, completionTokens: 1, totalTokens: 10 }, costUsd: 0 }) },
  apify: { findContacts: () => after(500_000, fixtures.contacts.apify) },
  lusha: { findContacts: () => after(60_000, fixtures.contacts.lusha) },
  verifier: { verify: (email) => after(5_000, { email, status: 'valid' as const, subStatus: null }) },
};

/** Every call goes straight to its port, once. */
const guard: GuardedCaller = {
  registry: { transitions$: EMPTY, list: () => [] },
  call: (_tenant, _vendor, fn, options) => fn(options?.signal ?? new AbortController().signal),
};

describe('stage times in run_event_logs', () => {
  const { pool, sink } = sinkOnTestDatabase();

  it("each stage's at is the time its actor reported, not the commit time", async () => {
    const tenantId = 5301;
    const company: Company = { tenantId, companyId: 1, name: 'Acme Rockets', domain: 'acme.test' };
    const runs = createRunStore(pool);
    const runId = await runs.createRun(tenantId, {});
    await runs.recordRunInputs(runId, [company]);
    const config = configFrom({ OPENAI_API_KEY: 'o', ZEROBOUNCE_API_KEY: 'z', APIFY_TOKEN: 'a', COMPANY_DEADLINE_MS: '3600000' });
    const obs = createObservability({ sink, store: runs, clock });
    const logger = createLogger({ level: 'silent' });
    const abort = new AbortController().signal;
    expect(await enrichOne({ config, clock, obs, guard, ports, logger }, runId, company, abort)).not.toBeNull();
    await sink.flush();
    const { rows } = await pool.query<{ stage: string; event: string; at_ms: number; duration_ms: number | null }>(
      `SELECT stage, event, (extract(epoch FROM at) * 1000)::float8 AS at_ms, duration_ms FROM run_event_logs WHERE run_id = $1 ORDER BY id`,
      [runId],
    );
    const verified = 40_000 + 200_000 + 500_000 + 3 * 5_000;
    expect(rows.map((r) => [r.stage, r.event, r.at_ms - T0, r.duration_ms])).toEqual([
      ['crawl', 'finish', 40_000, 40_000],
      ['extract', 'finish', 240_000, 200_000],
      ['contacts', 'finish', 740_000, 500_000],
      ['verify', 'finish', verified, 15_000],
      ['done', 'finish', verified, verified],
    ]);
  });
});
