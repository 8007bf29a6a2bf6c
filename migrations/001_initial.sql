-- 001_initial: the tables of DESIGN.md "Persistence" and the sink's bookkeeping.
-- Operator tables carry tenant_id on every row; child rows of a run reference (run_id, tenant_id)
-- so a row can never claim a tenant other than its run's. Later migrations (002: the Odoo partner
-- mapping) add to this; never edit an applied migration (schema_migrations records a checksum).

CREATE TABLE tenants (
  tenant_id     integer PRIMARY KEY CHECK (tenant_id >= 0),
  name          text NOT NULL,
  odoo_url      text,
  odoo_db       text,
  odoo_login    text,
  -- The NAME of the environment variable holding the tenant's Odoo API key; never the key itself.
  odoo_key_env  text CHECK (odoo_key_env IS NULL OR odoo_key_env ~ '^[A-Za-z_][A-Za-z0-9_]*$'),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE companies (
  tenant_id         integer NOT NULL REFERENCES tenants (tenant_id),
  company_id        bigint NOT NULL,
  name              text,
  domain            text,
  facts             jsonb NOT NULL DEFAULT '{}'::jsonb,
  last_enriched_at  timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, company_id)
);
CREATE INDEX companies_stale_idx ON companies (tenant_id, last_enriched_at NULLS FIRST);
CREATE INDEX companies_domain_idx ON companies (tenant_id, lower(domain));

CREATE TABLE enrichment_runs (
  run_id                   bigserial PRIMARY KEY,
  tenant_id                integer NOT NULL REFERENCES tenants (tenant_id),
  status                   text NOT NULL DEFAULT 'running'
                           CHECK (status IN ('running', 'completed', 'interrupted', 'failed')),
  degraded                 boolean NOT NULL DEFAULT false,
  odoo_export_disabled     boolean NOT NULL DEFAULT false,
  odoo_export_disabled_reason text,
  companies_total          integer NOT NULL DEFAULT 0 CHECK (companies_total >= 0),
  companies_done           integer NOT NULL DEFAULT 0 CHECK (companies_done >= 0),
  companies_degraded       integer NOT NULL DEFAULT 0 CHECK (companies_degraded >= 0),
  companies_failed         integer NOT NULL DEFAULT 0 CHECK (companies_failed >= 0),
  companies_exported       integer NOT NULL DEFAULT 0 CHECK (companies_exported >= 0),
  companies_export_failed  integer NOT NULL DEFAULT 0 CHECK (companies_export_failed >= 0),
  -- input path, concurrency, dry_run, stale_days, resumed_from ...
  params                   jsonb NOT NULL DEFAULT '{}'::jsonb,
  started_at               timestamptz NOT NULL DEFAULT now(),
  finished_at              timestamptz,
  CHECK ((status = 'running') = (finished_at IS NULL)),
  UNIQUE (run_id, tenant_id)
);
CREATE INDEX enrichment_runs_tenant_idx ON enrichment_runs (tenant_id, started_at DESC);
CREATE INDEX enrichment_runs_running_idx ON enrichment_runs (status) WHERE status = 'running';

-- The run's input, in order: `run --resume` enriches exactly the rows without a result row.
CREATE TABLE run_companies (
  run_id      bigint NOT NULL,
  tenant_id   integer NOT NULL,
  company_id  bigint NOT NULL,
  position    integer NOT NULL CHECK (position >= 0),
  name        text,
  domain      text,
  input       jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (run_id, company_id),
  UNIQUE (run_id, position),
  FOREIGN KEY (run_id, tenant_id) REFERENCES enrichment_runs (run_id, tenant_id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, company_id)
);

CREATE TABLE company_enrichment_runs (
  run_id            bigint NOT NULL,
  company_id        bigint NOT NULL,
  tenant_id         integer NOT NULL,
  status            text NOT NULL CHECK (status IN ('ok', 'degraded', 'failed')),
  degraded_reasons  text,
  reasons           text[] NOT NULL DEFAULT '{}',
  facts             jsonb NOT NULL DEFAULT '{}'::jsonb,
  provenance        jsonb NOT NULL DEFAULT '[]'::jsonb,
  fallbacks         text[] NOT NULL DEFAULT '{}',
  timings           jsonb NOT NULL DEFAULT '[]'::jsonb,
  export_status     text CHECK (export_status IN ('exported', 'exported_stripped', 'failed', 'disabled', 'dry_run', 'skipped')),
  export_partner_id integer,
  export_detail     text,
  exported_at       timestamptz,
  started_at        timestamptz NOT NULL,
  finished_at       timestamptz NOT NULL,
  PRIMARY KEY (run_id, company_id),
  CHECK ((degraded_reasons IS NULL) = (cardinality(reasons) = 0)),
  CHECK (finished_at >= started_at),
  FOREIGN KEY (run_id, tenant_id) REFERENCES enrichment_runs (run_id, tenant_id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, company_id)
);
CREATE INDEX company_enrichment_runs_tenant_idx ON company_enrichment_runs (tenant_id, finished_at DESC);
CREATE INDEX company_enrichment_runs_company_idx ON company_enrichment_runs (tenant_id, company_id, finished_at DESC);
CREATE INDEX company_enrichment_runs_reasons_idx ON company_enrichment_runs USING gin (reasons);
CREATE INDEX company_enrichment_runs_export_idx ON company_enrichment_runs (run_id, export_status);

