-- Intents rejected, per statement, settle their failed jobs' open failures. Rejected by a
-- person, leaving the job failed was the decision: `rejected`, and it stays decided (no batch
-- takes it; a new intent for it is still one person's choice). Rejected by the worker's sweep
-- (`system`) because it expired, nothing was decided: `open` again. An intent moves once, from
-- PENDING, and a job has at most one PENDING intent, so the intent that moved is its job's
-- newest. A consumed intent changes nothing here: its job gets its successor in the same
-- transaction, which takes it out of open_failures (regent_open_failures_retried).
CREATE FUNCTION regent_open_failures_decided() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  UPDATE open_failures f
  SET decision = CASE WHEN n.rejected_by = 'system' THEN 'open' ELSE 'rejected' END
  FROM moved_new n WHERE f.job_id = n.source_job_id AND n.status = 'REJECTED';
  RETURN NULL;
END $$;

CREATE TRIGGER retry_intents_open_failures_decided AFTER UPDATE ON retry_intents
  REFERENCING NEW TABLE AS moved_new
  FOR EACH STATEMENT EXECUTE FUNCTION regent_open_failures_decided();
