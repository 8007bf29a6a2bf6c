import { BREAKER_VENDORS, type BreakerVendor, type TenantId } from './vendor.js';

/**
 * No double spend (DESIGN.md "Vendor quotas, retry budgets and cost"): a paid answer is stored
 * with the time it was fetched, keyed by the request (vendor, endpoint and the normalised query),
 * and reused instead of bought again while younger than VENDOR_ANSWER_TTL_DAYS, across runs and
 * workers. Answers are kept per tenant: one tenant's purchases are never handed to another.
 */
export interface StoredAnswer {
  value: unknown;
  /** Epoch ms when the vendor answered. */
  fetchedAt: number;
  /** What the answer cost when it was bought (what a reuse saves), USD. */
  costUsd: number;
}

export interface AnswerStorePort {
  /** The stored answer to this request fetched at or after `notBefore` (epoch ms), or null. */
  get(tenantId: TenantId, vendor: BreakerVendor, endpoint: string, key: string, notBefore: number): Promise<StoredAnswer | null>;
  /** Stores (or replaces) the answer to this request. */
  put(tenantId: TenantId, vendor: BreakerVendor, endpoint: string, key: string, answer: StoredAnswer): Promise<void>;
}

/** Days a paid answer is reused, per vendor; 0 (or absent): never. */
export type AnswerTtlDays = Partial<Record<BreakerVendor, number>>;

/**
 * The default of VENDOR_ANSWER_TTL_DAYS: how long each vendor's answer stays true enough to reuse.
 * Search results a week; a site's facts (OpenAI) a month; people and their addresses (Apify, Lusha)
 * a month, since people change jobs; an address's verification a month (ZeroBounce's own guidance
 * is to re-verify lists older than that).
 */
export const DEFAULT_ANSWER_TTL_DAYS = 'tavily=7,openai=30,apify_linkedin=30,lusha=30,zerobounce=30';

/**
 * Parses VENDOR_ANSWER_TTL_DAYS: `vendor=N` (days, 0–3650; 0 turns reuse off), comma separated.
 * A vendor not listed is never reused. `0` alone turns reuse off for every vendor.
 *
 * @returns the days, or a string saying what is wrong
 */
export function parseAnswerTtlDays(text: string): AnswerTtlDays | string {
  const out: AnswerTtlDays = {};
  if (text.trim() === '0') return out;
  for (const part of text.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const m = /^([a-z_]+)\s*=\s*(\d{1,4})$/.exec(part);
    if (!m) return `"${part}" is not vendor=days`;
    const vendor = m[1]!;
    if (!(BREAKER_VENDORS as readonly string[]).includes(vendor) || vendor === 'odoo') return `"${vendor}" is not one of tavily, openai, zerobounce, lusha, apify_linkedin`;
    if (vendor in out) return `${vendor} is given twice`;
    const days = Number(m[2]);
    if (days > 3650) return `${part}: at most 3650 days`;
    out[vendor as BreakerVendor] = days;
  }
  return out;
}