CREATE TABLE contacts (
  contact_id         bigserial PRIMARY KEY,
  tenant_id          integer NOT NULL,
  company_id         bigint NOT NULL,
  email              text,
  full_name          text,
  title              text,
  linkedin_url       text,
  source             text NOT NULL,
  email_status       text NOT NULL DEFAULT 'unverified'
                     CHECK (email_status IN ('valid', 'invalid', 'catch-all', 'unknown', 'spamtrap', 'abuse', 'do_not_mail', 'unverified')),
  email_sub_status   text,
  verified_at        timestamptz,
  first_seen_run_id  bigint REFERENCES enrichment_runs (run_id) ON DELETE SET NULL,
  last_seen_run_id   bigint REFERENCES enrichment_runs (run_id) ON DELETE SET NULL,
  -- Idempotence key: the e-mail when known, else the LinkedIn URL, else the name.
  dedupe_key         text GENERATED ALWAYS AS (lower(coalesce(email, linkedin_url, full_name))) STORED NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, company_id, dedupe_key),
  FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, company_id)
);
CREATE INDEX contacts_deferred_idx ON contacts (tenant_id, email_status) WHERE email_status IN ('unknown', 'unverified');

CREATE TABLE run_event_logs (
  id          bigserial PRIMARY KEY,
  run_id      bigint NOT NULL,
  tenant_id   integer NOT NULL,
  company_id  bigint,
  stage       text NOT NULL,
  event       text NOT NULL,
  status      text NOT NULL,
  error_code  text,
  duration_ms double precision CHECK (duration_ms IS NULL OR duration_ms >= 0),
  extra       jsonb NOT NULL DEFAULT '{}'::jsonb,
  at          timestamptz NOT NULL,
  FOREIGN KEY (run_id, tenant_id) REFERENCES enrichment_runs (run_id, tenant_id) ON DELETE CASCADE
);
CREATE INDEX run_event_logs_run_idx ON run_event_logs (run_id, stage);
CREATE INDEX run_event_logs_company_idx ON run_event_logs (run_id, company_id);
CREATE INDEX run_event_logs_tenant_idx ON run_event_logs (tenant_id, at DESC);
CREATE INDEX run_event_logs_error_idx ON run_event_logs (tenant_id, error_code, at DESC) WHERE error_code IS NOT NULL;

CREATE TABLE run_vendor_usage (
  run_id      bigint NOT NULL,
  tenant_id   integer NOT NULL,
  vendor      text NOT NULL,
  calls       bigint NOT NULL DEFAULT 0 CHECK (calls >= 0),
  errors      bigint NOT NULL DEFAULT 0 CHECK (errors >= 0),
  retries     bigint NOT NULL DEFAULT 0 CHECK (retries >= 0),
  tokens      bigint NOT NULL DEFAULT 0 CHECK (tokens >= 0),
  cost_usd    numeric(14, 6) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, tenant_id, vendor),
  FOREIGN KEY (run_id, tenant_id) REFERENCES enrichment_runs (run_id, tenant_id) ON DELETE CASCADE
);
CREATE INDEX run_vendor_usage_tenant_idx ON run_vendor_usage (tenant_id, vendor, updated_at DESC);

CREATE TABLE run_stage_stats (
  run_id     bigint NOT NULL,
  tenant_id  integer NOT NULL,
  stage      text NOT NULL,
  n          integer NOT NULL CHECK (n > 0),
  p50        double precision NOT NULL,
  p90        double precision NOT NULL,
  p95        double precision NOT NULL,
  p99        double precision NOT NULL,
  max_ms     double precision NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, tenant_id, stage),
  FOREIGN KEY (run_id, tenant_id) REFERENCES enrichment_runs (run_id, tenant_id) ON DELETE CASCADE
);

CREATE TABLE breaker_transitions (
  id          bigserial PRIMARY KEY,
  tenant_id   integer NOT NULL REFERENCES tenants (tenant_id),
  vendor      text NOT NULL,
  from_state  text NOT NULL CHECK (from_state IN ('closed', 'open', 'halfOpen')),
  to_state    text NOT NULL CHECK (to_state IN ('closed', 'open', 'halfOpen')),
  at          timestamptz NOT NULL,
  reason      text NOT NULL,
  run_id      bigint REFERENCES enrichment_runs (run_id) ON DELETE SET NULL,
  UNIQUE (tenant_id, vendor, at, from_state, to_state)
);
CREATE INDEX breaker_transitions_tenant_idx ON breaker_transitions (tenant_id, vendor, at DESC);
CREATE INDEX breaker_transitions_run_idx ON breaker_transitions (run_id) WHERE run_id IS NOT NULL;

-- The sink's ledger: a batch is applied in the same transaction that inserts its id, so a batch
-- retried after a lost COMMIT acknowledgement is recognised and skipped (no double counting).
CREATE TABLE sink_batches (
  batch_id    text PRIMARY KEY,
  events      integer NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now()
);

-- Events the database refused for their content (SQLSTATE classes 22 and 23): kept, never dropped.
CREATE TABLE sink_rejected_events (
  id             bigserial PRIMARY KEY,
  batch_id       text NOT NULL UNIQUE,
  run_id         bigint,
  tenant_id      integer,
  event_type     text NOT NULL,
  event          jsonb NOT NULL,
  error_code     text,
  error_message  text NOT NULL,
  rejected_at    timestamptz NOT NULL DEFAULT now()
);
