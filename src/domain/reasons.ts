import type { BreakerVendor } from './vendor.js';

/** The fallback chain's steps (DESIGN.md "The fallback chain"); used as stage names too. */
export const STEPS = ['preconditions', 'crawl', 'search', 'extract', 'contacts', 'verify', 'done'] as const;
export type StepName = (typeof STEPS)[number];

/** Degradation reason codes, exactly as DESIGN.md spells them. */
export type ReasonCode =
  | 'DATA_EMPTY:no_domain_name'
  | 'CRAWL_THIN'
  | 'CRAWL_ERROR'
  | 'TAVILY_FAIL'
  | 'OPENAI_FAIL'
  | 'APIFY_LINKEDIN_FAIL'
  | 'LUSHA_FAIL'
  | 'ZEROBOUNCE_DEFER'
  | 'DEADLINE_EXCEEDED'
  | `CIRCUIT_OPEN:${BreakerVendor}`
  | `BUDGET_EXHAUSTED:${BreakerVendor}`;

/** The reason recorded when an open breaker refuses a call to `vendor`. */
export function circuitOpenReason(vendor: BreakerVendor): ReasonCode {
  return `CIRCUIT_OPEN:${vendor}`;
}

/** The reason recorded when the run's RUN_BUDGET_USD is spent and a paid call to `vendor` is skipped. */
export function budgetExhaustedReason(vendor: BreakerVendor): ReasonCode {
  return `BUDGET_EXHAUSTED:${vendor}`;
}

/** `degraded_reasons` as stored: the comma-joined list in recorded order, or null when empty. */
export function joinReasons(reasons: readonly ReasonCode[]): string | null {
  return reasons.length === 0 ? null : reasons.join(',');
}
