import type { AnswerTtlDays } from '../domain/answers.js';
import type { VendorPrices } from '../domain/prices.js';
import type { VendorRates } from '../domain/quotas.js';
import type { RetryBudgetPolicy } from '../domain/retryBudget.js';
import type { BreakerVendor } from '../domain/vendor.js';

/** Retry policy of every guarded call. */
export interface RetryConfig {
  /** Attempts per guarded call, the first included. Default 3. */
  maxAttempts: number;
  /** First backoff delay, in milliseconds. Default 250. */
  baseDelayMs: number;
  /** Cap on any single delay, jitter included, in milliseconds. Default 4000. */
  maxDelayMs: number;
}

/** Per (tenant, vendor) breaker policy. */
export interface BreakerConfig {
  /** Consecutive failed guarded calls that open a breaker. Default 3. */
  errorThreshold: number;
  /** Seconds a breaker stays open before one probe is admitted. Default 300. */
  coolOffS: number;
  /** Vendors never short-circuited. Default none. */
  exemptVendors: BreakerVendor[];
}

export interface VendorEndpoint {
  /** The API key or token; null means the vendor is off. Never logged. */
  apiKey: string | null;
  /** Base URL without a trailing slash. */
  baseUrl: string;
}

/** The one validated, typed configuration; built only by {@link loadConfig}. */
export interface Config {
  retry: RetryConfig;
  breaker: BreakerConfig;
  /** Vendor quotas (DESIGN.md "Vendor quotas, retry budgets and cost"). */
  quotas: {
    /** VENDOR_RATE_LIMITS: requests per window per vendor; a vendor not listed is not limited. */
    rates: VendorRates;
    /** VENDOR_CONCURRENCY: calls of a vendor at once per process; a vendor not listed has no bound. */
    concurrency: Partial<Record<BreakerVendor, number>>;
    /** RETRY_BUDGET_PERCENT and RETRY_BUDGET_MIN_PER_S over 10 s; null: retries are not budgeted. */
    retryBudget: RetryBudgetPolicy | null;
    /** VENDOR_PRICES: what each paid vendor's calls cost. */
    prices: VendorPrices;
    /** RUN_BUDGET_USD: a run's cap on vendor spend; null: none. */
    runBudgetUsd: number | null;
    /** VENDOR_ANSWER_TTL_DAYS: days a paid answer is reused; a vendor absent or 0: never. */
    answerTtlDays: AnswerTtlDays;
  };
  features: {
    tavilyFallback: boolean;
    apifyLinkedin: boolean;
    lushaFallback: boolean;
    odooSetDefaults: boolean;
  };
  database: {
    /** null: start the embedded PostgreSQL under dataDir. */
    url: string | null;
    dataDir: string;
  };
  vendors: {
    tavily: VendorEndpoint;
    openai: VendorEndpoint & { model: string };
    zerobounce: VendorEndpoint;
    lusha: VendorEndpoint;
    /** `timeoutMs`: APIFY_TIMEOUT_MS, the per-attempt timeout of its synchronous runs. */
    apify: VendorEndpoint & { linkedinActor: string; timeoutMs: number };
  };
  odoo: {
    url: string | null;
    db: string | null;
    username: string | null;
    password: string | null;
    /** Fields dropped when a write faults. Default autopost_bills, website. */
    stripFields: string[];
    /** Largest XML-RPC response read, in bytes; a larger one is `bad_response`. Default 4194304 (4 MiB). */
    maxResponseBytes: number;
    /**
     * ODOO_KEY_ENV_PREFIX: what every variable a `tenants.odoo_key_env` names must start with
     * (case-sensitive). Default `ODOO_KEY_`.
     */
    keyEnvPrefix: string;
  };
  crawl: {
    /** URL with a {domain} placeholder. Default https://{domain}/. */
    urlTemplate: string;
    /** Less visible text than this is thin. Default 500. */
    minChars: number;
    allowPrivateNetworks: boolean;
    /** Per-attempt timeout, in milliseconds. Default 10000. */
    timeoutMs: number;
  };
  /** Per-attempt timeout of vendor and Odoo calls, in milliseconds. Default 15000. */
  vendorTimeoutMs: number;
  /** Companies enriched at once. Default 16. */
  runConcurrency: number;
  /** Time one company may take, in milliseconds. Default 120000. */
  companyDeadlineMs: number;
  /** Grace for in-flight companies on shutdown, in milliseconds. Default 30000. */
  shutdownGraceMs: number;
  /** The fleet's work queue (DESIGN.md "Scale-out"). */
  fleet: {
    /** Milliseconds between looks at an empty queue. Default 500. */
    pollMs: number;
    /** Companies per export job. Default 500. */
    exportChunk: number;
    /** Seconds between the queue's maintenance passes (leases that ran out come back). Default 10. */
    maintenanceS: number;
  };
  sink: {
    /** Events per batch. Default 200. */
    batchSize: number;
    /** Longest wait before a partial batch is written, in milliseconds. Default 250. */
    flushMs: number;
    /** Events buffered before producers wait. Default 10000. */
    maxBuffer: number;
  };
  /** The operators' window (`lead-enrich serve`). */
  serve: {
    /** SERVE_TOKEN; null when empty (then serve binds a loopback address only). Never logged. */
    token: string | null;
  };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /**
   * Reads a secret by the name of the variable that holds it (a tenant row stores the *name*
   * of its Odoo key's variable, never the key), trimmed. Returns null when unset or empty, and
   * for a name that is not a variable name, does not start with `odoo.keyEnvPrefix`, or is one
   * of the configuration's own variables (OPENAI_API_KEY, DATABASE_URL…), which are never handed
   * out by name.
   */
  secret(name: string): string | null;
  /**
   * Why `name` may not name a tenant's key variable (not a variable name, one of the
   * configuration's own variables, or without `odoo.keyEnvPrefix`), or null when it may. The
   * reason never repeats the name unless it is one of the configuration's own (a harmless word).
   */
  keyVariableProblem(name: string): string | null;
}
