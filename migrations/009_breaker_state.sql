-- The fleet's breakers (issue 13, DESIGN.md "Scale-out"): one row per (tenant, vendor) breaker,
-- shared by every process on this database. Each process mirrors it; failures and transitions
-- are written here under the row's lock, and every write is announced on the channel
-- `lead_enrich_breaker` (LISTEN/NOTIFY). breaker_transitions still records each transition once.
CREATE TABLE breaker_state (
  tenant_id            integer NOT NULL,
  vendor               text NOT NULL,
  state                text NOT NULL CHECK (state IN ('closed', 'open', 'halfOpen')),
  consecutive_failures integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
  opened_at            timestamptz,
  probe_id             integer NOT NULL DEFAULT 0,
  probe_started_at     timestamptz,
  -- Who holds the probe while halfOpen, and until when: a probe answering after its lease ran out
  -- changes nothing (its generation has passed), and another may probe.
  probe_owner          text,
  probe_lease_until    timestamptz,
  reason               text,
  generation           bigint NOT NULL DEFAULT 0,
  updated_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, vendor)
);
