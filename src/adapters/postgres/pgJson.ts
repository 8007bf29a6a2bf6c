/**
 * Values on their way into PostgreSQL. PostgreSQL cannot store U+0000 in `text` (SQLSTATE 22021)
 * nor `\u0000` in `jsonb` (22P05), and a vendor page, an Odoo fault or an input file can carry
 * one. Such a value would be refused however often the sink retried it, so NUL characters are
 * dropped at this boundary and the rest of the value is kept.
 */

const NUL = '\u0000';

const dropNul = (_key: string, value: unknown): unknown => (typeof value === 'string' && value.includes(NUL) ? value.replaceAll(NUL, '') : value);

/**
 * `JSON.stringify(value)` without NUL characters in its strings. The second pass (with a replacer,
 * several times slower) runs only when the text holds `\u0000`, which is rare.
 */
export function pgJson(value: unknown): string {
  const text = JSON.stringify(value);
  return text.includes('\\u0000') ? JSON.stringify(value, dropNul) : text;
}

/** A text value without NUL characters (null stays null). */
export function pgText<T extends string | null | undefined>(value: T): T {
  return (typeof value === 'string' && value.includes(NUL) ? value.replaceAll(NUL, '') : value) as T;
}
