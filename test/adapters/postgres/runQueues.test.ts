import { describe, expect, it } from 'vitest';
import { exportPendingPages, pendingCompanyPages } from '../../../src/adapters/postgres/runQueues.js';
import { createRunStore } from '../../../src/adapters/postgres/runs.js';
import type { Company } from '../../../src/domain/index.js';
import { companyFinished } from '../../support/events.js';
import { sinkOnTestDatabase } from '../../support/sinkFixture.js';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('run queues: pending companies and the export queue, page by page (real PostgreSQL)', () => {
  const { pool, sink } = sinkOnTestDatabase();

  it('yields exactly the companies without a result, in input order, across gaps and windows with nothing pending', async () => {
    const runs = createRunStore(pool);
    const tenantId = 6001;
    const runId = await runs.createRun(tenantId, {});
    const ids = Array.from({ length: 23 }, (_, i) => 500 + i);
    async function* input(): AsyncGenerator<Company> {
      for (const id of ids.slice(0, 10)) yield { tenantId, companyId: id, name: `Q${id}`, domain: `q${id}.test` };
      yield { tenantId, companyId: ids[0] as number, name: 'duplicate: keeps its first position, leaves a gap', domain: null };
      for (const id of ids.slice(10)) yield { tenantId, companyId: id, name: `Q${id}`, domain: `q${id}.test` };
    }
    expect(await runs.recordRunInputs(runId, input(), { batchSize: 4 })).toBe(23);
    // Done: positions 3..9 (a whole window of 3 and more), and a few scattered ones.
    const done = new Set([...ids.slice(3, 10), 515, 522]);
    for (const id of done) await sink.push(companyFinished(runId, tenantId, id, [], Date.now()));
    await sink.flush();

    for (const pageSize of [1, 3, 5, 500]) {
      const pending = await collect(pendingCompanyPages(pool, runId, pageSize));
      expect(pending.map((c) => c.companyId), `page size ${pageSize}`).toEqual(ids.filter((id) => !done.has(id)));
    }
    expect((await collect(pendingCompanyPages(pool, runId, 4)))[0]).toEqual({ tenantId, companyId: 500, name: 'Q500', domain: 'q500.test' });
  });

  it('an empty or fully done run yields nothing', async () => {
    const runs = createRunStore(pool);
    const empty = await runs.createRun(6002, {});
    expect(await collect(pendingCompanyPages(pool, empty, 2))).toEqual([]);
    const full = await runs.createRun(6002, {});
    await runs.recordRunInputs(full, [{ tenantId: 6002, companyId: 1, name: 'only', domain: null }]);
    await sink.push(companyFinished(full, 6002, 1, [], Date.now()));
    await sink.flush();
    expect(await collect(pendingCompanyPages(pool, full, 2))).toEqual([]);
  });

  it('the export queue yields the unexported results in company id order, with the contacts seen in the run', async () => {
    const runs = createRunStore(pool);
    const tenantId = 6003;
    const runId = await runs.createRun(tenantId, {});
    const ids = [9, 3, 7, 1, 5, 11, 13];
    for (const id of ids) await sink.push(companyFinished(runId, tenantId, id, [], Date.now()));
    for (const id of [3, 11]) await sink.push({ type: 'export.outcome', runId, tenantId, companyId: id, exportStatus: 'exported', partnerId: 40 + id, detail: null });
    await sink.flush();
    for (const pageSize of [1, 2, 200]) {
      const items = await collect(exportPendingPages(pool, runId, pageSize));
      expect(items.map((i) => i.companyId), `page size ${pageSize}`).toEqual([1, 5, 7, 9, 13]);
      expect(items[0]).toMatchObject({ companyId: 1, facts: { industry: 'software' } });
      expect(items[0]?.contacts.map((c) => c.fullName).sort()).toEqual(['Ada 1', 'Bob 1']);
    }
    // The queue's index (migration 003): only the rows still to export, in company order. Which plan
    // the server picks depends on its statistics, so the plan itself is not asserted here.
    const index = await pool.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE indexname = 'company_enrichment_runs_unexported_idx'");
    expect(index.rows.map((r) => r.indexdef)).toEqual([expect.stringMatching(/\(run_id, company_id\) WHERE \(export_status IS NULL\)$/)]);
  });

  it('hands a company the people stored for it as knownContacts, and exports them when the run found none', async () => {
    const runs = createRunStore(pool);
    const tenantId = 6004;
    const earlier = await runs.createRun(tenantId, {});
    await sink.push(companyFinished(earlier, tenantId, 1, [], Date.now())); // Ada 1, Bob 1 and info@ (no name)
    await sink.flush();

    const runId = await runs.createRun(tenantId, {});
    await runs.recordRunInputs(runId, [1, 2].map((id) => ({ tenantId, companyId: id, name: `K${id}`, domain: `k${id}.test` })));
    const pending = await collect(pendingCompanyPages(pool, runId, 1));
    expect(pending.map((c) => [c.companyId, (c.knownContacts ?? []).map((k) => k.fullName)])).toEqual([
      [1, ['Ada 1', 'Bob 1']],
      [2, []],
    ]);
    expect(pending[0]?.knownContacts?.[0]).toEqual({ fullName: 'Ada 1', title: 'CTO', email: 'ada1@c1.test', linkedinUrl: null, source: 'apify_linkedin' });
    expect(pending[1]).not.toHaveProperty('knownContacts');
    // Every stored address, the site's name-less one included, is known: not verified again.
    expect(pending[0]?.knownEmails?.sort()).toEqual(['ada1@c1.test', 'info@c1.test']);
    expect(pending[1]).not.toHaveProperty('knownEmails');

    // This run found nobody for company 1 (discovery skipped): its export takes the stored people.
    const finished = companyFinished(runId, tenantId, 1, [], Date.now());
    if (finished.type !== 'company.finished') throw new Error('fixture');
    finished.output.contacts = [];
    finished.output.emails = [];
    await sink.push(finished);
    await sink.flush();
    const items = await collect(exportPendingPages(pool, runId));
    expect(items.map((i) => [i.companyId, i.contacts.map((c) => c.fullName).sort()])).toEqual([[1, ['Ada 1', 'Bob 1']]]);
  });
});
