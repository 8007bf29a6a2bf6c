-- Duplicate ids and collisions of derived ids are settled in the database, not in memory
-- (docs/decisions/duplicate-ids-in-the-database.md): each input row recorded keeps the line it
-- started on and, for a derived id, the check value of its key. A row whose id is already in the
-- run is then the same row again (same line: a resume reading the file again), a duplicate (an
-- explicit id from another line, or a derived id with the same check) or a collision (another
-- check: the next probe is tried). Rows recorded before this migration, and a caller's own
-- companies, have neither: they count as the same row again.
ALTER TABLE run_companies
  ADD COLUMN IF NOT EXISTS input_line integer CHECK (input_line >= 1),
  ADD COLUMN IF NOT EXISTS id_check integer;
