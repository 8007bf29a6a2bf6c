import { OdooFaultError, type OdooFault, type OdooFaultCategory } from '../../domain/odoo.js';

/**
 * Reads Odoo's XML-RPC faults. The only place in the program that looks at a fault's text
 * (STYLE.md: never match on message strings outside the adapter that produced them).
 *
 * Odoo 17/18 (odoo/addons/base/controllers/rpc.py, `xmlrpc_handle_exception_int`): code 2 for
 * UserError/ValidationError/RedirectWarning with `str(e)` as text, 3 for AccessDenied, 4 for
 * AccessError, and 1 with the formatted Python traceback for everything else — including an
 * unknown field (`ValueError: Invalid field 'x' on model 'res.partner'`) and a missing database
 * (`psycopg2.OperationalError: … FATAL:  database "x" does not exist`).
 */

/** Longest fault message kept, in characters. */
export const MAX_FAULT_MESSAGE = 300;

const MISSING_DB = /database "[^"]*" does not exist/;
const MISSING_RECORD = /does not exist or has been deleted/i;
const INVALID_FIELD = /Invalid field '([^']+)'/;

/** Replaces every occurrence of each secret by `********`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join('********');
  return out;
}

function shortMessage(code: number, text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const isTraceback = lines[0]?.startsWith('Traceback (most recent call last)') ?? false;
  // A traceback's last line names the exception; any other text leads with its point.
  const line = (isTraceback || code === 1 ? lines.at(-1) : lines[0]) ?? '';
  return line.length > MAX_FAULT_MESSAGE ? `${line.slice(0, MAX_FAULT_MESSAGE - 1)}…` : line;
}

function categoryOf(code: number, text: string): OdooFaultCategory {
  if (code === 3) return 'access_denied';
  if (code === 4) return 'access_error';
  if (MISSING_DB.test(text)) return 'missing_database';
  if (code === 2) return MISSING_RECORD.test(text) ? 'missing_record' : 'validation';
  return 'other';
}

/**
 * The structured form of one fault.
 *
 * @param faultCode the fault's `faultCode` (Odoo's /xmlrpc/2 sends integers; anything else is read as 1)
 * @param faultString the fault's text; secrets listed in `secrets` are masked in the message
 */
export function parseFault(faultCode: unknown, faultString: unknown, secrets: readonly string[] = []): OdooFault {
  const code = typeof faultCode === 'number' && Number.isInteger(faultCode) ? faultCode : 1;
  // Masked before cutting, so that no part of a secret survives the cut.
  const text = redact(typeof faultString === 'string' ? faultString : '', secrets);
  const category = categoryOf(code, text);
  const message = category === 'missing_database' ? (MISSING_DB.exec(text)?.[0] ?? '') : shortMessage(code, text);
  const invalidField = INVALID_FIELD.exec(message)?.[1];
  return { code, category, message, ...(invalidField !== undefined ? { invalidField } : {}) };
}

/** Whether a thrown value is an XML-RPC fault as the `xmlrpc` package reports it. */
export function isXmlRpcFault(error: unknown): error is { faultCode: unknown; faultString: unknown } {
  return typeof error === 'object' && error !== null && 'faultCode' in error;
}

/** The classified error for one fault (see {@link parseFault}). */
export function faultError(error: { faultCode: unknown; faultString: unknown }, secrets: readonly string[] = []): OdooFaultError {
  return new OdooFaultError(parseFault(error.faultCode, error.faultString, secrets));
}
