-- The export queue (companies of a run with a result and no export_status yet), read page by page
-- in company_id order: without this index every page sorted all the run's unexported rows, so the
-- export of a run took time quadratic in its size. Only unexported rows are in it; an export outcome
-- takes the row out.
CREATE INDEX IF NOT EXISTS company_enrichment_runs_unexported_idx
  ON company_enrichment_runs (run_id, company_id) WHERE export_status IS NULL;
