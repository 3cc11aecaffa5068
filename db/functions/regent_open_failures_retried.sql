-- A failure is no longer open once a job retries it: new jobs, per statement, take their
-- sources out of open_failures (a supersession's source is COMPLETED and was never in it).
CREATE FUNCTION regent_open_failures_retried() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  DELETE FROM open_failures f USING inserted n WHERE f.job_id = n.retry_of_job_id;
  RETURN NULL;
END $$;

CREATE TRIGGER regeneration_jobs_open_failures_retried AFTER INSERT ON regeneration_jobs
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION regent_open_failures_retried();
