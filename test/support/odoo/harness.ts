import { createOdooClient } from '../../../src/adapters/odoo/client.js';
import { createMemoryPartnerMap } from '../partnerMapMemory.js';
import type { ExportCompany, OdooTarget } from '../../../src/domain/odoo.js';
import type { FakeOdoo } from '../../../src/sim/fakeOdoo.js';
import { exportTenant, type ExportOutcome, type ExportSummary, type OdooExportDeps, type OdooExportRequest } from '../../../src/streams/odoo/odooExport.js';
import { targetKeyOf } from '../../../src/streams/odoo/settings.js';
import { testGuard } from './guard.js';
import { manualTimeouts } from './transport.js';

/** Companies 1..n named `Company <id>` with two contacts each. */
export function companies(n: number, first = 1): ExportCompany[] {
  return Array.from({ length: n }, (_, i) => {
    const id = first + i;
    return {
      companyId: id,
      name: `Company ${id}`,
      domain: `c${id}.example`,
      facts: { description: `Makes things #${id} & more`, city: 'Lyon', phone: '+33 1 23 45 67 89' },
      contacts: [
        { fullName: `Ann ${id}`, title: 'CEO', email: `ann@c${id}.example`, linkedinUrl: null, source: 'apify_linkedin' },
        { fullName: `Bob ${id}`, title: 'CTO', email: null, linkedinUrl: `https://www.linkedin.com/in/bob-${id}/`, source: 'lusha' },
      ],
    };
  });
}

/** The export's dependencies around a test guard, an in-memory mapping and injected timeouts. */
export function harness() {
  const guard = testGuard();
  const partnerMap = createMemoryPartnerMap();
  const timeouts = manualTimeouts();
  const deps: OdooExportDeps = {
    guard,
    partnerMap,
    createClient: (target: OdooTarget) => createOdooClient(target, { timeoutMs: 15_000, timeoutSignal: timeouts.factory }),
  };
  return { guard, partnerMap, timeouts, deps };
}

/** A request for `tenantId` exporting to `db` on the fake. */
export function request(fake: { url: string } | FakeOdoo, tenantId: number, db: string, apiKey: string, extra: Partial<OdooExportRequest> = {}): OdooExportRequest {
  const target = { url: fake.url, db, login: 'bot', apiKey };
  return {
    tenantId,
    resolution: { kind: 'target', source: 'env', target, targetKey: targetKeyOf(target.url, db) },
    setDefaults: true,
    stripFields: ['autopost_bills', 'website'],
    ...extra,
  };
}

/** Fires the pending timeouts whenever a call reaches a hanging database, until stopped (a hang timing out, no real wait). */
export function fireTimeoutsOnEveryCall(fake: FakeOdoo, timeouts: ReturnType<typeof manualTimeouts>): () => void {
  let running = true;
  const loop = async (): Promise<void> => {
    while (running) {
      const call = await fake.nextCall();
      if (call.db === null || fake.database(call.db).behaviour.down !== 'hang') continue;
      timeouts.fireAll();
    }
  };
  void loop();
  return () => {
    running = false;
  };
}

/** An async iterable over `items` that counts how many were pulled (memory stays flat: one at a time). */
export function stream<T>(items: T[]): AsyncIterable<T> & { pulled: number } {
  const out = {
    pulled: 0,
    async *[Symbol.asyncIterator]() {
      for (const item of items) {
        out.pulled += 1;
        yield item;
      }
    },
  };
  return out;
}

/** Runs {@link exportTenant} to the end and collects its outcomes . */
export async function exportTenantAll(
  deps: OdooExportDeps,
  request: OdooExportRequest,
  companies: AsyncIterable<ExportCompany> | Iterable<ExportCompany>,
): Promise<{ outcomes: ExportOutcome[]; summary: ExportSummary }> {
  const outcomes: ExportOutcome[] = [];
  const generator = exportTenant(deps, request, companies);
  for (;;) {
    const next = await generator.next();
    if (next.done) return { outcomes, summary: next.value };
    outcomes.push(next.value);
  }
}
