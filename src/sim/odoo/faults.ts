import type { WireFault } from './wire.js';

/**
 * The faults Odoo 17/18 sends on /xmlrpc/2, with the same codes and texts
 * (odoo/addons/base/controllers/rpc.py `xmlrpc_handle_exception_int`): 1 with a Python traceback
 * for any exception that is not an Odoo one, 2 for UserError/ValidationError (`str(e)`),
 * 3 for AccessDenied, 4 for AccessError.
 */

/** A fault the fake raises; the server turns it into a methodResponse fault. */
export class SimFault extends Error implements WireFault {
  readonly faultCode: number;
  readonly faultString: string;

  constructor(faultCode: number, faultString: string) {
    super(faultString);
    this.name = 'SimFault';
    this.faultCode = faultCode;
    this.faultString = faultString;
  }
}

const FRAMES = [
  ['odoo/addons/base/controllers/rpc.py', 162, '_xmlrpc_common', 'response = self._xmlrpc(service)'],
  ['odoo/addons/base/controllers/rpc.py', 139, '_xmlrpc', 'result = dispatch_rpc(service, method, params)'],
  ['odoo/http.py', 387, 'dispatch_rpc', 'return dispatch(method, params)'],
] as const;

/** Code 1: a formatted Python traceback ending with `exceptionLine` (as traceback.format_exception prints it). */
export function tracebackFault(extraFrames: ReadonlyArray<readonly [string, number, string, string]>, exceptionLine: string): SimFault {
  const frames = [...FRAMES, ...extraFrames]
    .map(([file, line, fn, code]) => `  File "/usr/lib/python3/dist-packages/${file}", line ${line}, in ${fn}\n    ${code}\n`)
    .join('');
  return new SimFault(1, `Traceback (most recent call last):\n${frames}${exceptionLine}\n`);
}

/** `ValueError: Invalid field 'x' on model 'res.partner'` (an unknown field in create/write). */
export function invalidField(field: string, model: string): SimFault {
  return tracebackFault(
    [['odoo/models.py', 4628, 'write', 'raise ValueError("Invalid field %r on model %r" % (fname, self._name))']],
    `ValueError: Invalid field '${field}' on model '${model}'`,
  );
}

/** `ValueError: Wrong value for res.partner.type: 'x'` (a selection value the field does not know). */
export function wrongValue(model: string, field: string, value: unknown): SimFault {
  return tracebackFault(
    [['odoo/fields.py', 3240, 'convert_to_cache', "raise ValueError(\"Wrong value for %s: %r\" % (self, value))"]],
    `ValueError: Wrong value for ${model}.${field}: ${JSON.stringify(value).replace(/"/g, "'")}`,
  );
}

/** Code 1: the registry cannot connect because the database does not exist. */
export function missingDatabase(db: string): SimFault {
  return tracebackFault(
    [
      ['odoo/service/db.py', 431, 'exp_db_exist', 'with odoo.sql_db.db_connect(db_name).cursor():'],
      ['odoo/sql_db.py', 343, '__init__', 'self._cnx = pool.borrow(dsn)'],
    ],
    `psycopg2.OperationalError: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: FATAL:  database "${db}" does not exist\n`,
  );
}

/** Code 3: AccessDenied on an object call with a wrong uid or key. */
export function accessDenied(): SimFault {
  return new SimFault(3, 'Access Denied');
}

/** Code 2: a ValidationError or an SQL constraint violation. */
export function validationError(message: string): SimFault {
  return new SimFault(2, message);
}

/** Code 2: MissingError, a write on ids that do not exist (any more). */
export function missingRecord(model: string, ids: readonly number[], uid: number): SimFault {
  return new SimFault(2, `Record does not exist or has been deleted.\n(Record: ${model}(${ids.join(', ')},), User: ${uid})`);
}

/** Code 1: a method the model does not have. */
export function unknownMethod(model: string, method: string): SimFault {
  return tracebackFault(
    [['odoo/service/model.py', 62, 'execute_kw', 'return execute(db, uid, obj, method, *args, **kw or {})']],
    `AttributeError: The method '${method}' does not exist on the model '${model}'`,
  );
}

/** Code 1: a model the registry does not have. */
export function unknownModel(model: string): SimFault {
  return tracebackFault([['odoo/modules/registry.py', 229, '__getitem__', 'return self.models[model_name]']], `KeyError: '${model}'`);
}
