-- Counts the rows on record into tallies and open_failures when tallies holds nothing: once,
-- when the core that keeps them is first applied to a database with a history (a database
-- with jobs and any tally row has been counted, since every job adds one to its key). The
-- counted tables are locked against writers until the caller commits, so that no row is
-- written between the count and the triggers. Answers whether it counted.
CREATE FUNCTION regent_fill_tallies() RETURNS boolean LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  LOCK TABLE regeneration_jobs, retry_intents IN SHARE MODE;
  IF EXISTS (SELECT 1 FROM tallies) THEN
    RETURN false;
  END IF;
  INSERT INTO tallies (subject, generator, status, code, kind, reason, count)
  SELECT 'job', j.generator, j.status::text,
         CASE WHEN j.status = 'FAILED' THEN j.error->>'code' ELSE '' END,
         coalesce(i.kind::text, ''), coalesce(i.reason_code::text, ''), count(*)
  FROM regeneration_jobs j LEFT JOIN retry_intents i ON i.id = j.retry_intent_id
  GROUP BY 2, 3, 4, 5, 6;
  INSERT INTO tallies (subject, status, kind, reason, count)
  SELECT 'intent', status::text, kind::text, reason_code::text, count(*)
  FROM retry_intents GROUP BY 2, 3, 4;
  INSERT INTO open_failures (job_id, generator, error_code, failed_at, is_retry)
  SELECT j.id, j.generator, j.error->>'code', j.finished_at, j.retry_of_job_id IS NOT NULL
  FROM regeneration_jobs j
  WHERE j.status = 'FAILED'
    AND NOT EXISTS (SELECT 1 FROM regeneration_jobs r WHERE r.retry_of_job_id = j.id)
  ON CONFLICT (job_id) DO NOTHING;
  RETURN true;
END $$;
