import type { Dispatcher } from 'undici';
import type { Clock } from '../../domain/clock.js';

/** What every vendor adapter factory optionally takes besides its config. */
export interface HttpAdapterDeps {
  /** undici dispatcher; default the shared keep-alive Agent of http/request.ts. */
  dispatcher?: Dispatcher;
  /** Clock for Retry-After dates; default the system clock. */
  clock?: Clock;
  /** Largest response body read, in bytes; default 2 MiB. */
  maxBytes?: number;
}

/**
 * The key of a vendor that is on. A vendor without its key is off and its step is skipped by the
 * caller, so building its adapter is a wiring mistake.
 *
 * @throws Error naming the variable when the key is empty
 */
export function requireKey(apiKey: string | null, variable: string): string {
  if (!apiKey) throw new Error(`${variable} is empty: the vendor is off and its adapter must not be built`);
  return apiKey;
}

/** True for a plain JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
