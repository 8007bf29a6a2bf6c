import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOdooClient } from '../../../src/adapters/odoo/client.js';
import { isVendorError } from '../../../src/domain/errors.js';
import { isOdooFaultError, type OdooTarget } from '../../../src/domain/odoo.js';
import { PY, startPythonOdoo, type PythonOdoo } from '../../support/odoo/pythonServer.js';

/** The client against Python's own xmlrpc.server: the wire format is checked by an outside implementation. */
let server: PythonOdoo;
let target: OdooTarget;

beforeAll(async () => {
  server = await startPythonOdoo();
  target = { url: server.url, db: PY.db, login: PY.login, apiKey: PY.apiKey };
});
afterAll(async () => server.stop());

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('Odoo client against Python xmlrpc.server', () => {
  it('reads common.version', async () => {
    const version = await createOdooClient(target).version();
    expect(version).toEqual({ serverVersion: '18.0', protocolVersion: 1 });
  });

  it('authenticates to the uid, and a refused login (false) is auth', async () => {
    expect(await createOdooClient(target).authenticate()).toBe(PY.uid);
    const error = await failure(createOdooClient({ ...target, apiKey: 'wrong-key-xyz' }).authenticate());
    expect(isVendorError(error) && error.kind).toBe('auth');
    expect(String((error as Error).message)).not.toContain('wrong-key-xyz');
  });

  it('sends execute_kw arguments and decodes structs, unicode, booleans and doubles', async () => {
    const client = createOdooClient(target);
    const rows = (await client.executeKw(PY.uid, 'res.partner', 'search_read', [[['ref', '=', 'lead-enrich:1:2']]], { fields: ['name'], limit: 1 })) as Array<Record<string, unknown>>;
    expect(rows[0]).toMatchObject({ id: 42, name: 'Ünïcode & <Co>', is_company: true, parent_id: false, credit: 1.5 });
    expect(rows[0]?.echo).toEqual([[[['ref', '=', 'lead-enrich:1:2']]], { fields: ['name'], limit: 1 }]);
  });

  it('classifies a ValueError traceback (code 1) as other, with the exception line as message', async () => {
    const error = await failure(createOdooClient(target).executeKw(PY.uid, 'res.partner', 'create', [{ name: 'A', autopost_bills: 'ask' }]));
    expect(isOdooFaultError(error)).toBe(true);
    if (!isOdooFaultError(error)) return;
    expect(error.fault).toEqual({ code: 1, category: 'other', message: "ValueError: Invalid field 'autopost_bills' on model 'res.partner'", invalidField: 'autopost_bills' });
    expect(error.kind).toBe('bad_request');
  });

  it('classifies codes 2, 3, 4 and a missing database', async () => {
    const client = createOdooClient(target);
    const validation = await failure(client.executeKw(PY.uid, 'res.partner', 'create', [{ name: '' }]));
    expect(isOdooFaultError(validation) && validation.fault).toEqual({ code: 2, category: 'validation', message: 'Contacts require a name' });
    const denied = await failure(createOdooClient({ ...target, apiKey: 'nope-nope' }).executeKw(PY.uid, 'res.partner', 'search_read', [[]]));
    expect(isOdooFaultError(denied) && [denied.fault.category, denied.kind]).toEqual(['access_denied', 'auth']);
    const accessError = await failure(client.executeKw(PY.uid, 'res.partner', 'write', [[1], { name: 'x' }]));
    expect(isOdooFaultError(accessError) && accessError.fault.category).toBe('access_error');
    const missing = await failure(createOdooClient({ ...target, db: 'nodb' }).authenticate());
    expect(isOdooFaultError(missing) && missing.fault).toEqual({ code: 1, category: 'missing_database', message: 'database "nodb" does not exist' });
    expect(isVendorError(missing) && missing.kind).toBe('not_found');
  });

  it('classifies a wrong path (HTTP 404 from Python) as not_found', async () => {
    const error = await failure(createOdooClient({ ...target, url: `${server.url}/prefix` }).version());
    expect(isVendorError(error) && [error.kind, error.status]).toEqual(['not_found', 404]);
  });
});
