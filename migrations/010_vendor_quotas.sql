-- Vendor quotas, retry budgets and cost (issue 14, docs/decisions/080-vendor-rate-limits.md).

-- The fleet's shared vendor rate limits: rate-limiter-flexible's RateLimiterPostgres keeps one row
-- per vendor window here (key `rl_<vendor>:<vendor>`, points consumed, expiry in epoch ms). The
-- library would create it itself; it is created here instead (tableCreated: true) so that the
-- schema is the migrations' alone and the runtime needs no CREATE right.
CREATE TABLE IF NOT EXISTS vendor_rate_limits (
  key     varchar(255) PRIMARY KEY,
  points  integer NOT NULL DEFAULT 0,
  expire  bigint
);

-- Per vendor and run: the attempts that waited for a rate-limit turn and how long they waited,
-- and the retries the (tenant, vendor) retry budget refused.
ALTER TABLE run_vendor_usage
  ADD COLUMN IF NOT EXISTS rate_waits      bigint NOT NULL DEFAULT 0 CHECK (rate_waits >= 0),
  ADD COLUMN IF NOT EXISTS rate_wait_ms    bigint NOT NULL DEFAULT 0 CHECK (rate_wait_ms >= 0),
  ADD COLUMN IF NOT EXISTS retries_refused bigint NOT NULL DEFAULT 0 CHECK (retries_refused >= 0);

-- What a run has spent on vendor calls, fleet-wide, against its RUN_BUDGET_USD (enrichment_runs
-- .params.budgetUsd): every member adds each paid call's cost here and reads the total back. Unlike
-- run_vendor_usage.cost_usd (counted with the company's recorded result), every call paid counts.
CREATE TABLE IF NOT EXISTS run_spend (
  run_id     bigint PRIMARY KEY,
  spent_usd  numeric(14, 6) NOT NULL DEFAULT 0 CHECK (spent_usd >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- What each company's vendor calls cost (the sum of its run_vendor_usage increments), for the
-- report's cost per company.
ALTER TABLE company_enrichment_runs
  ADD COLUMN IF NOT EXISTS cost_usd numeric(14, 6) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0);

-- No double spend: paid vendor answers, per tenant, keyed by the request (vendor, endpoint, a hash
-- of the normalised query), reused while younger than VENDOR_ANSWER_TTL_DAYS.
CREATE TABLE IF NOT EXISTS vendor_answers (
  tenant_id  integer NOT NULL,
  vendor     text NOT NULL,
  endpoint   text NOT NULL,
  query_key  text NOT NULL,
  answer     jsonb NOT NULL,
  cost_usd   numeric(14, 6) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
  fetched_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, vendor, endpoint, query_key)
);
CREATE INDEX IF NOT EXISTS vendor_answers_fetched_idx ON vendor_answers (fetched_at);

-- Per vendor and run: the answers reused instead of bought again, and what they had cost.
ALTER TABLE run_vendor_usage
  ADD COLUMN IF NOT EXISTS reuses    bigint NOT NULL DEFAULT 0 CHECK (reuses >= 0),
  ADD COLUMN IF NOT EXISTS saved_usd numeric(14, 6) NOT NULL DEFAULT 0 CHECK (saved_usd >= 0);
