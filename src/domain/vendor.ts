/**
 * Vendor names as DESIGN.md fixes them: used in breaker keys, reason codes and usage rows.
 * `crawler` is not a breaker vendor (every company's site is a different host) but its errors
 * carry a vendor name like any other outside call.
 */
export const BREAKER_VENDORS = ['tavily', 'openai', 'zerobounce', 'lusha', 'apify_linkedin', 'odoo'] as const;

/** A vendor that has a (tenant, vendor) circuit breaker. */
export type BreakerVendor = (typeof BREAKER_VENDORS)[number];

/** Any outside party whose calls are classified into the error taxonomy. */
export type VendorName = BreakerVendor | 'crawler';

/** Tenant ids are integers (DESIGN.md). */
export type TenantId = number;

/** Type guard for breaker vendor names, e.g. when parsing CB_GLOBAL_EXEMPT_VENDORS. */
export function isBreakerVendor(value: string): value is BreakerVendor {
  return (BREAKER_VENDORS as readonly string[]).includes(value);
}

/**
 * Whether each vendor that needs a key is on (its key or token is set): `false` means the vendor is
 * off and its step is skipped, not degraded. Decided once, by {@link vendorsOn}.
 */
export interface EnabledVendors {
  tavily: boolean;
  openai: boolean;
  zerobounce: boolean;
  lusha: boolean;
  apify_linkedin: boolean;
}

/** The vendors' keys, as the configuration holds them (`config.vendors`). */
export interface VendorKeys {
  vendors: Record<'tavily' | 'openai' | 'zerobounce' | 'lusha' | 'apify', { apiKey: string | null }>;
}

const keyed = (key: string | null): boolean => key !== null && key.length > 0;

/**
 * Which vendors are on: those whose key (APIFY_TOKEN for Apify LinkedIn) is set and not empty.
 * The one place this is decided: the chain skips a vendor that is off (enrichmentInputFrom) and no
 * adapter is built for it (createVendorAdapters). Feature switches (ENABLE_*) are not looked at here.
 */
export function vendorsOn(config: VendorKeys): EnabledVendors {
  const { vendors } = config;
  return {
    tavily: keyed(vendors.tavily.apiKey),
    openai: keyed(vendors.openai.apiKey),
    zerobounce: keyed(vendors.zerobounce.apiKey),
    lusha: keyed(vendors.lusha.apiKey),
    apify_linkedin: keyed(vendors.apify.apiKey),
  };
}
