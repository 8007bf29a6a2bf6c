import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';

/**
 * XML-RPC as Odoo puts it on the wire: Python's `xmlrpc.client.Marshaller` output wrapped the way
 * odoo/addons/base/controllers/rpc.py `dumps()` wraps it. Requests are decoded with the `xmlrpc`
 * package's own deserializer (the same one our client uses for responses, so the two directions
 * are cross-checked: the client's decoding is also checked against Python in the tests).
 */

/** A value Odoo's marshaller can send (it runs with allow_none=False: no null). */
export type WireValue = string | number | boolean | WireValue[] | { [key: string]: WireValue };

/** A fault as Odoo sends it: integer code and text (a traceback for code 1). */
export interface WireFault {
  faultCode: number;
  faultString: string;
}

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function dump(value: WireValue, out: string[]): void {
  if (typeof value === 'boolean') out.push(`<value><boolean>${value ? 1 : 0}</boolean></value>\n`);
  else if (typeof value === 'number') {
    out.push(Number.isInteger(value) ? `<value><int>${value}</int></value>\n` : `<value><double>${value}</double></value>\n`);
  } else if (typeof value === 'string') out.push(`<value><string>${escape(value)}</string></value>\n`);
  else if (Array.isArray(value)) {
    out.push('<value><array><data>\n');
    for (const item of value) dump(item, out);
    out.push('</data></array></value>\n');
  } else if (typeof value === 'object' && value !== null) {
    out.push('<value><struct>\n');
    for (const [key, item] of Object.entries(value)) {
      out.push(`<member>\n<name>${escape(key)}</name>\n`);
      dump(item, out);
      out.push('</member>\n');
    }
    out.push('</struct></value>\n');
  } else {
    // Odoo's marshaller refuses None (allow_none=False); a fake must not send what Odoo cannot.
    throw new TypeError('cannot marshal None objects');
  }
}

function wrap(inner: string): string {
  return `<?xml version="1.0"?>\n<methodResponse>\n${inner}\n</methodResponse>\n`;
}

/** A methodResponse carrying one result. */
export function dumpsResult(value: WireValue): string {
  const out: string[] = ['<params>\n<param>\n'];
  dump(value, out);
  out.push('</param>\n</params>\n');
  return wrap(out.join(''));
}

/** A methodResponse carrying a fault. */
export function dumpsFault(fault: WireFault): string {
  const out: string[] = ['<fault>\n'];
  dump({ faultCode: fault.faultCode, faultString: fault.faultString }, out);
  out.push('</fault>\n');
  return wrap(out.join(''));
}

interface DeserializerInstance {
  deserializeMethodCall(stream: Readable, callback: (error: Error | null, method?: string, params?: unknown[]) => void): void;
}
const require = createRequire(import.meta.url);
const Deserializer = require('xmlrpc/lib/deserializer') as new () => DeserializerInstance;

/** Decodes a methodCall from a request stream. Rejects when the body is not a method call. */
export function readMethodCall(stream: Readable): Promise<{ method: string; params: unknown[] }> {
  return new Promise((resolve, reject) => {
    new Deserializer().deserializeMethodCall(stream, (error, method, params) => {
      if (error || method === undefined) reject(error ?? new Error('no method'));
      else resolve({ method, params: params ?? [] });
    });
  });
}
