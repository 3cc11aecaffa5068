-- Counts the rows on record into tallies and open_failures when tallies holds nothing: once,
-- when the core that keeps them is first applied to a database with a history (a database
-- with jobs and any tally row has been counted, since every job adds one to its key). The
-- counted tables are locked against writers until the caller commits, so that no row is
-- written between the count and the triggers. Answers whether it counted.
--
-- Each time, counted or not, every open failure's decision is settled from its job's intents
-- (regent_open_failure_decision), so that one recorded or decided before the triggers that
-- keep it were applied is not left behind; only a row that differs is written.
CREATE FUNCTION regent_fill_tallies() RETURNS boolean LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_counted boolean;
BEGIN
  LOCK TABLE regeneration_jobs, retry_intents IN SHARE MODE;
  v_counted := NOT EXISTS (SELECT 1 FROM tallies);
  IF v_counted THEN
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
  END IF;
  UPDATE open_failures f SET decision = d.decision
  FROM (SELECT o.job_id, regent_open_failure_decision(o.job_id) AS decision FROM open_failures o) d
  WHERE f.job_id = d.job_id AND f.decision <> d.decision;
  RETURN v_counted;
END $$;
