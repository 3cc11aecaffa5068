-- Jobs that failed, per statement, become open failures (a finished job never moves again, so
-- a FAILED row of the statement is one that has just failed). Each is `open`: no intent can
-- name a job before it has finished.
CREATE FUNCTION regent_open_failures_failed() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  INSERT INTO open_failures (job_id, generator, error_code, failed_at, is_retry, decision)
  SELECT n.id, n.generator, n.error->>'code', n.finished_at, n.retry_of_job_id IS NOT NULL, 'open'
  FROM moved_new n WHERE n.status = 'FAILED';
  RETURN NULL;
END $$;

CREATE TRIGGER regeneration_jobs_open_failures_failed AFTER UPDATE ON regeneration_jobs
  REFERENCING NEW TABLE AS moved_new
  FOR EACH STATEMENT EXECUTE FUNCTION regent_open_failures_failed();
