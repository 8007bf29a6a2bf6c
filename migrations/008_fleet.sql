-- The fleet (issue 13, docs/decisions: the fleet on pg-boss): several processes work one run through
-- pg-boss queues (schema pgboss, created by pg-boss itself), so the run's lifecycle is in its row:
-- `phase` says which part of the run is under way, and each change of phase is claimed by one
-- process with a conditional UPDATE (enriching → exporting by whoever sees the last company done,
-- exporting → finalising by whoever exports the last company, finalising → done once finalised).
ALTER TABLE enrichment_runs
  ADD COLUMN IF NOT EXISTS phase text NOT NULL DEFAULT 'enriching'
    CHECK (phase IN ('enriching', 'exporting', 'finalising', 'done'));
UPDATE enrichment_runs SET phase = 'done' WHERE status = 'completed';
CREATE INDEX IF NOT EXISTS enrichment_runs_phase_idx ON enrichment_runs (phase) WHERE phase <> 'done';

-- Every member of the fleet (a `worker`, or a `run` working its own run) says it is alive every few
-- seconds: what the operators' page shows as the workers seen lately.
CREATE TABLE IF NOT EXISTS fleet_workers (
  worker_id     text PRIMARY KEY,
  host          text NOT NULL,
  pid           integer NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('run', 'worker')),
  run_id        bigint,
  concurrency   integer NOT NULL CHECK (concurrency > 0),
  in_flight     integer NOT NULL DEFAULT 0 CHECK (in_flight >= 0),
  done          bigint NOT NULL DEFAULT 0 CHECK (done >= 0),
  started_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  stopped_at    timestamptz
);
CREATE INDEX IF NOT EXISTS fleet_workers_seen_idx ON fleet_workers (last_seen_at DESC);
