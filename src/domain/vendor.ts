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
 * off and its step is skipped, not degraded. Decided once, by `vendorsOn` (src/config/vendors.ts).
 */
export interface EnabledVendors {
  tavily: boolean;
  openai: boolean;
  zerobounce: boolean;
  lusha: boolean;
  apify_linkedin: boolean;
}
