import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOdoo, type FakeOdoo } from '../../src/sim/fakeOdoo.js';

/** The fake Odoo read by Python's own xmlrpc.client: same wire format and fault codes as Odoo. */
let fake: FakeOdoo;
beforeAll(async () => {
  fake = await startFakeOdoo();
  fake.addDatabase('py', { login: 'bot', apiKey: 'k-123', uid: 5 }, { unknownFields: ['autopost_bills'] });
});
afterAll(async () => fake.close());

describe('fake Odoo', () => {
  it("speaks XML-RPC that Python's xmlrpc.client reads, with Odoo's fault codes", async () => {
    const script = fileURLToPath(new URL('../support/odoo/py_odoo_client.py', import.meta.url));
    const { stdout } = await promisify(execFile)('python3', [script, fake.url, 'py', 'bot', 'k-123']);
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out.version).toMatchObject({ server_version: '18.0', protocol_version: 1 });
    expect([out.uid, out.refused]).toEqual([5, false]);
    expect(out.rows).toEqual([{ id: expect.any(Number), name: 'Acme & <Sons>', is_company: true, company_type: 'company' }]);
    const [company] = out.rows as Array<{ id: number }>;
    expect(out.children).toEqual([{ id: expect.any(Number), name: 'Jane', parent_id: [company?.id, 'Acme & <Sons>'], function: 'CEO' }]);
    expect(out.faults).toEqual([
      { code: 1, last: "ValueError: Invalid field 'autopost_bills' on model 'res.partner'" },
      { code: 3, last: 'Access Denied' },
      { code: 2, last: '(Record: res.partner(99999,), User: 5)' },
      { code: 1, last: expect.stringMatching(/FATAL: {2}database "nodb" does not exist$/) },
    ]);
  });

  it('counts calls per database and service', () => {
    const counts = fake.callCounts('py');
    expect(counts['common.authenticate']).toBe(2);
    expect(counts['object.create']).toBe(3);
    expect(fake.objectCalls('py')).toBe(7);
  });
});
