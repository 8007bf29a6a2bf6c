import { BREAKER_VENDORS, type BreakerVendor, type VendorName } from './vendor.js';

/**
 * What vendor calls cost (DESIGN.md "Vendor quotas, retry budgets and cost"): VENDOR_PRICES gives
 * each paid vendor a price in USD per call, per credit, per result or per 1,000 tokens, and every
 * successful call is priced by what the vendor reported it charged, where it reports it (Lusha's
 * `billing.creditsCharged`, Tavily's `usage.credits`), else by the documented rule (a basic Tavily
 * search is 1 credit, a ZeroBounce `unknown` costs nothing, an Apify actor bills per result).
 */
export type PriceUnit = 'call' | 'credit' | 'result' | '1k_tokens';

export interface VendorPrice {
  usd: number;
  unit: PriceUnit;
}

export type VendorPrices = Partial<Record<BreakerVendor, VendorPrice>>;

/**
 * The defaults of VENDOR_PRICES (USD; the README's configuration table gives each one's source):
 * Tavily $0.008 a credit (pay-as-you-go), ZeroBounce $0.008 a credit (its smallest pack), Lusha
 * $0.10 a credit (an estimate of the smaller plans' price per credit), Apify LinkedIn $0.008 a
 * result (HarvestAPI's Full mode, $8 per 1,000 profiles, VENDOR_APIS.md). OpenAI is priced from the
 * model's list price per million tokens (src/adapters/openaiFacts.ts) unless given here.
 */
export const DEFAULT_VENDOR_PRICES = 'tavily=0.008/credit,zerobounce=0.008/credit,lusha=0.1/credit,apify_linkedin=0.008/result';

const UNITS: readonly PriceUnit[] = ['call', 'credit', 'result', '1k_tokens'];

/**
 * Parses VENDOR_PRICES: `vendor=USD/unit`, comma separated, unit one of call, credit, result,
 * 1k_tokens (e.g. `tavily=0.008/credit,openai=0.0006/1k_tokens`). Empty: every call is free.
 *
 * @returns the prices, or a string saying what is wrong
 */
export function parseVendorPrices(text: string): VendorPrices | string {
  const out: VendorPrices = {};
  for (const part of text.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const m = /^([a-z_]+)\s*=\s*(\d+(?:\.\d+)?)\s*\/\s*([a-z0-9_]+)$/.exec(part);
    if (!m) return `"${part}" is not vendor=USD/unit`;
    const [, vendor, usd, unit] = m as unknown as [string, string, string, string];
    if (!(BREAKER_VENDORS as readonly string[]).includes(vendor)) return `"${vendor}" is not one of ${BREAKER_VENDORS.join(', ')}`;
    if (!(UNITS as readonly string[]).includes(unit)) return `${part}: the unit must be one of ${UNITS.join(', ')}`;
    if (out[vendor as BreakerVendor]) return `${vendor} is given twice`;
    const price = Number(usd);
    if (!(price <= 1000)) return `${part}: at most 1000 USD a unit`;
    out[vendor as BreakerVendor] = { usd: price, unit: unit as PriceUnit };
  }
  return out;
}

/** What a vendor reported it charged for one call, attached to the call's result by its adapter. */
export interface Billed {
  credits?: number;
  results?: number;
}

const BILLED = Symbol.for('lead-enrich.billed');

/** `value` with what its vendor reported it charged (a hidden property, never serialised). */
export function withBilled<T>(value: T, billed: Billed): T {
  if (typeof value === 'object' && value !== null) Object.defineProperty(value, BILLED, { value: billed, enumerable: false, configurable: true });
  return value;
}

/** What the vendor reported it charged for the call that returned `value`, if it did. */
export function billedOf(value: unknown): Billed | undefined {
  return typeof value === 'object' && value !== null ? ((value as Record<symbol, Billed | undefined>)[BILLED] ?? undefined) : undefined;
}

/** The units one successful call of `vendor` that returned `value` is charged, in `unit`. */
export function unitsOf(vendor: VendorName, value: unknown, unit: PriceUnit): number {
  if (unit === 'call') return 1;
  if (unit === '1k_tokens') return 0; // tokens come with the model's usage (CompanyUsage.addTokens)
  const billed = billedOf(value);
  const results = Array.isArray(value) ? value.length : 1;
  if (unit === 'result') return billed?.results ?? results;
  if (billed?.credits !== undefined) return billed.credits;
  switch (vendor) {
    case 'tavily':
      return 1; // search_depth basic
    case 'zerobounce':
      return (value as { status?: string } | null)?.status === 'unknown' ? 0 : 1; // an unknown never costs a credit
    default:
      return results; // a credit per result returned (Lusha: per successful enrichment)
  }
}

/** USD of one successful call of `vendor` that returned `value`; 0 for a vendor without a price. */
export function costOf(vendor: VendorName, value: unknown, prices: VendorPrices): number {
  const price = vendor === 'crawler' ? undefined : prices[vendor];
  if (!price) return 0;
  return unitsOf(vendor, value, price.unit) * price.usd;
}

/** USD of `tokens` model tokens when VENDOR_PRICES prices the vendor per 1,000 tokens, else `fallback` (the model's list price). */
export function tokenCostOf(vendor: VendorName, tokens: number, fallback: number | null, prices: VendorPrices): number {
  const price = vendor === 'crawler' ? undefined : prices[vendor];
  if (price?.unit === '1k_tokens') return (tokens / 1000) * price.usd;
  return fallback ?? 0;
}

/** Whether calling `vendor` costs money under `prices` (the run budget skips only those). */
export function isPaid(vendor: VendorName, prices: VendorPrices): boolean {
  if (vendor === 'crawler' || vendor === 'odoo') return false;
  if (vendor === 'openai') return true; // priced from its tokens even without a VENDOR_PRICES entry
  return (prices[vendor]?.usd ?? 0) > 0;
}
