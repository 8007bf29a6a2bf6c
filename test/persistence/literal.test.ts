import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRunStore } from '../../src/adapters/postgres/runs.js';
import { createPgBatchWriter } from '../../src/adapters/postgres/writer.js';
import type { RunEvent } from '../../src/domain/index.js';
import { companyFinished } from './events.js';

// The writer inlines a batch's JSON as SQL literals (one round trip per batch): every character a
// vendor can return must arrive unchanged, and none may end the literal or the statement.
const NASTY = [`O'Brien`, `back\\slash \\' \\\\`, `''; COMMIT; DROP TABLE companies; --`, '$1 $& $$ $`', 'Zoë 東京 🚀 \u2028', 'tab\tnew\nline "quoted"', `E'\\x41'`];

describe('the batch writer keeps every character of the values it inlines (real PostgreSQL)', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  });
  afterAll(() => pool.end());

  it('writes names, facts and stage extras with quotes, backslashes, $ patterns and unicode exactly', async () => {
    const runId = await createRunStore(pool).createRun(5101, {});
    const events: RunEvent[] = NASTY.flatMap((text, i): RunEvent[] => {
      const finished = companyFinished(runId, 5101, i + 1);
      if (finished.type !== 'company.finished') return [];
      finished.output.facts = { ...finished.output.facts, name: text, description: text.repeat(3) };
      return [
        finished,
        { type: 'stage.event', runId, tenantId: 5101, companyId: i + 1, stage: 'crawl', event: 'finished', status: 'ok', errorCode: text, durationMs: 1, extra: { note: text }, at: Date.UTC(2026, 0, 1) },
      ];
    });
    expect(await createPgBatchWriter(pool)('batch-nasty', events)).toBe('applied');
    expect(await createPgBatchWriter(pool)('batch-nasty', events)).toBe('duplicate');

    const companies = (await pool.query("SELECT name, facts->>'description' AS d FROM companies WHERE tenant_id = 5101 ORDER BY company_id")).rows;
    expect(companies).toEqual(NASTY.map((text) => ({ name: text, d: text.repeat(3) })));
    const stages = (await pool.query("SELECT error_code, extra->>'note' AS note FROM run_event_logs WHERE run_id = $1 ORDER BY id", [runId])).rows;
    expect(stages).toEqual(NASTY.map((text) => ({ error_code: text, note: text })));
    expect((await pool.query('SELECT count(*)::int AS n FROM company_enrichment_runs WHERE run_id = $1', [runId])).rows).toEqual([{ n: NASTY.length }]);
  });
});
