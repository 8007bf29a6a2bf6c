import type { z } from 'zod';
import { VendorError } from '../../domain/errors.js';
import type { VendorName } from '../../domain/vendor.js';

/**
 * Validates a vendor body with its zod schema before anything reads it.
 *
 * @returns the parsed value
 * @throws VendorError `bad_response` whose detail names the first failing path (never the values,
 *   which may carry personal data)
 */
export function validateBody<S extends z.ZodType>(vendor: VendorName, schema: S, body: unknown, status?: number): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return failBadResponse(vendor, `schema mismatch at ${path}`, status);
}

/**
 * Throws a `bad_response` VendorError.
 *
 * @throws VendorError always
 */
export function failBadResponse(vendor: VendorName, detail: string, status?: number): never {
  throw new VendorError({ vendor, kind: 'bad_response', detail, ...(status === undefined ? {} : { status }) });
}
