-- Intents recorded, per statement, make their failed jobs' open failures `pending`: a retry
-- was approved and waits to be executed or rejected. (An intent is born PENDING, and a
-- supersession's source is COMPLETED, never an open failure.)
CREATE FUNCTION regent_open_failures_intended() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  UPDATE open_failures f SET decision = 'pending'
  FROM inserted n WHERE f.job_id = n.source_job_id AND f.decision <> 'pending';
  RETURN NULL;
END $$;

CREATE TRIGGER retry_intents_open_failures_intended AFTER INSERT ON retry_intents
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION regent_open_failures_intended();
