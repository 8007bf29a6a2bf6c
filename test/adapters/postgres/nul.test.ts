import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pgJson, pgText } from '../../../src/adapters/postgres/pgJson.js';
import { createRunStore } from '../../../src/adapters/postgres/runs.js';
import { createPgBatchWriter } from '../../../src/adapters/postgres/writer.js';
import type { RunEvent } from '../../../src/domain/index.js';
import { companyFinished } from '../../support/events.js';

// PostgreSQL refuses U+0000 in text and jsonb. A vendor page or an input file with one must not
// make the sink retry a batch forever, nor fail a run's input.
describe('NUL characters on the way into PostgreSQL', () => {
  it('pgJson drops NUL from strings at any depth and leaves everything else as JSON.stringify does', () => {
    const value = { a: 'x\u0000y', b: ['\u0000', { c: 'ok \\u0000 stays' }], n: 1 };
    expect(JSON.parse(pgJson(value))).toEqual({ a: 'xy', b: ['', { c: 'ok \\u0000 stays' }], n: 1 });
    const plain = { a: 'no nul', b: 'back\\slash \\u0000 text' };
    expect(pgJson(plain)).toBe(JSON.stringify(plain));
    expect(pgText('a\u0000b\u0000')).toBe('ab');
    expect(pgText(null)).toBeNull();
  });

  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  });
  afterAll(() => pool.end());

  it('writes a batch whose names, facts and stage extras hold NUL, without them, once', async () => {
    const runId = await createRunStore(pool).createRun(5201, {});
    const finished = companyFinished(runId, 5201, 1);
    if (finished.type !== 'company.finished') throw new Error('fixture');
    finished.output.facts = { ...finished.output.facts, name: 'Nul\u0000 Co', description: 'a\u0000b' };
    const events: RunEvent[] = [
      finished,
      { type: 'stage.event', runId, tenantId: 5201, companyId: 1, stage: 'crawl', event: 'finished', status: 'ok', errorCode: 'E\u0000', durationMs: 1, extra: { note: '\u0000x' }, at: Date.UTC(2026, 0, 1) },
    ];
    expect(await createPgBatchWriter(pool)('batch-nul', events)).toBe('applied');
    const company = (await pool.query("SELECT name, facts->>'description' AS d FROM companies WHERE tenant_id = 5201")).rows;
    expect(company).toEqual([{ name: 'Nul Co', d: 'ab' }]);
    const stage = (await pool.query("SELECT error_code, extra->>'note' AS note FROM run_event_logs WHERE run_id = $1", [runId])).rows;
    expect(stage).toEqual([{ error_code: 'E', note: 'x' }]);
    expect((await pool.query('SELECT count(*)::int AS n FROM sink_rejected_events WHERE run_id = $1', [runId])).rows).toEqual([{ n: 0 }]);
  });

  it('records a run input whose name holds NUL, and an export-disabled reason with one', async () => {
    const runs = createRunStore(pool);
    const runId = await runs.createRun(5202, { note: 'p\u0000' });
    await runs.recordRunInputs(runId, [{ tenantId: 5202, companyId: 7, name: 'In\u0000put', domain: 'input.example' }]);
    await runs.disableOdooExport(runId, 'fault: bad\u0000 text');
    expect((await pool.query('SELECT name FROM run_companies WHERE run_id = $1', [runId])).rows).toEqual([{ name: 'Input' }]);
    expect((await pool.query("SELECT odoo_export_disabled_reason AS r, params->>'note' AS note FROM enrichment_runs WHERE run_id = $1", [runId])).rows).toEqual([
      { r: 'fault: bad text', note: 'p' },
    ]);
  });
});
